package dev.bloodbank.cli;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Ctrl-C or SIGTERM during a long-running command ({@code bb replay}, {@code bb dlq replay}, {@code
 * bb schema check}): stops the work, lets the main thread print its summary, then exits 130.
 *
 * <p>Installed for the duration of the work; {@link #close()} removes the hook when the work ended
 * by itself. The main thread calls {@link #summarized()} once its summary is out, and the hook
 * waits at most 15 seconds for it.
 */
final class StopOnSignal implements AutoCloseable {
  /** The exit code after a stop by signal: 128 + SIGINT. */
  static final int EXIT = 130;

  private final AtomicBoolean stopped = new AtomicBoolean();
  private final CountDownLatch summarized = new CountDownLatch(1);
  private final Thread hook;

  /**
   * Installs the hook.
   *
   * @param name the hook thread's name
   * @param stop what stops the work; runs on the hook thread
   */
  StopOnSignal(String name, Runnable stop) {
    this.hook =
        new Thread(
            () -> {
              stopped.set(true);
              stop.run();
              try {
                summarized.await(15, TimeUnit.SECONDS);
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              Runtime.getRuntime().halt(EXIT);
            },
            name);
    Runtime.getRuntime().addShutdownHook(hook);
  }

  /** Whether a signal stopped the work. */
  boolean stopped() {
    return stopped.get();
  }

  /** The summary is out: a stopping hook may exit now. */
  void summarized() {
    summarized.countDown();
  }

  /** Removes the hook once the work ended by itself; while shutting down, the hook stays. */
  @Override
  public void close() {
    try {
      Runtime.getRuntime().removeShutdownHook(hook);
    } catch (IllegalStateException e) {
      // shutting down already: the hook waits for the summary
    }
  }
}
