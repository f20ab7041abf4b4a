package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.validation.ValidationMode;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The embedded transport without any broker running: option handling, ownership of the broker, and
 * the emulation details the shared integration tests do not reach. What both brokers must do alike
 * is in {@link AmqpSemanticsIT} and the {@code *EmbeddedIT} classes.
 */
class EmbeddedTransportTest {
  private static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);

  @Test
  void amqpIsTheDefaultAndTheTransportSurvivesMutate() {
    assertThat(BloodbankOptions.defaults().transport().isEmbedded()).isFalse();
    assertThat(BloodbankOptions.defaults().transport()).hasToString("amqp");
    BloodbankOptions o = BloodbankOptions.builder().transport(Transport.embedded()).build();
    assertThat(o.mutate().build().transport().isEmbedded()).isTrue();
    assertThat(o.toString()).contains("transport=embedded");
    assertThatThrownBy(() -> BloodbankOptions.builder().transport(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void aBusOnItsOwnEmbeddedBrokerNeedsNoRabbitMqAndDeliversEvents() throws Exception {
    BloodbankOptions options =
        BloodbankOptions.builder()
            .address("127.0.0.1", 1) // nothing listens here: ignored by the embedded transport
            .transport(Transport.embedded())
            .validation(ValidationMode.PERMISSIVE)
            .build();
    BlockingQueue<EventEnvelope<String>> got = new LinkedBlockingQueue<>();
    try (Bloodbank bus = Bloodbank.connect(options)) {
      assertThat(bus.isConnected()).isTrue();
      bus.subscribe(
          SubscriberOptions.builder("demo.#").temporary().build(), String.class, got::add);
      EventEnvelope<String> sent =
          bus.publisher().publish("demo.hello", "hi").get(5, TimeUnit.SECONDS);
      assertThat(got.poll(5, TimeUnit.SECONDS)).isEqualTo(sent);
    }
  }

  @Test
  void aSharedBrokerOutlivesTheBusAndAnOwnedOneDoesNot() {
    try (EmbeddedBroker broker = EmbeddedBroker.create()) {
      Bloodbank bus =
          Bloodbank.connect(
              BloodbankOptions.builder().transport(Transport.embedded(broker)).build());
      bus.close();
      assertThat(broker.isOpen()).isTrue();
      assertThat(broker.newConnection("after").isOpen()).isTrue();
    }
  }

  @Test
  void closingTheBrokerClosesItsConnectionsAsAServerWould() {
    EmbeddedBroker broker = EmbeddedBroker.create();
    Connection c = broker.newConnection("victim");
    broker.close();
    assertThat(c.isOpen()).isFalse();
    assertThat(c.getCloseReason().isInitiatedByApplication()).isFalse();
    assertThatThrownBy(() -> broker.newConnection("late"))
        .isInstanceOf(IllegalStateException.class);
  }

  @Test
  void whatIsNotEmulatedSaysSo() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.create();
        Connection c = broker.newConnection("unsupported")) {
      Channel ch = c.createChannel();
      assertThatThrownBy(ch::txSelect)
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("transactions")
          .hasMessageContaining("not emulated");
      assertThatThrownBy(() -> ch.exchangeDeclare("h", "headers"))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("'headers'");
      assertThatThrownBy(() -> ch.queueDeclare("q", true, false, false, Map.of("x-max-length", 10)))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("x-max-length");
      assertThatThrownBy(() -> ch.basicQos(5, true))
          .isInstanceOf(UnsupportedOperationException.class)
          .hasMessageContaining("global");
      assertThat(ch.isOpen()).as("refusing is not a channel error").isTrue();
    }
  }

  @Test
  void quorumQueueDeadLettersAMessageRequeuedPastItsDeliveryLimit() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.create();
        Connection c = broker.newConnection("quorum")) {
      Channel ch = c.createChannel();
      ch.queueDeclare("limited.dlq", true, false, false, null);
      Map<String, Object> args = new HashMap<>();
      args.put("x-queue-type", "quorum");
      args.put("x-delivery-limit", 1);
      args.put("x-dead-letter-exchange", "");
      args.put("x-dead-letter-routing-key", "limited.dlq");
      ch.queueDeclare("limited", true, false, false, args);
      ch.basicPublish("", "limited", new AMQP.BasicProperties(), BODY);

      GetResponse first = ch.basicGet("limited", false);
      ch.basicNack(first.getEnvelope().getDeliveryTag(), false, true);
      GetResponse second = ch.basicGet("limited", false);
      assertThat(second.getEnvelope().isRedeliver()).isTrue();
      assertThat(second.getProps().getHeaders()).containsEntry("x-delivery-count", 1L);
      ch.basicNack(second.getEnvelope().getDeliveryTag(), false, true);

      assertThat(ch.basicGet("limited", false)).isNull();
      GetResponse dead = ch.basicGet("limited.dlq", true);
      Map<?, ?> death = (Map<?, ?>) ((List<?>) dead.getProps().getHeaders().get("x-death")).get(0);
      assertThat(death.get("reason")).hasToString("delivery_limit");
      assertThat(broker.events())
          .extracting(EmbeddedBroker.Event::kind)
          .contains(EmbeddedBroker.Kind.DEAD_LETTERED);
    }
  }

  @Test
  void prefetchHoldsBackDeliveriesUntilAcknowledged() throws Exception {
    try (EmbeddedBroker broker = EmbeddedBroker.create();
        Connection c = broker.newConnection("prefetch")) {
      Channel ch = c.createChannel();
      ch.queueDeclare("pf", true, false, false, null);
      for (int i = 0; i < 5; i++) {
        ch.basicPublish("", "pf", new AMQP.BasicProperties(), BODY);
      }
      ch.basicQos(2);
      BlockingQueue<Long> tags = new LinkedBlockingQueue<>();
      ch.basicConsume("pf", false, (tag, d) -> tags.add(d.getEnvelope().getDeliveryTag()), t -> {});
      assertThat(tags.poll(2, TimeUnit.SECONDS)).isNotNull();
      assertThat(tags.poll(2, TimeUnit.SECONDS)).isNotNull();
      assertThat(tags.poll(200, TimeUnit.MILLISECONDS)).as("third held back").isNull();
      assertThat(broker.queue("pf").orElseThrow().messagesUnacknowledged()).isEqualTo(2);
      ch.basicAck(2, true);
      assertThat(tags.poll(2, TimeUnit.SECONDS)).isNotNull();
      assertThat(tags.poll(2, TimeUnit.SECONDS)).isNotNull();
      assertThat(broker.queue("pf").orElseThrow().messagesReady()).isEqualTo(1);
    }
  }

  /**
   * Publishers on several threads feeding one consumer: its deliveries arrive in tag order, as on
   * RabbitMQ. They once did not (each publish handed its delivery to the channel's thread after
   * leaving the broker's lock), and a subscriber acknowledging "up to tag N" then acknowledged a
   * delivery its handler had not seen yet and closed its channel on the next acknowledgement.
   */
  @Test
  void deliveriesReachAConsumerInTagOrderWhateverThePublishingThreads() throws Exception {
    int threads = 4;
    int each = 2_000;
    try (EmbeddedBroker broker = EmbeddedBroker.create();
        Connection c = broker.newConnection("order")) {
      Channel consumer = c.createChannel();
      consumer.queueDeclare("ordered", true, false, false, null);
      List<Long> seen = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
      java.util.concurrent.CountDownLatch all =
          new java.util.concurrent.CountDownLatch(threads * each);
      consumer.basicConsume(
          "ordered",
          true,
          (tag, d) -> {
            seen.add(d.getEnvelope().getDeliveryTag());
            all.countDown();
          },
          t -> {});
      List<Thread> publishers = new java.util.ArrayList<>();
      for (int t = 0; t < threads; t++) {
        Channel p = c.createChannel();
        Thread th =
            new Thread(
                () -> {
                  try {
                    for (int i = 0; i < each; i++) {
                      p.basicPublish("", "ordered", new AMQP.BasicProperties(), BODY);
                    }
                  } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                  }
                });
        publishers.add(th);
        th.start();
      }
      for (Thread th : publishers) {
        th.join(TimeUnit.SECONDS.toMillis(30));
      }
      assertThat(all.await(30, TimeUnit.SECONDS)).isTrue();
      List<Long> copy;
      synchronized (seen) {
        copy = List.copyOf(seen);
      }
      assertThat(copy).hasSize(threads * each).isSorted();
    }
  }
}
