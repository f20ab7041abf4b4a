package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import dev.bloodbank.fault.Tally;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Promises under a broker memory alarm (issue #15), on a private RabbitMQ node: every publish call
 * returns and every future settles within its bound while the broker blocks publishing, close()
 * returns within its shutdown timeout, and no confirmed event is lost.
 */
class BackpressureIT {
  private static RabbitNode node;
  private final List<String[]> declared = new ArrayList<>();

  @BeforeAll
  static void node() {
    node = RabbitNode.shared();
  }

  @AfterEach
  void cleanUp() throws Exception {
    node.memoryAlarm(false);
    try (Connection c = node.rawConnection("cleanup")) {
      for (String[] d : declared) {
        try (Channel ch = c.createChannel()) {
          ch.queueDelete(d[0]);
          ch.exchangeDelete(d[1]);
        } catch (Exception e) {
          // absent
        }
      }
    }
  }

  /** One publish: when it was called, how long the call took, and when its future settled. */
  private record Call(long startNanos, long callNanos, CompletableFuture<Long> settledAt) {}

  @Test
  @Scenario(24)
  void memoryAlarmUnderLoadEveryCallReturnsEveryFutureSettlesAndCloseIsBounded() throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    Duration confirmTimeout = Duration.ofSeconds(3);
    Duration backoffCap = Duration.ofMillis(500);
    Duration shutdownTimeout = Duration.ofSeconds(5);
    int attempts = 2;
    Bloodbank bus = Bloodbank.connect(node.options(id).shutdownTimeout(shutdownTimeout).build());
    String q = queue(bus.options().exchange(), "fault-" + id + "-q", "mem.#");
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .confirmTimeout(confirmTimeout)
                .maxAttempts(attempts)
                .backoff(Duration.ofMillis(100), backoffCap)
                .build());
    // The longest any call or future may take: a wait for room, every attempt, the backoff, and
    // a few seconds for a loaded machine.
    Duration bound = p.options().maxPublishTime().plusSeconds(3);
    String big = "x".repeat(64 * 1024);

    List<Call> calls = new CopyOnWriteArrayList<>();
    Map<String, Boolean> confirmed = new ConcurrentHashMap<>();
    Map<String, Integer> failures = new ConcurrentHashMap<>();
    AtomicReference<Throwable> publisherFailure = new AtomicReference<>();
    long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<Thread> threads = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      int thread = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  for (int i = 0; System.nanoTime() < end; i++) {
                    EventEnvelope<Map<String, Object>> e =
                        EventEnvelope.builder(
                                "mem.item", Map.<String, Object>of("t", thread, "i", i, "pad", big))
                            .build();
                    long t0 = System.nanoTime();
                    CompletableFuture<EventEnvelope<Map<String, Object>>> f = p.publish(e);
                    long took = System.nanoTime() - t0;
                    CompletableFuture<Long> settled = new CompletableFuture<>();
                    f.whenComplete(
                        (ok, failure) -> {
                          if (failure == null) {
                            confirmed.put(ok.eventId().toString(), true);
                          } else {
                            Throwable cause =
                                failure.getCause() != null ? failure.getCause() : failure;
                            failures.merge(
                                cause instanceof PublishException pe
                                    ? pe.kind().name()
                                    : cause.getClass().getSimpleName(),
                                1,
                                Integer::sum);
                          }
                          settled.complete(System.nanoTime());
                        });
                    calls.add(new Call(t0, took, settled));
                    Thread.sleep(5);
                  }
                } catch (Throwable x) {
                  publisherFailure.set(x);
                }
              },
              "alarm-publisher-" + t);
      threads.add(th);
      th.start();
    }
    Thread.sleep(1500);
    int beforeAlarm = confirmed.size();
    node.memoryAlarm(true);
    long alarmAt = System.nanoTime();
    for (Thread th : threads) {
      th.join(bound.plusSeconds(20).toMillis());
      assertThat(th.isAlive()).as("%s still publishing", th.getName()).isFalse();
    }
    assertThat(publisherFailure.get()).isNull();

    // Every future settles within the bound of its call.
    long slowestCall = 0;
    long slowestSettle = 0;
    for (Call c : calls) {
      slowestCall = Math.max(slowestCall, c.callNanos());
      long settled;
      try {
        settled =
            c.settledAt()
                .get(
                    Math.max(1, c.startNanos() + bound.toNanos() - System.nanoTime()),
                    TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        throw new AssertionError("a publish future did not settle within " + bound);
      }
      slowestSettle = Math.max(slowestSettle, settled - c.startNanos());
    }
    boolean blocked = bus.blockedReason().isPresent();
    System.out.printf(
        "scenario 24: %d publishes of 64 KB from 4 threads, %d confirmed (%d before the alarm),"
            + " failed %s, slowest call %d ms, slowest settle %d ms (bound %d ms), blocked now:"
            + " %s%n",
        calls.size(),
        confirmed.size(),
        beforeAlarm,
        failures,
        TimeUnit.NANOSECONDS.toMillis(slowestCall),
        TimeUnit.NANOSECONDS.toMillis(slowestSettle),
        bound.toMillis(),
        bus.blockedReason().orElse("no"));
    assertThat(Duration.ofNanos(slowestCall)).as("slowest publish call").isLessThan(bound);
    assertThat(Duration.ofNanos(slowestSettle)).as("slowest settle").isLessThan(bound);
    assertThat(blocked).as("the broker blocks publishing").isTrue();
    assertThat(beforeAlarm).as("confirmed before the alarm").isPositive();
    assertThat(System.nanoTime() - alarmAt).isPositive();

    // Close while the alarm still blocks: bounded by the shutdown timeout.
    CompletableFuture<?> late =
        p.publish(EventEnvelope.builder("mem.late", Map.of("i", -1)).build());
    long closeStart = System.nanoTime();
    bus.close();
    Duration closeTook = Duration.ofNanos(System.nanoTime() - closeStart);
    System.out.printf(
        "scenario 24: close() under the alarm took %d ms (shutdown timeout %d ms)%n",
        closeTook.toMillis(), shutdownTimeout.toMillis());
    assertThat(closeTook).isLessThan(shutdownTimeout.plusSeconds(2));
    Throwable lateFailure = null;
    try {
      late.get(5, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      lateFailure = e.getCause();
    }
    assertThat(lateFailure)
        .as("a publish held when the bus closed")
        .isInstanceOf(PublishException.class);

    node.memoryAlarm(false);
    Tally tally = Tally.drain(node.port(), q, confirmed.keySet(), Duration.ofSeconds(60));
    Tally.Counts counts = tally.count(confirmed.keySet());
    ReliabilityReport.events(24, calls.size(), counts.lost(), counts.duplicated());
    assertThat(counts.lost()).as("confirmed events lost").isZero();
    assertThat(failures).as("how publishes failed under the alarm").containsOnlyKeys("TIMED_OUT");
  }

  private String queue(String exchange, String queue, String pattern) throws Exception {
    try (Connection c = node.rawConnection("setup");
        Channel ch = c.createChannel()) {
      ch.exchangeDeclare(exchange, "topic", true);
      ch.queueDeclare(queue, true, false, false, null);
      ch.queueBind(queue, exchange, pattern);
    }
    declared.add(new String[] {queue, exchange});
    return queue;
  }
}
