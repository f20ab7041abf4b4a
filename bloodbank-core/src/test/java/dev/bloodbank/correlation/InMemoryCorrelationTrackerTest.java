package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class InMemoryCorrelationTrackerTest {
  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    Instant now = Instant.parse("2026-01-27T10:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final ManualClock clock = new ManualClock();

  private InMemoryCorrelationTracker tracker(int maxEvents, int maxNodes) {
    return new InMemoryCorrelationTracker(maxEvents, Duration.ofHours(1), maxNodes, 10, clock);
  }

  private static void link(CorrelationTracker t, UUID child, UUID... parents) {
    t.addCorrelation(child, List.of(parents), Map.of()).join();
  }

  @Test
  void linksExpireAfterTheTtlAndWritesRefreshIt() {
    InMemoryCorrelationTracker t = tracker(100, 100);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID();
    link(t, b, a);
    clock.advance(Duration.ofMinutes(50));
    assertThat(t.parents(b).join()).containsExactly(a);
    link(t, b, a);
    clock.advance(Duration.ofMinutes(50));
    assertThat(t.parents(b).join()).containsExactly(a);
    assertThat(t.children(a).join()).containsExactly(b);
    assertThat(t.debugDump(b).join().node().ttl()).isEqualTo(Duration.ofMinutes(10));
    clock.advance(Duration.ofMinutes(10));
    assertThat(t.parents(b).join()).isEmpty();
    assertThat(t.children(a).join()).isEmpty();
    assertThat(t.debugDump(b).join().node().ttl()).isNull();
  }

  @Test
  void anExpiredChildLeavesItsParentsChildren() {
    InMemoryCorrelationTracker t = tracker(100, 100);
    UUID parent = UUID.randomUUID(), first = UUID.randomUUID(), second = UUID.randomUUID();
    link(t, first, parent);
    clock.advance(Duration.ofMinutes(40));
    link(t, second, parent); // refreshes the parent's children, not first's parents
    clock.advance(Duration.ofMinutes(30));
    assertThat(t.parents(first).join()).isEmpty();
    assertThat(t.parents(second).join()).containsExactly(parent);
    // Unlike a Redis set, which keeps it until the set itself expires: memory stays bounded.
    assertThat(t.children(parent).join()).containsExactly(second);
  }

  @Test
  void boundedToMaxEventsForgettingTheLeastRecentlyWritten() {
    InMemoryCorrelationTracker t = tracker(3, 100);
    UUID parent = UUID.randomUUID();
    List<UUID> kids = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      kids.add(UUID.randomUUID());
      link(t, kids.get(i), parent);
    }
    // Each write touches the parent too, so it stays; the oldest children go, from both sides.
    assertThat(t.parents(kids.get(0)).join()).isEmpty();
    assertThat(t.parents(kids.get(2)).join()).isEmpty();
    assertThat(t.parents(kids.get(3)).join()).containsExactly(parent);
    assertThat(t.parents(kids.get(4)).join()).containsExactly(parent);
    assertThat(t.children(parent).join()).containsExactlyInAnyOrder(kids.get(3), kids.get(4));
  }

  @Test
  void memoryStaysBoundedUnderManyWrites() {
    InMemoryCorrelationTracker t = tracker(1000, 100);
    UUID hub = UUID.randomUUID();
    for (int i = 0; i < 50_000; i++) {
      link(t, UUID.randomUUID(), hub, UUID.randomUUID());
    }
    // The hub keeps only the children still held: at most maxEvents of them.
    assertThat(t.children(hub).join().size()).isLessThan(1000);
    assertThat(t.descendants(hub, 1).join().nodes().size()).isLessThan(1000);
  }

  @Test
  void recordingAChildAgainMergesItsParentsAndKeepsTheLatestMetadata() {
    InMemoryCorrelationTracker t = tracker(100, 100);
    UUID p1 = UUID.randomUUID(), p2 = UUID.randomUUID(), p3 = UUID.randomUUID();
    UUID child = UUID.randomUUID();
    t.addCorrelation(child, List.of(p1, p2), Map.of("event_type", "first")).join();
    clock.advance(Duration.ofSeconds(5));
    t.addCorrelation(child, List.of(p2, p3), Map.of("event_type", "second")).join();
    assertThat(t.parents(child).join()).containsExactly(p1, p2, p3);
    DebugDump.NodeInfo node = t.debugDump(child).join().node();
    assertThat(node.metadata()).containsExactly(Map.entry("event_type", "second"));
    assertThat(node.recordedAt()).isEqualTo(clock.now);
  }

  @Test
  void traversalsAreCycleSafeAndReportLimits() {
    InMemoryCorrelationTracker t = tracker(100, 3);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID();
    UUID d = UUID.randomUUID();
    link(t, b, a);
    link(t, c, b);
    link(t, a, c);
    CorrelationGraph g = t.descendants(a, 10).join();
    assertThat(g.levels()).containsExactly(List.of(a), List.of(b), List.of(c));
    assertThat(g.edges()).contains(new CorrelationGraph.Edge(c, a)).hasSize(3);
    assertThat(g.limitHit()).isNull();
    assertThat(t.descendants(a, 1).join().limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    link(t, d, c);
    assertThat(t.descendants(a, 10).join().limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThatThrownBy(() -> t.ancestors(a, 0).join())
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void defaultDepthIsTheConfiguredOne() {
    InMemoryCorrelationTracker t =
        new InMemoryCorrelationTracker(100, Duration.ofHours(1), 100, 2, clock);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID();
    UUID d = UUID.randomUUID();
    link(t, b, a);
    link(t, c, b);
    link(t, d, c);
    CorrelationGraph g = t.descendants(a).join();
    assertThat(g.nodes()).containsExactly(b, c);
    assertThat(g.limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    assertThat(CorrelationTracker.inMemory().ancestors(d).join().nodes()).isEmpty();
  }

  @Test
  void debugDumpShowsTheNodeAndItsNeighbours() {
    InMemoryCorrelationTracker t = tracker(100, 100);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID();
    t.addCorrelation(b, List.of(a), Map.of("event_type", "x.y")).join();
    t.addCorrelation(c, List.of(b), Map.of()).join();
    DebugDump d = t.debugDump(b).join();
    assertThat(d.node().parentIds()).containsExactly(a);
    assertThat(d.node().childIds()).containsExactly(c);
    assertThat(d.node().metadata()).containsEntry("event_type", "x.y");
    assertThat(d.node().recordedAt()).isEqualTo(clock.now);
    assertThat(d.node().ttl()).isEqualTo(Duration.ofHours(1));
    assertThat(d.parents()).extracting(DebugDump.NodeInfo::id).containsExactly(a);
    assertThat(d.parents().get(0).childIds()).containsExactly(b);
    assertThat(d.parents().get(0).recordedAt()).isNull();
    assertThat(d.children()).extracting(DebugDump.NodeInfo::id).containsExactly(c);
  }

  @Test
  void badArgumentsFailTheFutureOrTheConstructor() {
    InMemoryCorrelationTracker t = tracker(10, 10);
    assertThatThrownBy(() -> t.addCorrelation(UUID.randomUUID(), List.of(), Map.of()).join())
        .hasCauseInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> CorrelationTracker.inMemory(0, Duration.ofHours(1)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxEvents must be between 1 and 100000000, was 0");
    assertThatThrownBy(() -> CorrelationTracker.inMemory(10, Duration.ofMillis(10)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("ttl must be at least 1 s, was PT0.01S");
  }

  @Test
  void aClosedTrackerFailsCalls() {
    InMemoryCorrelationTracker t = tracker(10, 10);
    t.close();
    t.close();
    assertThatThrownBy(() -> t.parents(UUID.randomUUID()).join())
        .hasCauseInstanceOf(BloodbankException.class);
  }
}
