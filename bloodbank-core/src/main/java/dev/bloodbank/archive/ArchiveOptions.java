package dev.bloodbank.archive;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * The archive's stream queue: its name, retention and binding.
 *
 * <p>RabbitMQ applies retention per segment file: a segment is deleted once all of its events are
 * older than {@link #maxAge()} or the stream is larger than {@link #maxLengthBytes()}, and the
 * segment being written is never deleted. Small segments make retention finer (and cost more
 * files). Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class ArchiveOptions {
  /** Default name of the archive's stream queue: {@code bloodbank.archive}. */
  public static final String DEFAULT_QUEUE = "bloodbank.archive";

  /** Default age after which events may be deleted ({@code x-max-age}): 7 days. */
  public static final Duration DEFAULT_MAX_AGE = Duration.ofDays(7);

  /** Default binding pattern to the bus's exchange: {@code #}, every event. */
  public static final String DEFAULT_BINDING_PATTERN = "#";

  /** Largest segment size RabbitMQ accepts ({@code x-stream-max-segment-size-bytes}): 3 GB. */
  public static final long MAX_SEGMENT_SIZE_BYTES = 3_000_000_000L;

  static final Pattern PATTERN =
      Pattern.compile("(\\*|#|[A-Za-z0-9_-]+)(\\.(\\*|#|[A-Za-z0-9_-]+))*");

  private final String queue;
  private final Duration maxAge;
  private final long maxLengthBytes; // 0: none
  private final long maxSegmentSizeBytes; // 0: the broker's default (500 MB)
  private final String bindingPattern;

  private ArchiveOptions(Builder b) {
    this.queue = b.queue;
    this.maxAge = b.maxAge;
    this.maxLengthBytes = b.maxLengthBytes;
    this.maxSegmentSizeBytes = b.maxSegmentSizeBytes;
    this.bindingPattern = b.bindingPattern;
  }

  /**
   * Returns a builder with the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the options with every default: {@code bloodbank.archive}, 7 days, every event.
   *
   * @return the default options
   */
  public static ArchiveOptions create() {
    return builder().build();
  }

  /**
   * Returns a builder holding these options.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.queue = queue;
    b.maxAge = maxAge;
    b.maxLengthBytes = maxLengthBytes;
    b.maxSegmentSizeBytes = maxSegmentSizeBytes;
    b.bindingPattern = bindingPattern;
    return b;
  }

  /**
   * Returns the name of the stream queue.
   *
   * @return the queue name; default {@value ArchiveOptions#DEFAULT_QUEUE}
   */
  public String queue() {
    return queue;
  }

  /**
   * Returns the age after which a segment whose events are all older may be deleted.
   *
   * @return the maximum age; default 7 days
   */
  public Duration maxAge() {
    return maxAge;
  }

  /**
   * Returns the size above which the oldest segments are deleted.
   *
   * @return bytes, or empty for no limit (the default)
   */
  public OptionalLong maxLengthBytes() {
    return maxLengthBytes > 0 ? OptionalLong.of(maxLengthBytes) : OptionalLong.empty();
  }

  /**
   * Returns the size of one segment file.
   *
   * @return bytes, or empty for the broker's default (500 MB)
   */
  public OptionalLong maxSegmentSizeBytes() {
    return maxSegmentSizeBytes > 0 ? OptionalLong.of(maxSegmentSizeBytes) : OptionalLong.empty();
  }

  /**
   * Returns the pattern that binds the archive to the bus's exchange.
   *
   * @return the pattern; default {@code #}
   */
  public String bindingPattern() {
    return bindingPattern;
  }

  /**
   * Returns the queue arguments the archive is declared with: {@code x-queue-type=stream}, {@code
   * x-max-age} (as {@code 7D}, {@code 12h}, {@code 90m} or {@code 3600s}, the largest whole unit),
   * and {@code x-max-length-bytes} and {@code x-stream-max-segment-size-bytes} when set.
   *
   * @return a new mutable map
   */
  public Map<String, Object> queueArguments() {
    Map<String, Object> args = new LinkedHashMap<>();
    args.put("x-queue-type", "stream");
    args.put("x-max-age", maxAgeArgument(maxAge));
    if (maxLengthBytes > 0) {
      args.put("x-max-length-bytes", maxLengthBytes);
    }
    if (maxSegmentSizeBytes > 0) {
      args.put("x-stream-max-segment-size-bytes", maxSegmentSizeBytes);
    }
    return args;
  }

  /** {@code x-max-age} in the largest unit that divides the age: D, h, m or s. */
  static String maxAgeArgument(Duration age) {
    long s = age.getSeconds();
    if (s % 86_400 == 0) {
      return s / 86_400 + "D";
    }
    if (s % 3_600 == 0) {
      return s / 3_600 + "h";
    }
    if (s % 60 == 0) {
      return s / 60 + "m";
    }
    return s + "s";
  }

  @Override
  public String toString() {
    return "ArchiveOptions" + queueArguments() + " queue=" + queue + " pattern=" + bindingPattern;
  }

  /** Builds {@link ArchiveOptions}. Not thread-safe. */
  public static final class Builder {
    private String queue = DEFAULT_QUEUE;
    private Duration maxAge = DEFAULT_MAX_AGE;
    private long maxLengthBytes;
    private long maxSegmentSizeBytes;
    private String bindingPattern = DEFAULT_BINDING_PATTERN;

    private Builder() {}

    /**
     * Sets the name of the stream queue. Default: {@value ArchiveOptions#DEFAULT_QUEUE}.
     *
     * @param queue 1 to 255 UTF-8 bytes, not starting with {@code amq.}
     * @return this builder
     */
    public Builder queue(String queue) {
      this.queue = checkQueue(queue);
      return this;
    }

    /**
     * Sets the age after which events may be deleted, applied per segment. Default: 7 days.
     *
     * @param maxAge whole seconds, at least 1 s
     * @return this builder
     */
    public Builder maxAge(Duration maxAge) {
      Objects.requireNonNull(maxAge, "maxAge");
      if (maxAge.getSeconds() < 1 || maxAge.getNano() != 0) {
        throw new IllegalArgumentException(
            "maxAge must be a whole number of seconds, at least 1 s, was " + maxAge);
      }
      this.maxAge = maxAge;
      return this;
    }

    /**
     * Sets the size above which the oldest segments are deleted ({@code x-max-length-bytes}).
     * Default: no limit.
     *
     * @param bytes at least 1
     * @return this builder
     */
    public Builder maxLengthBytes(long bytes) {
      if (bytes < 1) {
        throw new IllegalArgumentException("maxLengthBytes must be at least 1, was " + bytes);
      }
      this.maxLengthBytes = bytes;
      return this;
    }

    /**
     * Sets the size of one segment file ({@code x-stream-max-segment-size-bytes}), the unit in
     * which retention deletes. Default: the broker's, 500 MB.
     *
     * @param bytes 1 to {@value ArchiveOptions#MAX_SEGMENT_SIZE_BYTES}
     * @return this builder
     */
    public Builder maxSegmentSizeBytes(long bytes) {
      if (bytes < 1 || bytes > MAX_SEGMENT_SIZE_BYTES) {
        throw new IllegalArgumentException(
            "maxSegmentSizeBytes must be between 1 and "
                + MAX_SEGMENT_SIZE_BYTES
                + ", was "
                + bytes);
      }
      this.maxSegmentSizeBytes = bytes;
      return this;
    }

    /**
     * Sets the pattern that binds the archive to the bus's exchange. Default: {@code #}.
     *
     * @param pattern words of {@code [A-Za-z0-9_-]}, {@code *} or {@code #}, separated by dots
     * @return this builder
     */
    public Builder bindingPattern(String pattern) {
      this.bindingPattern = checkPattern(pattern);
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public ArchiveOptions build() {
      return new ArchiveOptions(this);
    }
  }

  static String checkQueue(String queue) {
    Objects.requireNonNull(queue, "queue");
    int bytes = queue.getBytes(StandardCharsets.UTF_8).length;
    if (queue.isBlank() || bytes > 255) {
      throw new IllegalArgumentException(
          "queue must be 1 to 255 UTF-8 bytes and not blank, was " + bytes + " bytes");
    }
    if (queue.startsWith("amq.")) {
      throw new IllegalArgumentException("queue must not start with the reserved 'amq.'");
    }
    return queue;
  }

  static String checkPattern(String pattern) {
    Objects.requireNonNull(pattern, "pattern");
    if (!PATTERN.matcher(pattern).matches()
        || pattern.getBytes(StandardCharsets.UTF_8).length > 255) {
      throw new IllegalArgumentException(
          "routing-key pattern '"
              + pattern.replaceAll("[\\r\\n]", "?")
              + "' must be dot-separated words of [A-Za-z0-9_-], '*' or '#', at most 255 bytes");
    }
    return pattern;
  }
}
