package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Forced connection closes on the real broker: consumers resume, no publish is left hanging. */
@ExtendWith(BrokerExtension.class)
class ConnectionRecoveryIT {

  @Test
  void subscriberResumesAfterCloseAllConnections(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    BlockingQueue<EventEnvelope<JsonNode>> got = new LinkedBlockingQueue<>();
    Subscriber s =
        broker.track(bus.subscribe(SubscriberOptions.builder("rec.#").build(), got::add));
    bus.publisher().publish("rec.before", Map.of("n", 0)).get(10, TimeUnit.SECONDS);
    assertThat(got.poll(10, TimeUnit.SECONDS)).isNotNull();

    RabbitCtl.closeAllConnections();

    // Publish until an event arrives again: both connections recover on their own.
    EventEnvelope<JsonNode> after = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (after == null && System.nanoTime() < deadline) {
      try {
        bus.publisher().publish("rec.after", Map.of("n", 1)).get(5, TimeUnit.SECONDS);
      } catch (Exception e) {
        // still recovering
      }
      after = got.poll(500, TimeUnit.MILLISECONDS);
    }
    assertThat(after).as("an event delivered after recovery").isNotNull();
    Await.until(() -> s.health().isHealthy());
  }

  @Test
  void noPublishFutureStaysPendingAndNothingConfirmedIsLost(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("load.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(Duration.ofSeconds(2))
                .maxAttempts(5)
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .build());
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures = new ArrayList<>();
    for (int i = 0; i < 5000; i++) {
      if (i == 2000) {
        RabbitCtl.closeAllConnections();
      }
      futures.add(p.publish("load.item", Map.of("i", i)));
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    for (CompletableFuture<?> f : futures) {
      long left = deadline - System.nanoTime();
      try {
        f.get(Math.max(1, left), TimeUnit.NANOSECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        assertThat(e.getCause()).isInstanceOf(PublishException.class);
      }
    }
    assertThat(futures).allSatisfy(f -> assertThat(f).isDone());

    Set<String> confirmed = new HashSet<>();
    for (CompletableFuture<EventEnvelope<Map<String, Integer>>> f : futures) {
      if (!f.isCompletedExceptionally()) {
        confirmed.add(f.join().eventId().toString());
      }
    }
    assertThat(confirmed).isNotEmpty();
    Set<String> received = new HashSet<>();
    List<GetResponse> all = broker.drain(q, 20_000, Duration.ofSeconds(5));
    for (GetResponse r : all) {
      received.add(r.getProps().getMessageId());
    }
    // Duplicates are allowed (same id); losses are not.
    assertThat(received).containsAll(confirmed);
  }

  @Test
  void aChannelClosedByAChannelErrorIsReplaced(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Publisher p = bus.publisher(PublisherOptions.builder().channels(1).maxAttempts(1).build());
    p.publish("x.y", Map.of()).get(10, TimeUnit.SECONDS);
    broker.raw().exchangeDelete(broker.exchange());
    // Publishing to a missing exchange closes the channel (404); the future fails, not hangs.
    assertThatThrownBy(() -> p.publish("x.y", Map.of()).get(10, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(PublishException.class);
    broker.raw().exchangeDeclare(broker.exchange(), "topic", true);
    String q = broker.rawQueue("x.#");
    EventEnvelope<Map<String, Object>> ok =
        p.publish("x.y", Map.<String, Object>of()).get(10, TimeUnit.SECONDS);
    assertThat(broker.drain(q, 1, Duration.ofSeconds(5)))
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(ok.eventId().toString());
  }
}
