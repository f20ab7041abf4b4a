package dev.bloodbank.server.internal;

import java.util.concurrent.ConcurrentHashMap;

/**
 * A token bucket per client (API key name, or address without keys): {@code perSecond} tokens a
 * second, bursts up to one second's worth. Thread-safe. Buckets idle for a minute are forgotten, so
 * clients that come and go leave nothing behind.
 */
final class RateLimiter {
  private static final long IDLE_NANOS = 60_000_000_000L;

  private final double perSecond;
  private final double burst;
  private final ConcurrentHashMap<String, Bucket> buckets = new ConcurrentHashMap<>();
  private volatile long lastSweep = System.nanoTime();

  RateLimiter(double perSecond) {
    this.perSecond = perSecond;
    this.burst = Math.max(1, perSecond);
  }

  /**
   * Takes a token for this client.
   *
   * @return 0 when allowed, else the nanoseconds until a token is available
   */
  long acquire(String client) {
    if (perSecond <= 0) {
      return 0;
    }
    long now = System.nanoTime();
    sweep(now);
    Bucket b = buckets.computeIfAbsent(client, k -> new Bucket(burst, now));
    synchronized (b) {
      b.tokens = Math.min(burst, b.tokens + (now - b.last) * perSecond / 1e9);
      b.last = now;
      if (b.tokens >= 1) {
        b.tokens -= 1;
        return 0;
      }
      return (long) Math.ceil((1 - b.tokens) / perSecond * 1e9);
    }
  }

  private void sweep(long now) {
    if (now - lastSweep < IDLE_NANOS) {
      return;
    }
    lastSweep = now;
    buckets.entrySet().removeIf(e -> now - e.getValue().last > IDLE_NANOS);
  }

  private static final class Bucket {
    double tokens;
    volatile long last;

    Bucket(double tokens, long last) {
      this.tokens = tokens;
      this.last = last;
    }
  }
}
