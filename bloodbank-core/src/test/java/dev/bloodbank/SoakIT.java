package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.junit.jupiter.api.Test;

/**
 * The soak run (issue #9, scenario 23), only in the {@code soak} profile: {@code ./mvnw -B -pl
 * bloodbank-core -am -Psoak verify -Dspotless.check.skip}. Publishes at {@code
 * -Dbloodbank.soak.rate} events/s (default 2,000) for {@code -Dbloodbank.soak.minutes} (default 30)
 * on a private RabbitMQ node while every connection is closed once a minute, consuming at the same
 * time; then checks that every confirmed event arrived (duplicates allowed) and that the heap after
 * a GC stayed flat.
 */
class SoakIT {

  @Test
  @Scenario(23)
  void thirtyMinutesOfPublishingWithAConnectionKillEveryMinuteLosesNothing() throws Exception {
    int minutes = Integer.getInteger("bloodbank.soak.minutes", 30);
    int rate = Integer.getInteger("bloodbank.soak.rate", 2000);
    RabbitNode node = RabbitNode.shared();
    String id = UUID.randomUUID().toString().substring(0, 8);
    int capacity = minutes * 60 * rate + rate;
    BitSet confirmed = new BitSet(capacity);
    BitSet received = new BitSet(capacity);
    AtomicLong duplicated = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    AtomicLong outstanding = new AtomicLong();
    List<Long> heap = new ArrayList<>();
    Connection consumer = node.rawConnection("soak-consumer");
    try (Bloodbank bus = Bloodbank.connect(node.options(id).build())) {
      String queue = bus.options().serviceName() + "-soak";
      Channel ch = consumer.createChannel();
      ch.exchangeDeclare(bus.options().exchange(), "topic", true);
      ch.queueDeclare(queue, true, false, false, null);
      ch.queueBind(queue, bus.options().exchange(), "soak.#");
      ch.basicQos(500);
      ch.basicConsume(
          queue,
          false,
          (tag, d) -> {
            int i = bus.codec().decode(d.getBody()).payload().get("i").asInt();
            synchronized (received) {
              if (received.get(i)) {
                duplicated.incrementAndGet();
              }
              received.set(i);
            }
            ch.basicAck(d.getEnvelope().getDeliveryTag(), false);
          },
          tag -> {});
      Publisher p =
          bus.publisher(
              PublisherOptions.builder()
                  .confirmTimeout(Duration.ofSeconds(5))
                  .maxAttempts(5)
                  .backoff(Duration.ofMillis(100), Duration.ofSeconds(2))
                  .build());
      long start = System.nanoTime();
      long end = start + TimeUnit.MINUTES.toNanos(minutes);
      long nextKill = start + TimeUnit.MINUTES.toNanos(1);
      heap.add(usedHeapAfterGc());
      int i = 0;
      while (System.nanoTime() < end) {
        long due = start + (long) i * 1_000_000_000L / rate;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
        int n = i++;
        outstanding.incrementAndGet();
        p.publish("soak.item", Map.of("i", n))
            .whenComplete(
                (e, t) -> {
                  if (t == null) {
                    synchronized (confirmed) {
                      confirmed.set(n);
                    }
                  } else {
                    failed.incrementAndGet();
                  }
                  outstanding.decrementAndGet();
                });
        // No kill in the last 10 s, so that the run ends on a settled connection.
        if (System.nanoTime() > nextKill && nextKill < end - TimeUnit.SECONDS.toNanos(10)) {
          nextKill += TimeUnit.MINUTES.toNanos(1);
          Thread killer =
              new Thread(
                  () -> {
                    try {
                      node.closeAllConnections();
                    } catch (Exception e) {
                      throw new IllegalStateException(e);
                    }
                  });
          killer.start();
          heap.add(usedHeapAfterGc());
          System.out.printf(
              "soak: %d published, %d failed, heap %d MiB%n",
              i, failed.get(), heap.get(heap.size() - 1) >> 20);
        }
      }
      long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(2);
      while (outstanding.get() > 0 && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertThat(outstanding.get()).as("publish futures still pending").isZero();
      BitSet missing;
      do {
        Thread.sleep(500);
        synchronized (confirmed) {
          missing = (BitSet) confirmed.clone();
        }
        synchronized (received) {
          missing.andNot(received);
        }
      } while (!missing.isEmpty() && System.nanoTime() < deadline);
      heap.add(usedHeapAfterGc());
      ReliabilityReport.events(23, i, missing.cardinality(), duplicated.get());
      System.out.printf(
          "soak: %d published in %d min, %d confirmed, %d failed, %d lost, %d duplicated, heap"
              + " MiB %s%n",
          i,
          minutes,
          confirmed.cardinality(),
          failed.get(),
          missing.cardinality(),
          duplicated.get(),
          heap.stream().map(h -> h >> 20).toList());
      assertThat(missing.cardinality()).as("confirmed events lost").isZero();
      long first = heap.get(1 < heap.size() ? 1 : 0);
      assertThat(heap.get(heap.size() - 1))
          .as("heap after GC at the end vs after the first minute (flat)")
          .isLessThan(first * 3 / 2 + (64L << 20));
      // The last kill may still be under way: clean up on a fresh connection, best effort.
      try (Connection fresh = node.rawConnection("soak-cleanup");
          Channel c = fresh.createChannel()) {
        c.queueDelete(queue);
        c.exchangeDelete(bus.options().exchange());
      } catch (Exception e) {
        System.out.println("soak: cleanup failed: " + e);
      }
    } finally {
      consumer.abort(2000);
    }
  }

  private static long usedHeapAfterGc() {
    System.gc();
    Runtime r = Runtime.getRuntime();
    return r.totalMemory() - r.freeMemory();
  }
}
