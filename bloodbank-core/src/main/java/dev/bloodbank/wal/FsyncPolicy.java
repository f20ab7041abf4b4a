package dev.bloodbank.wal;

import java.time.Duration;
import java.util.Objects;

/**
 * When appended records are forced to disk. Either way, {@link WriteAheadLog#append} returns only
 * once its record is on disk; batching lets concurrent appends share one fsync. Immutable.
 */
public final class FsyncPolicy {
  /** Force every record to disk on its own before its append returns. */
  public static final FsyncPolicy EACH_RECORD = new FsyncPolicy(Duration.ZERO, 1);

  private final Duration maxDelay;
  private final int maxRecords;

  private FsyncPolicy(Duration maxDelay, int maxRecords) {
    this.maxDelay = maxDelay;
    this.maxRecords = maxRecords;
  }

  /**
   * Forces records to disk in groups: when {@code maxRecords} are waiting, or {@code maxDelay}
   * after the first of them, whichever comes first. An append waits for its group.
   *
   * @param maxDelay 1 ms to 1 s
   * @param maxRecords 1 to 100,000
   * @return the policy
   */
  public static FsyncPolicy batched(Duration maxDelay, int maxRecords) {
    Objects.requireNonNull(maxDelay, "maxDelay");
    if (maxDelay.toMillis() < 1 || maxDelay.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("maxDelay must be between 1 ms and 1 s, was " + maxDelay);
    }
    if (maxRecords < 1 || maxRecords > 100_000) {
      throw new IllegalArgumentException(
          "maxRecords must be between 1 and 100000, was " + maxRecords);
    }
    return new FsyncPolicy(maxDelay, maxRecords);
  }

  /**
   * Returns whether every record is forced on its own.
   *
   * @return true for {@link #EACH_RECORD}
   */
  public boolean eachRecord() {
    return maxRecords == 1 && maxDelay.isZero();
  }

  /**
   * Returns the longest a record waits for its group.
   *
   * @return the delay; zero for {@link #EACH_RECORD}
   */
  public Duration maxDelay() {
    return maxDelay;
  }

  /**
   * Returns the size of a group.
   *
   * @return records
   */
  public int maxRecords() {
    return maxRecords;
  }

  @Override
  public String toString() {
    return eachRecord() ? "EACH_RECORD" : "batched(" + maxDelay + ", " + maxRecords + ")";
  }
}
