package dev.bloodbank;

/**
 * A running consumer of one durable queue bound to the bus exchange with one or more patterns.
 *
 * <p>Created (and started) by {@link Bloodbank#subscribe}. It resumes by itself after a broker
 * restart or a closed connection. Thread-safe.
 */
public interface Subscriber extends AutoCloseable {
  /**
   * Returns the name of the queue consumed.
   *
   * @return the queue name
   */
  String queueName();

  /**
   * Returns the name of the dead-letter queue, {@code <queue>.dlq}.
   *
   * @return the dead-letter queue name
   */
  String deadLetterQueueName();

  /**
   * Returns the options the subscriber was made with.
   *
   * @return the options
   */
  SubscriberOptions options();

  /**
   * Returns a snapshot of the subscriber's state.
   *
   * @return the health
   */
  SubscriberHealth health();

  /**
   * Stops taking new events, lets handlers in progress finish and acknowledge (up to {@link
   * SubscriberOptions#shutdownTimeout()}), then closes the channel. Events not acknowledged by then
   * are redelivered to another consumer. Idempotent.
   */
  @Override
  void close();
}
