package dev.bloodbank.correlation;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankException;
import dev.bloodbank.ConnectionException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

class CorrelationRecorderTest {
  /** A tracker whose writes stay pending until the test completes them; reads are not used. */
  static final class PendingTracker implements CorrelationTracker {
    final List<CompletableFuture<Void>> writes = new ArrayList<>();
    RuntimeException throwOnWrite;

    @Override
    public synchronized CompletableFuture<Void> addCorrelation(
        UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
      if (throwOnWrite != null) {
        throw throwOnWrite;
      }
      CompletableFuture<Void> f = new CompletableFuture<>();
      writes.add(f);
      return f;
    }

    synchronized CompletableFuture<Void> write(int i) {
      return writes.get(i);
    }

    @Override
    public CompletableFuture<List<UUID>> parents(UUID id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<Set<UUID>> children(UUID id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<CorrelationGraph> descendants(UUID id, int maxDepth) {
      throw new UnsupportedOperationException();
    }

    @Override
    public CompletableFuture<DebugDump> debugDump(UUID id) {
      throw new UnsupportedOperationException();
    }

    @Override
    public void close() {}
  }

  private static final ConnectionException DOWN =
      new ConnectionException("cannot record: Redis at redis://:****@h:6379 is unreachable", null);

  private final PendingTracker tracker = new PendingTracker();
  private final CorrelationRecorder recorder = new CorrelationRecorder(tracker, 3);

  private void record() {
    recorder.record(UUID.randomUUID(), List.of(UUID.randomUUID()), Map.of("event_type", "t"));
  }

  @Test
  void recordsThroughTheTracker() {
    CorrelationTracker memory = CorrelationTracker.inMemory(100, Duration.ofHours(1));
    CorrelationRecorder r = new CorrelationRecorder(memory, 10);
    UUID parent = UUID.randomUUID(), child = UUID.randomUUID();
    r.record(child, List.of(parent), Map.of("event_type", "x.y"));
    r.record(UUID.randomUUID(), List.of(), Map.of());
    assertThat(memory.parents(child).join()).containsExactly(parent);
    assertThat(r.stats())
        .isEqualTo(
            new CorrelationRecorder.Stats(1, 0, 0, 0, CorrelationRecorder.Health.HEALTHY, null));
    assertThat(r.tracker()).isSameAs(memory);
  }

  @Test
  void beyondTheBoundRecordingsAreDroppedAndCounted() {
    for (int i = 0; i < 5; i++) {
      record();
    }
    assertThat(tracker.writes).hasSize(3);
    assertThat(recorder.lost()).isEqualTo(2);
    assertThat(recorder.stats().inFlight()).isEqualTo(3);
    assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.FAILING);
    assertThat(recorder.stats().lastFailure()).contains("3 recordings in flight");

    tracker.write(0).complete(null);
    record();
    assertThat(tracker.writes).hasSize(4);
    assertThat(recorder.lost()).isEqualTo(2);
  }

  @Test
  void anOutageStartsAtTheFirstFailureAndEndsWithALaterSuccess() {
    record(); // 0: sent before the outage
    record(); // 1: fails, starting the outage
    tracker.write(1).completeExceptionally(DOWN);
    assertThat(recorder.inOutage()).isTrue();
    assertThat(recorder.stats().outages()).isEqualTo(1);
    assertThat(recorder.stats().lastFailure()).contains("unreachable").doesNotContain("s3cret");

    // A success of a recording sent before the outage says nothing about now.
    tracker.write(0).complete(null);
    assertThat(recorder.inOutage()).isTrue();

    record(); // 2: fails during the same outage
    tracker.write(2).completeExceptionally(DOWN);
    assertThat(recorder.stats().outages()).isEqualTo(1);

    record(); // 3: succeeds, ending it
    tracker.write(3).complete(null);
    assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.HEALTHY);
    assertThat(recorder.stats())
        .isEqualTo(
            new CorrelationRecorder.Stats(
                2, 2, 0, 1, CorrelationRecorder.Health.HEALTHY, DOWN.getMessage()));

    record(); // 4: a new outage
    tracker.write(4).completeExceptionally(new BloodbankException("timed out"));
    assertThat(recorder.stats().outages()).isEqualTo(2);
    assertThat(recorder.stats().lastFailure()).isEqualTo("timed out");
  }

  @Test
  void aLateFailureFromBeforeTheRecoveryStartsNoNewOutage() {
    record(); // 0
    record(); // 1: still pending when the outage ends
    tracker.write(0).completeExceptionally(DOWN);
    record(); // 2
    tracker.write(2).complete(null);
    assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.HEALTHY);

    tracker.write(1).completeExceptionally(DOWN);
    assertThat(recorder.health()).isEqualTo(CorrelationRecorder.Health.HEALTHY);
    assertThat(recorder.stats().outages()).isOne();
    assertThat(recorder.lost()).isEqualTo(2);
  }

  @Test
  void neverThrowsWhateverTheTrackerOrTheArgumentsDo() {
    tracker.throwOnWrite = new IllegalStateException("broken");
    assertThatCode(this::record).doesNotThrowAnyException();
    assertThat(recorder.lost()).isEqualTo(1);
    assertThat(recorder.stats().inFlight()).isZero();
    assertThat(recorder.inOutage()).isTrue();
    tracker.throwOnWrite = null;

    assertThatCode(() -> recorder.record(UUID.randomUUID(), null, Map.of()))
        .doesNotThrowAnyException();
    assertThat(recorder.lost()).isEqualTo(2);
  }

  @Test
  void aMalformedRecordingIsLostButIsNoOutage() {
    CorrelationRecorder r =
        new CorrelationRecorder(CorrelationTracker.inMemory(10, Duration.ofHours(1)), 10);
    r.record(UUID.randomUUID(), java.util.Arrays.asList(UUID.randomUUID(), null), Map.of());
    assertThat(r.lost()).isEqualTo(1);
    assertThat(r.health()).isEqualTo(CorrelationRecorder.Health.HEALTHY);
    assertThat(r.stats().outages()).isZero();
  }

  @Test
  void maxPendingIsChecked() {
    assertThatThrownBy(() -> new CorrelationRecorder(tracker, 0))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("maxPending must be between 1 and 1000000, was 0");
  }
}
