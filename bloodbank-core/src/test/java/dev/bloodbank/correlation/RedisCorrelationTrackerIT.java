package dev.bloodbank.correlation;

import static dev.bloodbank.correlation.RedisExtension.Redis.forward;
import static dev.bloodbank.correlation.RedisExtension.Redis.reverse;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.ConnectionException;
import io.lettuce.core.SetArgs;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.event.command.CommandStartedEvent;
import io.lettuce.core.protocol.RedisCommand;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The tracker against the real Redis at localhost:6379, in the Python services' key layout. */
@ExtendWith(RedisExtension.class)
class RedisCorrelationTrackerIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static <T> T get(CompletableFuture<T> f) throws Exception {
    return f.get(5, TimeUnit.SECONDS);
  }

  private static void link(CorrelationTracker t, UUID child, UUID... parents) throws Exception {
    get(t.addCorrelation(child, List.of(parents), Map.of("event_type", "test.event")));
  }

  @Test
  void linearChain(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID a = redis.id(), b = redis.id(), c = redis.id(), d = redis.id();
    link(t, b, a);
    link(t, c, b);
    link(t, d, c);

    CorrelationGraph up = get(t.ancestors(d, 10));
    assertThat(up.levels()).containsExactly(List.of(d), List.of(c), List.of(b), List.of(a));
    assertThat(up.edges())
        .containsExactly(
            new CorrelationGraph.Edge(c, d),
            new CorrelationGraph.Edge(b, c),
            new CorrelationGraph.Edge(a, b));
    assertThat(up.truncated()).isFalse();

    CorrelationGraph down = get(t.descendants(a, 10));
    assertThat(down.levels()).containsExactly(List.of(a), List.of(b), List.of(c), List.of(d));
    assertThat(down.nodes()).containsExactly(b, c, d);
    assertThat(down.limitHit()).isNull();
  }

  @Test
  void fanOut(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID ready = redis.id(), rag = redis.id(), notify = redis.id(), analytics = redis.id();
    link(t, rag, ready);
    link(t, notify, ready);
    link(t, analytics, ready);

    assertThat(get(t.children(ready))).containsExactlyInAnyOrder(rag, notify, analytics);
    CorrelationGraph down = get(t.descendants(ready, 5));
    assertThat(down.levels()).hasSize(2);
    assertThat(down.levels().get(1)).containsExactlyInAnyOrder(rag, notify, analytics);
    assertThat(down.edges()).hasSize(3).allSatisfy(e -> assertThat(e.parent()).isEqualTo(ready));
    for (UUID child : List.of(rag, notify, analytics)) {
      assertThat(get(t.ancestors(child, 5)).nodes()).containsExactly(ready);
    }
  }

  @Test
  void aggregationOfThreeParents(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID root = redis.id(), x = redis.id(), y = redis.id(), z = redis.id(), agg = redis.id();
    link(t, x, root);
    link(t, y, root);
    link(t, z, root);
    link(t, agg, x, y, z);

    assertThat(get(t.parents(agg))).containsExactly(x, y, z);
    for (UUID p : List.of(x, y, z)) {
      assertThat(get(t.children(p))).containsExactly(agg);
    }
    CorrelationGraph up = get(t.ancestors(agg, 5));
    assertThat(up.levels().get(1)).containsExactly(x, y, z);
    assertThat(up.levels().get(2)).containsExactly(root);
    assertThat(up.nodes()).hasSize(4);
    assertThat(up.edges()).hasSize(6);
    // The diamond closes at agg: reached once, with a link from each of its three parents.
    CorrelationGraph down = get(t.descendants(root, 5));
    assertThat(down.levels().get(2)).containsExactly(agg);
    assertThat(down.edges())
        .contains(
            new CorrelationGraph.Edge(x, agg),
            new CorrelationGraph.Edge(y, agg),
            new CorrelationGraph.Edge(z, agg))
        .hasSize(6);
  }

  @Test
  void cycleTerminatesAndReportsEachNodeOnce(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID a = redis.id(), b = redis.id(), c = redis.id();
    link(t, b, a);
    link(t, c, b);
    link(t, a, c);

    CorrelationGraph down = get(t.descendants(a, 10));
    assertThat(down.levels()).containsExactly(List.of(a), List.of(b), List.of(c));
    assertThat(down.edges())
        .containsExactly(
            new CorrelationGraph.Edge(a, b),
            new CorrelationGraph.Edge(b, c),
            new CorrelationGraph.Edge(c, a));
    assertThat(down.truncated()).isFalse();
    CorrelationGraph up = get(t.ancestors(a, 10));
    assertThat(up.nodes()).containsExactly(c, b);
    // At depth 2 the only link left leads back to the start: nothing was hidden.
    assertThat(get(t.descendants(a, 2)).limitHit()).isNull();
  }

  @Test
  void depthLimitIsReported(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker(redis.options().maxDepth(3).build());
    List<UUID> chain = new ArrayList<>();
    chain.add(redis.id());
    for (int i = 0; i < 5; i++) {
      UUID next = redis.id();
      link(t, next, chain.get(chain.size() - 1));
      chain.add(next);
    }
    CorrelationGraph two = get(t.descendants(chain.get(0), 2));
    assertThat(two.levels()).hasSize(3);
    assertThat(two.limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    assertThat(two.truncated()).isTrue();
    assertThat(get(t.descendants(chain.get(0), 5)).limitHit()).isNull();
    // Without a depth, the options' maxDepth (3) applies.
    CorrelationGraph dflt = get(t.ancestors(chain.get(5)));
    assertThat(dflt.nodes()).containsExactly(chain.get(4), chain.get(3), chain.get(2));
    assertThat(dflt.limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
  }

  @Test
  void nodeLimitIsReported(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker(redis.options().maxNodes(50).build());
    UUID hub = redis.id();
    for (int i = 0; i < 60; i++) {
      link(t, redis.id(), hub);
    }
    CorrelationGraph wide = get(t.descendants(hub, 3));
    assertThat(wide.limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThat(wide.nodes()).hasSize(49);
    assertThat(wide.edges())
        .hasSize(49)
        .allSatisfy(e -> assertThat(wide.nodes()).contains(e.child()));
  }

  /**
   * Counts round trips from the commands themselves: a command starts a new round trip when some
   * command sent before it has been answered since the previous one was sent. Commands sent back to
   * back share a round trip; a traversal that waited for each node before asking for the next would
   * count one per node.
   */
  static final class RoundTrips implements CommandListener {
    private final List<RedisCommand<Object, Object, Object>> sent = new ArrayList<>();
    private final Set<String> types;
    private long answeredAtLastSend = -1;
    private int roundTrips;
    private int commands;

    RoundTrips(String... types) {
      this.types = Set.of(types);
    }

    @Override
    public synchronized void commandStarted(CommandStartedEvent event) {
      if (!types.contains(event.getCommand().getType().toString())) {
        return;
      }
      long answered = sent.stream().filter(RedisCommand::isDone).count();
      if (answered != answeredAtLastSend) {
        roundTrips++;
      }
      answeredAtLastSend = answered;
      sent.add(event.getCommand());
      commands++;
    }

    synchronized void reset() {
      sent.clear();
      answeredAtLastSend = -1;
      roundTrips = 0;
      commands = 0;
    }

    synchronized int roundTrips() {
      return roundTrips;
    }

    synchronized int commands() {
      return commands;
    }
  }

  @Test
  void oneRoundTripPerLevelNotPerNode(RedisExtension.Redis redis) throws Exception {
    RoundTrips trips = new RoundTrips("SMEMBERS", "HGET");
    CorrelationTracker t =
        redis.closeLater(new RedisCorrelationTracker(redis.options().build(), List.of(trips)));
    UUID hub = redis.id();
    List<UUID> grandchildren = new ArrayList<>();
    for (int i = 0; i < 20; i++) {
      UUID kid = redis.id();
      UUID grandchild = redis.id();
      link(t, kid, hub);
      link(t, grandchild, kid);
      grandchildren.add(grandchild);
    }

    trips.reset();
    CorrelationGraph down = get(t.descendants(hub, 5));
    assertThat(down.nodes()).hasSize(40);
    // Levels asked: [hub], 20 children, 20 grandchildren (which have none): 41 SMEMBERS in 3 trips.
    assertThat(trips.commands()).isEqualTo(41);
    assertThat(trips.roundTrips()).isEqualTo(3);

    UUID top = redis.id();
    for (UUID g : grandchildren) {
      link(t, top, g);
    }
    trips.reset();
    CorrelationGraph up = get(t.ancestors(top, 5));
    assertThat(up.nodes()).hasSize(41);
    // [top] -> 20 grandchildren -> 20 children -> hub -> nothing: 42 HGETs in 4 trips.
    assertThat(trips.commands()).isEqualTo(42);
    assertThat(trips.roundTrips()).isEqualTo(4);
  }

  @Test
  void everyKeyWrittenHasATtlThatIsRefreshedOnWrite(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker(redis.options().ttl(Duration.ofMinutes(20)).build());
    UUID p1 = redis.id(), p2 = redis.id(), p3 = redis.id(), child = redis.id();
    link(t, child, p1, p2, p3);
    List<String> keys = List.of(forward(child), reverse(p1), reverse(p2), reverse(p3));
    for (String key : keys) {
      assertThat(redis.sync().ttl(key)).as(key).isBetween(1190L, 1200L);
      redis.sync().expire(key, 10);
    }
    link(t, child, p1, p2, p3);
    for (String key : keys) {
      assertThat(redis.sync().ttl(key)).as(key).isBetween(1190L, 1200L);
    }
  }

  @Test
  void writesExactlyThePythonLayout(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID p1 = redis.id(), p2 = redis.id(), child = redis.id();
    get(
        t.addCorrelation(
            child,
            List.of(p1, p2),
            Map.of("event_type", "fireflies.transcript.ready", "attempt", 2)));

    assertThat(redis.sync().type(forward(child))).isEqualTo("hash");
    Map<String, String> hash = redis.sync().hgetall(forward(child));
    assertThat(hash).containsOnlyKeys("parent_ids", "timestamp", "metadata");
    assertThat(JSON.readTree(hash.get("parent_ids")))
        .isEqualTo(JSON.createArrayNode().add(p1.toString()).add(p2.toString()));
    assertThat(hash.get("timestamp"))
        .matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{6}\\+00:00");
    assertThat(Instant.parse(hash.get("timestamp")))
        .isCloseTo(Instant.now(), within(1, ChronoUnit.MINUTES));
    JsonNode metadata = JSON.readTree(hash.get("metadata"));
    assertThat(metadata.isObject()).isTrue();
    assertThat(metadata.get("event_type").asText()).isEqualTo("fireflies.transcript.ready");
    assertThat(metadata.get("attempt").asInt()).isEqualTo(2);
    for (UUID p : List.of(p1, p2)) {
      assertThat(redis.sync().type(reverse(p))).isEqualTo("set");
      assertThat(redis.sync().smembers(reverse(p))).containsExactly(child.toString());
    }
    assertThat(redis.sync().exists(reverse(child), forward(p1), forward(p2))).isZero();
  }

  @Test
  void recordingAChildAgainMergesItsParents(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID p1 = redis.id(), p2 = redis.id(), p3 = redis.id(), child = redis.id();
    get(t.addCorrelation(child, List.of(p1, p2), Map.of("event_type", "first")));
    get(t.addCorrelation(child, List.of(p2, p3, p3), Map.of("event_type", "second")));

    assertThat(get(t.parents(child))).containsExactly(p1, p2, p3);
    assertThat(JSON.readTree(redis.sync().hget(forward(child), "parent_ids")))
        .isEqualTo(JSON.createArrayNode().add(p1.toString()).add(p2.toString()).add(p3.toString()));
    assertThat(get(t.debugDump(child)).node().metadata()).containsEntry("event_type", "second");
    for (UUID p : List.of(p1, p2, p3)) {
      assertThat(get(t.children(p))).containsExactly(child);
    }
  }

  /** Writes the graph the way the Python services do, then reads it with the tracker. */
  @Test
  void readsAGraphWrittenByHandInThePythonLayout(RedisExtension.Redis redis) throws Exception {
    var r = redis.sync();
    UUID upload = redis.id(), ready = redis.id(), rag = redis.id(), notify = redis.id();
    r.hset(
        forward(ready),
        Map.of(
            "parent_ids", "[\"" + upload + "\"]",
            "timestamp", "2026-01-27T10:00:00.250000+00:00",
            "metadata", "{\"event_type\": \"fireflies.transcript.ready\"}"));
    r.expire(forward(ready), 600);
    r.sadd(reverse(upload), ready.toString());
    r.hset(
        forward(rag),
        Map.of(
            "parent_ids", "[\"" + ready + "\", \"not-a-uuid\"]",
            "timestamp", "2026-01-27T10:00:01",
            "metadata", "{}"));
    // An older Python version wrote forward records as JSON strings with SETEX.
    r.set(
        forward(notify),
        "{\"parent_event_ids\": [\""
            + ready
            + "\"], \"created_at\": \"2026-01-27T10:00:02.5\", \"metadata\": {\"k\": 1}}",
        SetArgs.Builder.ex(600));
    r.sadd(reverse(ready), rag.toString(), notify.toString());

    CorrelationTracker t = redis.tracker();
    assertThat(get(t.parents(rag))).containsExactly(ready);
    assertThat(get(t.parents(notify))).containsExactly(ready);
    CorrelationGraph down = get(t.descendants(upload, 5));
    assertThat(down.levels().get(1)).containsExactly(ready);
    assertThat(down.levels().get(2)).containsExactlyInAnyOrder(rag, notify);
    assertThat(get(t.ancestors(notify, 5)).nodes()).containsExactly(ready, upload);

    DebugDump dump = get(t.debugDump(ready));
    assertThat(dump.node().recordedAt()).isEqualTo(Instant.parse("2026-01-27T10:00:00.25Z"));
    assertThat(dump.node().metadata()).containsEntry("event_type", "fireflies.transcript.ready");
    assertThat(dump.node().ttl()).isBetween(Duration.ofSeconds(590), Duration.ofSeconds(600));
    assertThat(dump.parents()).extracting(DebugDump.NodeInfo::id).containsExactly(upload);
    assertThat(dump.children())
        .extracting(DebugDump.NodeInfo::id)
        .containsExactlyInAnyOrder(rag, notify);
    DebugDump.NodeInfo legacy =
        dump.children().stream().filter(n -> n.id().equals(notify)).findFirst().orElseThrow();
    assertThat(legacy.metadata()).containsEntry("k", 1);
    assertThat(legacy.recordedAt()).isEqualTo(Instant.parse("2026-01-27T10:00:02.5Z"));
    assertThat(legacy.ttl()).isNotNull();
    DebugDump.NodeInfo naive =
        dump.children().stream().filter(n -> n.id().equals(rag)).findFirst().orElseThrow();
    assertThat(naive.recordedAt()).isEqualTo(Instant.parse("2026-01-27T10:00:01Z"));
  }

  @Test
  void aLegacyStringRecordBecomesAHashKeepingItsParents(RedisExtension.Redis redis)
      throws Exception {
    UUID old = redis.id(), added = redis.id(), child = redis.id();
    redis
        .sync()
        .set(
            forward(child),
            "{\"parent_event_ids\": [\"" + old + "\"], \"created_at\": \"2026-01-27T10:00:00\"}",
            SetArgs.Builder.ex(600));
    CorrelationTracker t = redis.tracker();
    link(t, child, added);
    assertThat(redis.sync().type(forward(child))).isEqualTo("hash");
    assertThat(get(t.parents(child))).containsExactly(old, added);
    assertThat(redis.sync().ttl(forward(child))).isGreaterThan(600L);
  }

  @Test
  void unknownEventHasNoLinks(RedisExtension.Redis redis) throws Exception {
    CorrelationTracker t = redis.tracker();
    UUID lone = redis.id();
    assertThat(get(t.parents(lone))).isEmpty();
    assertThat(get(t.children(lone))).isEmpty();
    CorrelationGraph g = get(t.ancestors(lone, 3));
    assertThat(g.levels()).containsExactly(List.of(lone));
    assertThat(g.edges()).isEmpty();
    DebugDump d = get(t.debugDump(lone));
    assertThat(d.node().recordedAt()).isNull();
    assertThat(d.node().ttl()).isNull();
    assertThat(d.parents()).isEmpty();
    assertThat(d.children()).isEmpty();
  }

  @Test
  void badArgumentsFailTheFuture(RedisExtension.Redis redis) {
    CorrelationTracker t = redis.tracker();
    UUID child = redis.id();
    assertThatThrownBy(() -> get(t.addCorrelation(child, List.of(), Map.of())))
        .isInstanceOf(ExecutionException.class)
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(
            () -> get(t.addCorrelation(child, List.of(redis.id()), Map.of("x", new Object()))))
        .hasCauseInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("not JSON-mappable");
    assertThatThrownBy(() -> get(t.descendants(child, 0)))
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void unreachableRedisFailsFastWithAConnectionException(RedisExtension.Redis redis) {
    CorrelationTracker t =
        redis.closeLater(
            CorrelationTracker.redis(
                RedisTrackerOptions.builder()
                    .uri("redis://:s3cret@127.0.0.1:1/0")
                    .commandTimeout(Duration.ofMillis(500))
                    .build()));
    UUID id = UUID.randomUUID();
    for (CompletableFuture<?> f :
        List.of(
            t.addCorrelation(id, List.of(UUID.randomUUID()), Map.of()),
            t.parents(id),
            t.descendants(id, 3),
            t.debugDump(id))) {
      assertThatThrownBy(() -> get(f))
          .isInstanceOf(ExecutionException.class)
          .cause()
          .isInstanceOf(ConnectionException.class)
          .hasMessageContaining("127.0.0.1:1")
          .hasMessageNotContaining("s3cret");
    }
  }

  @Test
  void aClosedTrackerFailsCalls(RedisExtension.Redis redis) {
    CorrelationTracker t = redis.tracker();
    t.close();
    t.close();
    assertThatThrownBy(() -> get(t.parents(redis.id())))
        .cause()
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("closed");
  }
}
