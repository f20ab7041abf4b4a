package dev.bloodbank.voice;

import dev.bloodbank.PublisherOptions;
import dev.bloodbank.wal.WalOptions;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link Transcriber} writes into each {@code transcription.voice.completed} event, and
 * where its write-ahead log lives. Immutable and thread-safe.
 */
public final class TranscriptionOptions {
  private final @Nullable String source;
  private final @Nullable String target;
  private final @Nullable String deviceType;
  private final @Nullable String userId;
  private final List<String> tags;
  private final @Nullable String speakerId;
  private final @Nullable String language;
  private final @Nullable String modelName;
  private final WalOptions wal;
  private final @Nullable PublisherOptions publisher;

  private TranscriptionOptions(Builder b) {
    this.source = b.source;
    this.target = b.target;
    this.deviceType = b.deviceType;
    this.userId = b.userId;
    this.tags = b.tags;
    this.speakerId = b.speakerId;
    this.language = b.language;
    this.modelName = b.modelName;
    this.wal = b.wal;
    this.publisher = b.publisher;
  }

  /**
   * Returns a builder with the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder(WalOptions.builder().build());
  }

  /**
   * Returns a builder whose write-ahead log follows {@code WAL_PATH} in the environment.
   *
   * @param env the variables, usually {@code System.getenv()}
   * @return a new builder
   */
  public static Builder fromEnvironment(Map<String, String> env) {
    return new Builder(WalOptions.fromEnvironment(env));
  }

  /**
   * Returns the event's {@code source} field.
   *
   * @return the source, or null for the bus's service name
   */
  public @Nullable String source() {
    return source;
  }

  /**
   * Returns the event's {@code target} field.
   *
   * @return the target, or null
   */
  public @Nullable String target() {
    return target;
  }

  /**
   * Returns {@code context.device_type}.
   *
   * @return the device type, or null
   */
  public @Nullable String deviceType() {
    return deviceType;
  }

  /**
   * Returns {@code context.user_id}.
   *
   * @return the user, or null
   */
  public @Nullable String userId() {
    return userId;
  }

  /**
   * Returns {@code context.tags}.
   *
   * @return the tags; empty when none
   */
  public List<String> tags() {
    return tags;
  }

  /**
   * Returns {@code audio_metadata.speaker_id}.
   *
   * @return the speaker, or null when not known
   */
  public @Nullable String speakerId() {
    return speakerId;
  }

  /**
   * Returns {@code audio_metadata.language}.
   *
   * @return the language, or null for the recognizer's
   */
  public @Nullable String language() {
    return language;
  }

  /**
   * Returns {@code audio_metadata.model}.
   *
   * @return the model name, or null for the recognizer model's name
   */
  public @Nullable String modelName() {
    return modelName;
  }

  /**
   * Returns the write-ahead log settings.
   *
   * @return the settings
   */
  public WalOptions wal() {
    return wal;
  }

  /**
   * Returns the publisher settings (retries, backoff, confirm timeout).
   *
   * @return the settings, or null for the bus's defaults
   */
  public @Nullable PublisherOptions publisher() {
    return publisher;
  }

  /** Builds {@link TranscriptionOptions}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String source;
    private @Nullable String target;
    private @Nullable String deviceType;
    private @Nullable String userId;
    private List<String> tags = List.of();
    private @Nullable String speakerId;
    private @Nullable String language;
    private @Nullable String modelName;
    private WalOptions wal;
    private @Nullable PublisherOptions publisher;

    private Builder(WalOptions wal) {
      this.wal = wal;
    }

    /**
     * Sets the event's {@code source}. Default: the bus's service name.
     *
     * @param source e.g. {@code whisperlivekit}
     * @return this builder
     */
    public Builder source(String source) {
      this.source = nonBlank("source", source);
      return this;
    }

    /**
     * Sets the event's {@code target}. Default: none.
     *
     * @param target e.g. an agent's name
     * @return this builder
     */
    public Builder target(String target) {
      this.target = nonBlank("target", target);
      return this;
    }

    /**
     * Sets {@code context.device_type}. Default: none.
     *
     * @param deviceType e.g. {@code desktop}, {@code mobile}
     * @return this builder
     */
    public Builder deviceType(String deviceType) {
      this.deviceType = nonBlank("deviceType", deviceType);
      return this;
    }

    /**
     * Sets {@code context.user_id}. Default: none.
     *
     * @param userId the speaking user
     * @return this builder
     */
    public Builder userId(String userId) {
      this.userId = nonBlank("userId", userId);
      return this;
    }

    /**
     * Sets {@code context.tags}. Default: none.
     *
     * @param tags free-form tags
     * @return this builder
     */
    public Builder tags(List<String> tags) {
      for (int i = 0; i < tags.size(); i++) {
        nonBlank("tags[" + i + "]", tags.get(i));
      }
      this.tags = List.copyOf(tags);
      return this;
    }

    /**
     * Sets {@code audio_metadata.speaker_id}. Default: none.
     *
     * @param speakerId the speaker
     * @return this builder
     */
    public Builder speakerId(String speakerId) {
      this.speakerId = nonBlank("speakerId", speakerId);
      return this;
    }

    /**
     * Sets {@code audio_metadata.language}. Default: the recognizer's {@link
     * RecognizerOptions#language()}.
     *
     * @param language e.g. {@code en}
     * @return this builder
     */
    public Builder language(String language) {
      this.language = nonBlank("language", language);
      return this;
    }

    /**
     * Sets {@code audio_metadata.model}. Default: the recognizer model's {@link AsrModel#name()}.
     *
     * @param modelName the model's name
     * @return this builder
     */
    public Builder modelName(String modelName) {
      this.modelName = nonBlank("modelName", modelName);
      return this;
    }

    /**
     * Sets the write-ahead log. Default: {@link WalOptions}'s defaults ({@code
     * raw_voice_ingest.wal} in the working directory, batched fsync), or {@code WAL_PATH} with
     * {@link TranscriptionOptions#fromEnvironment}.
     *
     * @param wal the settings
     * @return this builder
     */
    public Builder wal(WalOptions wal) {
      this.wal = Objects.requireNonNull(wal, "wal");
      return this;
    }

    /**
     * Sets the publisher: its retries (default 3 attempts) and exponential backoff apply to each
     * event. Default: the bus's publisher defaults with one channel, so that a session's events
     * reach the broker in order (with more channels they may not).
     *
     * @param publisher the settings
     * @return this builder
     */
    public Builder publisher(PublisherOptions publisher) {
      this.publisher = Objects.requireNonNull(publisher, "publisher");
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public TranscriptionOptions build() {
      return new TranscriptionOptions(this);
    }

    private static String nonBlank(String name, @Nullable String value) {
      if (value == null || value.isBlank()) {
        throw new IllegalArgumentException(name + " must not be blank, was '" + value + "'");
      }
      return value;
    }
  }
}
