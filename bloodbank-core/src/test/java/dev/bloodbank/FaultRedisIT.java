package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.RedisNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Redis faults while publishing with causation tracking (issue #9, scenario 12), on a private
 * {@code redis-server}: every client killed, the server paused, shut down and started again.
 */
class FaultRedisIT {

  @Test
  @Scenario(12)
  void killedPausedAndRestartedRedisNeverAffectsPublishingAndTrackingResumes() throws Exception {
    RabbitNode node = RabbitNode.shared();
    try (RedisNode redis = RedisNode.create()) {
      String id = UUID.randomUUID().toString().substring(0, 8);
      int maxPending = 200;
      try (Bloodbank bus =
          Bloodbank.connect(
              node.options(id)
                  .correlation(
                      RedisTrackerOptions.builder()
                          .uri(redis.uri())
                          .commandTimeout(Duration.ofMillis(500))
                          .maxPendingRecordings(maxPending)
                          .build())
                  .build())) {
        CorrelationRecorder recorder = bus.correlationRecorder().orElseThrow();
        Publisher p = bus.publisher();
        UUID root = p.publish("trk.root", Map.of()).get(10, TimeUnit.SECONDS).eventId();
        AtomicInteger inFlightMax = new AtomicInteger();
        AtomicLong slowestCall = new AtomicLong();
        List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures = new ArrayList<>();
        long start = System.nanoTime();
        int faults = 0;
        for (int i = 0; System.nanoTime() - start < TimeUnit.SECONDS.toNanos(12); i++) {
          long elapsed = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
          if (faults == 0 && elapsed > 1500) {
            redis.killClients();
            faults++;
          } else if (faults == 1 && elapsed > 3500) {
            redis.pause(Duration.ofSeconds(2));
            faults++;
          } else if (faults == 2 && elapsed > 7000) {
            redis.shutdown();
            faults++;
          } else if (faults == 3 && elapsed > 9000) {
            redis.start();
            faults++;
          }
          long t0 = System.nanoTime();
          futures.add(p.publish("trk.child", Map.of("i", i), List.of(root)));
          slowestCall.accumulateAndGet(System.nanoTime() - t0, Math::max);
          inFlightMax.accumulateAndGet(recorder.stats().inFlight(), Math::max);
          Thread.sleep(4);
        }
        assertThat(faults).isEqualTo(4);
        int failed = 0;
        for (CompletableFuture<?> f : futures) {
          try {
            f.get(20, TimeUnit.SECONDS);
          } catch (java.util.concurrent.ExecutionException e) {
            failed++;
          }
        }
        ReliabilityReport.events(12, futures.size(), failed, 0);
        System.out.printf(
            "scenario 12: %d published with tracking, %d failed, slowest call %d ms, recorder %s%n",
            futures.size(),
            failed,
            TimeUnit.NANOSECONDS.toMillis(slowestCall.get()),
            recorder.stats());
        assertThat(failed).as("publishes failed because of Redis").isZero();
        assertThat(Duration.ofNanos(slowestCall.get()))
            .as("a publish call never waits for Redis")
            .isLessThan(Duration.ofMillis(500));
        assertThat(inFlightMax.get())
            .as("recordings held in memory stay bounded")
            .isLessThanOrEqualTo(maxPending);
        assertThat(recorder.lost()).as("links lost during the faults").isPositive();

        // Tracking resumes once Redis is back.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        boolean resumed = false;
        while (!resumed && System.nanoTime() < deadline) {
          UUID child =
              p.publish("trk.after", Map.of(), List.of(root)).get(10, TimeUnit.SECONDS).eventId();
          Thread.sleep(200);
          try {
            resumed =
                bus.correlationTracker()
                    .orElseThrow()
                    .parents(child)
                    .get(2, TimeUnit.SECONDS)
                    .contains(root);
          } catch (Exception e) {
            // still reconnecting
          }
        }
        assertThat(resumed).as("a link recorded after the restart is readable").isTrue();
      }
    }
  }
}
