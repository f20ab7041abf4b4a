package dev.bloodbank.internal;

import static dev.bloodbank.observability.BloodbankObservability.*;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.PublishFailures;
import dev.bloodbank.observability.BloodbankObservability;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletionException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** The Micrometer observer without a broker: outcome tags, bounded tags, meters it binds. */
class MicrometerObserverTest {
  private final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final BusObserver observer =
      BusObserver.of(
          BloodbankObservability.builder().meterRegistry(registry).build(),
          Set.of("known.type")::contains);

  @Test
  void publishOutcomesAreMappedFromTheFailure() {
    assertThat(MicrometerObserver.publishOutcome(null)).isEqualTo("confirmed");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.nacked())).isEqualTo("nacked");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.timedOut()))
        .isEqualTo("timed_out");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.connectionLost()))
        .isEqualTo("failed");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.closed())).isEqualTo("failed");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.unroutable()))
        .isEqualTo("unroutable");
    // Refused before anything was sent.
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.invalid())).isEqualTo("rejected");
    assertThat(MicrometerObserver.publishOutcome(PublishFailures.tooLarge())).isEqualTo("rejected");
    // A future's failure arrives wrapped, sometimes twice.
    assertThat(
            MicrometerObserver.publishOutcome(
                new CompletionException(new CompletionException(PublishFailures.nacked()))))
        .isEqualTo("nacked");
    assertThat(
            MicrometerObserver.publishOutcome(
                new CompletionException(PublishFailures.unroutable())))
        .isEqualTo("unroutable");
  }

  @Test
  void aTimestampCenturiesAwayIsNoLagAndBreaksNothing() {
    // Python's datetime.min is a valid envelope time; its lag in nanoseconds overflows a long.
    BusObserver.Delivery d = observer.delivery("q", "ex", "known.type", Map.of(), false);
    d.event(
        EventEnvelope.builder("known.type", Map.of())
            .withTimestamp(java.time.Instant.parse("0001-01-01T00:00:00Z"))
            .build());
    d.end(BusObserver.HANDLED, null);
    assertThat(registry.find("bloodbank.consume.lag").timer()).isNull();
    assertThat(registry.get("bloodbank.consume").tag("outcome", "handled").timer().count())
        .isEqualTo(1);
  }

  @Test
  void aPublishIsTimedByTypeAndOutcomeAndUnknownTypesShareOneTag() {
    observer.publish("ex", EventEnvelope.builder("known.type", Map.of()).build(), null).end(null);
    observer
        .publish("ex", EventEnvelope.builder("known.type", Map.of()).build(), null)
        .end(PublishFailures.timedOut());
    for (int i = 0; i < 3; i++) {
      observer
          .publish("ex", EventEnvelope.builder("made.up." + i, Map.of()).build(), null)
          .end(null);
    }
    assertThat(timerCount(PUBLISH, "event_type", "known.type", "outcome", "confirmed")).isOne();
    assertThat(timerCount(PUBLISH, "event_type", "known.type", "outcome", "timed_out")).isOne();
    assertThat(timerCount(PUBLISH, "event_type", OTHER, "outcome", "confirmed")).isEqualTo(3);
    assertThat(registry.find(PUBLISH).timers()).hasSize(3);
  }

  @Test
  void retriesValidationFailuresAndRedeliveriesAreCounted() {
    observer.publishRetried("known.type", "nacked");
    observer.publishRetried("unknown", "connection_lost");
    observer.validationFailed("known.type", "publish");
    observer.validationFailed("known.type", "consume");
    observer.validationFailed("known.type", "consume");
    observer.delivery("q", "ex", "known.type", Map.of(), true).end(BusObserver.HANDLED, null);
    observer.delivery("q", "ex", "known.type", Map.of(), false).end(BusObserver.HANDLED, null);

    assertThat(counter(PUBLISH_RETRIES, "event_type", "known.type", "reason", "nacked")).isOne();
    assertThat(counter(PUBLISH_RETRIES, "event_type", OTHER, "reason", "connection_lost")).isOne();
    assertThat(counter(VALIDATION_FAILURES, "event_type", "known.type", "direction", "publish"))
        .isOne();
    assertThat(counter(VALIDATION_FAILURES, "event_type", "known.type", "direction", "consume"))
        .isEqualTo(2);
    assertThat(counter(CONSUME_REDELIVERIES, "subscription", "q")).isOne();
  }

  @Test
  void aDeliveryIsTaggedWithItsEventTypeOnceDecodedAndOtherBefore() {
    BusObserver.Delivery malformed = observer.delivery("q", "ex", "x", Map.of(), false);
    malformed.end(BusObserver.MALFORMED, null);
    BusObserver.Delivery decoded = observer.delivery("q", "ex", "known.type", Map.of(), false);
    decoded.event(EventEnvelope.builder("known.type", Map.of()).build());
    decoded.end(BusObserver.RETRIED, new IllegalStateException("boom"));

    assertThat(
            timerCount(
                CONSUME,
                "subscription",
                "q",
                "event_type",
                OTHER,
                "outcome",
                BusObserver.MALFORMED))
        .isOne();
    assertThat(
            timerCount(
                CONSUME,
                "subscription",
                "q",
                "event_type",
                "known.type",
                "outcome",
                BusObserver.RETRIED))
        .isOne();
    assertThat(timerCount(CONSUME_LAG, "subscription", "q")).isOne();
  }

  @Test
  void boundGaugesAndCountersAreRemovedOnCloseAndTheRestStays() {
    AtomicInteger value = new AtomicInteger(3);
    observer.gauge(CONNECTION_OPEN, "open", value::get, "connection", "publish");
    observer.counter(CAUSATION_LINKS, "links", () -> 5, "outcome", "recorded");
    observer.publish("ex", EventEnvelope.builder("known.type", Map.of()).build(), null).end(null);
    assertThat(registry.get(CONNECTION_OPEN).tag("connection", "publish").gauge().value())
        .isEqualTo(3.0);
    value.set(1);
    assertThat(registry.get(CONNECTION_OPEN).gauge().value()).isEqualTo(1.0);
    assertThat(registry.get(CAUSATION_LINKS).functionCounter().count()).isEqualTo(5.0);

    observer.close();
    assertThat(registry.find(CONNECTION_OPEN).meters()).isEmpty();
    assertThat(registry.find(CAUSATION_LINKS).meters()).isEmpty();
    assertThat(registry.find(PUBLISH).meters()).as("timers keep their history").hasSize(1);
  }

  @Test
  void closingOneBusLeavesTheGaugesOfAnotherOnTheSameRegistry() {
    BusObserver other =
        BusObserver.of(
            BloodbankObservability.builder().meterRegistry(registry).build(), t -> false);
    observer.gauge(PUBLISH_IN_FLIGHT, "in flight", () -> 2);
    other.gauge(PUBLISH_IN_FLIGHT, "in flight", () -> 5);
    assertThat(registry.get(PUBLISH_IN_FLIGHT).gauge().value())
        .as("the sum over the buses")
        .isEqualTo(7.0);
    other.close();
    assertThat(registry.find(PUBLISH_IN_FLIGHT).gauge())
        .as("the first bus's gauge after the second closed")
        .isNotNull();
    assertThat(registry.get(PUBLISH_IN_FLIGHT).gauge().value()).isEqualTo(2.0);
    observer.close();
    assertThat(registry.find(PUBLISH_IN_FLIGHT).meters()).isEmpty();
  }

  @Test
  void aCounterOfTheBusKeepsCountingAfterAGarbageCollection() throws Exception {
    // Micrometer holds a function counter's state weakly: a lambda nobody else holds would be
    // collected and the counter would freeze at its last reading.
    AtomicInteger links = new AtomicInteger(1);
    observer.counter(CAUSATION_LINKS, "links", () -> links.get(), "outcome", "recorded");
    assertThat(registry.get(CAUSATION_LINKS).functionCounter().count()).isEqualTo(1.0);
    for (int i = 0; i < 5; i++) {
      System.gc();
      Thread.sleep(20);
    }
    links.set(42);
    assertThat(registry.get(CAUSATION_LINKS).functionCounter().count()).isEqualTo(42.0);
  }

  @Test
  void aCounterStaysMonotonicWhenOneOfItsBusesCloses() {
    BusObserver other =
        BusObserver.of(
            BloodbankObservability.builder().meterRegistry(registry).build(), t -> false);
    observer.counter(CAUSATION_LINKS, "links", () -> 10, "outcome", "lost");
    other.counter(CAUSATION_LINKS, "links", () -> 4, "outcome", "lost");
    assertThat(registry.get(CAUSATION_LINKS).functionCounter().count()).isEqualTo(14.0);
    other.close();
    assertThat(registry.get(CAUSATION_LINKS).functionCounter().count()).isEqualTo(14.0);
    observer.close();
    assertThat(registry.find(CAUSATION_LINKS).meters()).isEmpty();
  }

  @Test
  void amqpClientMetricsOnlyWithAMeterRegistryAndWhenNotTurnedOff() {
    assertThat(observer.amqpMetrics()).isNotNull();
    assertThat(
            BusObserver.of(
                    BloodbankObservability.builder()
                        .meterRegistry(registry)
                        .amqpClientMetrics(false)
                        .build(),
                    t -> true)
                .amqpMetrics())
        .isNull();
    assertThat(
            BusObserver.of(
                    BloodbankObservability.builder()
                        .observationRegistry(ObservationRegistry.create())
                        .build(),
                    t -> true)
                .amqpMetrics())
        .isNull();
  }

  @Test
  void tracingOnlyWithARealObservationRegistry() {
    assertThat(observer.tracing()).as("metrics only").isFalse();
    assertThat(
            BusObserver.of(
                    BloodbankObservability.builder()
                        .observationRegistry(ObservationRegistry.NOOP)
                        .build(),
                    t -> true)
                .tracing())
        .as("the no-op registry")
        .isFalse();
    ObservationRegistry observations = ObservationRegistry.create();
    BusObserver traced =
        BusObserver.of(
            BloodbankObservability.builder().observationRegistry(observations).build(), t -> true);
    assertThat(traced.tracing()).as("a registry without handlers observes nothing").isFalse();
    // Handlers registered after the bus was built (as frameworks do) still count.
    observations.observationConfig().observationHandler(context -> true);
    assertThat(traced.tracing()).isTrue();
    // Observations without metrics or a tracing bridge: nothing breaks, nothing is written.
    Map<String, Object> headers = new HashMap<>();
    traced.publish("ex", EventEnvelope.builder("a.b", Map.of()).build(), headers).end(null);
    assertThat(headers).isEmpty();
    BusObserver.Delivery d = traced.delivery("q", "ex", "a.b", Map.of(), false);
    assertThat(d.traceId()).isNull();
    d.end(BusObserver.HANDLED, null);
    BusObserver.Command c = traced.command(EventEnvelope.builder("a.b", Map.of()).build());
    assertThat(c.traceId()).isNull();
    c.end("completed", null);
  }

  @Test
  void withoutObservabilityTheObserverIsTheNoOpOne() {
    assertThat(BusObserver.of(null, t -> true)).isSameAs(BusObserver.NOOP);
    BusObserver noop = BusObserver.NOOP;
    assertThat(noop.tracing()).isFalse();
    assertThat(noop.amqpMetrics()).isNull();
    assertThat(noop.publish("ex", EventEnvelope.builder("a.b", Map.of()).build(), null))
        .isSameAs(BusObserver.Publish.NOOP);
    assertThat(noop.delivery("q", "ex", "a.b", Map.of(), true)).isSameAs(BusObserver.Delivery.NOOP);
    assertThat(noop.command(EventEnvelope.builder("a.b", Map.of()).build()))
        .isSameAs(BusObserver.Command.NOOP);
  }

  private double timerCount(String name, String... tags) {
    List<Meter> found = List.copyOf(registry.find(name).tags(tags).timers());
    assertThat(found).as("%s %s", name, List.of(tags)).hasSizeLessThanOrEqualTo(1);
    return found.isEmpty() ? 0 : registry.get(name).tags(tags).timer().count();
  }

  private double counter(String name, String... tags) {
    return registry.find(name).tags(tags).counter() == null
        ? 0
        : registry.get(name).tags(tags).counter().count();
  }
}
