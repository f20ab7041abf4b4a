package dev.bloodbank.correlation;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records causation links on behalf of publishers without ever blocking or failing them.
 *
 * <p>{@link #record} returns at once and never throws: it hands the link to the tracker, whose
 * answer arrives later. At most {@code maxPending} recordings are in flight; beyond that, and
 * whenever the tracker fails (Redis down, paused or slow: each attempt ends within the command
 * timeout), recordings are dropped and counted in {@link #lost()}. Nothing is retried or buffered,
 * so an outage costs no memory.
 *
 * <p>One warning is logged when an outage starts, with its cause (never a password), and one
 * message when a recording made after that start succeeds again, with the number lost meanwhile.
 * Recording resumes by itself, since the tracker reconnects by itself. A recording the tracker
 * rejects as malformed (e.g. metadata Jackson cannot write) is lost too, but is no outage: the
 * first one is logged, the rest only counted.
 *
 * <p>The recorder does not own the tracker and does not close it. Thread-safe.
 */
public final class CorrelationRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(CorrelationRecorder.class);

  /** Whether recordings currently succeed. */
  public enum Health {
    /** The last recordings succeeded, or none has been attempted yet. */
    HEALTHY,
    /** Recordings fail or are dropped: they are lost until the tracker recovers. */
    FAILING
  }

  /**
   * A snapshot of the recorder's counters. Immutable.
   *
   * @param recorded recordings that succeeded since the recorder was made
   * @param lost recordings dropped or failed since the recorder was made
   * @param inFlight recordings sent and not yet answered
   * @param outages outages since the recorder was made, the current one included
   * @param health whether recordings currently succeed
   * @param lastFailure why the latest outage started, or null when there was none
   */
  public record Stats(
      long recorded,
      long lost,
      int inFlight,
      long outages,
      Health health,
      @Nullable String lastFailure) {}

  private final CorrelationTracker tracker;
  private final int maxPending;
  private final Semaphore permits;
  private final AtomicLong issued = new AtomicLong();
  private final AtomicLong recorded = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong lostInOutage = new AtomicLong();
  private final AtomicBoolean rejectionLogged = new AtomicBoolean();
  private final Object lock = new Object();
  private volatile boolean failing;
  // Recordings issued up to this number were under way when the outage was seen; their success
  // says nothing about the present, so only a later one ends the outage.
  private volatile long outageFence;
  private volatile long outageStartNanos;
  // Likewise, a failure of a recording issued before the success that ended the last outage is a
  // late answer from that outage, not the start of a new one.
  private volatile long recoveryFence;
  private volatile long outages;
  private volatile @Nullable String lastFailure;

  /**
   * Creates a recorder.
   *
   * @param tracker where links go; the recorder does not close it
   * @param maxPending recordings in flight at most, 1 to 1,000,000; {@link
   *     RedisTrackerOptions#DEFAULT_MAX_PENDING_RECORDINGS} is a good value
   * @throws IllegalArgumentException when {@code maxPending} is out of range
   */
  public CorrelationRecorder(CorrelationTracker tracker, int maxPending) {
    this.tracker = Objects.requireNonNull(tracker, "tracker");
    if (maxPending < 1 || maxPending > 1_000_000) {
      throw new IllegalArgumentException(
          "maxPending must be between 1 and 1000000, was " + maxPending);
    }
    this.maxPending = maxPending;
    this.permits = new Semaphore(maxPending);
  }

  /**
   * Records, in the background, that {@code childId} was caused by {@code parentIds}. Returns at
   * once, never throws, never blocks; see the class description for what happens on failure.
   *
   * @param childId the event published
   * @param parentIds its causes; nothing is recorded when empty
   * @param metadata JSON-mappable details, e.g. {@code event_type}
   */
  public void record(UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    try {
      if (parentIds.isEmpty()) {
        return;
      }
      if (!permits.tryAcquire()) {
        failed(
            Long.MAX_VALUE,
            maxPending + " recordings in flight already (Redis slow or unreachable)",
            false);
        return;
      }
      long seq = issued.incrementAndGet();
      CompletableFuture<Void> f;
      try {
        f = tracker.addCorrelation(childId, parentIds, metadata);
      } catch (RuntimeException e) {
        permits.release();
        failed(seq, e);
        return;
      }
      f.whenComplete(
          (v, t) -> {
            permits.release();
            if (t == null) {
              succeeded(seq);
            } else {
              failed(seq, t);
            }
          });
    } catch (RuntimeException e) {
      // A bad argument (a null) or a broken tracker: a publish must not fail for it.
      failed(Long.MAX_VALUE, e);
    }
  }

  private void succeeded(long seq) {
    recorded.incrementAndGet();
    if (!failing || seq <= outageFence) {
      return;
    }
    long lostMeanwhile;
    long millis;
    synchronized (lock) {
      if (!failing || seq <= outageFence) {
        return;
      }
      recoveryFence = seq;
      failing = false;
      lostMeanwhile = lostInOutage.getAndSet(0);
      millis = (System.nanoTime() - outageStartNanos) / 1_000_000;
    }
    LOG.info(
        "correlation tracking works again after {}; {} recording(s) were lost meanwhile",
        Duration.ofMillis(millis),
        lostMeanwhile);
  }

  private void failed(long seq, Throwable t) {
    Throwable cause = RedisCorrelationTracker.unwrap(t);
    String why =
        cause.getMessage() == null
            ? cause.getClass().getName()
            : RedisTrackerOptions.escape(cause.getMessage(), 1000);
    failed(
        seq,
        why,
        cause instanceof IllegalArgumentException || cause instanceof NullPointerException);
  }

  private void failed(long seq, String why, boolean rejected) {
    lost.incrementAndGet();
    if (rejected) {
      if (rejectionLogged.compareAndSet(false, true)) {
        LOG.warn(
            "a causation link could not be recorded ({}); further malformed ones are only counted",
            why);
      }
      return;
    }
    if (!failing && seq <= recoveryFence) {
      // A late answer from the last outage: no news.
      return;
    }
    lostInOutage.incrementAndGet();
    if (failing) {
      return;
    }
    synchronized (lock) {
      if (failing || seq <= recoveryFence) {
        return;
      }
      // The fence first: a success that sees failing set must see the fence of this outage.
      outageFence = issued.get();
      outageStartNanos = System.nanoTime();
      outages++;
      lastFailure = why;
      failing = true;
    }
    LOG.warn(
        "correlation tracking is failing ({}); publishing goes on, lost recordings are counted"
            + " until it recovers",
        why);
  }

  /**
   * Returns how many links were recorded.
   *
   * @return recordings that succeeded since the recorder was made
   */
  public long recorded() {
    return recorded.get();
  }

  /**
   * Returns how many recordings were lost: dropped because too many were in flight, failed in the
   * tracker, or rejected as malformed.
   *
   * @return lost recordings since the recorder was made
   */
  public long lost() {
    return lost.get();
  }

  /**
   * Returns whether recordings are failing: an outage has started and no recording made since has
   * succeeded.
   *
   * @return true during an outage
   */
  public boolean inOutage() {
    return failing;
  }

  /**
   * Returns whether recordings currently succeed.
   *
   * @return {@link Health#FAILING} during an outage, else {@link Health#HEALTHY}
   */
  public Health health() {
    return failing ? Health.FAILING : Health.HEALTHY;
  }

  /**
   * Returns a snapshot of the counters; they are read one after the other, not atomically.
   *
   * @return the counters
   */
  public Stats stats() {
    return new Stats(
        recorded.get(),
        lost.get(),
        maxPending - permits.availablePermits(),
        outages,
        health(),
        lastFailure);
  }

  /**
   * Returns the tracker links are recorded in.
   *
   * @return the tracker
   */
  public CorrelationTracker tracker() {
    return tracker;
  }

  @Override
  public String toString() {
    return "CorrelationRecorder" + stats();
  }
}
