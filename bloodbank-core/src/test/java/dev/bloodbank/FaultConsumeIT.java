package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.IdempotentEffect;
import dev.bloodbank.fault.KilledConsumerMain;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.RedisNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Consume-path faults of the reliability suite (issue #9) on the private RabbitMQ node. */
class FaultConsumeIT {

  @Test
  @Scenario(9)
  void consumerKilledBeforeItsAckGetsTheEventRedeliveredAndTheEffectAppliesOnce() throws Exception {
    RabbitNode node = RabbitNode.shared();
    try (RedisNode redis = RedisNode.create()) {
      String id = UUID.randomUUID().toString().substring(0, 8);
      BloodbankOptions options =
          node.options(id).validation(dev.bloodbank.validation.ValidationMode.SKIP).build();
      String queue = options.serviceName() + "-killed";
      List<UUID> ids = new ArrayList<>();
      try (Bloodbank bus = Bloodbank.connect(options)) {
        // The queue exists (with the SDK's arguments) before the child consumes from it.
        bus.subscribe(SubscriberOptions.builder("killed.#").queueName(queue).build(), e -> {})
            .close();
        for (int i = 0; i < 5; i++) {
          ids.add(
              bus.publisher()
                  .publish("killed.item", Map.of("i", i))
                  .get(10, TimeUnit.SECONDS)
                  .eventId());
        }
      }

      Process child =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-XX:TieredStopAtLevel=1",
                  "-cp",
                  System.getProperty("java.class.path"),
                  KilledConsumerMain.class.getName(),
                  Integer.toString(node.port()),
                  options.exchange(),
                  options.serviceName(),
                  queue,
                  Integer.toString(redis.port()))
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      String applied;
      try {
        BufferedReader out =
            new BufferedReader(
                new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
        String line;
        applied = null;
        while ((line = out.readLine()) != null) {
          if (line.startsWith("APPLIED ")) {
            applied = line.substring(8);
            break;
          }
        }
      } finally {
        child.destroyForcibly(); // SIGKILL, before the handler returned and acked
        child.waitFor(10, TimeUnit.SECONDS);
      }
      assertThat(applied).as("the child applied an effect before it was killed").isNotNull();
      UUID first = UUID.fromString(applied);
      assertThat(IdempotentEffect.count(redis.port(), first)).isEqualTo(1);

      ProcessedCommands processed =
          ProcessedCommands.redis(
              RedisTrackerOptions.builder().uri(redis.uri()).build(), Duration.ofHours(1));
      Set<UUID> seen = ConcurrentHashMap.newKeySet();
      AtomicInteger skippedRedelivered = new AtomicInteger();
      try (Bloodbank bus = Bloodbank.connect(options)) {
        bus.subscribeWithDelivery(
            SubscriberOptions.builder("killed.#").queueName(queue).build(),
            JsonNode.class,
            (event, delivery) -> {
              boolean did = IdempotentEffect.apply(processed, redis.port(), event.eventId());
              if (!did && delivery.redelivered()) {
                skippedRedelivered.incrementAndGet();
              }
              seen.add(event.eventId());
            });
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (seen.size() < ids.size() && System.nanoTime() < deadline) {
          Thread.sleep(20);
        }
      } finally {
        processed.close();
      }
      long duplicatedEffects = 0;
      long lost = 0;
      for (UUID e : ids) {
        long n = IdempotentEffect.count(redis.port(), e);
        if (n == 0) {
          lost++;
        } else if (n > 1) {
          duplicatedEffects++;
        }
      }
      ReliabilityReport.events(9, ids.size(), lost, duplicatedEffects);
      assertThat(seen).as("every event handled after the kill").containsAll(ids);
      assertThat(skippedRedelivered.get())
          .as("the event the killed consumer applied came back redelivered and was skipped")
          .isEqualTo(1);
      assertThat(lost).isZero();
      assertThat(duplicatedEffects).as("effects applied twice").isZero();
      try (Connection c = node.rawConnection("cleanup")) {
        for (String q : List.of(queue, queue + ".dlq")) {
          try (Channel ch = c.createChannel()) {
            ch.queueDelete(q);
          } catch (Exception e) {
            // absent
          }
        }
      }
    }
  }
}
