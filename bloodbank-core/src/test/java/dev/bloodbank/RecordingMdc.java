package dev.bloodbank;

import java.lang.reflect.Method;
import org.slf4j.MDC;
import org.slf4j.helpers.BasicMDCAdapter;
import org.slf4j.helpers.NOPMDCAdapter;

/**
 * A working SLF4J MDC for tests: slf4j-simple, the tests' logger, keeps none ({@link
 * NOPMDCAdapter}), so what the bus puts there would vanish. Swaps in SLF4J's own {@link
 * BasicMDCAdapter}, once per JVM, before any bus thread of the test starts.
 */
public final class RecordingMdc {
  private RecordingMdc() {}

  /** Installs the working adapter unless the logger brought one. */
  public static synchronized void install() {
    if (!(MDC.getMDCAdapter() instanceof NOPMDCAdapter)) {
      return;
    }
    try {
      Method set = MDC.class.getDeclaredMethod("setMDCAdapter", org.slf4j.spi.MDCAdapter.class);
      set.setAccessible(true);
      set.invoke(null, new BasicMDCAdapter());
    } catch (ReflectiveOperationException e) {
      throw new AssertionError("cannot install a working MDC adapter: " + e, e);
    }
    if (MDC.getMDCAdapter() instanceof NOPMDCAdapter) {
      throw new AssertionError("the MDC adapter is still the no-op one");
    }
  }
}
