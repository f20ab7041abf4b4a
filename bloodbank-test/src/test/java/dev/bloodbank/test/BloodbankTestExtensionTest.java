package dev.bloodbank.test;

import static dev.bloodbank.test.BloodbankAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.FailureHeaders;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.UnroutableEventException;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class BloodbankTestExtensionTest {
  @RegisterExtension
  static final BloodbankTestExtension BUS =
      BloodbankTestExtension.builder()
          .options(o -> o.serviceName("harness").validation(ValidationMode.PERMISSIVE))
          .timeout(Duration.ofSeconds(5))
          .build();

  record Order(String orderId, int amount) {}

  @Test
  void injectsOneBusPerTestUnderEveryName(TestBus bus, Bloodbank bloodbank, EmbeddedBroker broker) {
    assertThat(bus.bloodbank()).isSameAs(bloodbank);
    assertThat(bus.broker()).isSameAs(broker);
    assertThat(bloodbank.options().transport().isEmbedded()).isTrue();
    assertThat(bloodbank.options().serviceName()).isEqualTo("harness");
    assertThat(bus.published()).as("a fresh broker per test").isEmpty();
  }

  @Test
  void publishedAndConsumedEventsAreSeenWithTypedPayloads(TestBus bus) {
    bus.bloodbank()
        .subscribe(SubscriberOptions.builder("shop.order.*").build(), Order.class, e -> {});
    EventEnvelope<Order> sent = bus.publish("shop.order.placed", new Order("o-1", 30));

    assertThat(bus)
        .published("shop.order.placed", Order.class)
        .singleElement()
        .satisfies(e -> assertThat(e.payload()).isEqualTo(new Order("o-1", 30)));
    assertThat(bus)
        .consumed("shop.order.placed", 1)
        .first()
        .extracting(EventEnvelope::eventId)
        .isEqualTo(sent.eventId());
    assertThat(bus).hasNotPublished("shop.order.cancelled").hasNoDeadLetters();
  }

  @Test
  void aHandlerThatAlwaysFailsIsRetriedThenDeadLetteredWithItsFailure(TestBus bus) {
    AtomicInteger calls = new AtomicInteger();
    bus.bloodbank()
        .subscribe(
            SubscriberOptions.builder("shop.#")
                .maxAttempts(3)
                .retryDelays(List.of(Duration.ofMillis(20), Duration.ofMillis(40)))
                .build(),
            Order.class,
            e -> {
              calls.incrementAndGet();
              throw new IllegalStateException("payment service down");
            });
    bus.publish("shop.order.placed", new Order("o-2", 10));

    assertThat(bus)
        .deadLettered("shop.order.placed", 1)
        .singleElement()
        .satisfies(
            d -> {
              assertThat(d.reason()).isEqualTo(FailureHeaders.REASON_HANDLER_FAILED);
              assertThat(d.errorClass()).isEqualTo(IllegalStateException.class.getName());
              assertThat(d.errorMessage()).isEqualTo("payment service down");
              assertThat(d.attempts()).isEqualTo(3);
              assertThat(d.event()).isNotNull();
            });
    assertThat(calls).hasValue(3);
    assertThat(bus.consumed()).as("a failed event is not consumed").isEmpty();
  }

  @Test
  void causationLinksOfPublishedEventsAreTracked(TestBus bus) {
    EventEnvelope<Order> parent = bus.publish("shop.order.placed", new Order("o-3", 1));
    EventEnvelope<String> child =
        bus.bloodbank()
            .publisher()
            .publish("shop.invoice.sent", "i-3", List.of(parent.eventId()))
            .join();
    assertThat(bus)
        .hasCausationLink(parent.eventId(), child.eventId())
        .hasDescendant(parent.eventId(), child.eventId());
  }

  @Test
  void anExpectationNotMetFailsAfterTheTimeoutNamingWhatWasSeen(TestBus bus) {
    bus.publish("shop.order.placed", new Order("o-4", 1));
    long t0 = System.nanoTime();
    assertThatThrownBy(
            () -> assertThat(bus).within(Duration.ofMillis(300)).published("shop.order.shipped"))
        .isInstanceOf(AssertionError.class)
        .hasMessageContaining("shop.order.shipped")
        .hasMessageContaining("[shop.order.placed]");
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(3));
    assertThatThrownBy(() -> assertThat(bus).hasNotPublished("shop.order.placed"))
        .isInstanceOf(AssertionError.class);
  }

  @Test
  void unroutableMandatoryPublishFailsAsOnRabbitMq(TestBus bus) throws Exception {
    CompletableFuture<EventEnvelope<Order>> f =
        bus.bloodbank()
            .publisher(PublisherOptions.builder().mandatory(true).build())
            .publish("nobody.listens", new Order("x", 0));
    assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
        .hasCauseInstanceOf(UnroutableEventException.class);
  }

  @Test
  void anotherServiceOnTheSameBrokerSeesTheEvents(TestBus bus) {
    Bloodbank billing = bus.connect(o -> o.serviceName("billing"));
    billing.subscribe(SubscriberOptions.builder("shop.#").build(), Order.class, e -> {});
    bus.publish("shop.order.placed", new Order("o-5", 5));
    assertThat(bus).consumed("shop.order.placed", 1);
    assertThat(bus.broker().queues()).anySatisfy(q -> assertThat(q.name()).startsWith("billing"));
  }
}
