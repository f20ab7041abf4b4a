package dev.bloodbank.deadletter;

/**
 * A queue's counts when {@link DeadLetters#inspect(String)} looked. Immutable and thread-safe.
 *
 * @param queue the queue's name
 * @param messages messages ready for delivery (those delivered and not yet acknowledged are not
 *     counted)
 * @param consumers consumers attached to it
 * @since 0.2.0
 */
public record DeadLetterQueueInfo(String queue, long messages, int consumers) {}
