package dev.bloodbank.test;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.FailureHeaders;
import dev.bloodbank.Transport;
import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.embedded.EmbeddedBroker.Event;
import dev.bloodbank.embedded.EmbeddedBroker.Kind;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * A bus on its own {@link EmbeddedBroker}, for one test: publish, then read back what was
 * published, consumed and dead-lettered, and the causation graph.
 *
 * <p>{@link #bloodbank()} is an ordinary {@link Bloodbank}: hand it to the code under test, whose
 * publishers and subscribers run unchanged on the embedded broker (see {@link EmbeddedBroker} for
 * what it emulates). Causation is tracked in an in-memory tracker unless the options name another.
 * The lists are read from the broker's journal, so they see every bus connected to the same broker
 * ({@link #connect(UnaryOperator)}). Usually created by {@link BloodbankTestExtension}; assert on
 * it with {@link BloodbankAssertions#assertThat(TestBus)}. Thread-safe.
 */
public final class TestBus implements AutoCloseable {
  /** Default bound of every wait: 5 s. */
  public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(5);

  /** Default service name of the bus: {@value}. */
  public static final String DEFAULT_SERVICE_NAME = "test";

  private static final Pattern RETRY_QUEUE = Pattern.compile("\\.retry\\.\\d+$");

  private final EmbeddedBroker broker;
  private final CorrelationTracker ownTracker;
  private final UnaryOperator<BloodbankOptions.Builder> customizer;
  private final Bloodbank bus;
  private final Duration timeout;
  private final List<Bloodbank> others = new CopyOnWriteArrayList<>();

  private TestBus(UnaryOperator<BloodbankOptions.Builder> customizer, Duration timeout) {
    this.broker = EmbeddedBroker.create();
    this.ownTracker = CorrelationTracker.inMemory();
    this.customizer = customizer;
    this.timeout = timeout;
    try {
      this.bus = Bloodbank.connect(options().build());
    } catch (RuntimeException e) {
      broker.close();
      ownTracker.close();
      throw e;
    }
  }

  /**
   * Starts a bus with the defaults: service name {@value #DEFAULT_SERVICE_NAME}, an in-memory
   * causation tracker, waits bounded by {@link #DEFAULT_TIMEOUT}.
   *
   * @return the bus; close it after the test
   */
  public static TestBus start() {
    return start(UnaryOperator.identity(), DEFAULT_TIMEOUT);
  }

  /**
   * Starts a bus with changed options. The transport is always the bus's own embedded broker.
   *
   * @param options changes to the defaults, e.g. {@code o -> o.validation(PERMISSIVE)}
   * @param timeout bound of every wait, positive
   * @return the bus; close it after the test
   */
  public static TestBus start(UnaryOperator<BloodbankOptions.Builder> options, Duration timeout) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(timeout, "timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("timeout must be positive, was " + timeout);
    }
    return new TestBus(options, timeout);
  }

  /**
   * Returns options for another bus on the same broker (another service, say): this bus's options,
   * ready to change. Connect it with {@link #connect(UnaryOperator)} so it is closed with this one.
   *
   * @return a new builder
   */
  public BloodbankOptions.Builder options() {
    BloodbankOptions.Builder b =
        BloodbankOptions.builder().serviceName(DEFAULT_SERVICE_NAME).correlationTracker(ownTracker);
    return customizer.apply(b).transport(Transport.embedded(broker));
  }

  /**
   * Connects another bus to the same broker, closed with this one.
   *
   * @param change changes to {@link #options()}, e.g. another service name
   * @return the bus
   */
  public Bloodbank connect(UnaryOperator<BloodbankOptions.Builder> change) {
    Bloodbank other =
        Bloodbank.connect(change.apply(options()).transport(Transport.embedded(broker)).build());
    others.add(other);
    return other;
  }

  /**
   * Returns the bus under test.
   *
   * @return the bus
   */
  public Bloodbank bloodbank() {
    return bus;
  }

  /**
   * Returns the embedded broker, for a look at its queues or its journal.
   *
   * @return the broker
   */
  public EmbeddedBroker broker() {
    return broker;
  }

  /**
   * Returns the causation tracker of the bus.
   *
   * @return the in-memory tracker, or the one the options named
   */
  public CorrelationTracker tracker() {
    return bus.correlationTracker().orElse(ownTracker);
  }

  /**
   * Returns the bound of every wait.
   *
   * @return the timeout
   */
  public Duration timeout() {
    return timeout;
  }

  // ---- publishing --------------------------------------------------------------------------

  /**
   * Publishes an event with the bus's shared publisher and waits for the broker's confirm.
   *
   * @param eventType the event type (routing key)
   * @param payload the payload
   * @param <T> the payload type
   * @return the event as sent
   * @throws BloodbankException as the publish failed (validation, unroutable...), or on timeout
   */
  public <T> EventEnvelope<T> publish(String eventType, T payload) {
    return await(bus.publisher().publish(eventType, payload), "publishing '" + eventType + "'");
  }

  /**
   * Publishes an event and waits for the broker's confirm.
   *
   * @param envelope the event
   * @param <T> the payload type
   * @return the event as sent
   * @throws BloodbankException as the publish failed, or on timeout
   */
  public <T> EventEnvelope<T> publish(EventEnvelope<T> envelope) {
    return await(bus.publisher().publish(envelope), "publishing '" + envelope.eventType() + "'");
  }

  private <T> T await(CompletableFuture<T> f, String what) {
    try {
      return f.get(timeout.toNanos(), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BloodbankException("interrupted while " + what, e);
    } catch (TimeoutException e) {
      throw new BloodbankException(what + " took longer than " + timeout, e);
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      if (c instanceof RuntimeException) {
        throw (RuntimeException) c;
      }
      throw new BloodbankException(what + " failed: " + c, c);
    }
  }

  // ---- what happened ---------------------------------------------------------------------

  /**
   * Returns every event published to the bus's exchange so far, oldest first (messages that are not
   * valid events are left out).
   *
   * @return a snapshot
   */
  public List<EventEnvelope<JsonNode>> published() {
    List<EventEnvelope<JsonNode>> out = new ArrayList<>();
    String exchange = bus.options().exchange();
    for (Event e : broker.events()) {
      if (e.kind() == Kind.PUBLISHED && e.exchange().equals(exchange)) {
        EventEnvelope<JsonNode> event = decode(e.body());
        if (event != null) {
          out.add(event);
        }
      }
    }
    return out;
  }

  /**
   * Returns the events of one type published so far.
   *
   * @param eventType the exact event type
   * @return a snapshot, oldest first
   */
  public List<EventEnvelope<JsonNode>> published(String eventType) {
    return ofType(published(), eventType);
  }

  /**
   * Returns the events of one type published so far, with typed payloads.
   *
   * @param eventType the exact event type
   * @param payloadType the payload class
   * @param <T> the payload type
   * @return a snapshot, oldest first
   */
  public <T> List<EventEnvelope<T>> published(String eventType, Class<T> payloadType) {
    List<EventEnvelope<T>> out = new ArrayList<>();
    for (EventEnvelope<JsonNode> e : published(eventType)) {
      out.add(bus.codec().convertPayload(e, payloadType));
    }
    return out;
  }

  /**
   * Returns the events a subscriber handled successfully so far: deliveries acknowledged without a
   * retry or dead-letter copy of them being sent first. An event handled by two subscribers (two
   * queues) is listed twice; retry and dead-letter queues are left out.
   *
   * @return a snapshot, oldest first
   */
  public List<EventEnvelope<JsonNode>> consumed() {
    // Our subscriber sends a failed delivery's copy to <queue>.retry.<ms> or <queue>.dlq, and only
    // then acknowledges it; an acknowledgement without such a copy since the delivery is a success.
    Map<String, Boolean> forwarded = new HashMap<>();
    List<EventEnvelope<JsonNode>> out = new ArrayList<>();
    for (Event e : broker.events()) {
      String id = String.valueOf(e.properties().getMessageId());
      switch (e.kind()) {
        case DELIVERED:
          forwarded.put(e.queue() + "\n" + id, false);
          break;
        case PUBLISHED:
          if (e.exchange().isEmpty()) {
            String target = e.routingKey();
            String source =
                target.endsWith(".dlq")
                    ? target.substring(0, target.length() - 4)
                    : RETRY_QUEUE.matcher(target).find()
                        ? RETRY_QUEUE.matcher(target).replaceFirst("")
                        : null;
            if (source != null) {
              forwarded.put(source + "\n" + id, true);
            }
          }
          break;
        case ACKED:
          String q = Objects.requireNonNull(e.queue());
          if (q.endsWith(".dlq") || RETRY_QUEUE.matcher(q).find()) {
            break;
          }
          if (!forwarded.getOrDefault(q + "\n" + id, false)) {
            EventEnvelope<JsonNode> event = decode(e.body());
            if (event != null) {
              out.add(event);
            }
          }
          break;
        default:
          break;
      }
    }
    return out;
  }

  /**
   * Returns the events of one type subscribers handled successfully so far.
   *
   * @param eventType the exact event type
   * @return a snapshot, oldest first
   */
  public List<EventEnvelope<JsonNode>> consumed(String eventType) {
    return ofType(consumed(), eventType);
  }

  /**
   * Returns every message that reached a dead-letter queue so far.
   *
   * @return a snapshot, oldest first
   */
  public List<DeadLetter> deadLettered() {
    List<DeadLetter> out = new ArrayList<>();
    for (Event e : broker.events()) {
      if (e.kind() == Kind.ENQUEUED && e.queue() != null && e.queue().endsWith(".dlq")) {
        out.add(deadLetter(e.queue(), e.properties(), e.body(), e.routingKey()));
      }
    }
    return out;
  }

  /**
   * Returns the messages of one event type that reached a dead-letter queue so far.
   *
   * @param eventType the exact event type
   * @return a snapshot, oldest first
   */
  public List<DeadLetter> deadLettered(String eventType) {
    List<DeadLetter> out = new ArrayList<>();
    for (DeadLetter d : deadLettered()) {
      if (d.eventType().equals(eventType)) {
        out.add(d);
      }
    }
    return out;
  }

  private DeadLetter deadLetter(
      String queue, AMQP.BasicProperties props, byte[] body, String routingKey) {
    Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
    EventEnvelope<JsonNode> event = decode(body);
    Object original = headers.get(FailureHeaders.ORIGINAL_ROUTING_KEY);
    String type =
        original != null
            ? original.toString()
            : event != null
                ? event.eventType()
                : props.getType() != null ? props.getType() : routingKey;
    Object attempts = headers.get(FailureHeaders.ATTEMPTS);
    return new DeadLetter(
        queue,
        type,
        event,
        string(headers.get(FailureHeaders.REASON)),
        string(headers.get(FailureHeaders.ERROR_CLASS)),
        string(headers.get(FailureHeaders.ERROR_MESSAGE)),
        attempts instanceof Number ? ((Number) attempts).intValue() : 0,
        Map.copyOf(headers));
  }

  private static @Nullable String string(@Nullable Object v) {
    return v == null ? null : v.toString();
  }

  /**
   * Returns the causation graph below an event, as the tracker holds it now.
   *
   * @param root the event id
   * @return the descendants, to the tracker's default depth
   * @throws BloodbankException if the tracker does not answer within the timeout
   */
  public CorrelationGraph causation(UUID root) {
    return await(tracker().descendants(root), "reading the causation graph of " + root);
  }

  /**
   * Waits until a condition holds, checking every 10 ms.
   *
   * @param condition the condition
   * @return true if it held within {@link #timeout()}, false otherwise
   */
  public boolean await(BooleanSupplier condition) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() - deadline > 0) {
        return false;
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return condition.getAsBoolean();
      }
    }
    return true;
  }

  private @Nullable EventEnvelope<JsonNode> decode(byte[] body) {
    try {
      return bus.codec().decode(body);
    } catch (RuntimeException e) {
      return null;
    }
  }

  private static List<EventEnvelope<JsonNode>> ofType(
      List<EventEnvelope<JsonNode>> events, String eventType) {
    List<EventEnvelope<JsonNode>> out = new ArrayList<>();
    for (EventEnvelope<JsonNode> e : events) {
      if (e.eventType().equals(eventType)) {
        out.add(e);
      }
    }
    return out;
  }

  /** Closes the buses, then the broker and the in-memory tracker. Idempotent. */
  @Override
  public void close() {
    for (Bloodbank b : others) {
      b.close();
    }
    bus.close();
    broker.close();
    ownTracker.close();
  }

  @Override
  public String toString() {
    return "TestBus{" + broker + ", exchange=" + bus.options().exchange() + "}";
  }
}
