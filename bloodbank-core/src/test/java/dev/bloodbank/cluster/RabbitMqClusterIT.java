package dev.bloodbank.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.fault.RabbitCluster;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Node faults on a private three-node RabbitMQ cluster with quorum queues (issue #23), in the
 * {@code cluster} profile: {@code ./mvnw -B -Pcluster -pl bloodbank-core verify}. Each scenario
 * publishes with confirms and consumes through the SDK while a fault hits the cluster, then
 * classifies every event; none may be lost, and the subscriber must be consuming again by itself.
 */
class RabbitMqClusterIT {
  private static RabbitCluster cluster;

  @BeforeAll
  static void boot() {
    cluster = RabbitCluster.start();
  }

  @AfterAll
  static void stop() {
    if (cluster != null) {
      cluster.close();
    }
  }

  @AfterEach
  void everyNodeBack() throws Exception {
    cluster.awaitRunning(Duration.ofSeconds(120));
  }

  @Test
  @Scenario(31)
  void killingTheQuorumLeadersNodeLosesNothingAndConsumersComeBack() throws Exception {
    RabbitCluster.Member[] killed = new RabbitCluster.Member[1];
    ClusterLoad.Result r =
        ClusterLoad.run(
            "quorum leader's node SIGKILLed",
            cluster,
            20_000,
            2_000,
            5_000,
            queue -> {
              killed[0] = cluster.leaderOf(queue);
              cluster.kill(killed[0]);
              // The two others carry the load without it; it comes back after the run.
              Thread.sleep(5_000);
            });
    cluster.start(killed[0]);
    ReliabilityReport.events(31, r.published(), r.lost(), r.duplicated());
    assertThat(r.lost()).as("confirmed events never handled").isZero();
    assertThat(r.consuming()).as("subscriber consuming again").isTrue();
  }

  @Test
  @Scenario(32)
  void aRollingRestartOfEveryNodeLosesNothing() throws Exception {
    ClusterLoad.Result r =
        ClusterLoad.run(
            "rolling restart of all three nodes",
            cluster,
            20_000,
            300,
            2_000,
            queue -> {
              for (RabbitCluster.Member m : cluster.members()) {
                cluster.restart(m);
                cluster.awaitRunning(Duration.ofSeconds(120));
              }
            });
    ReliabilityReport.events(32, r.published(), r.lost(), r.duplicated());
    assertThat(r.lost()).as("confirmed events never handled").isZero();
    assertThat(r.consuming()).as("subscriber consuming again").isTrue();
  }

  @Test
  @Scenario(33)
  void aNodePartitionedAwayAndBackLosesNothing() throws Exception {
    ClusterLoad.Result r =
        ClusterLoad.run(
            "quorum leader's node paused 20 s (partitioned) and resumed",
            cluster,
            20_000,
            1_000,
            3_000,
            queue -> {
              RabbitCluster.Member m = cluster.leaderOf(queue);
              cluster.pause(m);
              Thread.sleep(20_000);
              cluster.resume(m);
            });
    ReliabilityReport.events(33, r.published(), r.lost(), r.duplicated());
    assertThat(r.lost()).as("confirmed events never handled").isZero();
    assertThat(r.consuming()).as("subscriber consuming again").isTrue();
  }

  @Test
  @Scenario(36)
  void partitionedConsumptionKeepsPerKeyOrderWhenAnInstanceLeaves() throws Exception {
    PartitionOrder.Result r = PartitionOrder.run(cluster, 3, 8, 20, 250);
    ReliabilityReport.events(36, r.events(), r.lost(), r.duplicated());
    assertThat(r.lost()).as("events never handled").isZero();
    assertThat(r.outOfOrder()).as("events handled before an earlier one of their key").isZero();
    // The first instance held the partitions until it left; then another took them over.
    assertThat(r.handledPerInstance().get(0)).isPositive();
    assertThat(r.handledPerInstance().subList(1, 3).stream().mapToLong(Long::longValue).sum())
        .isPositive();
  }
}
