package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.RedisNode;
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

/**
 * Publishing with parents records causation in the real Redis, and Redis faults (on a private
 * {@code redis-server}) never hurt it.
 */
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

  /** A bus tracking causation in a private Redis (faults there disturb nobody). */
  private Bloodbank connect(BrokerExtension.Broker broker, RedisNode node) {
    return broker.connect(
        o ->
            o.correlation(
                RedisTrackerOptions.builder()
                    .uri(node.uri() + "/0")
                    .ttl(Duration.ofHours(1))
                    .commandTimeout(Duration.ofMillis(300))
                    .build()));
  }

  @Test
  void redisKilledOrPausedNeverBlocksOrFailsAPublish(BrokerExtension.Broker broker)
      throws Exception {
    try (RedisNode node = RedisNode.create()) {
      Bloodbank bus = connect(broker, node);
      Publisher p = bus.publisher();
      CorrelationRecorder recorder = bus.correlationRecorder().orElseThrow();
      EventEnvelope<String> root = p.publish("test.root", "r").get(5, TimeUnit.SECONDS);

      List<CompletableFuture<EventEnvelope<String>>> futures = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        if (i == 100) {
          node.killClients(); // Lettuce reconnects by itself
        }
        if (i == 200) {
          node.pause(Duration.ofMillis(1500));
        }
        futures.add(p.publish("test.child", "c" + i, List.of(root.eventId())));
        Thread.sleep(5);
      }
      CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
      assertThat(futures)
          .allSatisfy(f -> assertThat(f).isCompletedWithValueMatching(e -> e != null));

      // After the pause ends, recording resumes by itself.
      Thread.sleep(1600);
      EventEnvelope<String> later =
          p.publish("test.child", "later", List.of(root.eventId())).get(5, TimeUnit.SECONDS);
      Await.until(
          () ->
              node.command("EXISTS", "bloodbank:correlation:forward:" + later.eventId())
                  .equals(":1"));
      // The link is in Redis a moment before its answer reaches the recorder.
      Await.until(() -> !recorder.inOutage());
      assertThat(recorder.recorded() + recorder.lost()).isGreaterThanOrEqualTo(300);
      assertThat(recorder.lost()).isPositive();
      bus.close();
    }
  }

  @Test
  void redisShutdownAndRestartDuringPublishing(BrokerExtension.Broker broker) throws Exception {
    try (RedisNode node = RedisNode.create()) {
      Bloodbank bus = connect(broker, node);
      Publisher p = bus.publisher();
      EventEnvelope<String> root = p.publish("test.root", "r").get(5, TimeUnit.SECONDS);
      List<CompletableFuture<EventEnvelope<String>>> futures = new ArrayList<>();
      for (int i = 0; i < 200; i++) {
        if (i == 50) {
          node.shutdown();
        }
        if (i == 150) {
          node.start();
        }
        futures.add(p.publish("test.child", "c" + i, List.of(root.eventId())));
        Thread.sleep(10);
      }
      CompletableFuture.allOf(futures.toArray(new CompletableFuture[0])).get(20, TimeUnit.SECONDS);
      // Lettuce reconnects on its own; new links are recorded again.
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      boolean recorded = false;
      while (!recorded && System.nanoTime() < deadline) {
        EventEnvelope<String> later =
            p.publish("test.child", "later", List.of(root.eventId())).get(5, TimeUnit.SECONDS);
        Thread.sleep(300);
        recorded =
            node.command("EXISTS", "bloodbank:correlation:forward:" + later.eventId()).equals(":1");
      }
      assertThat(recorded).as("a link recorded after Redis came back").isTrue();
      assertThat(bus.correlationRecorder().orElseThrow().lost()).isPositive();
      bus.close();
    }
  }
}
