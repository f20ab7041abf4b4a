package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.fault.TcpProxy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Faults on the real broker: every client connection closed by {@code rabbitmqctl} (on the private
 * node: it hits every client of a broker), a channel closed by a channel error, wrong credentials.
 */
@ExtendWith(BrokerExtension.class)
class RecoveryIT {

  @Test
  @BrokerExtension.PrivateNode("closes every connection of the broker")
  void subscriberResumesAfterEveryConnectionIsClosed(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    BlockingQueue<EventEnvelope<JsonNode>> got = new LinkedBlockingQueue<>();
    Subscriber s =
        broker.track(bus.subscribe(SubscriberOptions.builder("rec.#").build(), got::add));
    EventEnvelope<Map<String, Integer>> before =
        bus.publisher().publish("rec.before", Map.of("n", 0)).get(10, TimeUnit.SECONDS);
    EventEnvelope<JsonNode> first = got.poll(10, TimeUnit.SECONDS);
    assertThat(first).as("event before the close").isNotNull();
    assertThat(first.eventId()).isEqualTo(before.eventId());
    assertThat(s.health().isHealthy()).isTrue();

    broker.closeAllConnections();

    // Publish until one arrives: the bus recovers both connections by itself.
    EventEnvelope<JsonNode> after = null;
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (int i = 1; after == null && System.nanoTime() < deadline; i++) {
      try {
        bus.publisher().publish("rec.after", Map.of("n", i)).get(3, TimeUnit.SECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // still recovering
      }
      EventEnvelope<JsonNode> e = got.poll(300, TimeUnit.MILLISECONDS);
      if (e != null && e.eventType().equals("rec.after")) {
        after = e;
      }
    }
    assertThat(after).as("an event published after the close arrived within 20 s").isNotNull();
    Await.until(() -> s.health().isHealthy());
    assertThat(bus.isConnected()).isTrue();
    assertThat(s.health().lastError())
        .as("the forced close is the subscriber's last error")
        .isNotNull();

    // Steady state again: every event published now arrives, exactly once.
    got.clear();
    Thread.sleep(300); // stragglers of the loop above
    got.clear();
    Set<UUID> sent = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      EventEnvelope<Map<String, Integer>> e =
          EventEnvelope.builder("rec.steady", Map.of("n", i)).build();
      sent.add(bus.publisher().publishAndWait(e).eventId());
    }
    Set<UUID> received = new HashSet<>();
    for (int i = 0; i < 5; i++) {
      EventEnvelope<JsonNode> e = got.poll(10, TimeUnit.SECONDS);
      assertThat(e).as("steady event %d", i).isNotNull();
      received.add(e.eventId());
    }
    assertThat(received).isEqualTo(sent);
    try (Connection c = broker.newConnection("observe");
        Channel ch = c.createChannel()) {
      AMQP.Queue.DeclareOk q = ch.queueDeclarePassive(s.queueName());
      assertThat(q.getConsumerCount()).as("consumers on the recovered queue").isEqualTo(1);
      assertThat(q.getMessageCount()).isZero();
    }
  }

  @Test
  @BrokerExtension.PrivateNode("closes every connection of the broker")
  void noPublishFutureStaysPendingAcrossAConnectionClose(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("load.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(Duration.ofSeconds(2))
                .maxAttempts(3)
                .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build());
    int total = 5000;
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures =
        new CopyOnWriteArrayList<>();
    Set<String> published = ConcurrentHashMap.newKeySet();
    AtomicReference<Throwable> closeFailure = new AtomicReference<>();
    AtomicInteger publishedWhenDown = new AtomicInteger(-1);
    CountDownLatch closeIssued = new CountDownLatch(1);
    Thread closer =
        new Thread(
            () -> {
              try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
                while (futures.size() < 1500 && System.nanoTime() < until) {
                  Thread.sleep(1);
                }
                broker.closeAllConnections();
                closeIssued.countDown();
                while (bus.isConnected() && System.nanoTime() < until) {
                  Thread.sleep(1);
                }
                publishedWhenDown.set(futures.size());
              } catch (Throwable t) {
                closeFailure.set(t);
              }
            },
            "closer");
    closer.start();
    long loopDeadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (int i = 0; i < total && System.nanoTime() < loopDeadline; i++) {
      EventEnvelope<Map<String, Integer>> e =
          EventEnvelope.builder("load.item", Map.of("i", i)).build();
      published.add(e.eventId().toString());
      futures.add(p.publish(e));
      if (i % 2 == 0) {
        Thread.sleep(1); // about 3 s of publishing, so the close lands in the middle
      }
      if (i == 2500) {
        // rabbitmqctl can take seconds to start on a loaded machine: hold here until the close
        // was issued, so it always lands in the middle of the publishes.
        closeIssued.await(20, TimeUnit.SECONDS);
      }
    }
    closer.join(30_000);
    assertThat(closeFailure.get()).isNull();
    assertThat(futures).as("publishes started before the loop's 20 s guard").hasSize(total);
    assertThat(publishedWhenDown.get())
        .as("publishes started when the connection was seen down")
        .isBetween(1500, total - 500);

    // Every future completes: with the event, or with a PublishException. Nothing hangs.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    for (CompletableFuture<?> f : futures) {
      try {
        f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      } catch (ExecutionException | TimeoutException e) {
        // classified below
      }
    }
    long pending = futures.stream().filter(f -> !f.isDone()).count();
    assertThat(pending).as("publish futures still pending 20 s after the last publish").isZero();

    Set<String> confirmed = new HashSet<>();
    Map<PublishException.Kind, Integer> failures = new EnumMap<>(PublishException.Kind.class);
    for (CompletableFuture<EventEnvelope<Map<String, Integer>>> f : futures) {
      Throwable t = catchThrowable(f::join);
      if (t == null) {
        confirmed.add(f.join().eventId().toString());
      } else {
        assertThat(t.getCause()).isInstanceOf(PublishException.class);
        failures.merge(((PublishException) t.getCause()).kind(), 1, Integer::sum);
      }
    }
    assertThat(failures).doesNotContainKey(PublishException.Kind.CLOSED);
    assertThat(confirmed).as("confirmed (failed: %s)", failures).isNotEmpty();

    // The publisher works again once the connection is back.
    EventEnvelope<Map<String, Integer>> last = null;
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (last == null && System.nanoTime() < until) {
      EventEnvelope<Map<String, Integer>> e =
          EventEnvelope.builder("load.last", Map.of("i", -1)).build();
      published.add(e.eventId().toString());
      try {
        last = p.publish(e).get(10, TimeUnit.SECONDS);
      } catch (ExecutionException ex) {
        assertThat(ex.getCause()).isInstanceOf(PublishException.class);
        Thread.sleep(200);
      }
    }
    assertThat(last).as("a publish confirmed within 20 s of the close").isNotNull();
    confirmed.add(last.eventId().toString());

    // Nothing confirmed is lost; duplicates carry an id that was published.
    List<String> received = drainAll(broker, q);
    assertThat(published).containsAll(received);
    assertThat(new HashSet<>(received)).containsAll(confirmed);
  }

  @Test
  void publishesWhileTheConnectionRecoversAreHeldAndGoOutWhenItIsBack(BrokerExtension.Broker broker)
      throws Exception {
    String q = broker.rawQueue("outage.#");
    try (TcpProxy proxy = TcpProxy.started(brokerPort(broker))) {
      Bloodbank bus = throughProxy(broker, proxy);
      // One attempt each: a send that failed while the connection is down would be gone.
      Publisher p =
          bus.publisher(
              PublisherOptions.builder()
                  .maxAttempts(1)
                  .confirmTimeout(Duration.ofSeconds(20))
                  .build());
      List<String> ids = new ArrayList<>();
      ids.add(
          p.publish("outage.before", Map.of("i", -1))
              .get(10, TimeUnit.SECONDS)
              .eventId()
              .toString());

      proxy.stop(); // the broker "goes away": connections cut, new ones refused
      awaitDisconnected(bus);
      List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> during = new ArrayList<>();
      long slowest = 0;
      for (int i = 0; i < 200; i++) {
        long t0 = System.nanoTime();
        during.add(p.publish("outage.during", Map.of("i", i)));
        slowest = Math.max(slowest, System.nanoTime() - t0);
      }
      assertThat(Duration.ofNanos(slowest))
          .as("a publish call never waits for the broker")
          .isLessThan(Duration.ofSeconds(1));
      Thread.sleep(1_500); // several recovery attempts fail meanwhile
      assertThat(during.stream().filter(CompletableFuture::isDone).count())
          .as("publishes completed while the connection was down")
          .isZero();

      proxy.start(); // back: the connection recovers and the held sends go out
      for (CompletableFuture<EventEnvelope<Map<String, Integer>>> f : during) {
        ids.add(f.get(20, TimeUnit.SECONDS).eventId().toString());
      }
      List<String> received = new ArrayList<>();
      for (GetResponse r : broker.drain(q, ids.size(), Duration.ofSeconds(10))) {
        received.add(r.getProps().getMessageId());
      }
      assertThat(received).as("every event once").containsExactlyInAnyOrderElementsOf(ids);
    }
  }

  @Test
  void publishesHeldThroughTheirConfirmTimeoutFailAsConnectionLost(BrokerExtension.Broker broker)
      throws Exception {
    try (TcpProxy proxy = TcpProxy.started(brokerPort(broker))) {
      Bloodbank bus = throughProxy(broker, proxy);
      Publisher p =
          bus.publisher(
              PublisherOptions.builder()
                  .maxAttempts(2)
                  .confirmTimeout(Duration.ofSeconds(1))
                  .backoff(Duration.ofMillis(50), Duration.ofMillis(50))
                  .build());
      proxy.stop();
      awaitDisconnected(bus);
      long start = System.nanoTime();
      CompletableFuture<?> f = p.publish("outage.long", Map.of());
      Throwable t = catchThrowable(() -> f.get(10, TimeUnit.SECONDS));
      Duration took = Duration.ofNanos(System.nanoTime() - start);
      assertThat(t).isInstanceOf(ExecutionException.class);
      PublishException pe = (PublishException) t.getCause();
      assertThat(pe.kind()).isEqualTo(PublishException.Kind.CONNECTION_LOST);
      assertThat(pe.attempts()).isEqualTo(2);
      assertThat(pe.getMessage())
          .contains("outage.long")
          .contains("down when the attempt's confirm timeout passed");
      assertThat(took)
          .as("two attempts of 1 s")
          .isBetween(Duration.ofMillis(1_900), Duration.ofSeconds(5));

      proxy.start();
      assertThat(p.publish("outage.after", Map.of()).get(20, TimeUnit.SECONDS)).isNotNull();
    }
  }

  /** A bus that reaches the broker through the proxy and retries its connection every 200 ms. */
  private static Bloodbank throughProxy(BrokerExtension.Broker broker, TcpProxy proxy) {
    return broker.connect(
        b -> b.address("127.0.0.1", proxy.port()).recoveryInterval(Duration.ofMillis(200)));
  }

  private static int brokerPort(BrokerExtension.Broker broker) {
    return broker.options().build().addresses().get(0).port();
  }

  private static void awaitDisconnected(Bloodbank bus) throws InterruptedException {
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (bus.isConnected() && System.nanoTime() < until) {
      Thread.sleep(10);
    }
    assertThat(bus.isConnected()).as("connected 10 s after the proxy stopped").isFalse();
  }

  @Test
  void publisherReopensAChannelClosedByAChannelError(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("x.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .channels(1)
                .maxAttempts(3)
                .backoff(Duration.ofMillis(20), Duration.ofMillis(100))
                .confirmTimeout(Duration.ofSeconds(5))
                .build());
    EventEnvelope<Map<String, Object>> first =
        p.publish("x.first", Map.<String, Object>of()).get(10, TimeUnit.SECONDS);

    // Publishing to a missing exchange makes the broker close the channel (404), not the
    // connection. Each attempt reopens the channel and is closed again.
    broker.raw().exchangeDelete(broker.exchange());
    Throwable t = catchThrowable(() -> p.publish("x.lost", Map.of()).get(10, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause()).isInstanceOf(PublishException.class);
    PublishException pe = (PublishException) t.getCause();
    assertThat(pe.kind()).isEqualTo(PublishException.Kind.CONNECTION_LOST);
    assertThat(pe.attempts()).isEqualTo(3);
    assertThat(pe.getMessage()).contains(broker.exchange()).contains("x.lost").contains("404");
    assertThat(bus.isConnected()).as("a channel error leaves the connection up").isTrue();

    broker.raw().exchangeDeclare(broker.exchange(), "topic", true);
    broker.raw().queueBind(q, broker.exchange(), "x.#");
    EventEnvelope<Map<String, Object>> again =
        p.publish("x.again", Map.<String, Object>of()).get(10, TimeUnit.SECONDS);
    assertThat(broker.drain(q, 3, Duration.ofSeconds(1)))
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(first.eventId().toString(), again.eventId().toString());
  }

  @Test
  void wrongPasswordIsAClearAuthenticationError(BrokerExtension.Broker broker) {
    String user = "nobody-" + UUID.randomUUID().toString().substring(0, 8);
    String password = "wrong-" + UUID.randomUUID();
    Throwable t =
        catchThrowable(
            () -> Bloodbank.connect(broker.options().credentials(user, password).build()));
    assertThat(t).isInstanceOf(ConnectionException.class);
    assertThat(t.getMessage())
        .contains("authentication")
        .contains("'" + user + "'")
        .contains("5672")
        .doesNotContain(password);
    for (Throwable c = t; c != null; c = c.getCause()) {
      assertThat(String.valueOf(c.getMessage())).doesNotContain(password);
    }
  }

  @Test
  void unreachableBrokerIsAClearConnectionError(BrokerExtension.Broker broker) {
    long start = System.nanoTime();
    Throwable t =
        catchThrowable(
            () ->
                Bloodbank.connect(
                    broker
                        .options()
                        .address("127.0.0.1", 1)
                        .connectionTimeout(Duration.ofSeconds(3))
                        .build()));
    assertThat(t).isInstanceOf(ConnectionException.class).hasMessageContaining("127.0.0.1:1");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
  }

  // ---- helpers ---------------------------------------------------------------------------

  /** Takes every message now in the queue and returns their message ids, duplicates included. */
  private static List<String> drainAll(BrokerExtension.Broker broker, String queue)
      throws Exception {
    List<String> ids = new CopyOnWriteArrayList<>();
    try (Connection c = broker.newConnection("drain")) {
      Channel ch = c.createChannel();
      int expected = ch.queueDeclarePassive(queue).getMessageCount();
      AtomicInteger n = new AtomicInteger();
      DeliverCallback cb =
          (tag, d) -> {
            ids.add(d.getProperties().getMessageId());
            n.incrementAndGet();
          };
      ch.basicQos(500);
      ch.basicConsume(queue, true, cb, tag -> {});
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (n.get() < expected && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(n.get()).as("messages drained from %s", queue).isEqualTo(expected);
    }
    return new ArrayList<>(ids);
  }

  /**
   * A queue that refuses publishes ({@code reject-publish} when full) makes the broker nack them; a
   * nack moves its pool channel's later sends to a fresh channel (at most every 500 ms), the nacked
   * channels are closed, and publishing goes on once the queue has room.
   */
  @Test
  void nacksFromAFullQueueReplaceChannelsWithoutLeakingThem(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.queueName("full");
    broker
        .raw()
        .queueDeclare(
            q, true, false, false, Map.of("x-max-length", 1, "x-overflow", "reject-publish"));
    broker.raw().queueBind(q, broker.exchange(), "full.#");
    Publisher p = bus.publisher(PublisherOptions.builder().maxAttempts(1).build());
    p.publish("full.first", Map.of("n", 0)).get(10, TimeUnit.SECONDS);
    Set<String> before = publishingChannels(broker);

    for (int i = 1; i <= 12; i++) {
      CompletableFuture<?> f = p.publish("full.more", Map.of("n", i));
      assertThat(catchThrowable(() -> f.get(10, TimeUnit.SECONDS)))
          .cause()
          .isInstanceOfSatisfying(
              PublishException.class,
              e -> assertThat(e.kind()).isEqualTo(PublishException.Kind.NACKED));
      Thread.sleep(100);
    }
    broker.raw().queuePurge(q);
    p.publish("full.after", Map.of("n", 13)).get(10, TimeUnit.SECONDS);
    assertThat(broker.drain(q, 2, Duration.ofSeconds(2)))
        .extracting(g -> g.getEnvelope().getRoutingKey())
        .containsExactly("full.after");
    // Replaced channels are closed once drained, on an I/O thread: as many as before, but new.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    Set<String> after;
    while ((after = publishingChannels(broker)).size() != before.size()
        && System.nanoTime() < deadline) {
      Thread.sleep(200);
    }
    assertThat(after).as("channels on the publishing connection").hasSameSizeAs(before);
    Set<String> replaced = new HashSet<>(before);
    replaced.removeAll(after);
    assertThat(replaced)
        .as("the publisher's two channels, replaced after their nacks")
        .hasSizeGreaterThanOrEqualTo(PublisherOptions.DEFAULT_CHANNELS);
  }

  /** The broker's ids of the channels on the test bus's publishing connection. */
  private static Set<String> publishingChannels(BrokerExtension.Broker broker) throws Exception {
    String connection = null;
    for (JsonNode c : broker.ctl("list_connections", "pid", "client_properties")) {
      // The connection name is among the client properties.
      if (c.path("client_properties")
          .toString()
          .contains("\"" + broker.serviceName() + "-publish\"")) {
        connection = c.get("pid").asText();
      }
    }
    if (connection == null) {
      throw new AssertionError("no publishing connection of " + broker.serviceName());
    }
    Set<String> pids = new HashSet<>();
    for (JsonNode ch : broker.ctl("list_channels", "pid", "connection")) {
      if (ch.get("connection").asText().equals(connection)) {
        pids.add(ch.get("pid").asText());
      }
    }
    return pids;
  }
}
