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
    assertThat(recorder.recorded() + recorder.lost()).isGreaterThanOrEqualTo(300);
    assertThat(recorder.lost()).isPositive();
    assertThat(recorder.inOutage()).isFalse();
  }
}
