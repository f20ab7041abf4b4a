package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BrokerExtension;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.api.sync.RedisCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The tracker against the real Redis at localhost:6379, in the Python services' key layout. */
class RedisCorrelationTrackerIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private RedisClient rawClient;
  private StatefulRedisConnection<String, String> raw;
  private RedisCommands<String, String> redis;
  private RedisCorrelationTracker tracker;
  private final List<UUID> ids = new ArrayList<>();

  @BeforeEach
  void connect() {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    rawClient = RedisClient.create("redis://127.0.0.1:6379/0");
    raw = rawClient.connect();
    redis = raw.sync();
    tracker =
        new RedisCorrelationTracker(
            RedisTrackerOptions.builder().ttl(Duration.ofHours(1)).maxNodes(50).build());
  }

  @AfterEach
  void cleanUp() {
    for (UUID id : ids) {
      redis.del(RedisCorrelationTracker.FORWARD + id, RedisCorrelationTracker.REVERSE + id);
    }
    tracker.close();
    raw.close();
    rawClient.shutdown();
  }

  private UUID id() {
    UUID id = UUID.randomUUID();
    ids.add(id);
    return id;
  }

  private void link(UUID child, UUID... parents) throws Exception {
    tracker
        .addCorrelation(child, List.of(parents), Map.of("event_type", "test.event"))
        .get(5, TimeUnit.SECONDS);
  }

  @Test
  void linearChain() throws Exception {
    UUID a = id(), b = id(), c = id(), d = id();
    link(b, a);
    link(c, b);
    link(d, c);
    CorrelationGraph up = tracker.ancestors(d, 10).get(5, TimeUnit.SECONDS);
    assertThat(up.levels()).containsExactly(List.of(d), List.of(c), List.of(b), List.of(a));
    assertThat(up.truncated()).isFalse();
    CorrelationGraph down = tracker.descendants(a, 10).get(5, TimeUnit.SECONDS);
    assertThat(down.levels()).containsExactly(List.of(a), List.of(b), List.of(c), List.of(d));
    assertThat(down.edges())
        .containsExactly(
            new CorrelationGraph.Edge(a, b),
            new CorrelationGraph.Edge(b, c),
            new CorrelationGraph.Edge(c, d));
  }

  @Test
  void fanOutAndAggregationOfThreeParents() throws Exception {
    UUID root = id(), x = id(), y = id(), z = id(), agg = id();
    link(x, root);
    link(y, root);
    link(z, root);
    link(agg, x, y, z);
    assertThat(tracker.children(root).get(5, TimeUnit.SECONDS)).containsExactlyInAnyOrder(x, y, z);
    assertThat(tracker.parents(agg).get(5, TimeUnit.SECONDS)).containsExactly(x, y, z);
    CorrelationGraph up = tracker.ancestors(agg, 5).get(5, TimeUnit.SECONDS);
    assertThat(up.levels().get(1)).containsExactlyInAnyOrder(x, y, z);
    assertThat(up.levels().get(2)).containsExactly(root);
    assertThat(up.nodes()).hasSize(4);
    CorrelationGraph down = tracker.descendants(root, 5).get(5, TimeUnit.SECONDS);
    assertThat(down.levels().get(2)).containsExactly(agg);
    assertThat(down.edges()).hasSize(6);
  }

  @Test
  void cycleTerminatesAndReportsEachNodeOnce() throws Exception {
    UUID a = id(), b = id(), c = id();
    link(b, a);
    link(c, b);
    link(a, c);
    CorrelationGraph down = tracker.descendants(a, 10).get(5, TimeUnit.SECONDS);
    assertThat(down.levels()).containsExactly(List.of(a), List.of(b), List.of(c));
    assertThat(down.edges()).contains(new CorrelationGraph.Edge(c, a));
    assertThat(down.truncated()).isFalse();
    CorrelationGraph up = tracker.ancestors(a, 10).get(5, TimeUnit.SECONDS);
    assertThat(up.nodes()).containsExactly(c, b);
  }

  @Test
  void depthAndNodeLimitsAreReported() throws Exception {
    UUID prev = id();
    UUID first = prev;
    for (int i = 0; i < 5; i++) {
      UUID next = id();
      link(next, prev);
      prev = next;
    }
    CorrelationGraph twoLevels = tracker.descendants(first, 2).get(5, TimeUnit.SECONDS);
    assertThat(twoLevels.levels()).hasSize(3);
    assertThat(twoLevels.limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    CorrelationGraph exact = tracker.descendants(first, 5).get(5, TimeUnit.SECONDS);
    assertThat(exact.limitHit()).isNull();

    UUID hub = id();
    for (int i = 0; i < 60; i++) {
      link(id(), hub);
    }
    CorrelationGraph wide = tracker.descendants(hub, 3).get(5, TimeUnit.SECONDS);
    assertThat(wide.limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThat(wide.nodes()).hasSize(49);
  }

  @Test
  void oneRoundTripPerLevelNotPerNode() throws Exception {
    UUID hub = id();
    List<UUID> kids = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      UUID k = id();
      kids.add(k);
      link(k, hub);
      link(id(), k);
    }
    long before = tracker.levelFetches();
    CorrelationGraph g = tracker.descendants(hub, 5).get(5, TimeUnit.SECONDS);
    assertThat(g.nodes()).hasSize(40);
    // levels: hub, 20 kids, 20 grandchildren, then one empty look: 3 fetches for 41 nodes
    assertThat(tracker.levelFetches() - before).isEqualTo(3);
  }

  @Test
  void everyKeyWrittenHasATtlThatIsRefreshedOnWrite() throws Exception {
    UUID p1 = id(), p2 = id(), child = id();
    link(child, p1, p2);
    for (String key :
        List.of(
            RedisCorrelationTracker.FORWARD + child,
            RedisCorrelationTracker.REVERSE + p1,
            RedisCorrelationTracker.REVERSE + p2)) {
      assertThat(redis.ttl(key)).as(key).isBetween(3500L, 3600L);
      redis.expire(key, 10);
    }
    link(child, p1, p2);
    assertThat(redis.ttl(RedisCorrelationTracker.FORWARD + child)).isGreaterThan(3500L);
    assertThat(redis.ttl(RedisCorrelationTracker.REVERSE + p1)).isGreaterThan(3500L);
  }

  @Test
  void writesExactlyThePythonLayout() throws Exception {
    UUID p1 = id(), p2 = id(), child = id();
    tracker
        .addCorrelation(child, List.of(p1, p2), Map.of("event_type", "fireflies.transcript.ready"))
        .get(5, TimeUnit.SECONDS);
    String fwd = RedisCorrelationTracker.FORWARD + child;
    assertThat(redis.type(fwd)).isEqualTo("hash");
    Map<String, String> hash = redis.hgetall(fwd);
    assertThat(hash).containsOnlyKeys("parent_ids", "timestamp", "metadata");
    assertThat(JSON.readTree(hash.get("parent_ids")))
        .isEqualTo(JSON.createArrayNode().add(p1.toString()).add(p2.toString()));
    assertThat(Instant.parse(hash.get("timestamp")))
        .isCloseTo(
            Instant.now(),
            org.assertj.core.api.Assertions.within(1, java.time.temporal.ChronoUnit.MINUTES));
    assertThat(JSON.readTree(hash.get("metadata")).get("event_type").asText())
        .isEqualTo("fireflies.transcript.ready");
    assertThat(redis.type(RedisCorrelationTracker.REVERSE + p1)).isEqualTo("set");
    assertThat(redis.smembers(RedisCorrelationTracker.REVERSE + p1))
        .containsExactly(child.toString());
  }

  @Test
  void readsAGraphWrittenByHandInThePythonLayout() throws Exception {
    UUID upload = id(), ready = id(), rag = id(), notify = id();
    redis.hset(
        RedisCorrelationTracker.FORWARD + ready,
        Map.of(
            "parent_ids",
            "[\"" + upload + "\"]",
            "timestamp",
            "2026-01-27T10:00:00",
            "metadata",
            "{\"source\": \"python\"}"));
    redis.sadd(RedisCorrelationTracker.REVERSE + upload, ready.toString());
    redis.hset(
        RedisCorrelationTracker.FORWARD + rag,
        Map.of(
            "parent_ids",
            "[\"" + ready + "\"]",
            "timestamp",
            "2026-01-27T10:00:01Z",
            "metadata",
            "{}"));
    // an older Python version wrote forward records as JSON strings
    redis.set(
        RedisCorrelationTracker.FORWARD + notify,
        "{\"parent_event_ids\": [\""
            + ready
            + "\"], \"created_at\": \"2026-01-27T10:00:02\", \"metadata\": {\"k\": 1}}");
    redis.sadd(RedisCorrelationTracker.REVERSE + ready, rag.toString(), notify.toString());

    CorrelationGraph down = tracker.descendants(upload, 5).get(5, TimeUnit.SECONDS);
    assertThat(down.levels().get(1)).containsExactly(ready);
    assertThat(down.levels().get(2)).containsExactlyInAnyOrder(rag, notify);
    CorrelationGraph up = tracker.ancestors(notify, 5).get(5, TimeUnit.SECONDS);
    assertThat(up.nodes()).containsExactly(ready, upload);
    DebugDump dump = tracker.debugDump(ready).get(5, TimeUnit.SECONDS);
    assertThat(dump.node().recordedAt()).isEqualTo(Instant.parse("2026-01-27T10:00:00Z"));
    assertThat(dump.node().metadata()).containsEntry("source", "python");
    assertThat(dump.parents()).extracting(DebugDump.NodeInfo::id).containsExactly(upload);
    assertThat(dump.children())
        .extracting(DebugDump.NodeInfo::id)
        .containsExactlyInAnyOrder(rag, notify);
    assertThat(dump.children())
        .filteredOn(n -> n.id().equals(notify))
        .singleElement()
        .satisfies(n -> assertThat(n.metadata()).containsEntry("k", 1));
  }

  @Test
  void unknownEventHasNoLinks() throws Exception {
    UUID lone = id();
    assertThat(tracker.parents(lone).get(5, TimeUnit.SECONDS)).isEmpty();
    assertThat(tracker.children(lone).get(5, TimeUnit.SECONDS)).isEmpty();
    CorrelationGraph g = tracker.ancestors(lone, 3).get(5, TimeUnit.SECONDS);
    assertThat(g.levels()).containsExactly(List.of(lone));
    DebugDump d = tracker.debugDump(lone).get(5, TimeUnit.SECONDS);
    assertThat(d.node().recordedAt()).isNull();
    assertThat(d.node().ttl()).isNull();
  }
}
