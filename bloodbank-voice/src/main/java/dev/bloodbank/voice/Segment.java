package dev.bloodbank.voice;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

/**
 * A final segment of recognized speech: what was said between two endpoints of a stream. Immutable.
 *
 * @param sessionId the stream's session id
 * @param index 0 for the stream's first segment, then 1, 2, ...
 * @param text the recognized text, trimmed; never empty (empty segments are not reported)
 * @param tokens the tokens the text was made of, as sherpa-onnx renders them (a leading {@code ▁}
 *     of a BPE token becomes a space)
 * @param startSeconds where the segment's speech starts, in seconds of input audio since the stream
 *     opened (the first token's time when the model reports token times)
 * @param endSeconds where the segment ends (the endpoint), in seconds of input audio since the
 *     stream opened
 * @param endedAt the wall-clock time the endpoint was detected
 * @param sampleRate the sample rate of the input audio, in Hz
 */
public record Segment(
    UUID sessionId,
    int index,
    String text,
    List<String> tokens,
    double startSeconds,
    double endSeconds,
    Instant endedAt,
    int sampleRate) {

  /** Checks and copies the components. */
  public Segment {
    if (index < 0) {
      throw new IllegalArgumentException("index must be >= 0, was " + index);
    }
    if (!(startSeconds >= 0 && endSeconds >= startSeconds)) {
      throw new IllegalArgumentException(
          "need 0 <= startSeconds <= endSeconds, was " + startSeconds + ", " + endSeconds);
    }
    if (sampleRate < 1) {
      throw new IllegalArgumentException("sampleRate must be >= 1, was " + sampleRate);
    }
    tokens = List.copyOf(tokens);
  }

  /**
   * Returns the segment's length.
   *
   * @return {@code endSeconds - startSeconds}
   */
  public double durationSeconds() {
    return endSeconds - startSeconds;
  }
}
