package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Partitioned subscribers (issue #23) on the shared broker, whose consistent-hash exchange plugin
 * is off unless its owner turned it on: then subscribing fails before it declares anything, naming
 * the plugin; with the plugin, each key's events arrive in order. The cluster scenarios test the
 * partitions across instances on private nodes that have the plugin.
 */
@ExtendWith(BrokerExtension.class)
class PartitionedSubscriberIT {

  @Test
  @BrokerExtension.RealBrokerOnly("the embedded broker has no consistent-hash exchange")
  void partitionsNeedThePluginOrKeepEachKeysOrder(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    SubscriberOptions options = SubscriberOptions.builder("part.#").partitions(3).build();
    String queue = options.queueNameFor(bus.options().serviceName(), bus.options().exchange());
    for (int i = 0; i < 3; i++) {
      broker.track(queue + ".p" + i);
    }
    broker.track(queue);
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    boolean plugin = hasConsistentHashExchange(broker, queue + ".probe");
    try {
      if (!plugin) {
        assertThatThrownBy(() -> bus.subscribe(options, JsonNode.class, e -> {}))
            .isInstanceOf(BloodbankException.class)
            .hasMessageContaining("'" + queue + "'")
            .hasMessageContaining("rabbitmq-plugins enable rabbitmq_consistent_hash_exchange");
        assertThat(broker.listQueues().keySet()).noneMatch(q -> q.startsWith(queue));
        return;
      }
      bus.subscribe(
          options,
          JsonNode.class,
          e -> {
            List<Integer> l =
                seen.computeIfAbsent(e.payload().get("key").asText(), k -> new ArrayList<>());
            synchronized (l) {
              l.add(e.payload().get("seq").asInt());
            }
          });
      Publisher p =
          bus.publisher(
              PublisherOptions.builder()
                  .channels(1)
                  .partitionKey(e -> ((Map<?, ?>) e.payload()).get("key").toString())
                  .build());
      for (int seq = 0; seq < 20; seq++) {
        for (String key : List.of("a", "b", "c", "d")) {
          p.publishAndWait(
              EventEnvelope.builder("part.step", Map.of("key", key, "seq", seq)).build());
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (seen.values().stream().mapToInt(List::size).sum() < 80
          && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      for (List<Integer> l : seen.values()) {
        assertThat(l).isSorted().hasSize(20);
      }
    } finally {
      broker.raw().exchangeDelete(queue + ".partitions");
    }
  }

  /** Declares (and deletes) an auto-deleted exchange of the plugin's type. */
  private static boolean hasConsistentHashExchange(BrokerExtension.Broker broker, String name)
      throws Exception {
    try (com.rabbitmq.client.Connection c = broker.newConnection("probe")) {
      com.rabbitmq.client.Channel ch = c.createChannel();
      ch.exchangeDeclare(name, "x-consistent-hash", false, true, null);
      ch.exchangeDelete(name);
      return true;
    } catch (java.io.IOException e) {
      return false;
    }
  }
}
