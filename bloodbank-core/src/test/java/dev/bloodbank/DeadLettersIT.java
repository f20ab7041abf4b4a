package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.deadletter.DeadLetter;
import dev.bloodbank.deadletter.DeadLetterReplayOptions;
import dev.bloodbank.deadletter.DeadLetterReplayResult;
import dev.bloodbank.deadletter.DeadLetters;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Dead-letter queues read, moved back and purged on the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class DeadLettersIT {
  record Item(int n) {}

  /** A subscriber that dead-letters every event while {@code failing} is set. */
  record Failing(Subscriber subscriber, AtomicBoolean failing, List<String> handledIds) {}

  static Failing failingSubscriber(BrokerExtension.Broker broker, Bloodbank bus) {
    AtomicBoolean failing = new AtomicBoolean(true);
    List<String> handled = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("dl.#")
                    .queueName(broker.queueName("dl"))
                    .maxAttempts(1)
                    .build(),
                Item.class,
                e -> {
                  if (failing.get()) {
                    throw new IllegalStateException("refused " + e.payload().n());
                  }
                  handled.add(e.eventId().toString());
                }));
    return new Failing(s, failing, handled);
  }

  /**
   * The event ids in the dead-letter queue's order: copies are sent on several channels, so not
   * quite the publishing order.
   */
  static List<String> queued(Bloodbank bus, String dlq, List<String> published) {
    List<String> ids = new ArrayList<>();
    for (DeadLetter d : bus.deadLetters().peek(dlq, 10_000)) {
      ids.add(d.eventId());
    }
    assertThat(ids).containsExactlyInAnyOrderElementsOf(published);
    return ids;
  }

  static List<String> publish(Bloodbank bus, int count, String... keys) throws Exception {
    List<String> ids = new ArrayList<>();
    Publisher p = bus.publisher();
    for (int i = 0; i < count; i++) {
      ids.add(
          p.publish(keys[i % keys.length], new Item(i))
              .get(10, TimeUnit.SECONDS)
              .eventId()
              .toString());
    }
    return ids;
  }

  @Test
  void inspectAndPeekShowTheFailureWithoutTakingAnything(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    Instant before = Instant.now().minusSeconds(1);
    List<String> ids = publish(bus, 5, "dl.a", "dl.b");
    Await.until(() -> broker.messageCount(dlq) == 5);

    DeadLetters dl = bus.deadLetters();
    assertThat(dl.inspect(dlq)).satisfies(i -> assertThat(i.messages()).isEqualTo(5));
    assertThat(dl.inspect(dlq).consumers()).isZero();

    List<String> queued = queued(bus, dlq, ids);
    List<DeadLetter> three = dl.peek(dlq, 3);
    assertThat(three)
        .extracting(DeadLetter::eventId)
        .containsExactlyElementsOf(queued.subList(0, 3));
    DeadLetter first =
        dl.peek(dlq, 5).stream().filter(d -> d.eventId().equals(ids.get(0))).findFirst().get();
    assertThat(first.queue()).isEqualTo(dlq);
    assertThat(first.failedQueue()).isEqualTo(f.subscriber().queueName());
    assertThat(first.routingKey()).isEqualTo("dl.a");
    assertThat(dl.peek(dlq, 5))
        .filteredOn(d -> d.eventId().equals(ids.get(1)))
        .extracting(DeadLetter::routingKey)
        .containsExactly("dl.b");
    assertThat(first.eventType()).isEqualTo("dl.a"); // from the envelope: no AMQP type is set
    assertThat(first.exchange()).isEqualTo(broker.exchange());
    assertThat(first.reason()).isEqualTo(FailureHeaders.REASON_HANDLER_FAILED);
    assertThat(first.errorClass()).isEqualTo(IllegalStateException.class.getName());
    assertThat(first.errorMessage()).contains("refused 0");
    assertThat(first.attempts()).isEqualTo(1);
    assertThat(first.firstFailure()).isAfter(before);
    assertThat(first.lastFailure()).isAfterOrEqualTo(first.firstFailure());
    assertThat(first.headers()).containsKey(FailureHeaders.ERROR_CLASS);
    assertThat(first.bodyText()).contains("\"n\":0").contains(ids.get(0));

    // Nothing was taken, and the order is kept: a second look sees all five in order.
    assertThat(dl.inspect(dlq).messages()).isEqualTo(5);
    assertThat(dl.peek(dlq, 100)).extracting(DeadLetter::eventId).containsExactlyElementsOf(queued);
    assertThatThrownBy(() -> dl.peek(dlq, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("from 1 to 10000, got 0");
  }

  @Test
  void replayMovesMatchingEventsBackToTheFailedQueueWithTheirIdsAndAFreshStart(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    List<String> ids = publish(bus, 6, "dl.a", "dl.b");
    Await.until(() -> broker.messageCount(dlq) == 6);
    List<String> queued = queued(bus, dlq, ids);
    f.failing().set(false);

    List<String> movedIds = new CopyOnWriteArrayList<>();
    DeadLetterReplayResult result =
        bus.deadLetters()
            .replay(
                DeadLetterReplayOptions.builder(dlq)
                    .pattern("dl.a")
                    .listener((letter, target) -> movedIds.add(letter.eventId()))
                    .build());
    Set<String> evens = Set.of(ids.get(0), ids.get(2), ids.get(4));
    List<String> aIds = queued.stream().filter(evens::contains).toList();
    List<String> bIds = queued.stream().filter(id -> !evens.contains(id)).toList();
    assertThat(result.moved()).isEqualTo(3);
    assertThat(result.skipped()).isEqualTo(3);
    assertThat(result.unmovable()).isZero();
    assertThat(result.remaining()).isEqualTo(3);
    assertThat(result.interrupted()).isFalse();
    assertThat(movedIds).containsExactlyElementsOf(aIds);
    // The consumer handles them this time, same ids; the skipped ones stay, in order.
    Await.until(() -> f.handledIds().size() == 3);
    assertThat(f.handledIds()).containsExactlyInAnyOrderElementsOf(aIds);
    assertThat(bus.deadLetters().peek(dlq, 10))
        .extracting(DeadLetter::eventId)
        .containsExactlyElementsOf(bIds);
    assertThat(f.subscriber().health().handled()).isEqualTo(3);

    // The rest, then nothing left.
    assertThat(bus.deadLetters().replay(DeadLetterReplayOptions.of(dlq)).moved()).isEqualTo(3);
    Await.until(() -> f.handledIds().size() == 6);
    assertThat(f.handledIds()).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(broker.messageCount(dlq)).isZero();
  }

  @Test
  void aMovedCopyCarriesNoFailureHeadersAndCountsItsReplays(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    List<String> ids = publish(bus, 1, "dl.a");
    Await.until(() -> broker.messageCount(dlq) == 1);
    f.subscriber().close(); // the copy stays in the main queue to be looked at
    String target = broker.queueName("target");
    broker.raw().queueDeclare(target, true, false, false, null);

    DeadLetterReplayResult r =
        bus.deadLetters().replay(DeadLetterReplayOptions.builder(dlq).toQueue(target).build());
    assertThat(r.moved()).isEqualTo(1);
    GetResponse copy = broker.drain(target, 1, Duration.ofSeconds(5)).get(0);
    Map<String, Object> h = copy.getProps().getHeaders();
    assertThat(copy.getProps().getMessageId()).isEqualTo(ids.get(0));
    assertThat(h)
        .doesNotContainKeys(
            FailureHeaders.ATTEMPTS,
            FailureHeaders.REASON,
            FailureHeaders.ERROR_CLASS,
            FailureHeaders.ERROR_MESSAGE,
            FailureHeaders.QUEUE,
            "x-death")
        .containsEntry(AmqpDeadLetters.REPLAYS, 1)
        .containsKey(FailureHeaders.ORIGINAL_ROUTING_KEY);
    assertThat(copy.getProps().getDeliveryMode()).isEqualTo(2);
    assertThat(new String(copy.getBody(), StandardCharsets.UTF_8)).contains(ids.get(0));
  }

  @Test
  void aMessageTheBrokerDeadLetteredIsReadFromItsXDeathAndMovedBack(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String source = broker.queueName("src");
    String dlq = source + ".dlq";
    broker.raw().queueDeclare(dlq, true, false, false, null);
    Map<String, Object> args = new HashMap<>();
    args.put("x-dead-letter-exchange", "");
    args.put("x-dead-letter-routing-key", dlq);
    broker.raw().queueDeclare(source, true, false, false, args);
    broker.raw().queueBind(source, broker.exchange(), "raw.#");
    broker
        .raw()
        .basicPublish(
            broker.exchange(),
            "raw.thing",
            new AMQP.BasicProperties.Builder().messageId("m-1").type("raw.thing").build(),
            "{}".getBytes(StandardCharsets.UTF_8));
    GetResponse got = null;
    for (int i = 0; i < 100 && got == null; i++) {
      got = broker.raw().basicGet(source, false);
      if (got == null) {
        Thread.sleep(20);
      }
    }
    assertThat(got).isNotNull();
    broker.raw().basicReject(got.getEnvelope().getDeliveryTag(), false);
    Await.until(() -> broker.messageCount(dlq) == 1);

    DeadLetter letter = bus.deadLetters().peek(dlq, 1).get(0);
    assertThat(letter.eventId()).isEqualTo("m-1");
    assertThat(letter.failedQueue()).isEqualTo(source);
    assertThat(letter.reason()).isEqualTo("rejected");
    assertThat(letter.routingKey()).isEqualTo("raw.thing");
    assertThat(letter.exchange()).isEqualTo(broker.exchange());
    assertThat(letter.attempts()).isEqualTo(1);

    assertThat(bus.deadLetters().replay(DeadLetterReplayOptions.of(dlq)).moved()).isEqualTo(1);
    GetResponse back = broker.drain(source, 1, Duration.ofSeconds(5)).get(0);
    assertThat(back.getProps().getMessageId()).isEqualTo("m-1");
    assertThat(back.getProps().getHeaders()).doesNotContainKey("x-death");
  }

  @Test
  void eventsWithNowhereToGoStayAndTheReasonIsSaid(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    List<String> published = publish(bus, 4, "dl.a");
    Await.until(() -> broker.messageCount(dlq) == 4);
    f.subscriber().close();
    List<String> ids = queued(bus, dlq, published);

    DeadLetterReplayResult missing =
        bus.deadLetters()
            .replay(DeadLetterReplayOptions.builder(dlq).toQueue("no-such-queue-" + dlq).build());
    assertThat(missing.moved()).isZero();
    assertThat(missing.unmovable()).isEqualTo(4);
    assertThat(missing.remaining()).isEqualTo(4);
    assertThat(missing.problems())
        .containsExactly("target queue 'no-such-queue-" + dlq + "' does not exist");

    // A dry run counts, within its limit, and moves nothing.
    DeadLetterReplayResult dry =
        bus.deadLetters()
            .replay(DeadLetterReplayOptions.builder(dlq).dryRun(true).limit(3).build());
    assertThat(dry.moved()).isEqualTo(3);
    assertThat(dry.remaining()).isEqualTo(4);
    assertThat(bus.deadLetters().peek(dlq, 10))
        .extracting(DeadLetter::eventId)
        .containsExactlyElementsOf(ids);

    // A limit moves the oldest first.
    DeadLetterReplayResult two =
        bus.deadLetters().replay(DeadLetterReplayOptions.builder(dlq).limit(2).build());
    assertThat(two.moved()).isEqualTo(2);
    assertThat(two.remaining()).isEqualTo(2);
    assertThat(bus.deadLetters().peek(dlq, 10))
        .extracting(DeadLetter::eventId)
        .containsExactly(ids.get(2), ids.get(3));
    assertThat(broker.messageCount(f.subscriber().queueName())).isEqualTo(2);
  }

  @Test
  void anInterruptedReplayResumedMovesEachEventExactlyOnce(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    int total = 300;
    List<String> ids = publish(bus, total, "dl.a", "dl.b", "dl.c");
    Await.until(() -> broker.messageCount(dlq) == total, Duration.ofSeconds(30), "dead letters");
    f.subscriber().close();
    List<String> queued = queued(bus, dlq, ids);
    String target = broker.queueName("target");
    broker.raw().queueDeclare(target, true, false, false, null);

    // At 200 a second the replay takes 1.5 s; it is interrupted a third of the way in.
    AtomicReference<DeadLetterReplayResult> first = new AtomicReference<>();
    AtomicBoolean flagKept = new AtomicBoolean();
    Thread t =
        new Thread(
            () -> {
              first.set(
                  bus.deadLetters()
                      .replay(
                          DeadLetterReplayOptions.builder(dlq).toQueue(target).rate(200).build()));
              flagKept.set(Thread.currentThread().isInterrupted());
            });
    t.start();
    Thread.sleep(500);
    t.interrupt();
    t.join(10_000);
    DeadLetterReplayResult r1 = first.get();
    assertThat(r1.interrupted()).isTrue();
    assertThat(flagKept).isTrue();
    assertThat(r1.moved()).isBetween(1L, (long) total - 1);
    assertThat(r1.remaining()).isEqualTo(total - r1.moved());
    assertThat(broker.messageCount(target)).isEqualTo(r1.moved());

    DeadLetterReplayResult r2 =
        bus.deadLetters().replay(DeadLetterReplayOptions.builder(dlq).toQueue(target).build());
    assertThat(r2.moved()).isEqualTo(total - r1.moved());
    assertThat(r2.remaining()).isZero();
    List<String> arrived = new ArrayList<>();
    for (GetResponse g : broker.drain(target, total + 10, Duration.ofSeconds(3))) {
      arrived.add(g.getProps().getMessageId());
    }
    // Every event once, in the dead-letter queue's order.
    assertThat(arrived).containsExactlyElementsOf(queued);
  }

  @Test
  void purgeEmptiesAndAMissingQueueIsNamed(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Failing f = failingSubscriber(broker, bus);
    String dlq = f.subscriber().deadLetterQueueName();
    publish(bus, 3, "dl.a");
    Await.until(() -> broker.messageCount(dlq) == 3);
    assertThat(bus.deadLetters().purge(dlq)).isEqualTo(3);
    assertThat(bus.deadLetters().inspect(dlq).messages()).isZero();

    String missing = "no-such-" + dlq;
    for (Runnable call :
        List.<Runnable>of(
            () -> bus.deadLetters().inspect(missing),
            () -> bus.deadLetters().peek(missing, 1),
            () -> bus.deadLetters().purge(missing),
            () -> bus.deadLetters().replay(DeadLetterReplayOptions.of(missing)))) {
      assertThatThrownBy(call::run)
          .isInstanceOf(BloodbankException.class)
          .hasMessageContaining("queue '" + missing + "'")
          .hasMessageContaining("NOT_FOUND");
    }
    // The bus goes on.
    assertThat(bus.deadLetters().inspect(dlq).messages()).isZero();
    bus.close();
    assertThatThrownBy(() -> bus.deadLetters())
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("closed");
  }
}
