package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ProgressTextTest {

  private static String line(double fraction, double remaining, double perSecond) {
    StringBuilder b = new StringBuilder();
    ProgressText.appendPercentAndEta(b, fraction, remaining, perSecond);
    return b.toString();
  }

  @Test
  void showsThePercentAndTheTimeLeftAtThePaceSoFar() {
    assertThat(line(0.25, 300, 10)).isEqualTo("   25%  ETA 0:30");
    assertThat(line(0.5, 65, 1)).isEqualTo("   50%  ETA 1:05");
  }

  @Test
  void countsHoursFromAnHour() {
    assertThat(ProgressText.clock(3599)).isEqualTo("59:59");
    assertThat(ProgressText.clock(3600)).isEqualTo("1:00:00");
    assertThat(ProgressText.clock(2 * 3600 + 5 * 60 + 7)).isEqualTo("2:05:07");
  }

  @Test
  void leavesTheTimeOutWhenDoneOrBeforeAnyPace() {
    assertThat(line(1.0, 0, 50)).isEqualTo("  100%");
    assertThat(line(0.0, 100, 0)).isEqualTo("    0%");
    assertThat(line(1.2, 0, 50)).isEqualTo("  100%");
  }
}
