package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.ShutdownSignalException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The broker behaviour the SDK builds on, exercised with raw amqp-client calls; {@link
 * AmqpSemanticsEmbeddedIT} runs the same on the embedded broker, so the two cannot drift apart.
 */
@ExtendWith(BrokerExtension.class)
class AmqpSemanticsIT {
  private static final Duration WAIT = Duration.ofSeconds(5);
  private static final byte[] BODY = "{}".getBytes(StandardCharsets.UTF_8);

  @Test
  void topicPatternsMatchWordsWithStarAndHash(BrokerExtension.Broker broker) throws Exception {
    Map<String, String> queues = new HashMap<>();
    for (String pattern :
        List.of("a.b.c", "a.*.c", "a.#", "#.c", "a.#.c", "*", "#", "*.*", "a.*.#")) {
      queues.put(pattern, broker.rawQueue(pattern));
    }
    for (String key : List.of("a.b.c", "a.c", "a.b.b.c", "a", "x.c", "a.b")) {
      broker.raw().basicPublish(broker.exchange(), key, props().messageId(key).build(), BODY);
    }
    Map<String, List<String>> got = new HashMap<>();
    for (Map.Entry<String, String> q : queues.entrySet()) {
      List<String> keys = new ArrayList<>();
      for (GetResponse r : broker.drain(q.getValue(), 10, Duration.ofMillis(300))) {
        keys.add(r.getEnvelope().getRoutingKey());
      }
      keys.sort(null);
      got.put(q.getKey(), keys);
    }
    assertThat(got)
        .containsEntry("a.b.c", List.of("a.b.c"))
        .containsEntry("a.*.c", List.of("a.b.c"))
        .containsEntry("a.#", List.of("a", "a.b", "a.b.b.c", "a.b.c", "a.c"))
        .containsEntry("#.c", List.of("a.b.b.c", "a.b.c", "a.c", "x.c"))
        .containsEntry("a.#.c", List.of("a.b.b.c", "a.b.c", "a.c"))
        .containsEntry("*", List.of("a"))
        .containsEntry("#", List.of("a", "a.b", "a.b.b.c", "a.b.c", "a.c", "x.c"))
        .containsEntry("*.*", List.of("a.b", "a.c", "x.c"))
        .containsEntry("a.*.#", List.of("a.b", "a.b.b.c", "a.b.c", "a.c"));
  }

  @Test
  void requeuedMessageComesBackMarkedRedeliveredAndHeadersComeBackAsWireTypes(
      BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("re.#");
    Map<String, Object> headers = new HashMap<>();
    headers.put("s", "text");
    headers.put("n", 7);
    headers.put("l", List.of("x", "y"));
    broker.raw().basicPublish(broker.exchange(), "re.one", props().headers(headers).build(), BODY);
    GetResponse first = awaitGet(broker.raw(), q);
    assertThat(first.getEnvelope().isRedeliver()).isFalse();
    broker.raw().basicNack(first.getEnvelope().getDeliveryTag(), false, true);
    GetResponse again = awaitGet(broker.raw(), q);
    assertThat(again.getEnvelope().isRedeliver()).isTrue();
    broker.raw().basicAck(again.getEnvelope().getDeliveryTag(), false);
    Map<String, Object> h = again.getProps().getHeaders();
    assertThat(h.get("s")).isInstanceOf(LongString.class).hasToString("text");
    assertThat(h.get("n")).isEqualTo(7);
    assertThat((List<?>) h.get("l")).allSatisfy(v -> assertThat(v).isInstanceOf(LongString.class));
  }

  @Test
  void rejectedMessageIsDeadLetteredWithXDeath(BrokerExtension.Broker broker) throws Exception {
    String dlq = broker.queueName("x-dlq");
    String q = broker.queueName("x-main");
    Channel ch = broker.raw();
    ch.queueDeclare(dlq, true, false, false, null);
    Map<String, Object> args = new HashMap<>();
    args.put("x-dead-letter-exchange", "");
    args.put("x-dead-letter-routing-key", dlq);
    ch.queueDeclare(q, true, false, false, args);
    ch.queueBind(q, broker.exchange(), "rej.#");
    ch.basicPublish(broker.exchange(), "rej.it", props().messageId("m-rej").build(), BODY);
    GetResponse r = awaitGet(ch, q);
    ch.basicReject(r.getEnvelope().getDeliveryTag(), false);

    GetResponse dead = broker.drain(dlq, 1, WAIT).get(0);
    assertThat(dead.getProps().getMessageId()).isEqualTo("m-rej");
    assertThat(dead.getEnvelope().getExchange()).isEmpty();
    assertThat(dead.getEnvelope().getRoutingKey()).isEqualTo(dlq);
    Map<String, Object> h = dead.getProps().getHeaders();
    assertThat(h.get("x-first-death-queue")).hasToString(q);
    assertThat(h.get("x-first-death-reason")).hasToString("rejected");
    assertThat(h.get("x-first-death-exchange")).hasToString(broker.exchange());
    Map<?, ?> death = (Map<?, ?>) ((List<?>) h.get("x-death")).get(0);
    assertThat(death.get("queue")).hasToString(q);
    assertThat(death.get("reason")).hasToString("rejected");
    assertThat(death.get("count")).isEqualTo(1L);
    assertThat(death.get("exchange")).hasToString(broker.exchange());
    assertThat(((List<?>) death.get("routing-keys")).get(0)).hasToString("rej.it");
  }

  @Test
  void expiredMessageIsDeadLetteredWithoutItsExpiration(BrokerExtension.Broker broker)
      throws Exception {
    String target = broker.queueName("ttl-target");
    String holding = broker.queueName("ttl-hold");
    Channel ch = broker.raw();
    ch.queueDeclare(target, true, false, false, null);
    Map<String, Object> args = new HashMap<>();
    args.put("x-dead-letter-exchange", "");
    args.put("x-dead-letter-routing-key", target);
    args.put("x-message-ttl", 5000);
    ch.queueDeclare(holding, true, false, false, args);
    ch.basicPublish("", holding, props().messageId("m-ttl").expiration("100").build(), BODY);

    List<GetResponse> got = broker.drain(target, 1, WAIT);
    assertThat(got).as("expired into the target queue").hasSize(1);
    AMQP.BasicProperties p = got.get(0).getProps();
    assertThat(p.getExpiration()).isNull();
    Map<?, ?> death = (Map<?, ?>) ((List<?>) p.getHeaders().get("x-death")).get(0);
    assertThat(death.get("reason")).hasToString("expired");
    assertThat(death.get("queue")).hasToString(holding);
    assertThat(death.get("original-expiration")).hasToString("100");
    assertThat(broker.messageCount(holding)).isZero();
  }

  @Test
  void mandatoryUnroutableIsReturnedBeforeItsConfirm(BrokerExtension.Broker broker)
      throws Exception {
    try (Connection c = broker.newConnection("returns")) {
      Channel ch = c.createChannel();
      ch.confirmSelect();
      BlockingQueue<String> order = new LinkedBlockingQueue<>();
      ch.addReturnListener(r -> order.add("return " + r.getReplyCode() + " " + r.getReplyText()));
      ch.addConfirmListener(
          (tag, multiple) -> order.add("ack " + tag), (tag, m) -> order.add("nack"));
      assertThat(ch.getNextPublishSeqNo()).isEqualTo(1);
      ch.basicPublish(broker.exchange(), "nobody.home", true, props().build(), BODY);
      assertThat(order.poll(5, TimeUnit.SECONDS)).isEqualTo("return 312 NO_ROUTE");
      assertThat(order.poll(5, TimeUnit.SECONDS)).isEqualTo("ack 1");
      assertThat(ch.getNextPublishSeqNo()).isEqualTo(2);
    }
  }

  @Test
  void channelErrorsCloseTheChannelWithRabbitMqsReply(BrokerExtension.Broker broker)
      throws Exception {
    try (Connection c = broker.newConnection("errors")) {
      Channel missing = c.createChannel();
      Throwable t = catchThrowable(() -> missing.queueDeclarePassive(broker.queueName("absent")));
      assertThat(BusConnections.brokerReply(t)).startsWith("NOT_FOUND - no queue");
      assertThat(missing.isOpen()).isFalse();

      Channel ack = c.createChannel();
      CompletableFuture<ShutdownSignalException> closed = new CompletableFuture<>();
      ack.addShutdownListener(closed::complete);
      ack.basicAck(42, false);
      assertThat(closed.get(5, TimeUnit.SECONDS).getReason())
          .isInstanceOfSatisfying(
              AMQP.Channel.Close.class,
              r -> {
                assertThat(r.getReplyCode()).isEqualTo(406);
                assertThat(r.getReplyText()).contains("unknown delivery tag 42");
              });

      Channel publish = c.createChannel();
      CompletableFuture<ShutdownSignalException> gone = new CompletableFuture<>();
      publish.addShutdownListener(gone::complete);
      publish.basicPublish("no-such-exchange-" + broker.serviceName(), "k", props().build(), BODY);
      assertThat(BusConnections.brokerReply(gone.get(5, TimeUnit.SECONDS)))
          .startsWith("NOT_FOUND - no exchange");
    }
  }

  @Test
  void closingAChannelRequeuesItsUnacknowledgedDeliveries(BrokerExtension.Broker broker)
      throws Exception {
    String q = broker.rawQueue("close.#");
    broker.raw().basicPublish(broker.exchange(), "close.it", props().build(), BODY);
    try (Connection c = broker.newConnection("close")) {
      Channel ch = c.createChannel();
      GetResponse r = awaitGet(ch, q);
      assertThat(r.getEnvelope().isRedeliver()).isFalse();
      ch.close();
    }
    GetResponse back = broker.drain(q, 1, WAIT).get(0);
    assertThat(back.getEnvelope().isRedeliver()).isTrue();
  }

  @Test
  void exclusiveQueueIsLockedToItsConnection(BrokerExtension.Broker broker) throws Exception {
    String q = broker.queueName("excl");
    try (Connection owner = broker.newConnection("owner");
        Connection other = broker.newConnection("other")) {
      owner.createChannel().queueDeclare(q, false, true, true, null);
      Throwable t = catchThrowable(() -> other.createChannel().queueDeclarePassive(q));
      assertThat(BusConnections.brokerReply(t)).startsWith("RESOURCE_LOCKED");
    }
    // gone with its connection
    try (Connection after = broker.newConnection("after")) {
      Throwable t = catchThrowable(() -> after.createChannel().queueDeclarePassive(q));
      assertThat(BusConnections.brokerReply(t)).startsWith("NOT_FOUND");
    }
  }

  private static AMQP.BasicProperties.Builder props() {
    return new AMQP.BasicProperties.Builder().contentType("application/json").deliveryMode(2);
  }

  private static GetResponse awaitGet(Channel ch, String queue) throws Exception {
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      GetResponse r = ch.basicGet(queue, false);
      if (r != null) {
        return r;
      }
      Thread.sleep(20);
    }
    throw new AssertionError("nothing arrived in " + queue + " within " + WAIT);
  }
}
