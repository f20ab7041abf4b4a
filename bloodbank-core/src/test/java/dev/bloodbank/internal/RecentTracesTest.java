package dev.bloodbank.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class RecentTracesTest {
  private static String traceparent(int n) {
    return String.format("00-%032x-%016x-01", n + 1, n + 1);
  }

  @Test
  void keepsTheNewestUpToItsCapacityAndAnswersInTheAskedOrder() {
    RecentTraces recent = new RecentTraces(3);
    UUID[] ids = new UUID[5];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = UUID.randomUUID();
      recent.remember(ids[i], traceparent(i));
    }
    assertThat(recent.size()).isEqualTo(3);
    assertThat(recent.of(List.of(ids[4], ids[0], ids[2], ids[3])))
        .containsExactly(traceparent(4), traceparent(2), traceparent(3));
  }

  @Test
  void ignoresWhatIsNotATraceparentAndCountsAnEventOnce() {
    RecentTraces recent = new RecentTraces(2);
    UUID id = UUID.randomUUID();
    recent.remember(id, null);
    recent.remember(id, "00-not-a-trace");
    recent.remember(id, "00-" + "0".repeat(32) + "-" + "1".repeat(16) + "-01");
    assertThat(recent.size()).isZero();
    recent.remember(id, traceparent(1));
    recent.remember(id, traceparent(2));
    UUID other = UUID.randomUUID();
    recent.remember(other, traceparent(3));
    assertThat(recent.of(List.of(id, other))).containsExactly(traceparent(2), traceparent(3));
  }
}
