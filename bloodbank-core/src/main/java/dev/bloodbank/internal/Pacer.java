package dev.bloodbank.internal;

import java.util.concurrent.TimeUnit;

/**
 * Paces work to a rate by sleeping until each item's slot, with no burst beyond one item: the rate
 * limit of dead-letter replays and {@code bb replay --republish}. Not thread-safe: one caller.
 */
public final class Pacer {
  private final long intervalNanos;
  private long next = System.nanoTime();

  /**
   * Creates a pacer.
   *
   * @param rate items per second; 0 or less paces nothing
   */
  public Pacer(double rate) {
    this.intervalNanos = rate <= 0 ? 0 : (long) (1e9 / rate);
  }

  /**
   * Waits until the next item's slot; returns at once when the rate is unlimited or the caller is
   * behind.
   *
   * @throws InterruptedException when interrupted while waiting
   */
  public void pace() throws InterruptedException {
    if (intervalNanos == 0) {
      return;
    }
    long now = System.nanoTime();
    if (next > now) {
      TimeUnit.NANOSECONDS.sleep(next - now);
      next += intervalNanos;
    } else {
      next = now + intervalNanos;
    }
  }
}
