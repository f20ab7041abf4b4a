package dev.bloodbank.internal;

import static dev.bloodbank.observability.BloodbankObservability.*;

import com.rabbitmq.client.MetricsCollector;
import com.rabbitmq.client.impl.MicrometerMetricsCollector;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublishException;
import dev.bloodbank.UnroutableEventException;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.observability.CausationLinkingSenderHandler;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.observation.transport.Kind;
import io.micrometer.observation.transport.ReceiverContext;
import io.micrometer.observation.transport.SenderContext;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.DoubleSupplier;
import java.util.function.Predicate;
import org.jspecify.annotations.Nullable;

/**
 * The bus's metrics and observations with Micrometer. Made only when the options configure an
 * observability, so the rest of the bus never loads a Micrometer class. Thread-safe.
 */
final class MicrometerObserver implements BusObserver {
  private static final org.slf4j.Logger LOG =
      org.slf4j.LoggerFactory.getLogger(MicrometerObserver.class);
  private static final String SYSTEM = "rabbitmq";

  private final @Nullable MeterRegistry meters;
  private final @Nullable ObservationRegistry observations;
  private final boolean amqpClientMetrics;
  private final Predicate<String> knownType;
  // Meters by their tag values: a registry lookup per event costs more than a map hit.
  private final Map<MeterKey, Timer> timers = new ConcurrentHashMap<>();
  private final Map<MeterKey, Counter> counters = new ConcurrentHashMap<>();

  /** A meter's name and tag values (its tag keys follow from the name). */
  private record MeterKey(String name, @Nullable String a, @Nullable String b, @Nullable String c) {
    static MeterKey of(String name, String... tags) {
      // tags are key, value pairs; at most three of them
      return new MeterKey(
          name,
          tags.length > 1 ? tags[1] : null,
          tags.length > 3 ? tags[3] : null,
          tags.length > 5 ? tags[5] : null);
    }
  }

  // This bus's parts of the shared gauges and function counters; guarded by SHARED.
  // Trace contexts of recent events, for span links from their children.
  private final RecentTraces recent =
      new RecentTraces(CausationLinkingSenderHandler.REMEMBERED_EVENTS);
  private final List<Binding> bound = new ArrayList<>();

  /**
   * The gauges and function counters of the buses bound to each registry. Micrometer keeps one
   * meter per name and tags: a second bus's gauge would silently be the first one's, and closing
   * either bus would remove it for both. So each meter reads the sum over the buses that bound it
   * and is removed when the last of them closes. The registry holds each meter's state weakly,
   * hence a strong reference here while a bus is bound. Entries go when their last bus closes.
   */
  private static final Map<MeterRegistry, Map<String, Summed>> SHARED = new IdentityHashMap<>();

  /** One shared meter's value: its buses' parts, plus what closed buses counted (counters). */
  private static final class Summed {
    final List<DoubleSupplier> parts = new CopyOnWriteArrayList<>();
    final boolean monotonic;
    volatile double retired;
    @Nullable Meter meter;

    Summed(boolean monotonic) {
      this.monotonic = monotonic;
    }

    double value() {
      // Under the lock close() moves a bus's part into retired with: a scrape between the two
      // steps would count that bus twice, and a counter that then goes down looks like a reset.
      synchronized (SHARED) {
        double sum = retired;
        for (DoubleSupplier p : parts) {
          sum += p.getAsDouble();
        }
        return sum;
      }
    }
  }

  private record Binding(String key, Summed summed, DoubleSupplier part) {}

  MicrometerObserver(BloodbankObservability o, Predicate<String> knownType) {
    this.meters = o.meterRegistry();
    ObservationRegistry obs = o.observationRegistry();
    // Asked again at each use, not here: handlers are often registered after the bus is built
    // (a framework customizing the registry), and a registry with none observes nothing.
    this.observations = obs == null || obs == ObservationRegistry.NOOP ? null : obs;
    this.amqpClientMetrics = o.amqpClientMetrics();
    this.knownType = knownType;
  }

  @Override
  public boolean tracing() {
    ObservationRegistry reg = observations;
    return reg != null && !reg.isNoop();
  }

  @Override
  public @Nullable MetricsCollector amqpMetrics() {
    return meters != null && amqpClientMetrics
        ? new MicrometerMetricsCollector(meters, AMQP_CLIENT_PREFIX)
        : null;
  }

  @Override
  public void gauge(String name, String description, DoubleSupplier value, String... tags) {
    bind(name, description, value, tags, false);
  }

  @Override
  public void counter(String name, String description, DoubleSupplier value, String... tags) {
    bind(name, description, value, tags, true);
  }

  private void bind(
      String name, String description, DoubleSupplier value, String[] tags, boolean counter) {
    MeterRegistry m = meters;
    if (m == null) {
      return;
    }
    String key = name + '\0' + String.join("\0", tags);
    synchronized (SHARED) {
      Map<String, Summed> byKey = SHARED.computeIfAbsent(m, r -> new HashMap<>());
      Summed s = byKey.get(key);
      if (s == null) {
        s = new Summed(counter);
        s.meter =
            counter
                ? FunctionCounter.builder(name, s, Summed::value)
                    .description(description)
                    .tags(tags)
                    .register(m)
                : Gauge.builder(name, s, Summed::value)
                    .description(description)
                    .tags(tags)
                    .strongReference(true)
                    .register(m);
        byKey.put(key, s);
      }
      s.parts.add(value);
      bound.add(new Binding(key, s, value));
    }
  }

  @Override
  public void close() {
    MeterRegistry m = meters;
    if (m == null) {
      return;
    }
    synchronized (SHARED) {
      Map<String, Summed> byKey = SHARED.get(m);
      for (Binding b : bound) {
        Summed s = b.summed();
        if (s.monotonic) {
          // A counter never goes down: what this bus counted stays in it.
          s.retired += b.part().getAsDouble();
        }
        s.parts.remove(b.part());
        if (s.parts.isEmpty() && byKey != null && byKey.remove(b.key(), s)) {
          Meter meter = s.meter;
          if (meter != null) {
            m.remove(meter);
          }
        }
      }
      bound.clear();
      if (byKey != null && byKey.isEmpty()) {
        SHARED.remove(m);
      }
    }
  }

  private String typeTag(String eventType) {
    return knownType.test(eventType) ? eventType : OTHER;
  }

  private @Nullable Timer timer(String name, String description, String... tags) {
    MeterRegistry m = meters;
    if (m == null) {
      return null;
    }
    // The tag values in a record: nothing is concatenated, and each string's hash is cached.
    MeterKey key = MeterKey.of(name, tags);
    Timer t = timers.get(key);
    if (t == null) {
      try {
        t =
            timers.computeIfAbsent(
                key, k -> Timer.builder(name).description(description).tags(tags).register(m));
      } catch (RuntimeException e) {
        refused(name, e);
        return null;
      }
    }
    return t;
  }

  /**
   * A registry refused a meter (a Prometheus registry refuses a name it already has with other tag
   * keys): the event goes on unmeasured, and this is said once, not per event.
   */
  private void refused(String name, RuntimeException e) {
    if (!refusedOnce) {
      refusedOnce = true;
      LOG.warn("the meter registry refused {}: {}; such events go unmeasured", name, e.toString());
    }
  }

  private volatile boolean refusedOnce;

  private void count(String name, String description, String... tags) {
    MeterRegistry m = meters;
    if (m == null) {
      return;
    }
    MeterKey key = MeterKey.of(name, tags);
    Counter c = counters.get(key);
    if (c == null) {
      try {
        c =
            counters.computeIfAbsent(
                key, k -> Counter.builder(name).description(description).tags(tags).register(m));
      } catch (RuntimeException e) {
        refused(name, e);
        return;
      }
    }
    c.increment();
  }

  // ---- publish ---------------------------------------------------------------------------

  @Override
  public Publish publish(
      String exchange, EventEnvelope<?> event, @Nullable Map<String, Object> headers) {
    long start = System.nanoTime();
    String type = typeTag(event.eventType());
    Observation obs = null;
    ObservationRegistry reg = observations;
    if (reg != null && headers != null && !reg.isNoop()) {
      SenderContext<Map<String, Object>> ctx =
          new SenderContext<>((carrier, key, value) -> carrier.put(key, value), Kind.PRODUCER);
      ctx.setCarrier(headers);
      ctx.setRemoteServiceName(SYSTEM);
      String destination = exchange + ":" + event.eventType();
      obs =
          Observation.createNotStarted(PUBLISHER_OBSERVATION, () -> ctx, reg)
              .contextualName("publish " + destination)
              .lowCardinalityKeyValue("messaging.system", SYSTEM)
              .lowCardinalityKeyValue("messaging.operation.type", "send")
              .lowCardinalityKeyValue("messaging.operation.name", "publish")
              // The routing key is any string a producer chose: high cardinality, so a meter
              // handler on the registry never makes it a tag (bloodbank.event_type is bounded).
              .highCardinalityKeyValue("messaging.destination.name", destination)
              .highCardinalityKeyValue(
                  "messaging.rabbitmq.destination.routing_key", event.eventType())
              .lowCardinalityKeyValue("bloodbank.event_type", type)
              .highCardinalityKeyValue("messaging.message.id", event.eventId().toString());
      List<UUID> parents = event.correlationIds();
      if (!parents.isEmpty()) {
        String first = parents.get(0).toString();
        obs.highCardinalityKeyValue("bloodbank.correlation_id", first)
            .highCardinalityKeyValue("messaging.message.conversation_id", first);
        List<String> known = recent.of(parents);
        if (!known.isEmpty()) {
          ctx.put(CausationLinkingSenderHandler.PARENT_TRACES, known);
        }
      }
      obs.start();
      recent.remember(event.eventId(), headers.get("traceparent"));
    }
    Observation started = obs;
    return failure -> {
      String outcome = publishOutcome(failure);
      Timer t = timer(PUBLISH, "publish to final outcome", "event_type", type, "outcome", outcome);
      if (t != null) {
        t.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
      if (started != null) {
        if (failure != null) {
          started.error(failure);
          started.lowCardinalityKeyValue("error.type", failure.getClass().getName());
        }
        started.lowCardinalityKeyValue("bloodbank.outcome", outcome).stop();
      }
    };
  }

  static String publishOutcome(@Nullable Throwable failure) {
    Throwable t = failure;
    while (t instanceof java.util.concurrent.CompletionException && t.getCause() != null) {
      t = t.getCause();
    }
    if (t == null) {
      return CONFIRMED;
    }
    if (t instanceof UnroutableEventException) {
      return "unroutable";
    }
    if (t instanceof PublishException p) {
      return switch (p.kind()) {
        case NACKED -> "nacked";
        case TIMED_OUT -> "timed_out";
        default -> "failed";
      };
    }
    return "rejected"; // refused before sending: validation, size, encoding
  }

  @Override
  public void publishRetried(String eventType, String reason) {
    count(
        PUBLISH_RETRIES,
        "publish attempts retried",
        "event_type",
        typeTag(eventType),
        "reason",
        reason);
  }

  @Override
  public void validationFailed(String eventType, String direction) {
    count(
        VALIDATION_FAILURES,
        "events refused by schema validation",
        "event_type",
        typeTag(eventType),
        "direction",
        direction);
  }

  // ---- consume ---------------------------------------------------------------------------

  @Override
  public Delivery delivery(
      String subscription,
      String exchange,
      String routingKey,
      Map<String, Object> headers,
      boolean redelivered) {
    if (redelivered) {
      count(
          CONSUME_REDELIVERIES,
          "deliveries redelivered or back for another attempt",
          "subscription",
          subscription);
    }
    return new ObservedDelivery(subscription, exchange, routingKey, headers);
  }

  private final class ObservedDelivery implements Delivery {
    final long start = System.nanoTime();
    final String subscription;
    final Map<String, Object> headers;
    final @Nullable Observation observation;
    final @Nullable ReceiverContext<Map<String, Object>> context;
    String type = OTHER;

    ObservedDelivery(
        String subscription, String exchange, String routingKey, Map<String, Object> headers) {
      this.subscription = subscription;
      this.headers = headers;
      ObservationRegistry reg = observations;
      if (reg == null || reg.isNoop()) {
        observation = null;
        context = null;
        return;
      }
      ReceiverContext<Map<String, Object>> ctx =
          new ReceiverContext<>(
              (carrier, key) -> {
                Object v = carrier.get(key);
                return v == null ? null : v.toString(); // amqp-client gives LongStrings
              },
              Kind.CONSUMER);
      ctx.setCarrier(headers);
      ctx.setRemoteServiceName(SYSTEM);
      context = ctx;
      observation =
          Observation.createNotStarted(LISTENER_OBSERVATION, () -> ctx, reg)
              // Named without the queue: a temporary queue's random name would make every
              // subscriber's spans a name of their own.
              .contextualName("process " + exchange + ":" + routingKey)
              .lowCardinalityKeyValue("messaging.system", SYSTEM)
              .lowCardinalityKeyValue("messaging.operation.type", "process")
              .lowCardinalityKeyValue("messaging.operation.name", "process")
              .highCardinalityKeyValue(
                  "messaging.destination.name", exchange + ":" + routingKey + ":" + subscription)
              .highCardinalityKeyValue("messaging.rabbitmq.destination.routing_key", routingKey)
              .lowCardinalityKeyValue("messaging.destination.subscription.name", subscription)
              .start();
    }

    @Override
    public void event(EventEnvelope<?> event) {
      type = typeTag(event.eventType());
      MeterRegistry m = meters;
      if (m != null) {
        long lag;
        try {
          lag = Duration.between(event.timestamp(), Instant.now()).toNanos();
        } catch (ArithmeticException e) {
          lag = -1; // a timestamp centuries away (Python's datetime.min): not a lag
        }
        if (lag >= 0) {
          Timer t = timer(CONSUME_LAG, "event timestamp to handling", "subscription", subscription);
          if (t != null) {
            t.record(lag, TimeUnit.NANOSECONDS);
          }
        }
      }
      Observation o = observation;
      if (o != null) {
        recent.remember(event.eventId(), headers.get("traceparent"));
        o.lowCardinalityKeyValue("bloodbank.event_type", type)
            .highCardinalityKeyValue("messaging.message.id", event.eventId().toString());
        if (!event.correlationIds().isEmpty()) {
          String first = event.correlationIds().get(0).toString();
          o.highCardinalityKeyValue("bloodbank.correlation_id", first)
              .highCardinalityKeyValue("messaging.message.conversation_id", first);
        }
      }
    }

    @Override
    public AutoCloseable open() {
      Observation o = observation;
      if (o == null) {
        return () -> {};
      }
      Observation.Scope scope = o.openScope();
      return scope::close;
    }

    @Override
    public @Nullable String traceId() {
      ReceiverContext<Map<String, Object>> ctx = context;
      String id = ctx == null ? null : Traces.traceId(ctx);
      return id != null ? id : LogContext.traceIdOf(headers.get("traceparent"));
    }

    @Override
    public void end(String outcome, @Nullable Throwable error) {
      Timer t =
          timer(
              CONSUME,
              "delivery to settling",
              "subscription",
              subscription,
              "event_type",
              type,
              "outcome",
              outcome);
      if (t != null) {
        t.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
      }
      Observation o = observation;
      if (o != null) {
        if (error != null) {
          o.error(error);
          o.lowCardinalityKeyValue("error.type", error.getClass().getName());
        }
        o.lowCardinalityKeyValue("bloodbank.outcome", outcome).stop();
      }
    }
  }

  // ---- commands and the log --------------------------------------------------------------

  @Override
  public Command command(EventEnvelope<?> command) {
    long start = System.nanoTime();
    String type = typeTag(command.eventType());
    ObservationRegistry reg = observations;
    Observation.Context ctx = new Observation.Context();
    Observation obs =
        reg == null || reg.isNoop()
            ? null
            : Observation.createNotStarted(COMMAND_OBSERVATION, () -> ctx, reg)
                .contextualName("command " + command.eventType())
                .lowCardinalityKeyValue("bloodbank.command_type", type)
                .highCardinalityKeyValue("bloodbank.command_id", command.eventId().toString())
                .start();
    Observation.Scope scope = obs == null ? null : obs.openScope();
    return new Command() {
      @Override
      public @Nullable String traceId() {
        return obs == null ? null : Traces.traceId(ctx);
      }

      @Override
      public void end(String outcome, @Nullable Throwable error) {
        Timer t = timer(COMMAND, "command execution", "command_type", type, "outcome", outcome);
        if (t != null) {
          t.record(System.nanoTime() - start, TimeUnit.NANOSECONDS);
        }
        if (obs != null) {
          try {
            if (scope != null) {
              scope.close();
            }
          } finally {
            if (error != null) {
              obs.error(error);
            }
            obs.lowCardinalityKeyValue("bloodbank.outcome", outcome).stop();
          }
        }
      }
    };
  }

  @Override
  public void walFsync(long nanos) {
    Timer t = timer(WAL_FSYNC, "write-ahead log fsync");
    if (t != null) {
      t.record(nanos, TimeUnit.NANOSECONDS);
    }
  }

  /** The trace id a tracing bridge gave an observation; only touched when tracing is there. */
  static final class Traces {
    private static final boolean PRESENT = present();

    private Traces() {}

    private static boolean present() {
      try {
        Class.forName(
            "io.micrometer.tracing.handler.TracingObservationHandler",
            false,
            MicrometerObserver.class.getClassLoader());
        return true;
      } catch (ClassNotFoundException | LinkageError e) {
        return false;
      }
    }

    static @Nullable String traceId(Observation.Context ctx) {
      return PRESENT ? WithTracing.traceId(ctx) : null;
    }
  }

  private static final class WithTracing {
    static @Nullable String traceId(Observation.Context ctx) {
      io.micrometer.tracing.handler.TracingObservationHandler.TracingContext tc =
          ctx.get(io.micrometer.tracing.handler.TracingObservationHandler.TracingContext.class);
      io.micrometer.tracing.Span span = tc == null ? null : tc.getSpan();
      return span == null ? null : span.context().traceId();
    }
  }
}
