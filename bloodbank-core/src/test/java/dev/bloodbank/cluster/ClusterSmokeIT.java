package dev.bloodbank.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.RabbitCluster;
import dev.bloodbank.fault.RedisCluster;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The cluster scenarios of issue #23 in little, for every build (the full ones run with {@code
 * -Pcluster}): a three-node RabbitMQ cluster, 3,000 events on a quorum queue with the leader's node
 * killed halfway (and a publisher that first publishes to a quorum queue right after), partitioned
 * consumption keeping per-key order while an instance leaves, and causation links across a Redis
 * Cluster master failover. About 70 s, half of it booting.
 */
class ClusterSmokeIT {

  @Test
  void rabbitMqClusterLeaderKillAndPartitionedOrder() throws Exception {
    try (RabbitCluster cluster = RabbitCluster.start()) {
      FirstPublishAfterLeaderKill.Result[] first = new FirstPublishAfterLeaderKill.Result[1];
      ClusterLoad.Result r =
          ClusterLoad.run(
              "smoke: quorum leader's node SIGKILLed",
              cluster,
              3_000,
              1_000,
              1_000,
              queue -> {
                RabbitCluster.Member leader = cluster.leaderOf(queue);
                try (FirstPublishAfterLeaderKill f =
                    FirstPublishAfterLeaderKill.prepare(cluster, leader)) {
                  cluster.kill(leader);
                  f.publishAfterKill(Duration.ofSeconds(6));
                  first[0] = f.result(Duration.ofSeconds(3));
                }
              });
      assertThat(r.lost()).as("confirmed events never handled").isZero();
      assertThat(r.consuming()).as("subscriber consuming again").isTrue();
      // Channels that first published to a quorum queue just after its leader died: nacked until
      // the publisher moved to fresh channels, then confirmed while the node stayed down.
      assertThat(first[0].failedAfter()).as("publishes failed 3 s after the kill").isEmpty();
      assertThat(first[0].lost()).as("confirmed events not in the queue").isZero();

      PartitionOrder.Result order = PartitionOrder.run(cluster, 2, 4, 10, 40);
      assertThat(order.lost()).as("events never handled").isZero();
      assertThat(order.outOfOrder())
          .as("events handled before an earlier one of their key")
          .isZero();
      assertThat(order.handledPerInstance()).allMatch(n -> n > 0);
    }
  }

  @Test
  void redisClusterTrackingAcrossAFailover() throws Exception {
    try (RedisCluster cluster = RedisCluster.withReplicas();
        CorrelationTracker tracker =
            CorrelationTracker.redis(
                RedisTrackerOptions.builder().cluster(true).uri(cluster.uri()).build())) {
      UUID parent = UUID.randomUUID();
      UUID before = UUID.randomUUID();
      tracker.addCorrelation(before, List.of(parent), Map.of()).get(5, TimeUnit.SECONDS);
      String key = "bloodbank:smoke";
      int dead = cluster.killMasterOf(key);
      cluster.awaitFailover(key, dead, Duration.ofSeconds(30));
      // Links go on after the failover: recorded (retried while the client learns the new
      // topology) and read back, also the one recorded before.
      UUID after = UUID.randomUUID();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (true) {
        try {
          tracker.addCorrelation(after, List.of(parent), Map.of()).get(5, TimeUnit.SECONDS);
          break;
        } catch (Exception e) {
          if (System.nanoTime() > deadline) {
            throw e;
          }
          Thread.sleep(200);
        }
      }
      assertThat(tracker.children(parent).get(5, TimeUnit.SECONDS)).contains(before, after);
    }
  }
}
