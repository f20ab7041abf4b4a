package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.internal.BusObserver;
import java.io.File;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Micrometer is optional: a bus with no observability configured uses the no-op observer and runs
 * without a single Micrometer class on its class path.
 */
class WithoutMicrometerTest {
  @Test
  void noObservabilityIsTheNoOpObserver() {
    assertThat(BloodbankOptions.defaults().observability()).isNull();
    assertThat(BusObserver.of(BloodbankOptions.defaults().observability(), t -> true))
        .isSameAs(BusObserver.NOOP);
  }

  @Test
  void aBusRunsWithoutMicrometerOnTheClassPath() throws Exception {
    // Surefire passes the test class path in this property; java.class.path may be its booter jar.
    String classPath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<URL> urls = new ArrayList<>();
    int left = 0;
    for (String entry : classPath.split(File.pathSeparator)) {
      if (entry.isEmpty()) {
        continue;
      }
      if (entry.replace('\\', '/').contains("/io/micrometer/")) {
        left++;
        continue;
      }
      urls.add(Path.of(entry).toUri().toURL());
    }
    assertThat(left).as("Micrometer jars found on the test class path").isPositive();
    try (URLClassLoader loader =
        new URLClassLoader(urls.toArray(new URL[0]), ClassLoader.getPlatformClassLoader())) {
      assertThatThrownBy(
              () -> Class.forName("io.micrometer.core.instrument.MeterRegistry", false, loader))
          .isInstanceOf(ClassNotFoundException.class);
      Thread current = Thread.currentThread();
      ClassLoader before = current.getContextClassLoader();
      current.setContextClassLoader(loader);
      try {
        Class<?> run = Class.forName(WithoutMicrometerRun.class.getName(), true, loader);
        assertThat(run.getClassLoader()).isSameAs(loader);
        assertThat(run.getMethod("run").invoke(null)).isEqualTo("ok");
      } finally {
        current.setContextClassLoader(before);
      }
    }
  }
}
