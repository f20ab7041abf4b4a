package dev.bloodbank.internal;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.observability.BloodbankObservability;
import java.util.Map;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * What the bus tells its metrics and observations, in Bloodbank's own terms: the publisher, the
 * subscribers, the command manager and the write-ahead log call it, and only {@link
 * MicrometerObserver} knows Micrometer. {@link #NOOP}, used when the options configure no
 * observability, does nothing and loads no Micrometer class. Implementations are thread-safe, and
 * never block or throw.
 */
public interface BusObserver {
  /** Observes nothing. */
  BusObserver NOOP = new BusObserver() {};

  /** Publish outcome tag values. */
  String CONFIRMED = "confirmed";

  /** Consume outcome tag values. */
  String HANDLED = "handled";

  String RETRIED = "retried";
  String DEAD_LETTERED = "dead_lettered";
  String INVALID = "invalid";
  String MALFORMED = "malformed";
  String DUPLICATE = "duplicate";
  String DEFERRED = "deferred";
  String REQUEUED = "requeued";

  /**
   * The observer for a bus's options.
   *
   * @param observability the options' observability, or null for {@link #NOOP}
   * @param knownType whether an event type may be a tag value; others are tagged {@code other}
   */
  static BusObserver of(
      @Nullable BloodbankObservability observability, Predicate<String> knownType) {
    return observability == null ? NOOP : new MicrometerObserver(observability, knownType);
  }

  /** Whether publishes carry trace context: only then is a headers map worth making. */
  default boolean tracing() {
    return false;
  }

  /**
   * A publish starts.
   *
   * @param headers the message's headers, mutable, where trace context is written; only given when
   *     {@link #tracing()}
   */
  default Publish publish(
      String exchange, EventEnvelope<?> event, @Nullable Map<String, Object> headers) {
    return Publish.NOOP;
  }

  /** A publish attempt failed and will be tried again. */
  default void publishRetried(String eventType, String reason) {}

  /** An event was refused by schema validation, before publishing or after receiving. */
  default void validationFailed(String eventType, String direction) {}

  /**
   * A delivery arrived.
   *
   * @param subscription the bounded tag of the subscription
   * @param headers the message's headers, where a producer's trace context is read
   */
  default Delivery delivery(
      String subscription,
      String exchange,
      String routingKey,
      Map<String, Object> headers,
      boolean redelivered) {
    return Delivery.NOOP;
  }

  /** A command starts executing; its scope is open until {@link Command#end}. */
  default Command command(EventEnvelope<?> command) {
    return Command.NOOP;
  }

  /** An fsync of the write-ahead log took this long. */
  default void walFsync(long nanos) {}

  /** amqp-client's own metrics for the bus's connection factories, or null. */
  default com.rabbitmq.client.@Nullable MetricsCollector amqpMetrics() {
    return null;
  }

  /** Registers a gauge of the bus, removed by {@link #close()}; tags as key, value pairs. */
  default void gauge(String name, String description, DoubleSupplier value, String... tags) {}

  /** Registers a counter read from the bus, removed by {@link #close()}. */
  default void counter(String name, String description, DoubleSupplier value, String... tags) {}

  /** Removes the bus's gauges and counters from the registry (the bus closed). */
  default void close() {}

  /** Opens a delivery's scope; a failing observation handler leaves it unobserved. */
  static AutoCloseable openQuietly(Delivery delivery) {
    try {
      return delivery.open();
    } catch (RuntimeException e) {
      Quiet.LOG.warn("could not open a delivery's observation scope: {}", e.toString());
      return () -> {};
    }
  }

  /** Closes a scope from {@link #openQuietly}; a failing observation handler is only logged. */
  static void closeQuietly(AutoCloseable scope) {
    try {
      scope.close();
    } catch (Exception e) {
      Quiet.LOG.warn("could not close a delivery's observation scope: {}", e.toString());
    }
  }

  /** Tells a delivery its event; a failing observation handler is only logged. */
  static void eventQuietly(Delivery delivery, EventEnvelope<?> event) {
    try {
      delivery.event(event);
    } catch (RuntimeException e) {
      Quiet.LOG.warn("could not observe event {}: {}", event.eventId(), e.toString());
    }
  }

  /** Ends a publish's observation; a failing observation handler is only logged. */
  static void endQuietly(Publish publish, @Nullable Throwable failure) {
    try {
      publish.end(failure);
    } catch (RuntimeException e) {
      Quiet.LOG.warn("could not end a publish's observation: {}", e.toString());
    }
  }

  /** Starts a command's observation; a failing observation handler leaves it unobserved. */
  static Command commandQuietly(BusObserver observer, EventEnvelope<?> command) {
    try {
      return observer.command(command);
    } catch (RuntimeException e) {
      Quiet.LOG.warn("could not observe command {}: {}", command.eventId(), e.toString());
      return Command.NOOP;
    }
  }

  /** Ends a command's observation; a failing observation handler is only logged. */
  static void endQuietly(Command command, String outcome, @Nullable Throwable error) {
    try {
      command.end(outcome, error);
    } catch (RuntimeException e) {
      Quiet.LOG.warn("could not end a command's observation: {}", e.toString());
    }
  }

  /** The logger of the quiet helpers (an interface cannot have a private field). */
  final class Quiet {
    static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(BusObserver.class);

    private Quiet() {}
  }

  /** One publish, ended once. */
  interface Publish {
    /** Nothing to end. */
    Publish NOOP = failure -> {};

    /**
     * The publish ended.
     *
     * @param failure null when confirmed
     */
    void end(@Nullable Throwable failure);
  }

  /** One delivery: its event once decoded, the handler's scope, then its outcome. */
  interface Delivery {
    /** Nothing to observe. */
    Delivery NOOP = new Delivery() {};

    /** The delivery decoded into this event. */
    default void event(EventEnvelope<?> event) {}

    /** Opens the scope the handler runs in (the consumer span is current); close it after. */
    default AutoCloseable open() {
      return () -> {};
    }

    /** The trace id of this delivery's span, or null. */
    default @Nullable String traceId() {
      return null;
    }

    /** Settled with this outcome; {@code error} the handler's failure if any. */
    default void end(String outcome, @Nullable Throwable error) {}
  }

  /** One command's execution. */
  interface Command {
    /** Nothing to observe. */
    Command NOOP = new Command() {};

    /** The trace id of the command's span, or null. */
    default @Nullable String traceId() {
      return null;
    }

    /** Ended with this outcome. */
    default void end(String outcome, @Nullable Throwable error) {}
  }
}
