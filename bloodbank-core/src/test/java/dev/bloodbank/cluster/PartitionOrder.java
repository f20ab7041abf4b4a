package dev.bloodbank.cluster;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.QueueType;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.fault.RabbitCluster;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Partitioned consumption across service instances (issue #23): several buses (one per instance)
 * subscribe to the same partitioned queues, a publisher sends numbered events for many keys, and
 * halfway through the instance that holds the partitions leaves. Every key's events must arrive in
 * the order they were published (repeats of an event already seen are counted, not reordering).
 */
final class PartitionOrder {
  /** What a run measured. */
  record Result(
      int events, long lost, long outOfOrder, long duplicated, List<Long> handledPerInstance) {
    String line() {
      return String.format(
          "CLUSTER RESULT | partitioned consumption, %d instances, one leaves halfway | published"
              + " %d | lost %d | out of order %d | duplicated %d | handled per instance %s",
          handledPerInstance.size(), events, lost, outOfOrder, duplicated, handledPerInstance);
    }
  }

  private PartitionOrder() {}

  static Result run(RabbitCluster cluster, int instances, int partitions, int keys, int perKey)
      throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    Map<String, List<Integer>> seen = new ConcurrentHashMap<>();
    List<AtomicLong> handled = new ArrayList<>();
    List<Bloodbank> buses = new ArrayList<>();
    List<Subscriber> subs = new ArrayList<>();
    try {
      for (int n = 0; n < instances; n++) {
        AtomicLong count = new AtomicLong();
        handled.add(count);
        Bloodbank bus = Bloodbank.connect(cluster.options(id).build());
        buses.add(bus);
        subs.add(
            bus.subscribe(
                SubscriberOptions.builder("order.#")
                    .partitions(partitions)
                    .queueType(QueueType.QUORUM)
                    .prefetch(50)
                    .build(),
                JsonNode.class,
                e -> {
                  List<Integer> l =
                      seen.computeIfAbsent(e.payload().get("key").asText(), k -> new ArrayList<>());
                  synchronized (l) {
                    l.add(e.payload().get("seq").asInt());
                  }
                  count.incrementAndGet();
                }));
      }
      Publisher p =
          buses
              .get(instances - 1)
              .publisher(
                  PublisherOptions.builder()
                      .channels(1) // one channel: the broker keeps what it sends in order
                      .partitionKey(e -> ((Map<?, ?>) e.payload()).get("key").toString())
                      .build());
      List<CompletableFuture<?>> sent = new ArrayList<>();
      for (int seq = 0; seq < perKey; seq++) {
        if (seq == perKey / 2) {
          // The instance that has been consuming leaves; the broker hands its partitions on.
          subs.get(0).close();
        }
        for (int k = 0; k < keys; k++) {
          sent.add(
              p.publish(
                  EventEnvelope.builder("order.step", Map.of("key", "k" + k, "seq", seq)).build()));
        }
        Thread.sleep(2);
      }
      CompletableFuture.allOf(sent.toArray(new CompletableFuture<?>[0])).get(120, TimeUnit.SECONDS);
      int total = keys * perKey;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && distinct(seen) < total) {
        Thread.sleep(100);
      }
      Thread.sleep(500);
      long lost = 0;
      long outOfOrder = 0;
      long duplicated = 0;
      for (int k = 0; k < keys; k++) {
        List<Integer> l = seen.getOrDefault("k" + k, List.of());
        synchronized (l) {
          int next = 0;
          for (int seq : l) {
            if (seq == next) {
              next++;
            } else if (seq < next) {
              duplicated++;
            } else {
              outOfOrder++;
            }
          }
          lost += perKey - l.stream().distinct().count();
        }
      }
      List<Long> perInstance = handled.stream().map(AtomicLong::get).toList();
      Result r = new Result(total, lost, outOfOrder, duplicated, perInstance);
      System.out.println(r.line());
      return r;
    } finally {
      for (Bloodbank b : buses) {
        b.close();
      }
    }
  }

  private static int distinct(Map<String, List<Integer>> seen) {
    int n = 0;
    for (List<Integer> l : seen.values()) {
      synchronized (l) {
        n += (int) l.stream().distinct().count();
      }
    }
    return n;
  }
}
