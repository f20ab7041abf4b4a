package dev.bloodbank.wal;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;

/** Where a {@link WriteAheadLog} lives and how it syncs. Immutable and thread-safe. */
public final class WalOptions {
  /** Default file: {@value}, in the working directory (or {@code WAL_PATH}). */
  public static final String DEFAULT_FILE = "raw_voice_ingest.jsonl";

  /** Default fsync policy: groups of up to 256 records, at most 5 ms apart. */
  public static final FsyncPolicy DEFAULT_FSYNC = FsyncPolicy.batched(Duration.ofMillis(5), 256);

  /** Default number of confirms after which the file is compacted: 10,000. */
  public static final int DEFAULT_COMPACT_AFTER = 10_000;

  /** Default largest event: 8 MiB. */
  public static final int DEFAULT_MAX_RECORD_BYTES = 8 * 1024 * 1024;

  private final Path path;
  private final FsyncPolicy fsync;
  private final int compactAfter;
  private final int maxRecordBytes;

  private WalOptions(Builder b) {
    this.path = b.path;
    this.fsync = b.fsync;
    this.compactAfter = b.compactAfter;
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
   * Returns options for a file, with the other defaults.
   *
   * @param path the log file
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
    return builder().path(Path.of(p == null || p.isBlank() ? DEFAULT_FILE : p.trim())).build();
  }

  /**
   * Returns the log file.
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
   * Returns after how many confirms the file is compacted.
   *
   * @return confirms
   */
  public int compactAfter() {
    return compactAfter;
  }

  /**
   * Returns the largest event accepted.
   *
   * @return bytes
   */
  public int maxRecordBytes() {
    return maxRecordBytes;
  }

  /** Builds {@link WalOptions}. Not thread-safe. */
  public static final class Builder {
    private Path path = Path.of(DEFAULT_FILE);
    private FsyncPolicy fsync = DEFAULT_FSYNC;
    private int compactAfter = DEFAULT_COMPACT_AFTER;
    private int maxRecordBytes = DEFAULT_MAX_RECORD_BYTES;

    private Builder() {}

    /**
     * Sets the file. Default: {@value WalOptions#DEFAULT_FILE}.
     *
     * @param path the log file
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
     * Sets after how many confirms the file is compacted. Default: 10,000.
     *
     * @param confirms 1 to 10,000,000
     * @return this builder
     */
    public Builder compactAfter(int confirms) {
      if (confirms < 1 || confirms > 10_000_000) {
        throw new IllegalArgumentException(
            "compactAfter must be between 1 and 10000000, was " + confirms);
      }
      this.compactAfter = confirms;
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
