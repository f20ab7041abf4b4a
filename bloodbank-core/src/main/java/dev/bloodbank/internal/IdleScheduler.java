package dev.bloodbank.internal;

import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Not API: a one-thread scheduler whose daemon thread exists only while tasks are scheduled, for
 * timers that must not outlive their work (command leases and timeouts).
 */
public final class IdleScheduler {
  private IdleScheduler() {}

  /**
   * Makes the scheduler. Cancelled tasks leave its queue at once, and its thread ({@code <name>-N})
   * ends a second after the queue empties.
   *
   * @param name the thread name's prefix
   * @param counter numbers the schedulers of one kind
   * @return the scheduler; shut it down when done
   */
  public static ScheduledThreadPoolExecutor create(String name, AtomicInteger counter) {
    int n = counter.incrementAndGet();
    ScheduledThreadPoolExecutor s =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread t = new Thread(r, name + "-" + n);
              t.setDaemon(true);
              return t;
            });
    s.setRemoveOnCancelPolicy(true);
    s.setKeepAliveTime(1, TimeUnit.SECONDS);
    s.allowCoreThreadTimeOut(true);
    return s;
  }
}
