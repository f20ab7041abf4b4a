package dev.bloodbank.wal;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.Publisher;
import java.time.Duration;
import java.util.function.BiConsumer;

/**
 * A publisher with a durable outbox: each event is written to a {@link WriteAheadLog} (and forced
 * to disk) before it is sent, and marked done once the broker confirmed it. Get one with {@link
 * Bloodbank#durablePublisher(dev.bloodbank.PublisherOptions)}.
 *
 * <p>Events whose send failed stay in the log and are sent again, with their original ids, each
 * time the publishing connection comes up and every {@link
 * dev.bloodbank.BloodbankOptions#recoveryInterval()} while the broker is reachable; consumers drop
 * duplicates by event id. Events the broker returned as unroutable ({@link
 * dev.bloodbank.PublisherOptions#mandatory()}) stay in the log too but are only sent again by
 * {@link #replay} (or by the next publisher that opens the log), since no queue was bound for them.
 * The log holds what waits for the broker, so the heap does not grow with an outage.
 *
 * <p>Publishing never waits for the broker: a publish call waits at most for the disk and, while
 * events are logged faster than one thread hands them to the broker, for a confirm timeout. Its
 * future fails with {@link dev.bloodbank.PublishException} when the broker did not confirm the
 * event in time; the event is in the log then and may still arrive later. Thread-safe.
 *
 * @since 0.2.0
 */
public interface DurablePublisher extends Publisher {
  /**
   * Returns the log, for its path and counts. Appending to it directly bypasses this publisher.
   *
   * @return the log
   */
  WriteAheadLog wal();

  /**
   * Returns how many logged events the broker has not confirmed yet.
   *
   * @return the count
   */
  int pendingCount();

  /**
   * Sends every logged event the broker has not confirmed yet, unroutable ones included, oldest
   * first, and waits for the outcomes (those already on their way are waited for, not sent twice).
   *
   * @param timeout the longest wait for the outcomes
   * @return how many of them the broker confirmed within the timeout
   */
  default int replay(Duration timeout) {
    return replay(timeout, (done, total) -> {});
  }

  /**
   * Like {@link #replay(Duration)}, reporting each outcome as it arrives.
   *
   * @param timeout the longest wait for the outcomes
   * @param progress called with the number of outcomes so far and the number of events sent, on a
   *     Bloodbank callback thread
   * @return how many of them the broker confirmed within the timeout
   */
  int replay(Duration timeout, BiConsumer<Integer, Integer> progress);
}
