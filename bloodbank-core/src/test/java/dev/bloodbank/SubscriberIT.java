package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Subscriber behaviour on the real broker (and on the embedded one, through {@link
 * SubscriberEmbeddedIT}): retries, graceful shutdown, queue types and arguments, bad input,
 * prefetch and concurrency. Routing, fan-out and poison messages are in {@link PublishSubscribeIT}.
 */
@ExtendWith(BrokerExtension.class)
class SubscriberIT {
  private static final Duration WAIT = Duration.ofSeconds(10);

  record Upload(String meetingId, int n) {}

  record Audio(int sampleRate) {}

  record Meeting(String meetingId, Audio audioMetadata) {}

  @Test
  void handledEventsAreAcknowledgedInGroupsWithoutWaitingLongOrCoveringAFailure(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    AtomicInteger handledCount = new AtomicInteger();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("group.#")
                    .prefetch(10)
                    .maxAttempts(2)
                    .retryDelays(List.of(Duration.ofMillis(200)))
                    .build(),
                Upload.class,
                e -> {
                  if (e.payload().n() == 7 && handledCount.get() < 1000) {
                    handledCount.addAndGet(1000); // fail once, then succeed on the retry
                    throw new IllegalStateException("fails once");
                  }
                  handledCount.incrementAndGet();
                }));
    assertThat(s.options().ackBatchSize()).isEqualTo(5);
    Publisher p = bus.publisher();
    // Three events: fewer than a group, so only the short delay sends their acknowledgement.
    for (int i = 0; i < 3; i++) {
      p.publish("group.item", new Upload("m", i)).get(10, TimeUnit.SECONDS);
    }
    Await.until(() -> s.health().handled() == 3);
    Await.until(() -> broker.listQueues().get(s.queueName()).messagesUnacknowledged() == 0);
    // A burst with one failure in the middle: the failed event is moved to the retry queue and
    // comes back; every other event is handled once, and nothing stays unacknowledged.
    for (int i = 3; i < 40; i++) {
      p.publish("group.item", new Upload("m", i)).get(10, TimeUnit.SECONDS);
    }
    Await.until(() -> s.health().handled() == 40);
    Await.until(() -> broker.listQueues().get(s.queueName()).messagesUnacknowledged() == 0);
    assertThat(handledCount).hasValue(1000 + 40);
    assertThat(s.health().retried()).isEqualTo(1);
    assertThat(broker.messageCount(s.queueName())).isZero();
    assertThat(broker.messageCount(s.deadLetterQueueName())).isZero();
    s.close();
    // Nothing handled comes back to a new consumer of the queue.
    AtomicInteger again = new AtomicInteger();
    Subscriber second =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("group.#").queueName(s.queueName()).build(),
                Upload.class,
                e -> again.incrementAndGet()));
    Thread.sleep(300);
    assertThat(again).hasValue(0);
    second.close();
  }

  @Test
  void failsTwiceThenSucceedsIsHandledOnceAndNotDeadLettered(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    List<DeliveryInfo> attempts = new CopyOnWriteArrayList<>();
    AtomicInteger successes = new AtomicInteger();
    Subscriber s =
        broker.track(
            bus.subscribeWithDelivery(
                SubscriberOptions.builder("retry.#")
                    .maxAttempts(3)
                    .retryDelays(List.of(Duration.ofMillis(50), Duration.ofMillis(100)))
                    .build(),
                Upload.class,
                (e, d) -> {
                  attempts.add(d);
                  if (d.attempt() < 3) {
                    throw new IllegalStateException("flaky " + d.attempt());
                  }
                  successes.incrementAndGet();
                }));
    bus.publisher().publish("retry.item", new Upload("m", 1)).get(10, TimeUnit.SECONDS);

    Await.until(() -> s.health().handled() == 1 && s.health().retried() == 2);
    Thread.sleep(300); // a wrong extra delivery would show up here
    assertThat(successes).hasValue(1);
    assertThat(attempts).extracting(DeliveryInfo::attempt).containsExactly(1, 2, 3);
    assertThat(attempts).allSatisfy(d -> assertThat(d.queue()).isEqualTo(s.queueName()));
    assertThat(attempts.get(2).isLastAttempt()).isTrue();
    SubscriberHealth h = s.health();
    assertThat(h.handled()).isEqualTo(1);
    assertThat(h.retried()).isEqualTo(2);
    assertThat(h.deadLettered()).isZero();
    assertThat(h.lastError()).contains("flaky 2");
    assertThat(h.isHealthy()).isTrue();
    assertThat(broker.messageCount(s.deadLetterQueueName())).isZero();
    assertThat(broker.messageCount(s.queueName())).isZero();
    assertThat(broker.messageCount(s.queueName() + ".retry.50")).isZero();
    assertThat(broker.messageCount(s.queueName() + ".retry.100")).isZero();
  }

  @ParameterizedTest(name = "concurrency {0}")
  @ValueSource(ints = {1, 4})
  void closeLetsTheHandlerInProgressFinishAndAcknowledge(
      int concurrency, BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    CountDownLatch started = new CountDownLatch(1);
    AtomicBoolean completed = new AtomicBoolean();
    AtomicInteger calls = new AtomicInteger();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("slow.#")
                    .concurrency(concurrency)
                    .shutdownTimeout(Duration.ofSeconds(10))
                    .build(),
                Upload.class,
                e -> {
                  calls.incrementAndGet();
                  started.countDown();
                  Thread.sleep(1000);
                  completed.set(true);
                }));
    bus.publisher().publish("slow.item", new Upload("m", 1)).get(10, TimeUnit.SECONDS);
    assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();

    long t0 = System.nanoTime();
    s.close();
    Duration took = Duration.ofNanos(System.nanoTime() - t0);

    assertThat(completed).as("the handler finished before close returned").isTrue();
    assertThat(took).isLessThan(Duration.ofSeconds(8));
    assertThat(s.health().isHealthy()).isFalse();
    AMQP.Queue.DeclareOk q = broker.raw().queueDeclarePassive(s.queueName());
    assertThat(q.getMessageCount()).as("acknowledged, not requeued").isZero();
    assertThat(q.getConsumerCount()).isZero();
    assertThat(calls).hasValue(1);
  }

  @ParameterizedTest(name = "concurrency {0}")
  @ValueSource(ints = {1, 4})
  void closeGivesUpAfterTheShutdownTimeoutAndTheEventIsRedeliveredOnce(
      int concurrency, BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    CountDownLatch started = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("stuck.#")
                    .concurrency(concurrency)
                    .shutdownTimeout(Duration.ofMillis(300))
                    .retryDelays(List.of(Duration.ofMillis(200)))
                    .build(),
                Upload.class,
                e -> {
                  started.countDown();
                  release.await(5, TimeUnit.SECONDS);
                }));
    try {
      bus.publisher().publish("stuck.item", new Upload("m", 1)).get(10, TimeUnit.SECONDS);
      assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
      long t0 = System.nanoTime();
      s.close();
      assertThat(Duration.ofNanos(System.nanoTime() - t0))
          .as("close waits about the shutdown timeout, not for the handler")
          .isLessThan(Duration.ofSeconds(3));
      Await.until(() -> broker.messageCount(s.queueName()) == 1);
    } finally {
      release.countDown();
    }
    // The unfinished event is back in its queue once, not also sent on for a retry.
    Thread.sleep(700);
    assertThat(broker.messageCount(s.queueName() + ".retry.200")).isZero();
    assertThat(broker.messageCount(s.queueName())).as("copies of the event in its queue").isOne();
    assertThat(broker.messageCount(s.deadLetterQueueName())).isZero();
  }

  @Test
  void quorumQueueIsDeclaredWithTypeAndDeliveryLimitAndDelivers(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    BlockingQueue<EventEnvelope<Upload>> got = new LinkedBlockingQueue<>();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("quorum.#")
                    .queueType(QueueType.QUORUM)
                    .deliveryLimit(7)
                    .retryDelays(List.of(Duration.ofMillis(100)))
                    .build(),
                Upload.class,
                got::add));
    EventEnvelope<Upload> sent =
        bus.publisher().publish("quorum.item", new Upload("q", 1)).get(10, TimeUnit.SECONDS);
    assertThat(got.poll(10, TimeUnit.SECONDS).eventId()).isEqualTo(sent.eventId());

    Map<String, BrokerExtension.Broker.QueueStats> queues = broker.listQueues();
    BrokerExtension.Broker.QueueStats main = queues.get(s.queueName());
    assertThat(main).as("queue %s on the broker", s.queueName()).isNotNull();
    assertThat(main.type()).isEqualTo("quorum");
    assertThat(main.arguments())
        .containsEntry("x-queue-type", "quorum")
        .containsEntry("x-delivery-limit", "7")
        .containsEntry("x-dead-letter-routing-key", s.deadLetterQueueName());
    assertThat(queues.get(s.deadLetterQueueName()).type()).isEqualTo("quorum");
    assertThat(queues.get(s.queueName() + ".retry.100").type()).isEqualTo("quorum");

    // The broker holds these arguments: a declaration with another delivery limit is refused.
    try (Connection c = broker.newConnection("quorum")) {
      Map<String, Object> same = new HashMap<>();
      same.put("x-queue-type", "quorum");
      same.put("x-delivery-limit", 7);
      same.put("x-dead-letter-exchange", "");
      same.put("x-dead-letter-routing-key", s.deadLetterQueueName());
      c.createChannel().queueDeclare(s.queueName(), true, false, false, same);
      Map<String, Object> other = new HashMap<>(same);
      other.put("x-delivery-limit", 8);
      Throwable t =
          catchThrowable(
              () -> c.createChannel().queueDeclare(s.queueName(), true, false, false, other));
      assertThat(BusConnections.brokerReply(t))
          .contains("PRECONDITION_FAILED")
          .contains("x-delivery-limit");
    }
  }

  @Test
  void redeclaringAQueueWithOtherArgumentsNamesQueueAndArgumentAndTheBusGoesOn(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String name = broker.queueName("typed");
    Subscriber classic =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("mismatch.#").queueName(name).build(), e -> {}));
    classic.close();

    Throwable t =
        catchThrowable(
            () ->
                bus.subscribe(
                    SubscriberOptions.builder("mismatch.#")
                        .queueName(name)
                        .queueType(QueueType.QUORUM)
                        .build(),
                    e -> {}));
    assertThat(t).isInstanceOf(BloodbankException.class);
    assertThat(t.getMessage()).contains("'" + name).contains("x-queue-type");

    // Other subscribers and publishers on the same bus still work.
    BlockingQueue<EventEnvelope<JsonNode>> got = new LinkedBlockingQueue<>();
    Subscriber other =
        broker.track(bus.subscribe(SubscriberOptions.builder("after.#").build(), got::add));
    EventEnvelope<Upload> sent =
        bus.publisher().publish("after.item", new Upload("a", 1)).get(10, TimeUnit.SECONDS);
    assertThat(got.poll(10, TimeUnit.SECONDS).eventId()).isEqualTo(sent.eventId());
    assertThat(other.health().isHealthy()).isTrue();
    assertThat(broker.listQueues().get(name).type()).isEqualTo("classic");
  }

  @Test
  void nonJsonContentTypeIsDeadLetteredUnread(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    List<EventEnvelope<Upload>> seen = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(SubscriberOptions.builder("ct.#").build(), Upload.class, seen::add));
    // A valid event body: only the content type is wrong.
    EventEnvelope<Upload> text = EventEnvelope.builder("ct.text", new Upload("t", 1)).build();
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "ct.text",
            new AMQP.BasicProperties.Builder()
                .contentType("text/plain")
                .messageId(text.eventId().toString())
                .build(),
            bus.codec().encode(text));
    EventEnvelope<Upload> charset = EventEnvelope.builder("ct.json", new Upload("j", 2)).build();
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "ct.json",
            new AMQP.BasicProperties.Builder()
                .contentType("application/json; charset=utf-8")
                .messageId(charset.eventId().toString())
                .build(),
            bus.codec().encode(charset));

    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 1, WAIT);
    assertThat(dead).hasSize(1);
    Map<String, Object> h = dead.get(0).getProps().getHeaders();
    assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(text.eventId().toString());
    assertThat(h.get(FailureHeaders.REASON).toString())
        .isEqualTo(FailureHeaders.REASON_UNSUPPORTED_CONTENT_TYPE);
    assertThat(h.get(FailureHeaders.ERROR_MESSAGE).toString()).contains("text/plain");
    assertThat(((Number) h.get(FailureHeaders.ATTEMPTS)).intValue()).isEqualTo(1);
    Await.until(() -> seen.size() == 1);
    assertThat(seen.get(0).eventId()).isEqualTo(charset.eventId());
    Await.until(() -> s.health().deadLettered() == 1);
  }

  @Test
  void payloadThatDoesNotFitTheRecordIsDeadLetteredWithItsPointer(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    List<EventEnvelope<Meeting>> seen = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(SubscriberOptions.builder("mtg.#").build(), Meeting.class, seen::add));
    EventEnvelope<Map<String, Object>> bad =
        bus.publisher()
            .publish(
                "mtg.bad",
                Map.<String, Object>of(
                    "meeting_id", "m1", "audio_metadata", Map.of("sample_rate", "fast")))
            .get(10, TimeUnit.SECONDS);
    EventEnvelope<Meeting> good =
        bus.publisher()
            .publish("mtg.good", new Meeting("m2", new Audio(16000)))
            .get(10, TimeUnit.SECONDS);

    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 1, WAIT);
    assertThat(dead).hasSize(1);
    Map<String, Object> h = dead.get(0).getProps().getHeaders();
    assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(bad.eventId().toString());
    assertThat(h.get(FailureHeaders.REASON).toString()).isEqualTo(FailureHeaders.REASON_MALFORMED);
    assertThat(h.get(FailureHeaders.ERROR_MESSAGE).toString())
        .contains("/payload/audio_metadata/sample_rate");
    assertThat(h.get(FailureHeaders.ERROR_CLASS).toString())
        .isEqualTo(MalformedEventException.class.getName());
    Await.until(() -> seen.size() == 1);
    assertThat(seen.get(0)).isEqualTo(good);
  }

  @Test
  void eventOverTheDecodeLimitIsDeadLetteredUnread(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus =
        broker.connect(b -> b.decodeLimits(DecodeLimits.builder().maxDocumentBytes(4096).build()));
    List<EventEnvelope<JsonNode>> seen = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(bus.subscribe(SubscriberOptions.builder("big.#").build(), seen::add));
    EventEnvelope<String> big =
        bus.publisher().publish("big.one", "x".repeat(8000)).get(10, TimeUnit.SECONDS);
    EventEnvelope<String> small = bus.publisher().publish("big.not", "x").get(10, TimeUnit.SECONDS);

    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 1, WAIT);
    assertThat(dead).hasSize(1);
    Map<String, Object> h = dead.get(0).getProps().getHeaders();
    assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(big.eventId().toString());
    assertThat(h.get(FailureHeaders.REASON).toString()).isEqualTo(FailureHeaders.REASON_MALFORMED);
    assertThat(h.get(FailureHeaders.ERROR_MESSAGE).toString()).contains("4096");
    Await.until(() -> seen.size() == 1);
    assertThat(seen.get(0).eventId()).isEqualTo(small.eventId());
  }

  @Test
  void prefetchBoundsTheUnacknowledgedDeliveries(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger maxHolding = new AtomicInteger();
    AtomicInteger done = new AtomicInteger();
    CountDownLatch release = new CountDownLatch(1);
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("pf.#").prefetch(3).concurrency(10).build(),
                Upload.class,
                e -> {
                  maxHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
                  try {
                    release.await(10, TimeUnit.SECONDS);
                  } finally {
                    holding.decrementAndGet();
                  }
                  done.incrementAndGet();
                }));
    try {
      for (int i = 0; i < 10; i++) {
        bus.publisher().publish("pf.item", new Upload("p", i)).get(10, TimeUnit.SECONDS);
      }
      Await.until(() -> holding.get() == 3);
      Thread.sleep(300); // time for a fourth delivery, if the prefetch let one through
      assertThat(maxHolding).hasValue(3);
      BrokerExtension.Broker.QueueStats q = broker.listQueues().get(s.queueName());
      assertThat(q.messagesUnacknowledged()).isEqualTo(3);
      assertThat(q.messagesReady()).isEqualTo(7);
    } finally {
      release.countDown();
    }
    Await.until(() -> done.get() == 10);
    assertThat(maxHolding).hasValue(3);
  }

  @Test
  void concurrencyRunsHandlersInParallel(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    CyclicBarrier all4 = new CyclicBarrier(4);
    AtomicInteger met = new AtomicInteger();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("par.#").concurrency(4).maxAttempts(1).build(),
                Upload.class,
                e -> {
                  // only passes if four handlers run at the same time
                  all4.await(5, TimeUnit.SECONDS);
                  met.incrementAndGet();
                }));
    for (int i = 0; i < 4; i++) {
      bus.publisher().publish("par.item", new Upload("p", i)).get(10, TimeUnit.SECONDS);
    }
    Await.until(() -> met.get() == 4);
    assertThat(s.health().deadLettered()).isZero();
  }

  @Test
  void concurrencyOneHandlesOneEventAtATime(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    AtomicInteger holding = new AtomicInteger();
    AtomicInteger maxHolding = new AtomicInteger();
    List<Integer> order = new CopyOnWriteArrayList<>();
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("seq.#").concurrency(1).prefetch(10).build(),
            Upload.class,
            e -> {
              maxHolding.accumulateAndGet(holding.incrementAndGet(), Math::max);
              Thread.sleep(30);
              order.add(e.payload().n());
              holding.decrementAndGet();
            }));
    for (int i = 0; i < 5; i++) {
      bus.publisher().publish("seq.item", new Upload("s", i)).get(10, TimeUnit.SECONDS);
    }
    Await.until(() -> order.size() == 5);
    assertThat(maxHolding).hasValue(1);
    assertThat(order).containsExactly(0, 1, 2, 3, 4);
  }
}
