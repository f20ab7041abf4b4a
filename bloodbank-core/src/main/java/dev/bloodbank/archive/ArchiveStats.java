package dev.bloodbank.archive;

import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/**
 * What an archive held when {@link Archive#stats()} looked.
 *
 * <p>Event times are the messages' AMQP {@code timestamp} property, which Bloodbank publishers set
 * to the event's timestamp, in whole seconds; events from other publishers may have none. Offsets
 * start at 0 and grow with each event, but not always by one: the broker's own records at the start
 * of each segment file take offsets too. After retention deleted segments the first offset is above
 * 0. Immutable and thread-safe.
 *
 * @param queue the stream queue
 * @param offsetSpan {@code lastOffset - firstOffset + 1}, 0 when empty: the number of events kept
 *     while the stream has one segment, an upper bound after that (see above). RabbitMQ 3.10 tells
 *     no exact count over AMQP 0.9.1: a passive declare of a stream reports 0 messages
 * @param firstOffset the offset of the oldest event kept, -1 when empty
 * @param firstTimestamp the event time of the oldest event kept, if it has one
 * @param lastOffset the offset of the newest event, -1 when empty
 * @param lastTimestamp the event time of the newest event, if it has one
 * @since 0.2.0
 */
public record ArchiveStats(
    String queue,
    long offsetSpan,
    long firstOffset,
    @Nullable Instant firstTimestamp,
    long lastOffset,
    @Nullable Instant lastTimestamp) {

  /**
   * Returns whether the archive held no event.
   *
   * @return true when empty
   */
  public boolean isEmpty() {
    return lastOffset < 0;
  }

  /**
   * Returns the offset of the oldest event kept.
   *
   * @return the offset, or empty when the archive is empty
   */
  public OptionalLong first() {
    return firstOffset >= 0 ? OptionalLong.of(firstOffset) : OptionalLong.empty();
  }

  /**
   * Returns the offset of the newest event.
   *
   * @return the offset, or empty when the archive is empty
   */
  public OptionalLong last() {
    return lastOffset >= 0 ? OptionalLong.of(lastOffset) : OptionalLong.empty();
  }

  /**
   * Returns the event time of the oldest event kept.
   *
   * @return the time, or empty when the archive is empty or the event has none
   */
  public Optional<Instant> firstTime() {
    return Optional.ofNullable(firstTimestamp);
  }

  /**
   * Returns the event time of the newest event.
   *
   * @return the time, or empty when the archive is empty or the event has none
   */
  public Optional<Instant> lastTime() {
    return Optional.ofNullable(lastTimestamp);
  }
}
