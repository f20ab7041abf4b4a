package dev.bloodbank.cluster;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.RedisCluster;
import dev.bloodbank.fault.RedisSentinel;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Redis master failovers under causation tracking and command claims (issue #23), in the {@code
 * cluster} profile: a master of a private Redis Cluster with replicas killed, and the master of a
 * private Sentinel setup killed. Links and claims go on by themselves after the failover; every
 * link Redis acknowledged is still there, and every command ran at least once.
 */
class RedisFailoverClusterIT {

  @Test
  @Scenario(34)
  void aRedisClusterMasterKilledDuringTrackingAndClaims() throws Exception {
    try (RedisCluster cluster = RedisCluster.withReplicas()) {
      RedisTrackerOptions options =
          RedisTrackerOptions.builder().cluster(true).uri(cluster.uri()).build();
      RedisLoad.Result r =
          RedisLoad.run(
              "Redis Cluster master SIGKILLed",
              options,
              3_000,
              300,
              600,
              () -> {
                int dead = cluster.killMasterOf("bloodbank:any");
                return cluster.awaitFailover("bloodbank:any", dead, Duration.ofSeconds(30));
              });
      ReliabilityReport.events(34, r.links(), r.lostLinks(), r.commandsRunTwice());
      assertThat(r.lostLinks()).as("acknowledged links not readable").isZero();
      assertThat(r.commandsNeverRun()).as("commands that never ran").isZero();
      assertThat(r.claimsAfter()).as("claims taken in Redis after the failover").isPositive();
    }
  }

  @Test
  @Scenario(35)
  void aSentinelFailoverDuringTrackingAndClaims() throws Exception {
    try (RedisSentinel sentinel = RedisSentinel.create()) {
      RedisTrackerOptions options = RedisTrackerOptions.builder().uri(sentinel.uri()).build();
      RedisLoad.Result r =
          RedisLoad.run(
              "Sentinel master SIGKILLed",
              options,
              3_000,
              300,
              600,
              () -> {
                int dead = sentinel.killMaster();
                return sentinel.awaitFailover(dead, Duration.ofSeconds(30));
              });
      ReliabilityReport.events(35, r.links(), r.lostLinks(), r.commandsRunTwice());
      assertThat(r.lostLinks()).as("acknowledged links not readable").isZero();
      assertThat(r.commandsNeverRun()).as("commands that never ran").isZero();
      assertThat(r.claimsAfter()).as("claims taken in Redis after the failover").isPositive();
    }
  }

  /** Links and claims at a pace while a failover happens, and their classification. */
  static final class RedisLoad {
    interface Failover {
      Duration inject() throws Exception;
    }

    record Result(
        String scenario,
        int links,
        long lostLinks,
        int linkRetries,
        int commands,
        long commandsNeverRun,
        long commandsRunTwice,
        long claimsAfter,
        Duration failover,
        Duration recovery) {
      String line() {
        return String.format(
            "CLUSTER RESULT | %s | links %d | lost %d | link retries %d | commands %d |"
                + " never run %d | run twice %d | claims after failover %d | failover %.1f s |"
                + " recovery %.1f s",
            scenario,
            links,
            lostLinks,
            linkRetries,
            commands,
            commandsNeverRun,
            commandsRunTwice,
            claimsAfter,
            failover.toMillis() / 1000.0,
            recovery.toMillis() / 1000.0);
      }
    }

    private RedisLoad() {}

    /**
     * Records {@code total} links (child, parent) and runs {@code total} commands through two claim
     * stores (two processes' worth) at {@code perSecond}; the failover starts at {@code faultAt}. A
     * link whose recording fails is recorded again, as the application would.
     */
    static Result run(
        String scenario,
        RedisTrackerOptions options,
        int total,
        int perSecond,
        int faultAt,
        Failover failover)
        throws Exception {
      UUID[] child = new UUID[total];
      UUID[] parent = new UUID[total];
      int[] runs = new int[total];
      int retries = 0;
      long claimsAfter = 0;
      long firstFailure = 0;
      long backAfterFailure = 0;
      CompletableFuture<Duration> failed = null;
      try (CorrelationTracker tracker = CorrelationTracker.redis(options);
          ProcessedCommands a = ProcessedCommands.redis(options, Duration.ofMinutes(10));
          ProcessedCommands b = ProcessedCommands.redis(options, Duration.ofMinutes(10))) {
        long start = System.nanoTime();
        long nanosPer = TimeUnit.SECONDS.toNanos(1) / perSecond;
        for (int i = 0; i < total; i++) {
          if (i == faultAt) {
            failed =
                CompletableFuture.supplyAsync(
                    () -> {
                      try {
                        return failover.inject();
                      } catch (Exception e) {
                        throw new IllegalStateException(e);
                      }
                    });
          }
          child[i] = UUID.randomUUID();
          parent[i] = UUID.randomUUID();
          boolean ok = false;
          for (int attempt = 0; attempt < 100 && !ok; attempt++) {
            try {
              tracker
                  .addCorrelation(child[i], List.of(parent[i]), Map.of("i", i))
                  .get(5, TimeUnit.SECONDS);
              ok = true;
            } catch (Exception e) {
              retries++;
              if (firstFailure == 0) {
                firstFailure = System.nanoTime();
              }
              if (retries <= 3 || retries % 50 == 0) {
                System.out.println("link " + i + " failed (" + retries + " retries so far): " + e);
              }
              Thread.sleep(100);
            }
          }
          if (ok && firstFailure != 0 && backAfterFailure == 0) {
            backAfterFailure = System.nanoTime();
          }
          // Two workers see the same command, one after the other, as a redelivery would.
          UUID command = child[i];
          for (ProcessedCommands store : List.of(a, b)) {
            ProcessedCommands.Claim c = store.claim(command, Duration.ofSeconds(30));
            if (c.status() == ProcessedCommands.Claim.Status.ACQUIRED
                || c.status() == ProcessedCommands.Claim.Status.UNAVAILABLE) {
              runs[i]++;
              store.complete(c);
            }
            if (failed != null
                && failed.isDone()
                && c.status() != ProcessedCommands.Claim.Status.UNAVAILABLE) {
              claimsAfter++;
            }
          }
          long wait = start + (i + 1) * nanosPer - System.nanoTime();
          if (wait > 0) {
            TimeUnit.NANOSECONDS.sleep(wait);
          }
        }
        Duration failoverTime = failed == null ? Duration.ZERO : failed.get(60, TimeUnit.SECONDS);
        long lost = 0;
        for (int i = 0; i < total; i++) {
          List<UUID> p = tracker.parents(child[i]).get(10, TimeUnit.SECONDS);
          if (!p.contains(parent[i])) {
            lost++;
          }
        }
        long never = 0;
        long twice = 0;
        for (int n : runs) {
          never += n == 0 ? 1 : 0;
          twice += n > 1 ? 1 : 0;
        }
        Result r =
            new Result(
                scenario,
                total,
                lost,
                retries,
                total,
                never,
                twice,
                claimsAfter,
                failoverTime,
                firstFailure == 0
                    ? Duration.ZERO
                    : Duration.ofNanos(backAfterFailure - firstFailure));
        System.out.println(r.line());
        return r;
      }
    }
  }
}
