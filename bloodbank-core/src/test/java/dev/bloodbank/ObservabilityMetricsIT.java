package dev.bloodbank;

import static dev.bloodbank.observability.BloodbankObservability.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.rabbitmq.client.AMQP;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The metrics of issue #19 after a known workload on the real broker, read from an in-memory
 * registry: publish outcomes, validation failures, consume outcomes with retries and dead letters,
 * gauges, amqp-client's own metrics, and a memory alarm on the private node.
 */
@ExtendWith(BrokerExtension.class)
class ObservabilityMetricsIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration WAIT = Duration.ofSeconds(20);
  private static final String READING = "test.reading.taken";
  private static final String FLAKY = "test.job.flaky";
  private static final String DOOMED = "test.job.doomed";

  record Reading(String sensor, double value) {}

  private static BloodbankObservability metrics(MeterRegistry registry) {
    return BloodbankObservability.builder().meterRegistry(registry).build();
  }

  /** The reading (a sensor name and a value from 0 to 1), and two jobs with any object payload. */
  private static void catalog(Bloodbank bus) throws Exception {
    JsonNode reading =
        JSON.readTree(
            """
            {"$schema": "https://json-schema.org/draft/2020-12/schema",
             "type": "object",
             "properties": {"sensor": {"type": "string", "minLength": 1},
                            "value": {"type": "number", "minimum": 0, "maximum": 1}},
             "required": ["sensor", "value"]}
            """);
    bus.registry().register(EventDefinition.of(READING, reading, Reading.class, false));
    JsonNode any = JSON.readTree("{\"type\": \"object\"}");
    bus.registry().register(EventDefinition.of(FLAKY, any, null, false));
    bus.registry().register(EventDefinition.of(DOOMED, any, null, false));
  }

  /** Events timed by the timers with these tags (and any others). */
  private static long timed(MeterRegistry r, String name, String... tags) {
    return r.find(name).tags(tags).timers().stream().mapToLong(Timer::count).sum();
  }

  /** The sum of the counters with these tags (and any others). */
  private static double counted(MeterRegistry r, String name, String... tags) {
    return r.find(name).tags(tags).counters().stream().mapToDouble(Counter::count).sum();
  }

  private static double gauge(MeterRegistry r, String name, String... tags) {
    Gauge g = r.find(name).tags(tags).gauge();
    assertThat(g).as("gauge %s %s", name, List.of(tags)).isNotNull();
    return g.value();
  }

  @Test
  void publishOutcomesAndValidationFailuresAreCountedOncePerPublishWithBoundedTypes(
      BrokerExtension.Broker broker) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bloodbank bus =
        broker.connect(o -> o.validation(ValidationMode.STRICT).observability(metrics(registry)));
    catalog(bus);
    broker.rawQueue("test.#");
    Publisher strict = bus.publisher();
    for (int i = 0; i < 5; i++) {
      strict.publish(READING, new Reading("s" + i, 0.5)).get(10, TimeUnit.SECONDS);
    }
    // Refused before sending: an invalid reading, and a type no catalog holds.
    assertThatThrownBy(
            () -> strict.publish(READING, new Reading("s", 1.5)).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class);
    assertThatThrownBy(() -> strict.publish("test.not.known", Map.of()).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class);
    // Not validated: types no catalog holds are published and all tagged "other".
    Publisher loose =
        bus.publisher(
            PublisherOptions.builder().validation(ValidationMode.SKIP).mandatory(true).build());
    loose.publish("test.made.up.one", Map.of("x", 1)).get(10, TimeUnit.SECONDS);
    loose.publish("test.made.up.two", Map.of("x", 2)).get(10, TimeUnit.SECONDS);
    assertThatThrownBy(() -> loose.publish("nowhere.bound", Map.of()).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(UnroutableEventException.class);

    assertThat(timed(registry, PUBLISH, "event_type", READING, "outcome", "confirmed"))
        .isEqualTo(5);
    assertThat(timed(registry, PUBLISH, "event_type", READING, "outcome", "rejected")).isOne();
    assertThat(timed(registry, PUBLISH, "event_type", OTHER, "outcome", "rejected")).isOne();
    assertThat(timed(registry, PUBLISH, "event_type", OTHER, "outcome", "confirmed")).isEqualTo(2);
    assertThat(timed(registry, PUBLISH, "event_type", OTHER, "outcome", "unroutable")).isOne();
    assertThat(timed(registry, PUBLISH)).as("every publish timed once").isEqualTo(10);
    assertThat(registry.find(PUBLISH).timers())
        .allSatisfy(t -> assertThat(t.getId().getTag("event_type")).isIn(READING, OTHER));
    assertThat(
            counted(registry, VALIDATION_FAILURES, "event_type", READING, "direction", "publish"))
        .isOne();
    assertThat(counted(registry, VALIDATION_FAILURES, "event_type", OTHER, "direction", "publish"))
        .isOne();
    assertThat(registry.find(VALIDATION_FAILURES).counters()).hasSize(2);
    assertThat(registry.find(PUBLISH_RETRIES).meters()).as("nothing was retried").isEmpty();

    // Gauges: the publishing connection is open, the consuming one not yet made.
    assertThat(gauge(registry, CONNECTION_OPEN, "connection", "publish")).isEqualTo(1);
    assertThat(gauge(registry, CONNECTION_OPEN, "connection", "consume")).isZero();
    assertThat(gauge(registry, CONNECTION_BLOCKED)).isZero();
    Await.until(
        () -> gauge(registry, PUBLISH_IN_FLIGHT) == 0, WAIT, "nothing in flight after confirms");
    assertThat(gauge(registry, WAL_PENDING_RECORDS)).isZero();
    bus.subscribe(
        SubscriberOptions.builder("test.gauge.#").temporary().build(),
        (EventEnvelope<JsonNode> e) -> {});
    assertThat(gauge(registry, CONNECTION_OPEN, "connection", "consume")).isEqualTo(1);

    // amqp-client's own metrics, under the bus's prefix: the 8 events that reached the broker.
    assertThat(registry.get(AMQP_CLIENT_PREFIX + ".published").counter().count())
        .isGreaterThanOrEqualTo(8);
    assertThat(registry.get(AMQP_CLIENT_PREFIX + ".acknowledged_published").counter().count())
        .isGreaterThanOrEqualTo(8);
    assertThat(registry.get(AMQP_CLIENT_PREFIX + ".unrouted_published").counter().count())
        .isGreaterThanOrEqualTo(1);
    assertThat(registry.get(AMQP_CLIENT_PREFIX + ".connections").gauge().value()).isEqualTo(2);

    bus.close();
    assertThat(registry.find(CONNECTION_OPEN).meters()).isEmpty();
    assertThat(registry.find(CONNECTION_BLOCKED).meters()).isEmpty();
    assertThat(registry.find(PUBLISH_IN_FLIGHT).meters()).isEmpty();
    assertThat(registry.find(WAL_PENDING_RECORDS).meters()).isEmpty();
    assertThat(timed(registry, PUBLISH, "event_type", READING, "outcome", "confirmed"))
        .as("timers keep their history after the bus closed")
        .isEqualTo(5);
  }

  @Test
  void aPublishIsMeasuredBeforeTheApplicationsContinuationsRunAndWithoutThem(
      BrokerExtension.Broker broker) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bloodbank bus = broker.connect(o -> o.observability(metrics(registry)));
    broker.rawQueue("slow.#");
    CompletableFuture<Long> seenInCallback =
        bus.publisher()
            .publish("slow.callback", Map.of())
            .thenApply(
                e -> {
                  long timed = timed(registry, PUBLISH, "outcome", "confirmed");
                  try {
                    Thread.sleep(2000); // the application's own slow work
                  } catch (InterruptedException x) {
                    Thread.currentThread().interrupt();
                  }
                  return timed;
                });
    assertThat(seenInCallback.get(10, TimeUnit.SECONDS))
        .as("the publish was timed when the application's continuation ran")
        .isOne();
    Timer t = registry.get(PUBLISH).tags("outcome", "confirmed").timer();
    assertThat(t.max(TimeUnit.MILLISECONDS))
        .as("the publish's time leaves the continuation's two seconds out")
        .isLessThan(2000);
  }

  @Test
  void consumeOutcomesRetriesDeadLettersAndInvalidEventsAreCountedExactly(
      BrokerExtension.Broker broker) throws Exception {
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bloodbank bus = broker.connect(o -> o.observability(metrics(registry)));
    catalog(bus);
    List<Duration> quick = List.of(Duration.ofMillis(50));

    AtomicInteger flakyCalls = new AtomicInteger();
    Subscriber flaky =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(FLAKY)
                    .queueName(broker.queueName("flaky"))
                    .maxAttempts(3)
                    .retryDelays(quick)
                    .build(),
                (EventEnvelope<JsonNode> e) -> {
                  if (flakyCalls.getAndIncrement() == 0) {
                    throw new IllegalStateException("fails once");
                  }
                }));
    Subscriber doomed =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(DOOMED)
                    .queueName(broker.queueName("doomed"))
                    .maxAttempts(2)
                    .retryDelays(quick)
                    .build(),
                (EventEnvelope<JsonNode> e) -> {
                  throw new IllegalStateException("always fails");
                }));
    AtomicInteger readings = new AtomicInteger();
    Subscriber checked =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(READING).queueName(broker.queueName("checked")).build(),
                Reading.class,
                e -> readings.incrementAndGet()));
    AtomicInteger temporary = new AtomicInteger();
    bus.subscribe(
        SubscriberOptions.builder("test.temp.#").temporary().build(),
        (EventEnvelope<JsonNode> e) -> temporary.incrementAndGet());

    Publisher p = bus.publisher();
    p.publish(FLAKY, Map.of("n", 1)).get(10, TimeUnit.SECONDS);
    p.publish(DOOMED, Map.of("n", 2)).get(10, TimeUnit.SECONDS);
    p.publish(READING, new Reading("a", 0.1)).get(10, TimeUnit.SECONDS);
    p.publish(READING, new Reading("b", 0.2)).get(10, TimeUnit.SECONDS);
    p.publish("test.temp.x", Map.of()).get(10, TimeUnit.SECONDS);
    // Injected past the publisher's checks: a reading out of range, and a body that is not JSON.
    ObjectNode invalid = EventFixtures.validV2Tree();
    String invalidId = UUID.randomUUID().toString();
    invalid.put("event_id", invalidId);
    invalid.put("event_type", READING);
    invalid.put("timestamp", Instant.now().minusSeconds(1).toString());
    invalid.putObject("payload").put("sensor", "c").put("value", 7);
    AMQP.BasicProperties json =
        new AMQP.BasicProperties.Builder()
            .contentType("application/json")
            .deliveryMode(2)
            .messageId(invalidId)
            .build();
    broker.raw().basicPublish(broker.exchange(), READING, json, JSON.writeValueAsBytes(invalid));
    broker
        .raw()
        .basicPublish(
            broker.exchange(), READING, json, "{not json".getBytes(StandardCharsets.UTF_8));

    String flakyQ = flaky.queueName();
    String doomedQ = doomed.queueName();
    String checkedQ = checked.queueName();
    String tempTag = "temporary:test.temp.#";
    Await.until(
        () ->
            timed(registry, CONSUME, "subscription", flakyQ, "outcome", "handled") == 1
                && timed(registry, CONSUME, "subscription", doomedQ, "outcome", "dead_lettered")
                    == 1
                && timed(registry, CONSUME, "subscription", checkedQ) == 4
                && timed(registry, CONSUME, "subscription", tempTag) == 1,
        WAIT,
        "every delivery settled");
    assertThat(broker.drain(doomed.deadLetterQueueName(), 1, Duration.ofSeconds(10))).hasSize(1);
    Thread.sleep(300); // anything more would be counted twice

    // The flaky one: retried once, then handled; the retry came back as a redelivery.
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                flakyQ,
                "event_type",
                FLAKY,
                "outcome",
                "retried"))
        .isOne();
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                flakyQ,
                "event_type",
                FLAKY,
                "outcome",
                "handled"))
        .isOne();
    assertThat(counted(registry, CONSUME_REDELIVERIES, "subscription", flakyQ)).isOne();
    assertThat(flakyCalls).hasValue(2);
    // The doomed one: retried once, dead-lettered on its second (last) attempt.
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                doomedQ,
                "event_type",
                DOOMED,
                "outcome",
                "retried"))
        .isOne();
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                doomedQ,
                "event_type",
                DOOMED,
                "outcome",
                "dead_lettered"))
        .isOne();
    assertThat(counted(registry, CONSUME_REDELIVERIES, "subscription", doomedQ)).isOne();
    // Readings: two handled, one invalid (and counted as a validation failure), one malformed.
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                checkedQ,
                "event_type",
                READING,
                "outcome",
                "handled"))
        .isEqualTo(2);
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                checkedQ,
                "event_type",
                READING,
                "outcome",
                "invalid"))
        .isOne();
    assertThat(
            timed(
                registry,
                CONSUME,
                "subscription",
                checkedQ,
                "event_type",
                OTHER,
                "outcome",
                "malformed"))
        .isOne();
    assertThat(readings).hasValue(2);
    assertThat(
            counted(registry, VALIDATION_FAILURES, "event_type", READING, "direction", "consume"))
        .isOne();
    assertThat(registry.find(VALIDATION_FAILURES).tag("direction", "publish").counters()).isEmpty();
    assertThat(registry.find(CONSUME_REDELIVERIES).tag("subscription", checkedQ).counters())
        .as("nothing came back to the readings' queue")
        .isEmpty();
    // Lag: one per decoded event (the malformed one has no timestamp to measure from).
    assertThat(timed(registry, CONSUME_LAG, "subscription", checkedQ)).isEqualTo(3);
    assertThat(timed(registry, CONSUME_LAG, "subscription", flakyQ)).isEqualTo(2);
    // A temporary queue's random name stays out of the tags.
    assertThat(temporary).hasValue(1);
    assertThat(timed(registry, CONSUME, "subscription", tempTag, "outcome", "handled")).isOne();
    assertThat(registry.find(CONSUME).timers())
        .allSatisfy(
            t ->
                assertThat(t.getId().getTag("subscription"))
                    .isIn(flakyQ, doomedQ, checkedQ, tempTag));
    assertThat(timed(registry, CONSUME))
        .as("deliveries: 2 flaky, 2 doomed, 4 readings, 1 temporary")
        .isEqualTo(9);
    assertThat(gauge(registry, CONNECTION_OPEN, "connection", "consume")).isEqualTo(1);
  }

  @Test
  @BrokerExtension.RealBrokerOnly("a memory alarm on a RabbitMQ node")
  @BrokerExtension.PrivateNode("a memory alarm blocks every publisher of the broker")
  void aMemoryAlarmShowsAsBlockedAndAPublishDuringItIsRetriedThenTimesOut(
      BrokerExtension.Broker broker) throws Exception {
    RabbitNode node = broker.privateNode();
    assertThat(node).isNotNull();
    SimpleMeterRegistry registry = new SimpleMeterRegistry();
    Bloodbank bus = broker.connect(o -> o.observability(metrics(registry)));
    broker.rawQueue("alarm.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(Duration.ofSeconds(2))
                .maxAttempts(2)
                .backoff(Duration.ofMillis(50), Duration.ofMillis(100))
                .build());
    p.publish("alarm.before", Map.of()).get(10, TimeUnit.SECONDS);
    assertThat(gauge(registry, CONNECTION_BLOCKED)).isZero();
    try {
      node.memoryAlarm(true);
      CompletableFuture<?> during = p.publish("alarm.during", Map.of());
      Await.until(() -> gauge(registry, CONNECTION_BLOCKED) == 1, WAIT, "blocked gauge at 1");
      assertThatThrownBy(() -> during.get(30, TimeUnit.SECONDS))
          .cause()
          .isInstanceOfSatisfying(
              PublishException.class,
              e -> assertThat(e.kind()).isEqualTo(PublishException.Kind.TIMED_OUT));
      Await.until(
          () -> timed(registry, PUBLISH, "event_type", OTHER, "outcome", "timed_out") == 1,
          WAIT,
          "a timed_out publish");
      // Its first attempt timed out and was tried once more; the second was its last.
      assertThat(counted(registry, PUBLISH_RETRIES, "event_type", OTHER, "reason", "timed_out"))
          .isOne();
      assertThat(registry.find(PUBLISH_RETRIES).counters()).hasSize(1);
      assertThat(gauge(registry, CONNECTION_OPEN, "connection", "publish"))
          .as("blocked, not closed")
          .isEqualTo(1);
    } finally {
      node.memoryAlarm(false);
    }
    Await.until(() -> gauge(registry, CONNECTION_BLOCKED) == 0, WAIT, "blocked gauge back at 0");
    assertThat(timed(registry, PUBLISH, "event_type", OTHER, "outcome", "confirmed")).isOne();
  }
}
