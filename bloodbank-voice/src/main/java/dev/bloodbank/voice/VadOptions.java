package dev.bloodbank.voice;

import java.nio.file.Path;
import java.util.Objects;

/** How a {@link VoiceActivityDetector} (Silero VAD) decides what is speech. Immutable. */
public final class VadOptions {
  /** Default speech probability threshold: 0.5. */
  public static final float DEFAULT_THRESHOLD = 0.5f;

  /** Default silence that ends a segment: 0.5 s. */
  public static final float DEFAULT_MIN_SILENCE_SECONDS = 0.5f;

  /** Default shortest segment reported: 0.25 s. */
  public static final float DEFAULT_MIN_SPEECH_SECONDS = 0.25f;

  /** Default longest segment before it is split: 20 s. */
  public static final float DEFAULT_MAX_SPEECH_SECONDS = 20f;

  /** Default audio the detector buffers: 60 s (a longer segment is split). */
  public static final float DEFAULT_BUFFER_SECONDS = 60f;

  private final Path model;
  private final float threshold;
  private final float minSilenceSeconds;
  private final float minSpeechSeconds;
  private final float maxSpeechSeconds;
  private final float bufferSeconds;

  private VadOptions(Builder b) {
    this.model = b.model;
    this.threshold = b.threshold;
    this.minSilenceSeconds = b.minSilenceSeconds;
    this.minSpeechSeconds = b.minSpeechSeconds;
    this.maxSpeechSeconds = b.maxSpeechSeconds;
    this.bufferSeconds = b.bufferSeconds;
  }

  /**
   * Returns a builder for a Silero VAD model file ({@code silero_vad.onnx}, v4 or v5).
   *
   * @param model the model file
   * @return a new builder with the defaults
   */
  public static Builder builder(Path model) {
    return new Builder(model);
  }

  /**
   * Returns the model file.
   *
   * @return the path
   */
  public Path model() {
    return model;
  }

  /**
   * Returns the speech probability threshold.
   *
   * @return 0 to 1
   */
  public float threshold() {
    return threshold;
  }

  /**
   * Returns the silence that ends a segment.
   *
   * @return seconds
   */
  public float minSilenceSeconds() {
    return minSilenceSeconds;
  }

  /**
   * Returns the shortest segment reported.
   *
   * @return seconds
   */
  public float minSpeechSeconds() {
    return minSpeechSeconds;
  }

  /**
   * Returns the longest segment before it is split.
   *
   * @return seconds
   */
  public float maxSpeechSeconds() {
    return maxSpeechSeconds;
  }

  /**
   * Returns how much audio the detector buffers.
   *
   * @return seconds
   */
  public float bufferSeconds() {
    return bufferSeconds;
  }

  /** Builds {@link VadOptions}. Not thread-safe. */
  public static final class Builder {
    private final Path model;
    private float threshold = DEFAULT_THRESHOLD;
    private float minSilenceSeconds = DEFAULT_MIN_SILENCE_SECONDS;
    private float minSpeechSeconds = DEFAULT_MIN_SPEECH_SECONDS;
    private float maxSpeechSeconds = DEFAULT_MAX_SPEECH_SECONDS;
    private float bufferSeconds = DEFAULT_BUFFER_SECONDS;

    private Builder(Path model) {
      this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * Sets the speech probability threshold. Default: 0.5.
     *
     * @param threshold 0.01 to 0.99
     * @return this builder
     */
    public Builder threshold(float threshold) {
      this.threshold = range("threshold", threshold, 0.01f, 0.99f);
      return this;
    }

    /**
     * Sets the silence that ends a segment. Default: 0.5 s.
     *
     * @param seconds 0.01 to 60
     * @return this builder
     */
    public Builder minSilenceSeconds(float seconds) {
      this.minSilenceSeconds = range("minSilenceSeconds", seconds, 0.01f, 60f);
      return this;
    }

    /**
     * Sets the shortest segment reported. Default: 0.25 s.
     *
     * @param seconds 0.01 to 60
     * @return this builder
     */
    public Builder minSpeechSeconds(float seconds) {
      this.minSpeechSeconds = range("minSpeechSeconds", seconds, 0.01f, 60f);
      return this;
    }

    /**
     * Sets the longest segment before it is split. Default: 20 s.
     *
     * @param seconds 1 to 600
     * @return this builder
     */
    public Builder maxSpeechSeconds(float seconds) {
      this.maxSpeechSeconds = range("maxSpeechSeconds", seconds, 1f, 600f);
      return this;
    }

    /**
     * Sets how much audio the detector buffers. Default: 60 s.
     *
     * @param seconds 1 to 3600
     * @return this builder
     */
    public Builder bufferSeconds(float seconds) {
      this.bufferSeconds = range("bufferSeconds", seconds, 1f, 3600f);
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if the buffer is shorter than the longest segment
     */
    public VadOptions build() {
      if (bufferSeconds < maxSpeechSeconds) {
        throw new IllegalArgumentException(
            "bufferSeconds ("
                + bufferSeconds
                + ") must be at least maxSpeechSeconds ("
                + maxSpeechSeconds
                + ")");
      }
      return new VadOptions(this);
    }

    private static float range(String name, float v, float min, float max) {
      if (!(v >= min && v <= max)) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + max + ", was " + v);
      }
      return v;
    }
  }
}
