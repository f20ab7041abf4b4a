package dev.bloodbank.wal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/** Where a {@link WriteAheadLog} lives and how it syncs and rolls. Immutable and thread-safe. */
public final class WalOptions {
  /**
   * Default log directory: {@value}, in the working directory (or {@code WAL_PATH}). Not the Python
   * services' {@code raw_voice_ingest.jsonl}, a plain file a Java log can import.
   */
  public static final String DEFAULT_PATH = "raw_voice_ingest.wal";

  /** Default fsync policy: groups of up to 256 records, at most 5 ms apart. */
  public static final FsyncPolicy DEFAULT_FSYNC = FsyncPolicy.batched(Duration.ofMillis(5), 256);

  /** Default size at which a segment rolls over to a new one: 64 MiB. */
  public static final long DEFAULT_SEGMENT_BYTES = 64L * 1024 * 1024;

  /** Default age at which a segment rolls over, so that a quiet log's done events go: 1 hour. */
  public static final Duration DEFAULT_SEGMENT_AGE = Duration.ofHours(1);

  /** Default largest event: 8 MiB. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

  private final Path path;
  private final FsyncPolicy fsync;
  private final long segmentBytes;
  private final Duration segmentAge;
  private final int maxRecordBytes;

  private WalOptions(Builder b) {
    this.path = b.path;
    this.fsync = b.fsync;
    this.segmentBytes = b.segmentBytes;
    this.segmentAge = b.segmentAge;
    this.maxRecordBytes = b.maxRecordBytes;
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
   * Returns options for a log directory, with the other defaults.
   *
   * @param path the log's directory (created when missing)
   * @return the options
   */
  public static WalOptions of(Path path) {
    return builder().path(path).build();
  }

  /**
   * Reads {@code WAL_PATH} from the environment, with the other defaults.
   *
   * @param env the variables
   * @return the options
   */
  public static WalOptions fromEnvironment(Map<String, String> env) {
    String p = env.get("WAL_PATH");
    return builder().path(Path.of(p == null || p.isBlank() ? DEFAULT_PATH : p.trim())).build();
  }

  /**
   * Returns a builder holding these options.
   *
   * @return a new builder
   * @since 0.2.0
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.path = path;
    b.fsync = fsync;
    b.segmentBytes = segmentBytes;
    b.segmentAge = segmentAge;
    b.maxRecordBytes = maxRecordBytes;
    return b;
  }

  /**
   * Returns the log's directory.
   *
   * @return the path
   */
  public Path path() {
    return path;
  }

  /**
   * Returns the fsync policy.
   *
   * @return the policy
   */
  public FsyncPolicy fsync() {
    return fsync;
  }

  /**
   * Returns the size at which the active segment rolls over.
   *
   * @return bytes
   * @since 0.2.0
   */
  public long segmentBytes() {
    return segmentBytes;
  }

  /**
   * Returns the age at which the active segment rolls over.
   *
   * @return the age
   * @since 0.2.0
   */
  public Duration segmentAge() {
    return segmentAge;
  }

  /**
   * Returns the largest event accepted.
   *
   * @return bytes
   */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  @Override
  public String toString() {
    return "WalOptions{path="
        + path
        + ", fsync="
        + fsync
        + ", segmentBytes="
        + segmentBytes
        + ", segmentAge="
        + segmentAge
        + ", maxRecordBytes="
        + maxRecordBytes
        + "}";
  }

  /** Builds {@link WalOptions}. Not thread-safe. */
  public static final class Builder {
    private Path path = Path.of(DEFAULT_PATH);
    private FsyncPolicy fsync = DEFAULT_FSYNC;
    private long segmentBytes = DEFAULT_SEGMENT_BYTES;
    private Duration segmentAge = DEFAULT_SEGMENT_AGE;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;

    private Builder() {}

    /**
     * Sets the log's directory; a log in the single-file format of 0.1 at this path is migrated
     * into a directory of that name when opened. Default: {@value WalOptions#DEFAULT_PATH}.
     *
     * @param path the directory
     * @return this builder
     */
    public Builder path(Path path) {
      this.path = Objects.requireNonNull(path, "path");
      return this;
    }

    /**
     * Sets the fsync policy. Default: {@link WalOptions#DEFAULT_FSYNC}.
     *
     * @param fsync the policy
     * @return this builder
     */
    public Builder fsync(FsyncPolicy fsync) {
      this.fsync = Objects.requireNonNull(fsync, "fsync");
      return this;
    }

    /**
     * Sets the size at which the active segment rolls over to a new file; a segment whose events
     * are all confirmed is deleted. Default: 64 MiB.
     *
     * @param bytes 4 KiB to 1 GiB
     * @return this builder
     * @since 0.2.0
     */
    public Builder segmentBytes(long bytes) {
      if (bytes < 4096 || bytes > 1L << 30) {
        throw new IllegalArgumentException(
            "segmentBytes must be between 4096 and 1073741824, was " + bytes);
      }
      this.segmentBytes = bytes;
      return this;
    }

    /**
     * Sets the age at which the active segment rolls over, so that a log with little traffic still
     * deletes the events it confirmed. Default: 1 hour.
     *
     * @param age 1 s to 7 days
     * @return this builder
     * @since 0.2.0
     */
    public Builder segmentAge(Duration age) {
      Objects.requireNonNull(age, "age");
      if (age.compareTo(Duration.ofSeconds(1)) < 0 || age.compareTo(Duration.ofDays(7)) > 0) {
        throw new IllegalArgumentException("segmentAge must be between 1 s and 7 days, was " + age);
      }
      this.segmentAge = age;
      return this;
    }

    /**
     * Sets the largest event accepted. Default: 8 MiB.
     *
     * @param bytes 1 to 128 MiB
     * @return this builder
     */
    public Builder maxRecordBytes(int bytes) {
      if (bytes < 1 || bytes > 128 * 1024 * 1024) {
        throw new IllegalArgumentException(
            "maxRecordBytes must be between 1 and 134217728, was " + bytes);
      }
      this.maxRecordBytes = bytes;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public WalOptions build() {
      return new WalOptions(this);
    }
  }
}
