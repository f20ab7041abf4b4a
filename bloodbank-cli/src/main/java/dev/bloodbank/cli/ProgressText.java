package dev.bloodbank.cli;

import java.util.Locale;

/** The end of the commands' progress lines: how far along, and how long until done. */
final class ProgressText {
  private ProgressText() {}

  /**
   * Appends {@code " 42%"} and, while something remains at a known pace, {@code " ETA 1:05"}
   * ({@code h:mm:ss} from an hour).
   *
   * @param fraction how much is done, 0 to 1 (more counts as 1)
   * @param remaining units still to do
   * @param perSecond units done per second so far
   */
  static void appendPercentAndEta(
      StringBuilder line, double fraction, double remaining, double perSecond) {
    line.append(String.format(Locale.ROOT, "  %3.0f%%", Math.min(1.0, fraction) * 100));
    if (remaining > 0 && perSecond > 0) {
      line.append("  ETA ").append(clock(Math.round(remaining / perSecond)));
    }
  }

  /** Seconds as {@code m:ss}, or {@code h:mm:ss} from an hour. */
  static String clock(long seconds) {
    long h = seconds / 3600;
    long m = seconds / 60 % 60;
    long s = seconds % 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s)
        : String.format(Locale.ROOT, "%d:%02d", m, s);
  }
}
