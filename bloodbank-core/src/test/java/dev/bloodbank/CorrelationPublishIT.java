package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Publishing with parents records causation in the real Redis, and Redis faults never hurt it. */
@ExtendWith(BrokerExtension.class)
class CorrelationPublishIT {
  private RedisClient rawClient;
  private StatefulRedisConnection<String, String> raw;
  private RedisCommands<String, String> redis;
  private final List<UUID> written = new ArrayList<>();

  @BeforeEach
  void redis() {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    rawClient = RedisClient.create("redis://127.0.0.1:6379/0");
    raw = rawClient.connect();
    redis = raw.sync();
  }

  @AfterEach
  void cleanUp() {
    for (UUID id : written) {
      redis.del("bloodbank:correlation:forward:" + id, "bloodbank:correlation:reverse:" + id);
    }
    raw.close();
    rawClient.shutdown();
  }

  private Bloodbank connect(BrokerExtension.Broker broker) {
    return broker.connect(
        o ->
            o.correlation(
                RedisTrackerOptions.builder()
                    .ttl(Duration.ofHours(1))
                    .commandTimeout(Duration.ofMillis(300))
                    .build()));
  }

  @Test
  void publishingWithParentsFillsCorrelationIdsAndRecordsTheEdges(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = connect(broker);
    Publisher p = bus.publisher();
    EventEnvelope<Map<String, String>> upload =
        p.publish("test.upload", Map.of("k", "v")).get(5, TimeUnit.SECONDS);
    EventEnvelope<Map<String, String>> ready =
        p.publish("test.ready", Map.of("k", "v"), List.of(upload.eventId()))
            .get(5, TimeUnit.SECONDS);
    EventEnvelope<Map<String, String>> rag =
        p.publish("test.rag", Map.of("k", "v"), List.of(ready.eventId())).get(5, TimeUnit.SECONDS);
    written.addAll(List.of(upload.eventId(), ready.eventId(), rag.eventId()));
    assertThat(ready.correlationIds()).containsExactly(upload.eventId());

    CorrelationTracker tracker = bus.correlationTracker().orElseThrow();
    Await.until(
        () -> tracker.ancestors(rag.eventId(), 5).get(5, TimeUnit.SECONDS).nodes().size() == 2);
    assertThat(tracker.ancestors(rag.eventId(), 5).get().nodes())
        .containsExactly(ready.eventId(), upload.eventId());
    assertThat(redis.hget("bloodbank:correlation:forward:" + ready.eventId(), "metadata"))
        .contains("\"event_type\":\"test.ready\"");
  }

  @Test
  void redisKilledOrPausedNeverBlocksOrFailsAPublish(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = connect(broker);
    Publisher p = bus.publisher();
    CorrelationRecorder recorder = bus.correlationRecorder().orElseThrow();
    EventEnvelope<String> root = p.publish("test.root", "r").get(5, TimeUnit.SECONDS);
    written.add(root.eventId());

    List<CompletableFuture<EventEnvelope<String>>> futures = new ArrayList<>();
    for (int i = 0; i < 300; i++) {
      if (i == 100) {
        // kill the tracker's connections; Lettuce reconnects by itself
        for (String line : redis.clientList().split("\n")) {
          if (line.contains("name=bloodbank-correlation")) {
            String id = line.replaceAll(".*\\bid=(\\d+).*", "$1").trim();
            redis.clientKill(io.lettuce.core.KillArgs.Builder.id(Long.parseLong(id)));
          }
        }
      }
      if (i == 200) {
        redis.clientPause(1500);
      }
      futures.add(p.publish("test.child", "c" + i, List.of(root.eventId())));
      Thread.sleep(5);
    }
    CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
    for (CompletableFuture<EventEnvelope<String>> f : futures) {
      written.add(f.join().eventId());
    }
    assertThat(futures).allSatisfy(f -> assertThat(f).isCompletedWithValueMatching(e -> e != null));

    // After the pause ends, recording resumes by itself.
    Thread.sleep(1600);
    EventEnvelope<String> later =
        p.publish("test.child", "later", List.of(root.eventId())).get(5, TimeUnit.SECONDS);
    written.add(later.eventId());
    Await.until(() -> redis.exists("bloodbank:correlation:forward:" + later.eventId()) == 1);
    // The link is in Redis a moment before its answer reaches the recorder.
    Await.until(() -> !recorder.inOutage());
    assertThat(recorder.recorded() + recorder.lost()).isGreaterThanOrEqualTo(300);
    assertThat(recorder.lost()).isPositive();
  }

  @Test
  void redisShutdownAndRestartDuringPublishing(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = connect(broker);
    Publisher p = bus.publisher();
    EventEnvelope<String> root = p.publish("test.root", "r").get(5, TimeUnit.SECONDS);
    written.add(root.eventId());
    List<CompletableFuture<EventEnvelope<String>>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < 200; i++) {
        if (i == 50) {
          run("redis-cli", "-h", "127.0.0.1", "-p", "6379", "shutdown", "nosave");
        }
        if (i == 150) {
          startRedis();
        }
        futures.add(p.publish("test.child", "c" + i, List.of(root.eventId())));
        Thread.sleep(10);
      }
    } finally {
      startRedis();
    }
    CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
    for (CompletableFuture<EventEnvelope<String>> f : futures) {
      written.add(f.join().eventId());
    }
    // Lettuce reconnects on its own; new links are recorded again.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    boolean recorded = false;
    while (!recorded && System.nanoTime() < deadline) {
      EventEnvelope<String> later =
          p.publish("test.child", "later", List.of(root.eventId())).get(5, TimeUnit.SECONDS);
      written.add(later.eventId());
      Thread.sleep(300);
      try {
        recorded = redis.exists("bloodbank:correlation:forward:" + later.eventId()) == 1;
      } catch (RuntimeException e) {
        // the test's own connection is reconnecting too
      }
    }
    assertThat(recorded).as("a link recorded after Redis came back").isTrue();
    assertThat(bus.correlationRecorder().orElseThrow().lost()).isPositive();
  }

  private static void startRedis() throws Exception {
    if (pingRedis()) {
      return;
    }
    run(
        "redis-server",
        "--daemonize",
        "yes",
        "--bind",
        "127.0.0.1",
        "--port",
        "6379",
        "--save",
        "",
        "--appendonly",
        "no");
    for (int i = 0; i < 50 && !pingRedis(); i++) {
      Thread.sleep(100);
    }
  }

  private static boolean pingRedis() {
    try (java.net.Socket s = new java.net.Socket()) {
      s.connect(new java.net.InetSocketAddress("127.0.0.1", 6379), 200);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }

  private static void run(String... command) throws Exception {
    Process proc = new ProcessBuilder(command).redirectErrorStream(true).start();
    proc.getInputStream().readAllBytes();
    proc.waitFor(30, TimeUnit.SECONDS);
  }
}
