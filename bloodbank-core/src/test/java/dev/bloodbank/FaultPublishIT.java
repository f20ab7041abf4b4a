package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import dev.bloodbank.fault.Tally;
import dev.bloodbank.fault.TcpProxy;
import dev.bloodbank.wal.WalException;
import dev.bloodbank.wal.WalOptions;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Publish-path faults of the reliability suite (issue #9) on a private RabbitMQ node ({@link
 * RabbitNode}), never the shared one: every connection closed, the application stopped, a broker
 * that is not there yet, a blackholed route, a disk alarm. Each test classifies every event as
 * confirmed, lost or duplicated: no confirmed event may be lost.
 */
class FaultPublishIT {
  private static RabbitNode node;

  @TempDir Path dir;
  private final List<AutoCloseable> cleanup = new ArrayList<>();
  private final List<String[]> declared = new ArrayList<>();

  @BeforeAll
  static void node() {
    node = RabbitNode.shared();
  }

  @AfterEach
  void cleanUp() throws Exception {
    for (int i = cleanup.size() - 1; i >= 0; i--) {
      try {
        cleanup.get(i).close();
      } catch (Exception e) {
        // best effort
      }
    }
    try (Connection c = node.rawConnection("cleanup")) {
      for (String[] d : declared) {
        try (Channel ch = c.createChannel()) {
          ch.queueDelete(d[0]);
        } catch (Exception e) {
          // absent
        }
        try (Channel ch = c.createChannel()) {
          ch.exchangeDelete(d[1]);
        } catch (Exception e) {
          // absent
        }
      }
    }
  }

  // ---- 1 ---------------------------------------------------------------------------------

  @Test
  @Scenario(1)
  void closeAllConnectionsDuringTwentyThousandConfirmedPublishesLosesNothing() throws Exception {
    String id = id();
    Bloodbank bus = connect(node.options(id));
    String q = queue(bus, "load.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(Duration.ofSeconds(5))
                .maxAttempts(5)
                .backoff(Duration.ofMillis(50), Duration.ofSeconds(1))
                .build());
    int total = 20_000;
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures =
        new CopyOnWriteArrayList<>();
    AtomicInteger published = new AtomicInteger();
    AtomicInteger publishedWhenDown = new AtomicInteger(-1);
    AtomicReference<Throwable> closeFailure = new AtomicReference<>();
    Thread closer =
        new Thread(
            () -> {
              try {
                while (published.get() < 1000) {
                  Thread.sleep(1);
                }
                node.closeAllConnections();
              } catch (Throwable t) {
                closeFailure.set(t);
              }
            });
    Thread watcher =
        new Thread(
            () -> {
              while (published.get() < total && bus.isConnected()) {
                LockSupportSleep.millis(1);
              }
              publishedWhenDown.set(published.get());
            });
    closer.start();
    watcher.start();
    for (int i = 0; i < total; i++) {
      futures.add(p.publish(EventEnvelope.builder("load.item", Map.of("i", i)).build()));
      published.incrementAndGet();
      if (i % 4 == 0) {
        Thread.sleep(1); // a few seconds of publishing, so that the close lands in the middle
      }
    }
    closer.join(60_000);
    watcher.join(60_000);
    assertThat(closeFailure.get()).isNull();

    Set<String> confirmed = new HashSet<>();
    Map<PublishException.Kind, Integer> failed =
        awaitAll(futures, confirmed, Duration.ofSeconds(60));
    Tally tally = Tally.drain(node.port(), q, confirmed, Duration.ofSeconds(60));
    Tally.Counts c = tally.count(confirmed);
    ReliabilityReport.events(1, total, c.lost(), c.duplicated());
    System.out.printf(
        "scenario 1: %d published, %d confirmed, failed %s, connection seen down after %d,"
            + " %d received (%d duplicated)%n",
        total, confirmed.size(), failed, publishedWhenDown.get(), c.received(), c.duplicated());
    assertThat(publishedWhenDown.get())
        .as("the connection went down in the middle of the publishing")
        .isBetween(1, total - 1);
    assertThat(c.lost()).as("confirmed events lost").isZero();
    assertThat(confirmed).as("most events confirmed").hasSizeGreaterThan(total / 2);
  }

  // ---- 2 ---------------------------------------------------------------------------------

  @Test
  @Scenario(2)
  void stopAppForTenSecondsMidPublishWithDurablePublishLosesNothing() throws Exception {
    String id = id();
    Bloodbank bus = connect(node.options(id));
    String q = queue(bus, "dur.#");
    Duration confirmTimeout = Duration.ofSeconds(2);
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .durable(WalOptions.of(dir.resolve("s2.wal")))
                .confirmTimeout(confirmTimeout)
                .maxAttempts(2)
                .backoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .build());
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures =
        new CopyOnWriteArrayList<>();
    Set<String> ids = ConcurrentHashMap.newKeySet();
    AtomicLong slowestCall = new AtomicLong();
    AtomicReference<Throwable> publishFailure = new AtomicReference<>();
    Thread publisher =
        new Thread(
            () -> {
              try {
                long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(22);
                for (int i = 0; System.nanoTime() < until; i++) {
                  EventEnvelope<Map<String, Integer>> e =
                      EventEnvelope.builder("dur.item", Map.of("i", i)).build();
                  ids.add(e.eventId().toString());
                  long t0 = System.nanoTime();
                  futures.add(p.publish(e));
                  slowestCall.accumulateAndGet(System.nanoTime() - t0, Math::max);
                  Thread.sleep(5);
                }
              } catch (Throwable t) {
                publishFailure.set(t);
              }
            });
    publisher.start();
    Thread.sleep(2000);
    node.stopApp();
    long stoppedAt = System.nanoTime();
    Thread.sleep(10_000);
    node.startApp();
    System.out.printf(
        "scenario 2: broker stopped for %.1f s%n", (System.nanoTime() - stoppedAt) / 1e9);
    publisher.join(60_000);
    assertThat(publishFailure.get()).isNull();

    Set<String> confirmed = new HashSet<>();
    Map<PublishException.Kind, Integer> failed =
        awaitAll(futures, confirmed, confirmTimeout.multipliedBy(3).plusSeconds(5));
    WalPublisher wp = (WalPublisher) p;
    awaitUntil(Duration.ofSeconds(60), () -> wp.pendingCount() == 0);
    Tally tally = Tally.drain(node.port(), q, ids, Duration.ofSeconds(60));
    // Durable publishing accepts every event it logged, confirmed by now or not.
    Tally.Counts c = tally.count(ids);
    ReliabilityReport.events(2, ids.size(), c.lost(), c.duplicated());
    System.out.printf(
        "scenario 2: %d published, %d confirmed at first, failed %s, slowest publish call %d ms,"
            + " %d received (%d duplicated)%n",
        ids.size(),
        confirmed.size(),
        failed,
        TimeUnit.NANOSECONDS.toMillis(slowestCall.get()),
        c.received(),
        c.duplicated());
    assertThat(failed).as("some publishes failed while the broker was stopped").isNotEmpty();
    assertThat(c.lost()).as("logged events lost").isZero();
    assertThat(Duration.ofNanos(slowestCall.get()))
        .as("no caller blocked past its timeout")
        .isLessThan(confirmTimeout.plusSeconds(1));
  }

  // ---- 3 ---------------------------------------------------------------------------------

  @Test
  @Scenario(3)
  void durablePublisherStartedWhileTheBrokerIsDownBuffersAndDrains() throws Exception {
    String id = id();
    TcpProxy proxy = new TcpProxy(node.port()); // not listening: connection refused
    cleanup.add(proxy);
    Bloodbank bus =
        connect(
            node.options(id)
                .address("127.0.0.1", proxy.port())
                .lazyConnect(true)
                .connectionTimeout(Duration.ofSeconds(2)));
    assertThat(bus.isConnected()).isFalse();
    assertThatThrownBy(bus::publisher)
        .isInstanceOf(ConnectionException.class)
        .hasMessageContaining("not connected");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .durable(WalOptions.of(dir.resolve("s3.wal")))
                .confirmTimeout(Duration.ofSeconds(1))
                .build());
    int total = 500;
    Set<String> ids = new HashSet<>();
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures = new ArrayList<>();
    for (int i = 0; i < total; i++) {
      EventEnvelope<Map<String, Integer>> e =
          EventEnvelope.builder("early.item", Map.of("i", i)).build();
      ids.add(e.eventId().toString());
      futures.add(p.publish(e));
    }
    Set<String> confirmed = new HashSet<>();
    Map<PublishException.Kind, Integer> failed =
        awaitAll(futures, confirmed, Duration.ofSeconds(10));
    assertThat(confirmed).isEmpty();
    assertThat(failed).containsOnlyKeys(PublishException.Kind.CONNECTION_LOST);
    WalPublisher wp = (WalPublisher) p;
    assertThat(wp.pendingCount()).as("events buffered in the log").isEqualTo(total);

    // The queue exists before the broker "arrives", declared straight on the node.
    String q = queueRaw(node.options(id).build().exchange(), "fault-" + id + "-q", "early.#");
    proxy.start();
    awaitUntil(Duration.ofSeconds(20), bus::isConnected);
    awaitUntil(Duration.ofSeconds(30), () -> wp.pendingCount() == 0);
    Tally tally = Tally.drain(node.port(), q, ids, Duration.ofSeconds(30));
    Tally.Counts c = tally.count(ids);
    ReliabilityReport.events(3, total, c.lost(), c.duplicated());
    assertThat(c.lost()).as("buffered events lost").isZero();
    // After the drain the publisher sends right away.
    p.publish("early.after", Map.of("i", -1)).get(10, TimeUnit.SECONDS);
  }

  // ---- 4 ---------------------------------------------------------------------------------

  @Test
  @Scenario(4)
  void blackholedBrokerIsDetectedWithinTwoHeartbeatsAndNothingIsLost() throws Exception {
    String id = id();
    TcpProxy proxy = TcpProxy.started(node.port());
    cleanup.add(proxy);
    Duration heartbeat = Duration.ofSeconds(2);
    Bloodbank bus =
        connect(
            node.options(id)
                .address("127.0.0.1", proxy.port())
                .heartbeat(heartbeat)
                .connectionTimeout(Duration.ofSeconds(2)));
    String q = queue(bus, "bh.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(Duration.ofSeconds(10))
                .maxAttempts(5)
                .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                .build());
    int total = 3000;
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures =
        new CopyOnWriteArrayList<>();
    AtomicLong detectedNanos = new AtomicLong(-1);
    AtomicInteger published = new AtomicInteger();
    Thread fault =
        new Thread(
            () -> {
              while (published.get() < 1000) {
                LockSupportSleep.millis(1);
              }
              proxy.blackhole();
              long t0 = System.nanoTime();
              while (bus.isConnected() && System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(30)) {
                LockSupportSleep.millis(5);
              }
              detectedNanos.set(System.nanoTime() - t0);
              LockSupportSleep.millis(300);
              proxy.forward();
            });
    fault.start();
    for (int i = 0; i < total; i++) {
      futures.add(p.publish(EventEnvelope.builder("bh.item", Map.of("i", i)).build()));
      published.incrementAndGet();
      Thread.sleep(2);
    }
    fault.join(60_000);
    Set<String> confirmed = new HashSet<>();
    Map<PublishException.Kind, Integer> failed =
        awaitAll(futures, confirmed, Duration.ofSeconds(60));
    Tally tally = Tally.drain(node.port(), q, confirmed, Duration.ofSeconds(30));
    Tally.Counts c = tally.count(confirmed);
    ReliabilityReport.events(4, total, c.lost(), c.duplicated());
    Duration detected = Duration.ofNanos(detectedNanos.get());
    System.out.printf(
        "scenario 4: dead peer detected after %d ms (heartbeat %d s); %d confirmed, failed %s,"
            + " %d duplicated%n",
        detected.toMillis(), heartbeat.getSeconds(), confirmed.size(), failed, c.duplicated());
    assertThat(detected).as("detected within two heartbeats").isLessThan(heartbeat.multipliedBy(2));
    assertThat(failed).as("unconfirmed events were republished after recovery").isEmpty();
    assertThat(c.lost()).isZero();
  }

  // ---- 6 ---------------------------------------------------------------------------------

  @Test
  @Scenario(6)
  void diskAlarmMakesPublishesTimeOutCleanlyShowsBlockedAndLosesNothingAfterClearing()
      throws Exception {
    String id = id();
    Bloodbank bus = connect(node.options(id));
    String q = queue(bus, "alarm.#");
    Duration confirmTimeout = Duration.ofSeconds(2);
    Publisher p =
        bus.publisher(
            PublisherOptions.builder().confirmTimeout(confirmTimeout).maxAttempts(1).build());
    Set<String> confirmed = new HashSet<>();
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> before = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      before.add(p.publish("alarm.before", Map.of("i", i)));
    }
    assertThat(awaitAll(before, confirmed, Duration.ofSeconds(10))).isEmpty();

    node.diskAlarm(true);
    try {
      List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> during = new ArrayList<>();
      long slowest = 0;
      long start = System.nanoTime();
      for (int i = 0; i < 20; i++) {
        long t0 = System.nanoTime();
        during.add(p.publish("alarm.during", Map.of("i", i)));
        slowest = Math.max(slowest, System.nanoTime() - t0);
        Thread.sleep(50);
      }
      Set<String> duringConfirmed = new HashSet<>();
      Map<PublishException.Kind, Integer> failed =
          awaitAll(during, duringConfirmed, confirmTimeout.plusSeconds(5));
      long took = System.nanoTime() - start;
      assertThat(failed)
          .as("publishes during the alarm")
          .containsOnlyKeys(PublishException.Kind.TIMED_OUT);
      assertThat(Duration.ofNanos(slowest))
          .as("a publish call never blocks")
          .isLessThan(Duration.ofSeconds(1));
      assertThat(Duration.ofNanos(took)).isLessThan(confirmTimeout.plusSeconds(5));
      awaitUntil(Duration.ofSeconds(10), () -> bus.blockedReason().isPresent());
      assertThat(bus.blockedReason().get()).containsIgnoringCase("disk");
    } finally {
      node.diskAlarm(false);
    }
    awaitUntil(Duration.ofSeconds(30), () -> bus.blockedReason().isEmpty());
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> after = new ArrayList<>();
    for (int i = 0; i < 50; i++) {
      after.add(p.publish("alarm.after", Map.of("i", i)));
    }
    assertThat(awaitAll(after, confirmed, Duration.ofSeconds(20))).isEmpty();
    Tally tally = Tally.drain(node.port(), q, confirmed, Duration.ofSeconds(20));
    Tally.Counts c = tally.count(confirmed);
    ReliabilityReport.events(6, 120, c.lost(), c.duplicated());
    assertThat(c.lost()).isZero();
  }

  // ---- helpers ---------------------------------------------------------------------------

  private static String id() {
    return UUID.randomUUID().toString().substring(0, 8);
  }

  private Bloodbank connect(BloodbankOptions.Builder options) {
    Bloodbank bus = Bloodbank.connect(options.build());
    cleanup.add(bus);
    return bus;
  }

  /** A durable queue bound to the bus's exchange, declared on the node directly. */
  private String queue(Bloodbank bus, String pattern) throws Exception {
    return queueRaw(bus.options().exchange(), bus.options().serviceName() + "-" + id(), pattern);
  }

  private String queueRaw(String exchange, String queue, String pattern) throws Exception {
    try (Connection c = node.rawConnection("setup");
        Channel ch = c.createChannel()) {
      ch.exchangeDeclare(exchange, "topic", true);
      ch.queueDeclare(queue, true, false, false, null);
      ch.queueBind(queue, exchange, pattern);
    }
    declared.add(new String[] {queue, exchange});
    return queue;
  }

  /** Waits for every future (bounded); returns failures by kind and adds confirmed ids. */
  static <T> Map<PublishException.Kind, Integer> awaitAll(
      List<CompletableFuture<EventEnvelope<T>>> futures, Set<String> confirmed, Duration max)
      throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    Map<PublishException.Kind, Integer> failed = new EnumMap<>(PublishException.Kind.class);
    int pending = 0;
    List<Integer> pendingAt = new ArrayList<>();
    for (int i = 0; i < futures.size(); i++) {
      CompletableFuture<EventEnvelope<T>> f = futures.get(i);
      try {
        EventEnvelope<T> e = f.get(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
        confirmed.add(e.eventId().toString());
      } catch (TimeoutException e) {
        pending++;
        pendingAt.add(i);
      } catch (ExecutionException e) {
        Throwable cause = e.getCause();
        if (cause instanceof PublishException pe) {
          failed.merge(pe.kind(), 1, Integer::sum);
        } else if (cause instanceof WalException) {
          throw new AssertionError("the write-ahead log failed", cause);
        } else {
          throw new AssertionError("unexpected publish failure", cause);
        }
      }
    }
    assertThat(pending)
        .as(
            "publish futures still pending after %s (at %s of %d; failed so far %s)",
            max, pendingAt.subList(0, Math.min(10, pendingAt.size())), futures.size(), failed)
        .isZero();
    return failed;
  }

  interface Check {
    boolean holds() throws Exception;
  }

  static void awaitUntil(Duration max, Check c) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    while (!c.holds()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("condition not met within " + max);
      }
      Thread.sleep(20);
    }
  }

  /** Sleeps without a checked exception, for fault threads. */
  static final class LockSupportSleep {
    static void millis(long ms) {
      java.util.concurrent.locks.LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(ms));
    }
  }
}
