package dev.bloodbank;

/**
 * How a subscriber's queue is named when {@link SubscriberOptions.Builder#queueName} is not set.
 *
 * @since 0.2.0
 */
public enum QueueNaming {
  /**
   * {@code <service>_<patterns>_queue}, e.g. {@code transcriber_fireflies.all_queue} for {@code
   * fireflies.#}: one queue per service and set of patterns. Bloodbank for Java's default.
   */
  PATTERNS,
  /**
   * {@code <exchange>.<service>}, e.g. {@code bloodbank.events.v1.command_processor}: the queue the
   * Python library's consumer declares for a service, so that a Java service of the same name takes
   * it over (declared without arguments, with {@link SubscriberOptions.Builder#queueArguments} of
   * an empty map, or used as it is with {@link SubscriberOptions.Builder#existingQueue}).
   */
  EXCHANGE_AND_SERVICE
}
