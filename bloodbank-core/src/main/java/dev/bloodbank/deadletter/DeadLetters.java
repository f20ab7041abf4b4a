package dev.bloodbank.deadletter;

import java.util.List;

/**
 * Tools for dead-letter queues, from {@link dev.bloodbank.Bloodbank#deadLetters()}.
 *
 * <p>Each call opens its own channels on the bus's connections and closes them before it returns;
 * calls may run at once from several threads, though two {@linkplain #replay replays} of one queue
 * only take turns at its messages. Valid while the bus is open. Thread-safe.
 *
 * @since 0.2.0
 */
public interface DeadLetters {
  /** The most messages one {@link #peek(String, int)} shows: {@value}. */
  int MAX_PEEK = 10_000;

  /**
   * Returns how many messages a queue holds and how many consumers it has, by a passive declare.
   *
   * @param queue the dead-letter queue, e.g. {@code orders.dlq}
   * @return its counts
   * @throws dev.bloodbank.BloodbankException naming the queue when it does not exist, or once the
   *     bus is closed
   */
  DeadLetterQueueInfo inspect(String queue);

  /**
   * Shows the first messages of a queue without taking them: each is fetched unacknowledged, then
   * all are returned to the queue in their order when the call ends. They come back marked
   * redelivered; on a quorum queue each look counts as a delivery towards its {@code
   * x-delivery-limit}, if it has one.
   *
   * @param queue the dead-letter queue
   * @param limit how many at most, from 1 to {@value #MAX_PEEK}
   * @return the messages, oldest first; empty when the queue is
   * @throws IllegalArgumentException when the limit is out of range
   * @throws dev.bloodbank.BloodbankException naming the queue when it does not exist, or once the
   *     bus is closed
   */
  List<DeadLetter> peek(String queue, int limit);

  /**
   * Moves dead letters back to the queues whose consumers failed (or to the options' queue), oldest
   * first, blocking until done. Each is published through the default exchange with its event id,
   * body and properties unchanged, without the failure headers (so the consumer starts over with
   * all its attempts), and removed from the dead-letter queue only after the broker confirmed the
   * copy: nothing is lost when the call, the process or the connection stops midway. If the process
   * dies between a confirm and the removal, that one message is moved again by the next replay,
   * with the same event id, which an idempotent subscriber drops.
   *
   * <p>Messages the options' patterns skip, and those that cannot be moved (no target queue known,
   * or it does not exist), stay in the dead-letter queue in their order. Only the messages present
   * when the call starts are looked at, so a consumer that fails again cannot make it loop.
   *
   * <p>An interrupt of the calling thread stops the replay after the message in progress, which is
   * confirmed and removed first; the result then says {@link DeadLetterReplayResult#interrupted()}
   * and the thread's interrupt flag is set again.
   *
   * @param options the queue, patterns, limit, target, rate and dry run
   * @return what was moved, skipped and left
   * @throws dev.bloodbank.BloodbankException naming the queue when it does not exist, when the
   *     broker refuses a copy or does not confirm it within the options' timeout (that message
   *     stays in the dead-letter queue), or once the bus is closed
   */
  DeadLetterReplayResult replay(DeadLetterReplayOptions options);

  /**
   * Deletes every message that a queue holds and that no consumer holds unacknowledged.
   *
   * @param queue the dead-letter queue
   * @return how many messages were deleted
   * @throws dev.bloodbank.BloodbankException naming the queue when it does not exist, or once the
   *     bus is closed
   */
  long purge(String queue);
}
