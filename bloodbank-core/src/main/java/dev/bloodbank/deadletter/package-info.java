/**
 * Dead letters: the events a subscriber gave up on, kept in its dead-letter queue ({@code
 * <queue>.dlq}) with the {@linkplain dev.bloodbank.FailureHeaders failure headers} that say why.
 *
 * <p>{@link dev.bloodbank.Bloodbank#deadLetters()} reads a dead-letter queue's counts, shows its
 * events without taking them, moves them back to the queue whose consumer failed (each removed only
 * after the broker confirmed its copy), and purges it. Everything goes over AMQP 0.9.1: no
 * management plugin is needed, and so none can list the queues; their names are given.
 *
 * <p>Everything in this package is non-null unless marked {@code @Nullable}.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.bloodbank.deadletter;

import org.jspecify.annotations.NullMarked;
