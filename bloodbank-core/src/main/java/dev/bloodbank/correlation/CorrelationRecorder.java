package dev.bloodbank.correlation;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Records causation links on behalf of publishers without ever blocking or failing them.
 *
 * <p>{@link #record} returns at once. At most a bounded number of recordings are in flight; beyond
 * that, and whenever the tracker fails (Redis down, paused or slow), recordings are dropped and
 * counted. One warning is logged when an outage starts and one message when recording works again,
 * with the number lost meanwhile. Recording resumes by itself. Thread-safe.
 */
public final class CorrelationRecorder {
  private static final Logger LOG = LoggerFactory.getLogger(CorrelationRecorder.class);

  private final CorrelationTracker tracker;
  private final Semaphore permits;
  private final AtomicLong recorded = new AtomicLong();
  private final AtomicLong lost = new AtomicLong();
  private final AtomicLong lostInOutage = new AtomicLong();
  private final AtomicBoolean outage = new AtomicBoolean();

  /**
   * Creates a recorder.
   *
   * @param tracker where links go
   * @param maxPending recordings in flight at most, 1 or more
   */
  public CorrelationRecorder(CorrelationTracker tracker, int maxPending) {
    this.tracker = Objects.requireNonNull(tracker, "tracker");
    if (maxPending < 1) {
      throw new IllegalArgumentException("maxPending must be at least 1, was " + maxPending);
    }
    this.permits = new Semaphore(maxPending);
  }

  /**
   * Records that {@code childId} was caused by {@code parentIds}, in the background.
   *
   * @param childId the event published
   * @param parentIds its causes; nothing is recorded when empty
   * @param metadata JSON-mappable details
   */
  public void record(UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    if (parentIds.isEmpty()) {
      return;
    }
    if (!permits.tryAcquire()) {
      lose("too many recordings in flight (Redis slow or unreachable)");
      return;
    }
    try {
      tracker
          .addCorrelation(childId, parentIds, metadata)
          .whenComplete(
              (v, t) -> {
                permits.release();
                if (t == null) {
                  succeeded();
                } else {
                  lose(rootMessage(t));
                }
              });
    } catch (RuntimeException e) {
      permits.release();
      lose(rootMessage(e));
    }
  }

  private void succeeded() {
    recorded.incrementAndGet();
    if (outage.compareAndSet(true, false)) {
      LOG.info(
          "correlation tracking works again; {} recording(s) were lost during the outage",
          lostInOutage.getAndSet(0));
    }
  }

  private void lose(String why) {
    lost.incrementAndGet();
    lostInOutage.incrementAndGet();
    if (outage.compareAndSet(false, true)) {
      LOG.warn(
          "correlation tracking is failing ({}); publishing goes on, and lost recordings are"
              + " counted until it recovers",
          why);
    }
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String m = String.valueOf(c.getMessage()).replace('\n', ' ').replace('\r', ' ');
    return c.getClass().getSimpleName() + ": " + (m.length() > 200 ? m.substring(0, 200) : m);
  }

  /**
   * Returns how many links were recorded.
   *
   * @return recordings that succeeded
   */
  public long recorded() {
    return recorded.get();
  }

  /**
   * Returns how many recordings were lost (tracker failed, or too many in flight).
   *
   * @return lost recordings
   */
  public long lost() {
    return lost.get();
  }

  /**
   * Returns whether the last recording failed and none has succeeded since.
   *
   * @return true during an outage
   */
  public boolean inOutage() {
    return outage.get();
  }

  /**
   * Returns the tracker links are recorded in.
   *
   * @return the tracker
   */
  public CorrelationTracker tracker() {
    return tracker;
  }
}
