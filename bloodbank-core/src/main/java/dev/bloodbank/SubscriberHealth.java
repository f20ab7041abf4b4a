package dev.bloodbank;

import java.time.Instant;
import org.jspecify.annotations.Nullable;

/**
 * A snapshot of a subscriber's state, for health checks.
 *
 * @param connected whether its channel to the broker is open
 * @param consuming whether the broker is delivering to it (false after close, during recovery, or
 *     after the broker cancelled the consumer, e.g. because the queue was deleted)
 * @param lastError the last failure (handler, decode, broker), or null
 * @param lastErrorAt when it happened, or null
 * @param handled events handled successfully
 * @param retried failed attempts sent back for a retry
 * @param deadLettered events moved to the dead-letter queue
 */
public record SubscriberHealth(
    boolean connected,
    boolean consuming,
    @Nullable String lastError,
    @Nullable Instant lastErrorAt,
    long handled,
    long retried,
    long deadLettered) {

  /**
   * Returns whether the subscriber is up: connected and consuming.
   *
   * @return true when healthy
   */
  public boolean isHealthy() {
    return connected && consuming;
  }
}
