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
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + WAIT);
      }
      Thread.sleep(20);
    }
  }
}
