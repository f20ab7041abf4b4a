package dev.bloodbank.archive;

/**
 * How a replay ended, the value of {@link Replay#completion()}. Immutable and thread-safe.
 *
 * @param queue the stream queue read
 * @param handled events handed to the handler that returned normally
 * @param filtered events read and passed over: not matching the patterns, or before the start
 *     instant
 * @param skipped events that could not be handed to the handler: malformed, not JSON, or breaking
 *     their schema (logged with their offset)
 * @param lastOffset the offset of the last event done (handled, filtered or skipped), -1 for none
 * @param endReached true when the replay reached its end, false when it was closed before
 * @since 0.2.0
 */
public record ReplayResult(
    String queue, long handled, long filtered, long skipped, long lastOffset, boolean endReached) {}
