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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One cluster scenario's load (issue #23): a bus on every node of a {@link RabbitCluster}, a
 * subscriber on a quorum queue, and a publisher with confirms that sends paced events while a fault
 * runs in another thread. An event whose publish fails is published again with the same id, as an
 * application would, after a pause that doubles each round. Every event is classified: lost
 * (confirmed, never handled), duplicated (handled more than once), and the longest gap between two
 * handled events after the fault began is the time the consumers took to come back.
 */
final class ClusterLoad {
  /** A fault injected once {@code faultAt} events were published. */
  interface Fault {
    /**
     * Injects the fault and returns when the cluster is whole again.
     *
     * @param queue the subscriber's quorum queue
     */
    void inject(String queue) throws Exception;
  }

  /** What a run measured. */
  record Result(
      String scenario,
      int published,
      long received,
      long lost,
      long duplicated,
      int republished,
      Duration recovery,
      boolean consuming) {
    /** The one-line summary the README's table takes its rows from. */
    String line() {
      return String.format(
          "CLUSTER RESULT | %s | published %d | received %d | lost %d | duplicated %d |"
              + " republished %d | recovery %.1f s | consuming %s",
          scenario,
          published,
          received,
          lost,
          duplicated,
          republished,
          recovery.toMillis() / 1000.0,
          consuming);
    }
  }

  private ClusterLoad() {}

  /**
   * Runs a scenario.
   *
   * @param total events to publish at least; publishing goes on until the fault has finished too
   * @param perSecond the pace
   * @param faultAt published events before the fault starts
   */
  static Result run(
      String scenario, RabbitCluster cluster, int total, int perSecond, int faultAt, Fault fault)
      throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    Map<UUID, AtomicInteger> handled = new ConcurrentHashMap<>();
    AtomicLong lastHandled = new AtomicLong();
    AtomicLong longestGap = new AtomicLong();
    AtomicLong faultStarted = new AtomicLong(Long.MAX_VALUE);
    try (Bloodbank bus = Bloodbank.connect(cluster.options(id).build())) {
      Subscriber sub =
          bus.subscribe(
              SubscriberOptions.builder("load.#")
                  .queueType(QueueType.QUORUM)
                  .prefetch(200)
                  .ackBatchSize(50)
                  .build(),
              JsonNode.class,
              e -> {
                long now = System.nanoTime();
                long before = lastHandled.getAndSet(now);
                if (before != 0 && before > faultStarted.get()) {
                  longestGap.accumulateAndGet(now - before, Math::max);
                } else if (before != 0 && now > faultStarted.get()) {
                  longestGap.accumulateAndGet(now - faultStarted.get(), Math::max);
                }
                handled.computeIfAbsent(e.eventId(), k -> new AtomicInteger()).incrementAndGet();
              });
      Publisher p =
          bus.publisher(
              PublisherOptions.builder()
                  .confirmTimeout(Duration.ofSeconds(5))
                  .maxAttempts(5)
                  .backoff(Duration.ofMillis(100), Duration.ofSeconds(1))
                  .build());
      List<EventEnvelope<Map<String, Integer>>> events = new ArrayList<>();
      List<CompletableFuture<?>> futures = new ArrayList<>();
      AtomicReference<Throwable> faultFailure = new AtomicReference<>();
      Thread faultThread =
          new Thread(
              () -> {
                try {
                  fault.inject(sub.queueName());
                } catch (Throwable t) {
                  faultFailure.set(t);
                }
              },
              "cluster-fault");
      long start = System.nanoTime();
      long nanosPerEvent = TimeUnit.SECONDS.toNanos(1) / perSecond;
      for (int i = 0; i < total || faultThread.isAlive(); i++) {
        if (i == faultAt) {
          faultStarted.set(System.nanoTime());
          faultThread.start();
        }
        EventEnvelope<Map<String, Integer>> e =
            EventEnvelope.builder("load.item", Map.of("i", i)).build();
        events.add(e);
        futures.add(p.publish(e));
        long due = start + (i + 1) * nanosPerEvent;
        long wait = due - System.nanoTime();
        if (wait > 0) {
          TimeUnit.NANOSECONDS.sleep(wait);
        }
      }
      faultThread.join(TimeUnit.MINUTES.toMillis(5));
      if (faultFailure.get() != null) {
        throw new AssertionError("the fault failed: " + faultFailure.get(), faultFailure.get());
      }
      // What the publisher could not get confirmed goes again, with the same id.
      int republished = 0;
      List<Integer> pending = new ArrayList<>();
      for (int i = 0; i < futures.size(); i++) {
        pending.add(i);
      }
      Map<String, Integer> why = new TreeMap<>();
      List<String> rounds = new ArrayList<>();
      long faultAtNanos = faultStarted.get();
      for (int round = 0; round < 6 && !pending.isEmpty(); round++) {
        List<Integer> failed = new ArrayList<>();
        why.clear();
        for (int i : pending) {
          try {
            futures.get(i).get(60, TimeUnit.SECONDS);
          } catch (Exception ex) {
            failed.add(i);
            Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
            why.merge(
                cause.getClass().getSimpleName() + ": " + cause.getMessage(), 1, Integer::sum);
          }
        }
        rounds.add(
            String.format(
                "%d failed at +%.1f s", failed.size(), (System.nanoTime() - faultAtNanos) / 1e9));
        if (round == 5) {
          pending = failed;
          break;
        }
        // As an application would, wait a little longer before each round.
        if (!failed.isEmpty()) {
          Thread.sleep(500L << round);
        }
        for (int i : failed) {
          futures.set(i, p.publish(events.get(i)));
        }
        republished += failed.size();
        pending = failed;
      }
      if (!pending.isEmpty()) {
        throw new AssertionError(
            pending.size()
                + " events could not be published in 5 republish rounds ("
                + rounds
                + " after the fault began); last failures: "
                + why);
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
      while (System.nanoTime() < deadline && !allHandled(events, handled)) {
        Thread.sleep(100);
      }
      Thread.sleep(500); // late duplicates
      long lost = events.stream().filter(e -> !handled.containsKey(e.eventId())).count();
      long dup = handled.values().stream().filter(n -> n.get() > 1).count();
      long received = handled.values().stream().mapToLong(AtomicInteger::get).sum();
      boolean consuming = sub.health().consuming();
      Result r =
          new Result(
              scenario,
              events.size(),
              received,
              lost,
              dup,
              republished,
              Duration.ofNanos(longestGap.get()),
              consuming);
      System.out.println(r.line());
      return r;
    }
  }

  private static boolean allHandled(
      List<EventEnvelope<Map<String, Integer>>> events, Map<UUID, AtomicInteger> handled) {
    for (EventEnvelope<?> e : events) {
      if (!handled.containsKey(e.eventId())) {
        return false;
      }
    }
    return true;
  }
}
