package dev.bloodbank.archive;

import java.util.concurrent.CompletableFuture;

/**
 * A running replay of a stream queue, started by {@link dev.bloodbank.Bloodbank#replay}.
 *
 * <p>Its handler runs on a dispatch thread of the bus's consuming connection, one event at a time
 * in offset order; it may block (the stream waits: at most {@link ReplayOptions#prefetch()} events
 * are delivered and not acknowledged). A handler that throws stops the replay: {@link
 * #completion()} fails with a {@link ReplayException} naming the offset of that event; there are no
 * retries and no dead letters for replays. Closing the bus closes its replays. Thread-safe.
 *
 * @since 0.2.0
 */
public interface Replay extends AutoCloseable {
  /**
   * Returns the stream queue read.
   *
   * @return the queue
   */
  String queueName();

  /**
   * Returns the options the replay was started with.
   *
   * @return the options
   */
  ReplayOptions options();

  /**
   * Returns a future that completes when the replay ends: with its result once it reached its end
   * or was closed, or exceptionally with a {@link ReplayException} when its handler failed or its
   * channel closed. A {@link ReplayOptions.End#FOLLOW following} replay completes only when closed.
   * Completes on the bus's callback executor.
   *
   * @return the future, always the same one
   */
  CompletableFuture<ReplayResult> completion();

  /**
   * Returns the offset of the last event done (handled, filtered or skipped).
   *
   * @return the offset, or -1 before the first
   */
  long lastOffset();

  /**
   * Returns how many events the handler has handled.
   *
   * @return the count
   */
  long handled();

  /**
   * Stops the replay: no new event is handed over, a handler in progress may finish (up to {@link
   * ReplayOptions#shutdownTimeout()}, then it is interrupted), the offset store is written, the
   * channel is closed and {@link #completion()} completes with the result so far, unless it
   * completed already. Idempotent; may be called from the handler.
   */
  @Override
  void close();
}
