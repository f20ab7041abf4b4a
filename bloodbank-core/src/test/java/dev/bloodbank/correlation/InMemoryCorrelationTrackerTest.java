package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class InMemoryCorrelationTrackerTest {
  /** A clock the test moves by hand. */
  static final class ManualClock extends Clock {
    Instant now = Instant.parse("2026-01-27T10:00:00Z");

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  private final ManualClock clock = new ManualClock();

  private InMemoryCorrelationTracker tracker(int maxEvents, int maxNodes) {
    return new InMemoryCorrelationTracker(maxEvents, Duration.ofHours(1), maxNodes, clock);
  }

  @Test
  void linksExpireAfterTheTtlAndWritesRefreshIt() {
    InMemoryCorrelationTracker t = tracker(100, 100);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID();
    t.addCorrelation(b, List.of(a), Map.of()).join();
    clock.now = clock.now.plus(Duration.ofMinutes(50));
    assertThat(t.parents(b).join()).containsExactly(a);
    t.addCorrelation(b, List.of(a), Map.of()).join();
    clock.now = clock.now.plus(Duration.ofMinutes(50));
    assertThat(t.parents(b).join()).containsExactly(a);
    assertThat(t.children(a).join()).containsExactly(b);
    clock.now = clock.now.plus(Duration.ofMinutes(11));
    assertThat(t.parents(b).join()).isEmpty();
    assertThat(t.children(a).join()).isEmpty();
  }

  @Test
  void boundedToMaxEventsDroppingTheOldestWrites() {
    InMemoryCorrelationTracker t = tracker(3, 100);
    UUID parent = UUID.randomUUID();
    UUID[] kids = new UUID[5];
    for (int i = 0; i < 5; i++) {
      kids[i] = UUID.randomUUID();
      t.addCorrelation(kids[i], List.of(parent), Map.of()).join();
    }
    assertThat(t.parents(kids[0]).join()).isEmpty();
    assertThat(t.parents(kids[1]).join()).isEmpty();
    assertThat(t.parents(kids[4]).join()).containsExactly(parent);
  }

  @Test
  void traversalsAreCycleSafeAndReportLimits() {
    InMemoryCorrelationTracker t = tracker(100, 3);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID(), d = UUID.randomUUID();
    t.addCorrelation(b, List.of(a), Map.of()).join();
    t.addCorrelation(c, List.of(b), Map.of()).join();
    t.addCorrelation(a, List.of(c), Map.of()).join();
    CorrelationGraph g = t.descendants(a, 10).join();
    assertThat(g.levels()).containsExactly(List.of(a), List.of(b), List.of(c));
    assertThat(g.limitHit()).isNull();
    assertThat(t.descendants(a, 1).join().limitHit()).isEqualTo(CorrelationGraph.Limit.DEPTH);
    t.addCorrelation(d, List.of(c), Map.of()).join();
    assertThat(t.descendants(a, 10).join().limitHit()).isEqualTo(CorrelationGraph.Limit.NODES);
    assertThatThrownBy(() -> t.ancestors(a, 0).join())
        .hasCauseInstanceOf(IllegalArgumentException.class);
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
    assertThat(d.children()).extracting(DebugDump.NodeInfo::id).containsExactly(c);
  }

  @Test
  void aChildNeedsAParent() {
    assertThatThrownBy(
            () -> tracker(10, 10).addCorrelation(UUID.randomUUID(), List.of(), Map.of()).join())
        .hasCauseInstanceOf(IllegalArgumentException.class);
  }
}
