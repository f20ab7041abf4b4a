package dev.bloodbank.correlation;

import static dev.bloodbank.correlation.RedisExtension.Redis.forward;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Await;
import dev.bloodbank.fault.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The recorder against the real Redis while its connection is killed and Redis is paused: every
 * call returns at once, losses are counted, and recording resumes by itself.
 */
@ExtendWith(RedisExtension.class)
class CorrelationRecorderIT {
  /**
   * Far above what a call costs, far below the command timeout: a call that waited for Redis would
   * take at least the timeout.
   */
  private static final long PROMPT_NANOS = TimeUnit.MILLISECONDS.toNanos(400);

  private static final Duration TIMEOUT = Duration.ofMillis(1000);

  /** Records one link and returns how long the call took. */
  private static long timedRecord(CorrelationRecorder r, UUID child, UUID parent) {
    long start = System.nanoTime();
    r.record(child, List.of(parent), Map.of("event_type", "test.child"));
    return System.nanoTime() - start;
  }

  private static void awaitIdle(CorrelationRecorder r) throws Exception {
    Await.until(() -> r.stats().inFlight() == 0);
  }

  @Test
  @RedisExtension.PrivateNode("pauses every client's writes")
  void killedConnectionAndPausedWritesNeverBlockAndRecordingResumes(RedisExtension.Redis redis)
      throws Exception {
    CorrelationTracker tracker = redis.tracker(redis.options().commandTimeout(TIMEOUT).build());
    CorrelationRecorder recorder = new CorrelationRecorder(tracker, 1000);
    UUID root = redis.id();
    recorder.record(redis.id(), List.of(root), Map.of());
    Await.until(() -> recorder.recorded() == 1);
    assertThat(redis.clientIds()).isNotEmpty();

    int calls = 300;
    long slowest = 0;
    for (int i = 0; i < calls; i++) {
      if (i == 100) {
        assertThat(redis.killClients()).isPositive();
      }
      if (i == 200) {
        redis.pauseWrites(1500);
      }
      slowest = Math.max(slowest, timedRecord(recorder, redis.id(), root));
      Thread.sleep(5);
    }
    assertThat(slowest).as("slowest record() call, ns").isLessThan(PROMPT_NANOS);

    awaitIdle(recorder);
    CorrelationRecorder.Stats during = recorder.stats();
    assertThat(during.recorded() + during.lost()).isEqualTo(calls + 1);
    assertThat(during.lost()).as("recordings lost while paused").isPositive();
    assertThat(during.outages()).isPositive();
    assertThat(during.lastFailure()).isNotBlank().doesNotContain("\n");

    // After the pause, new links are recorded again without anything being restarted.
    awaitRecordingWorks(redis, recorder, root);
    Await.until(() -> recorder.health() == CorrelationRecorder.Health.HEALTHY);
    assertThat(tracker.children(root).get(5, TimeUnit.SECONDS)).hasSizeGreaterThan(1);
  }

  @Test
  void unreachableRedisLosesEverythingQuicklyAndNeverThrows(RedisExtension.Redis redis)
      throws Exception {
    CorrelationTracker tracker =
        redis.closeLater(
            CorrelationTracker.redis(
                redis
                    .options()
                    .uri("redis://:s3cret@127.0.0.1:1/0")
                    .commandTimeout(TIMEOUT)
                    .build()));
    CorrelationRecorder recorder = new CorrelationRecorder(tracker, 1000);
    long slowest = 0;
    for (int i = 0; i < 200; i++) {
      slowest = Math.max(slowest, timedRecord(recorder, UUID.randomUUID(), UUID.randomUUID()));
    }
    assertThat(slowest).isLessThan(PROMPT_NANOS);
    awaitIdle(recorder);
    assertThat(recorder.lost()).isEqualTo(200);
    assertThat(recorder.recorded()).isZero();
    assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.FAILING);
    assertThat(recorder.stats().outages()).isOne();
    assertThat(recorder.stats().lastFailure()).contains("127.0.0.1:1").doesNotContain("s3cret");
  }

  @Test
  @RedisExtension.PrivateNode("pauses every client's writes")
  void whileRedisIsPausedTheInFlightBoundDropsTheRest(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker tracker = redis.tracker(redis.options().commandTimeout(TIMEOUT).build());
    CorrelationRecorder recorder = new CorrelationRecorder(tracker, 10);
    UUID root = redis.id();
    recorder.record(redis.id(), List.of(root), Map.of());
    Await.until(() -> recorder.recorded() == 1);

    redis.pauseWrites(800);
    for (int i = 0; i < 50; i++) {
      recorder.record(redis.id(), List.of(root), Map.of());
    }
    assertThat(recorder.stats().inFlight()).isEqualTo(10);
    assertThat(recorder.lost()).isEqualTo(40);
    assertThat(recorder.inOutage()).isTrue();
    awaitIdle(recorder);
  }

  /** Records a fresh link until one reaches Redis; fails the test after {@link Await#WAIT}. */
  private static void awaitRecordingWorks(
      RedisExtension.Redis redis, CorrelationRecorder recorder, UUID root) throws Exception {
    Await.until(
        () -> {
          UUID child = redis.id();
          recorder.record(child, List.of(root), Map.of("event_type", "test.probe"));
          Thread.sleep(100);
          return redis.sync().exists(forward(child)) == 1;
        });
  }

  @Test
  void redisGoneAndBackMidLoopNeverBlocksAndRecordingResumes(RedisExtension.Redis redis)
      throws Exception {
    try (TcpProxy proxy = new TcpProxy(6379)) {
      proxy.start();
      CorrelationTracker tracker =
          redis.tracker(
              redis
                  .options()
                  .uri("redis://127.0.0.1:" + proxy.port() + "/0")
                  .commandTimeout(TIMEOUT)
                  .build());
      CorrelationRecorder recorder = new CorrelationRecorder(tracker, 1000);
      UUID root = redis.id();
      awaitRecordingWorks(redis, recorder, root);

      long slowest = 0;
      for (int i = 0; i < 300; i++) {
        if (i == 100) {
          proxy.stop();
        }
        if (i == 200) {
          proxy.start();
        }
        slowest = Math.max(slowest, timedRecord(recorder, redis.id(), root));
        Thread.sleep(5);
      }
      assertThat(slowest).as("slowest record() call, ns").isLessThan(PROMPT_NANOS);
      awaitRecordingWorks(redis, recorder, root);
      awaitIdle(recorder);
      assertThat(recorder.lost()).as("recordings lost while Redis was gone").isPositive();
      assertThat(recorder.stats().outages()).isPositive();
      assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.HEALTHY);
    }
  }

  @Test
  void startedWhileRedisIsUnreachableItConnectsOnceRedisIsThere(RedisExtension.Redis redis)
      throws Exception {
    try (TcpProxy proxy = new TcpProxy(6379)) {
      CorrelationTracker tracker =
          redis.tracker(
              redis
                  .options()
                  .uri("redis://127.0.0.1:" + proxy.port() + "/0")
                  .commandTimeout(TIMEOUT)
                  .build());
      CorrelationRecorder recorder = new CorrelationRecorder(tracker, 1000);
      UUID root = redis.id();
      recorder.record(redis.id(), List.of(root), Map.of());
      Await.until(() -> recorder.lost() == 1);
      assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.FAILING);

      proxy.start();
      awaitRecordingWorks(redis, recorder, root);
      Await.until(() -> recorder.health() == CorrelationRecorder.Health.HEALTHY);
      assertThat(tracker.children(root).get(5, TimeUnit.SECONDS)).isNotEmpty();
    }
  }
}
