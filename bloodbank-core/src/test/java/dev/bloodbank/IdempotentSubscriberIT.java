package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.validation.ValidationMode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Two consumers of a shared queue with {@link SubscriberOptions.Builder#idempotent}: every event
 * published twice, the copies handled at the same time by both, runs its handler once (issue #17).
 */
@ExtendWith(BrokerExtension.class)
class IdempotentSubscriberIT {
  @ParameterizedTest
  @ValueSource(strings = {"memory", "redis"})
  void copiesHandledAtOnceByTwoConsumersRunTheHandlerOnce(
      String storeKind, BrokerExtension.Broker broker) throws Exception {
    if (storeKind.equals("redis")) {
      BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    }
    String queue = broker.queueName("idem");
    broker.track(queue + ".dlq");
    broker.track(queue + ".retry.50");
    Map<UUID, AtomicInteger> runs = new ConcurrentHashMap<>();
    AtomicInteger inHandler = new AtomicInteger();
    AtomicInteger overlapping = new AtomicInteger();
    try (ProcessedEvents store =
            storeKind.equals("redis")
                ? ProcessedEvents.redis(
                    RedisTrackerOptions.builder().build(), Duration.ofMinutes(5))
                : ProcessedEvents.inMemory(10_000, Duration.ofHours(1));
        Bloodbank a = broker.connect(o -> o.validation(ValidationMode.SKIP));
        Bloodbank b = broker.connect(o -> o.validation(ValidationMode.SKIP))) {
      SubscriberOptions options =
          SubscriberOptions.builder("idem.#")
              .queueName(queue)
              .idempotent(store)
              .retryDelays(List.of(Duration.ofMillis(50)))
              .concurrency(4)
              .prefetch(4)
              .build();
      EventHandler<JsonNode> handler =
          e -> {
            if (inHandler.incrementAndGet() > 1) {
              overlapping.incrementAndGet();
            }
            try {
              Thread.sleep(5);
              runs.computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet();
            } finally {
              inHandler.decrementAndGet();
            }
          };
      a.subscribe(options, handler);
      b.subscribe(options, handler);
      Publisher p = a.publisher();
      for (int i = 0; i < 100; i++) {
        EventEnvelope<Map<String, Object>> e =
            EventEnvelope.builder("idem.event", Map.<String, Object>of("n", i)).build();
        // The same event twice in a row: the copies reach both consumers at about the same time.
        p.publish(e);
        p.publish(e).get(5, TimeUnit.SECONDS);
      }
      Await.until(() -> runs.size() == 100, Duration.ofSeconds(30), "100 events handled");
      Await.until(() -> broker.messageCount(queue) == 0, Duration.ofSeconds(30), "queue drained");
      Thread.sleep(500);
    }
    if (storeKind.equals("redis")) {
      try (RedisClient client = RedisClient.create("redis://127.0.0.1:6379");
          StatefulRedisConnection<String, String> r = client.connect()) {
        for (UUID id : runs.keySet()) {
          assertThat(r.sync().get("processed:" + id)).isEqualTo("1");
          r.sync().del("processed:" + id, "processed:" + id + ":claim");
        }
      }
    }
    assertThat(runs).hasSize(100);
    assertThat(runs.values()).allSatisfy(n -> assertThat(n.get()).isEqualTo(1));
    assertThat(overlapping.get())
        .as("handlers ran side by side, so copies could meet")
        .isPositive();
  }
}
