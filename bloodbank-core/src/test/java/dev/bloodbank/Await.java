package dev.bloodbank;

import java.time.Duration;

/** Bounded waits for integration tests. */
public final class Await {
  /** How long {@link #until} waits. */
  public static final Duration WAIT = Duration.ofSeconds(10);

  /** A condition checked repeatedly. */
  @FunctionalInterface
  public interface Condition {
    /** Returns whether the condition holds. */
    boolean holds() throws Exception;
  }

  private Await() {}

  /** Waits up to 10 s for the condition, checking every 20 ms; fails the test after that. */
  public static void until(Condition c) throws Exception {
    until(c, WAIT, "condition");
  }

  /**
   * Waits up to {@code wait} for the condition, checking every 20 ms; fails the test naming {@code
   * what} after that.
   */
  public static void until(Condition c, Duration wait, String what) throws Exception {
    long deadline = System.nanoTime() + wait.toNanos();
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError(what + " not met within " + wait);
      }
      Thread.sleep(20);
    }
  }
}
