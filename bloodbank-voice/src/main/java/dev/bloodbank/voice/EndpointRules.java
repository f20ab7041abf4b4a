package dev.bloodbank.voice;

/**
 * When a stream's current segment ends (an endpoint), after which it is reported as final and the
 * next segment starts. sherpa-onnx's three rules; a segment ends when any one holds. Immutable and
 * thread-safe.
 *
 * <ol>
 *   <li>{@code minTrailingSilenceNoSpeech}: this much silence and nothing recognized yet;
 *   <li>{@code minTrailingSilenceAfterSpeech}: this much silence after something was recognized;
 *   <li>{@code maxUtterance}: the segment is this long, whatever it holds.
 * </ol>
 */
public final class EndpointRules {
  /** sherpa-onnx's defaults: 2.4 s, 1.2 s, 20 s. */
  public static final EndpointRules DEFAULT = new EndpointRules(true, 2.4f, 1.2f, 20f);

  private static final EndpointRules DISABLED = new EndpointRules(false, 2.4f, 1.2f, 20f);

  private final boolean enabled;
  private final float minTrailingSilenceNoSpeech;
  private final float minTrailingSilenceAfterSpeech;
  private final float maxUtterance;

  private EndpointRules(boolean enabled, float noSpeech, float afterSpeech, float maxUtterance) {
    this.enabled = enabled;
    this.minTrailingSilenceNoSpeech = noSpeech;
    this.minTrailingSilenceAfterSpeech = afterSpeech;
    this.maxUtterance = maxUtterance;
  }

  /**
   * Rules with the given thresholds.
   *
   * @param minTrailingSilenceNoSpeech seconds of silence with nothing recognized, 0.01 to 600
   * @param minTrailingSilenceAfterSpeech seconds of silence after speech, 0.01 to 600
   * @param maxUtterance longest segment in seconds, 0.1 to 3600
   * @return the rules
   * @throws IllegalArgumentException naming the value out of range
   */
  public static EndpointRules of(
      double minTrailingSilenceNoSpeech,
      double minTrailingSilenceAfterSpeech,
      double maxUtterance) {
    check("minTrailingSilenceNoSpeech", minTrailingSilenceNoSpeech, 0.01, 600);
    check("minTrailingSilenceAfterSpeech", minTrailingSilenceAfterSpeech, 0.01, 600);
    check("maxUtterance", maxUtterance, 0.1, 3600);
    return new EndpointRules(
        true,
        (float) minTrailingSilenceNoSpeech,
        (float) minTrailingSilenceAfterSpeech,
        (float) maxUtterance);
  }

  /**
   * No endpoints: the whole stream is one segment, final when the input is finished.
   *
   * @return the rules
   */
  public static EndpointRules disabled() {
    return DISABLED;
  }

  private static void check(String name, double v, double min, double max) {
    if (!(v >= min && v <= max)) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + " seconds, was " + v);
    }
  }

  /**
   * Returns whether endpoints are detected at all.
   *
   * @return true unless {@link #disabled()}
   */
  public boolean enabled() {
    return enabled;
  }

  /**
   * Returns rule 1's threshold.
   *
   * @return seconds
   */
  public float minTrailingSilenceNoSpeech() {
    return minTrailingSilenceNoSpeech;
  }

  /**
   * Returns rule 2's threshold.
   *
   * @return seconds
   */
  public float minTrailingSilenceAfterSpeech() {
    return minTrailingSilenceAfterSpeech;
  }

  /**
   * Returns rule 3's threshold.
   *
   * @return seconds
   */
  public float maxUtterance() {
    return maxUtterance;
  }

  @Override
  public String toString() {
    return enabled
        ? "EndpointRules{noSpeech="
            + minTrailingSilenceNoSpeech
            + "s, afterSpeech="
            + minTrailingSilenceAfterSpeech
            + "s, max="
            + maxUtterance
            + "s}"
        : "EndpointRules{disabled}";
  }
}
