package dev.bloodbank.voice;

/**
 * A stretch of speech found by a {@link VoiceActivityDetector}. Immutable, except that the samples
 * array is shared: do not modify it.
 *
 * @param startSeconds where the speech starts, in seconds of input since the detector was created
 *     or reset
 * @param endSeconds where it ends, likewise
 * @param samples the speech, mono, at {@link VoiceActivityDetector#SAMPLE_RATE}
 */
public record SpeechSegment(double startSeconds, double endSeconds, float[] samples) {
  /**
   * Returns the length of the speech.
   *
   * @return seconds
   */
  public double durationSeconds() {
    return endSeconds - startSeconds;
  }
}
