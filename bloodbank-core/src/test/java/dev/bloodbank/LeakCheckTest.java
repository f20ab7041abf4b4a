package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.io.TempDir;

/** {@link LeakCheck} fails a class that leaves a Bloodbank thread or a log's file lock behind. */
class LeakCheckTest {
  @TempDir Path dir;

  /** Stands for an integration test class. */
  static final class SomethingIT {}

  @SuppressWarnings("unchecked")
  private static ExtensionContext context() {
    ExtensionContext context = mock(ExtensionContext.class);
    ExtensionContext.Store store = mock(ExtensionContext.Store.class);
    Map<Object, Object> values = new HashMap<>();
    when(store.remove(anyString(), any(Class.class)))
        .thenAnswer(i -> values.remove(i.getArgument(0)));
    org.mockito.Mockito.doAnswer(i -> values.put(i.getArgument(0), i.getArgument(1)))
        .when(store)
        .put(anyString(), any());
    when(context.getStore(any())).thenReturn(store);
    org.mockito.Mockito.doReturn(Optional.of(SomethingIT.class)).when(context).getTestClass();
    org.mockito.Mockito.doReturn(SomethingIT.class).when(context).getRequiredTestClass();
    return context;
  }

  @Test
  void aThreadStartedDuringTheClassAndStillRunningIsALeak() throws Exception {
    LeakCheck check = new LeakCheck(TimeUnit.MILLISECONDS.toNanos(500));
    ExtensionContext context = context();
    check.beforeAll(context);
    CountDownLatch stop = new CountDownLatch(1);
    Thread t = new Thread(() -> awaitQuietly(stop), "bloodbank-leak-test");
    t.start();
    try {
      // Ends within the check's wait: not a leak.
      Thread shortLived = new Thread(() -> {}, "bloodbank-short-test");
      shortLived.start();
      Throwable failure = catchThrowable(() -> check.afterAll(context));
      assertThat(failure)
          .isInstanceOf(AssertionError.class)
          .hasMessageContaining("SomethingIT left behind 1 thread(s)")
          .hasMessageContaining("bloodbank-leak-test");
    } finally {
      stop.countDown();
      t.join();
    }
  }

  @Test
  void aFileLockLeftHeldIsALeak() throws Exception {
    LeakCheck check = new LeakCheck(TimeUnit.MILLISECONDS.toNanos(500));
    ExtensionContext context = context();
    check.beforeAll(context);
    try (FileChannel c =
            FileChannel.open(
                dir.resolve("held.lock"), StandardOpenOption.CREATE, StandardOpenOption.WRITE);
        FileLock lock = c.tryLock()) {
      assertThat(lock).isNotNull();
      assertThat(catchThrowable(() -> check.afterAll(context)))
          .hasMessageContaining("1 file lock(s)");
    }
  }

  @Test
  void aWriteAheadLogLeftOpenIsALeakAndClosingItIsNot() throws Exception {
    LeakCheck check = new LeakCheck(TimeUnit.MILLISECONDS.toNanos(500));
    ExtensionContext context = context();
    check.beforeAll(context);
    WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(dir.resolve("leak.jsonl")));
    try {
      assertThat(catchThrowable(() -> check.afterAll(context)))
          .hasMessageContaining("bloodbank-wal-flush");
    } finally {
      wal.close();
    }
    ExtensionContext again = context();
    check.beforeAll(again);
    WriteAheadLog.open(WalOptions.of(dir.resolve("closed.jsonl"))).close();
    check.afterAll(again);
  }

  private static void awaitQuietly(CountDownLatch latch) {
    try {
      latch.await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
