package dev.bloodbank;

/**
 * How an event reached a subscriber: which attempt this is and where it came from.
 *
 * @param attempt 1 for the first attempt, 2 for the first retry, ...
 * @param maxAttempts the subscriber's {@link SubscriberOptions#maxAttempts()}
 * @param redelivered whether the broker redelivered it (a consumer died or its channel closed
 *     before acknowledging); the handler may have seen it already
 * @param queue the queue it was consumed from
 */
public record DeliveryInfo(int attempt, int maxAttempts, boolean redelivered, String queue) {
  /**
   * Returns whether a failure now sends the event to the dead-letter queue instead of a retry.
   *
   * @return true on the last attempt
   */
  public boolean isLastAttempt() {
    return attempt >= maxAttempts;
  }
}
