package dev.bloodbank;

import java.util.OptionalLong;

/**
 * How an event reached a handler: which attempt this is and where it came from.
 *
 * <p>A {@link Subscriber}'s deliveries have {@code replayed} false and no offset; a {@linkplain
 * Bloodbank#replay replay}'s have {@code replayed} true, the event's offset in the archive stream,
 * and always attempt 1 of 1 (a replay does not retry). Immutable and thread-safe.
 *
 * @param attempt 1 for the first attempt, 2 for the first retry, ...
 * @param maxAttempts the subscriber's {@link SubscriberOptions#maxAttempts()}
 * @param redelivered whether the broker redelivered it (a consumer died or its channel closed
 *     before acknowledging); the handler may have seen it already
 * @param queue the queue it was consumed from (the archive stream for a replay)
 * @param replayed whether the event comes from a replay of the archive rather than a subscription
 *     (since 0.2.0)
 * @param streamOffset the event's offset in the archive stream, or -1 for a subscriber's delivery
 *     (since 0.2.0)
 */
public record DeliveryInfo(
    int attempt,
    int maxAttempts,
    boolean redelivered,
    String queue,
    boolean replayed,
    long streamOffset) {

  /**
   * Describes a subscriber's delivery: not replayed, no offset.
   *
   * @param attempt 1 for the first attempt, 2 for the first retry, ...
   * @param maxAttempts the subscriber's {@link SubscriberOptions#maxAttempts()}
   * @param redelivered whether the broker redelivered it
   * @param queue the queue it was consumed from
   */
  public DeliveryInfo(int attempt, int maxAttempts, boolean redelivered, String queue) {
    this(attempt, maxAttempts, redelivered, queue, false, -1);
  }

  /**
   * Describes a replayed event: attempt 1 of 1, not redelivered.
   *
   * @param queue the archive stream
   * @param offset the event's offset in it, 0 or more
   * @return the delivery information
   * @since 0.2.0
   */
  public static DeliveryInfo forReplay(String queue, long offset) {
    return new DeliveryInfo(1, 1, false, queue, true, offset);
  }

  /**
   * Returns the event's offset in the archive stream, for a replayed event.
   *
   * @return the offset, or empty for a subscriber's delivery
   * @since 0.2.0
   */
  public OptionalLong offset() {
    return streamOffset >= 0 ? OptionalLong.of(streamOffset) : OptionalLong.empty();
  }

  /**
   * Returns whether a failure now sends the event to the dead-letter queue instead of a retry.
   *
   * @return true on the last attempt
   */
  public boolean isLastAttempt() {
    return attempt >= maxAttempts;
  }
}
