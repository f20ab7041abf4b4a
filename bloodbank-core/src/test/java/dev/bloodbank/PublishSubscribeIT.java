package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(BrokerExtension.class)
class PublishSubscribeIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  record Upload(String meetingId, int n) {}

  @Test
  void exactAndWildcardRouting(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    BlockingQueue<EventEnvelope<Upload>> exact = new LinkedBlockingQueue<>();
    BlockingQueue<EventEnvelope<Upload>> star = new LinkedBlockingQueue<>();
    BlockingQueue<EventEnvelope<Upload>> hash = new LinkedBlockingQueue<>();
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("fireflies.transcript.upload").build(),
            Upload.class,
            exact::add));
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("*.transcript.*").build(), Upload.class, star::add));
    broker.track(
        bus.subscribe(SubscriberOptions.builder("fireflies.#").build(), Upload.class, hash::add));

    Publisher p = bus.publisher();
    p.publish("fireflies.transcript.upload", new Upload("m1", 1)).get(10, TimeUnit.SECONDS);
    p.publish("fireflies.meeting", new Upload("m2", 2)).get(10, TimeUnit.SECONDS);
    p.publish("other.transcript.ready", new Upload("m3", 3)).get(10, TimeUnit.SECONDS);

    assertThat(exact.poll(10, TimeUnit.SECONDS).payload()).isEqualTo(new Upload("m1", 1));
    assertThat(payloads(star, 2))
        .containsExactlyInAnyOrder(new Upload("m1", 1), new Upload("m3", 3));
    assertThat(payloads(hash, 2))
        .containsExactlyInAnyOrder(new Upload("m1", 1), new Upload("m2", 2));
    Thread.sleep(300);
    assertThat(exact).isEmpty();
    assertThat(star).isEmpty();
    assertThat(hash).isEmpty();
  }

  @Test
  void wireFormatAndProperties(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("#");
    UUID parent = UUID.randomUUID();
    EventEnvelope<Upload> sent =
        EventEnvelope.builder("fireflies.transcript.upload", new Upload("m1", 7))
            .withCorrelationId(parent)
            .withSource(Source.of("host-a", TriggerType.AGENT, "app-a"))
            .build();
    bus.publisher().publishAndWait(sent);

    GetResponse got = broker.drain(q, 1, WAIT).get(0);
    AMQP.BasicProperties props = got.getProps();
    assertThat(props.getDeliveryMode()).isEqualTo(2);
    assertThat(props.getMessageId()).isEqualTo(sent.eventId().toString());
    assertThat(props.getContentType()).isEqualTo("application/json");
    assertThat(props.getTimestamp()).isNotNull();
    assertThat(props.getHeaders().get("correlation_ids").toString()).contains(parent.toString());
    assertThat(got.getEnvelope().getRoutingKey()).isEqualTo("fireflies.transcript.upload");
    String json = new String(got.getBody(), StandardCharsets.UTF_8);
    assertThat(json)
        .startsWith("{\"event_id\":\"" + sent.eventId() + "\",\"event_type\":")
        .contains("\"payload\":{\"meeting_id\":\"m1\",\"n\":7}");
    assertThat(bus.codec().decode(got.getBody(), Upload.class)).isEqualTo(sent);
  }

  @Test
  void fanOutToTwoSubscribers(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    BlockingQueue<EventEnvelope<JsonNode>> a = new LinkedBlockingQueue<>();
    BlockingQueue<EventEnvelope<JsonNode>> b = new LinkedBlockingQueue<>();
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("agent.#").queueName(broker.serviceName() + "-a").build(),
            a::add));
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("agent.#").queueName(broker.serviceName() + "-b").build(),
            b::add));
    EventEnvelope<Upload> e =
        bus.publisher()
            .publish("agent.thread.prompt", new Upload("x", 1))
            .get(10, TimeUnit.SECONDS);
    assertThat(a.poll(10, TimeUnit.SECONDS).eventId()).isEqualTo(e.eventId());
    assertThat(b.poll(10, TimeUnit.SECONDS).eventId()).isEqualTo(e.eventId());
  }

  @Test
  void unroutableMandatoryPublishFailsNamingExchangeAndKey(BrokerExtension.Broker broker) {
    Bloodbank bus = broker.connect();
    Publisher p = bus.publisher(PublisherOptions.builder().mandatory(true).build());
    CompletableFuture<EventEnvelope<Upload>> f =
        p.publish("nobody.listens.here", new Upload("x", 1));
    assertThatThrownBy(() -> f.get(10, TimeUnit.SECONDS))
        .hasCauseInstanceOf(UnroutableEventException.class)
        .cause()
        .hasMessageContaining(broker.exchange())
        .hasMessageContaining("nobody.listens.here");
  }

  @Test
  void poisonMessageIsDeadLetteredWithMetadataWhileLaterOnesArrive(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    List<Integer> handled = new CopyOnWriteArrayList<>();
    AtomicInteger poisonAttempts = new AtomicInteger();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("work.#")
                    .maxAttempts(3)
                    .retryDelays(List.of(Duration.ofMillis(50), Duration.ofMillis(100)))
                    .build(),
                Upload.class,
                e -> {
                  if (e.payload().n() == 0) {
                    poisonAttempts.incrementAndGet();
                    throw new IllegalStateException("poison\nline two");
                  }
                  handled.add(e.payload().n());
                }));
    Publisher p = bus.publisher();
    EventEnvelope<Upload> poison =
        p.publish("work.item", new Upload("p", 0)).get(10, TimeUnit.SECONDS);
    for (int i = 1; i <= 5; i++) {
      p.publish("work.item", new Upload("ok", i)).get(10, TimeUnit.SECONDS);
    }
    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 1, WAIT);
    assertThat(dead).hasSize(1);
    Map<String, Object> h = dead.get(0).getProps().getHeaders();
    assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(poison.eventId().toString());
    assertThat(h.get(FailureHeaders.ERROR_CLASS).toString())
        .isEqualTo(IllegalStateException.class.getName());
    assertThat(h.get(FailureHeaders.ERROR_MESSAGE).toString()).isEqualTo("poison\\nline two");
    assertThat(((Number) h.get(FailureHeaders.ATTEMPTS)).intValue()).isEqualTo(3);
    assertThat(h.get(FailureHeaders.ORIGINAL_EXCHANGE).toString()).isEqualTo(broker.exchange());
    assertThat(h.get(FailureHeaders.ORIGINAL_ROUTING_KEY).toString()).isEqualTo("work.item");
    assertThat(h.get(FailureHeaders.REASON).toString())
        .isEqualTo(FailureHeaders.REASON_HANDLER_FAILED);
    assertThat(h).containsKey(FailureHeaders.FIRST_FAILURE);
    assertThat(poisonAttempts).hasValue(3);
    Await.until(() -> handled.size() == 5);
    assertThat(handled).containsExactlyInAnyOrder(1, 2, 3, 4, 5);
    // counted once the copy in the dead-letter queue is confirmed, which may be after it arrived
    Await.until(() -> s.health().deadLettered() == 1);
    assertThat(s.health().isHealthy()).isTrue();
  }

  @Test
  void malformedMessageGoesStraightToDeadLetterQueue(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    List<EventEnvelope<JsonNode>> seen = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(bus.subscribe(SubscriberOptions.builder("bad.#").build(), seen::add));
    AMQP.BasicProperties json =
        new AMQP.BasicProperties.Builder().contentType("application/json").messageId("m-1").build();
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "bad.syntax",
            json,
            "{\"event_id\": ".getBytes(StandardCharsets.UTF_8));
    StringBuilder deep = new StringBuilder();
    for (int i = 0; i < 10_000; i++) deep.append('[');
    broker
        .raw()
        .basicPublish(
            broker.exchange(), "bad.deep", json, deep.toString().getBytes(StandardCharsets.UTF_8));
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "bad.utf8",
            json,
            new byte[] {'{', '"', (byte) 0xC3, 0x28, '"', ':', '1', '}'});
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "bad.type",
            json,
            "{\"event_id\": 5}".getBytes(StandardCharsets.UTF_8));
    EventEnvelope<Upload> good =
        bus.publisher().publish("bad.not.really", new Upload("ok", 1)).get(10, TimeUnit.SECONDS);

    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 4, WAIT);
    assertThat(dead).hasSize(4);
    assertThat(dead)
        .allSatisfy(
            r ->
                assertThat(r.getProps().getHeaders().get(FailureHeaders.REASON).toString())
                    .isEqualTo(FailureHeaders.REASON_MALFORMED));
    List<String> messages = new ArrayList<>();
    for (GetResponse r : dead)
      messages.add(r.getProps().getHeaders().get(FailureHeaders.ERROR_MESSAGE).toString());
    assertThat(messages).anySatisfy(m -> assertThat(m).contains("line 1"));
    assertThat(messages).anySatisfy(m -> assertThat(m).containsIgnoringCase("nesting"));
    assertThat(messages).anySatisfy(m -> assertThat(m).containsIgnoringCase("UTF-8"));
    assertThat(messages).anySatisfy(m -> assertThat(m).contains("/event_id"));
    Await.until(() -> seen.size() == 1);
    assertThat(seen.get(0).eventId()).isEqualTo(good.eventId());
    assertThat(s.health().isHealthy()).isTrue();
  }

  @Test
  void thousandConcurrentPublishesAreAllConfirmed(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("load.#");
    Publisher p = bus.publisher();
    List<CompletableFuture<EventEnvelope<Upload>>> futures = new CopyOnWriteArrayList<>();
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 8; t++) {
      int base = t * 125;
      Thread th =
          new Thread(
              () -> {
                for (int i = 0; i < 125; i++)
                  futures.add(p.publish("load.event", new Upload("m", base + i)));
              });
      threads.add(th);
      th.start();
    }
    for (Thread th : threads) th.join();
    CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(30, TimeUnit.SECONDS);
    assertThat(futures).hasSize(1000).allSatisfy(f -> assertThat(f).isCompleted());
    Await.until(() -> broker.messageCount(q) == 1000);
  }

  @Test
  void oversizeEventIsRejectedBeforeSending(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("#");
    Publisher p = bus.publisher(PublisherOptions.builder().maxEventBytes(1024).build());
    CompletableFuture<EventEnvelope<String>> f = p.publish("big.event", "x".repeat(2000));
    assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(EventTooLargeException.class)
        .hasMessageContaining("1024");
    Thread.sleep(200);
    assertThat(broker.messageCount(q)).isZero();
  }

  private static <T> List<T> payloads(BlockingQueue<EventEnvelope<T>> q, int n)
      throws InterruptedException {
    List<T> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      EventEnvelope<T> e = q.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("event %d of %d", i + 1, n).isNotNull();
      out.add(e.payload());
    }
    return out;
  }
}
