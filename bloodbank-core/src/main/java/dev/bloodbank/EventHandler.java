package dev.bloodbank;

/**
 * Handles events delivered to a {@link Subscriber}.
 *
 * <p>Returning normally acknowledges the event. Throwing anything makes it a failed attempt: the
 * event is retried after the subscriber's backoff and, once its attempts are used up, moved to the
 * dead-letter queue with the failure in its headers (see {@link FailureHeaders}). Delivery is
 * at-least-once: a handler may see the same event id twice after a crash or a lost connection, so
 * make it idempotent by event id.
 *
 * <p>Called from the subscriber's worker threads, up to {@link SubscriberOptions#concurrency()} at
 * once; implementations must be thread-safe when the concurrency is above 1. A handler may block,
 * and may publish and wait ({@link Publisher#publishAndWait}); see <a
 * href="package-summary.html#threads">Threads</a>.
 *
 * @param <T> the payload type
 */
@FunctionalInterface
public interface EventHandler<T> {
  /**
   * Handles one event.
   *
   * @param event the decoded, validated event
   * @throws Exception to fail this attempt
   */
  void handle(EventEnvelope<T> event) throws Exception;
}
