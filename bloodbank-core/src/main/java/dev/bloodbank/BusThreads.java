package dev.bloodbank;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The threads of one bus, each with one job. The rules of what may run where are written here once
 * (and in the "Threads" section of the package documentation):
 *
 * <ul>
 *   <li><b>timer</b> ({@code bloodbank-timer}), one thread, for deadlines only: confirm timeouts,
 *       held sends that expire, stuck writes, delayed hand-offs. It never does I/O and never runs
 *       application code, so no broker, disk or handler can stop a timeout from firing. A delayed
 *       task that does I/O is scheduled with {@link #later}, which hands it to the I/O pool when
 *       due.
 *   <li><b>io</b> ({@code bloodbank-io-N}): publish retries and held sends, channel opens, lazy
 *       connects, acknowledgement flushes, durable-publisher drains and closing. Its tasks may wait
 *       on the broker or the disk for a bounded time. It adds a thread whenever every thread is
 *       busy, so a task that waits never holds up another; idle threads end after 30 s. It never
 *       runs application code.
 *   <li><b>callbacks</b> ({@code bloodbank-callbacks-N}, or the application's {@link
 *       BloodbankOptions#callbackExecutor()}): completes publish futures and runs listeners, that
 *       is application code, which may block. The bus's own pool adds a thread whenever every
 *       thread is busy, so a continuation that waits for another publish never stalls the
 *       completion it waits for.
 *   <li>The publishing connection's own threads (amqp-client's I/O loop and heartbeat): they read
 *       confirms, so nothing there may wait for one.
 * </ul>
 *
 * <p>Threads Bloodbank needs in order to make progress (timer, io, the publishing connection's) are
 * marked; a blocking call made on one of them ({@link Publisher#publishAndWait}) fails at once with
 * a clear message instead of waiting on itself. Thread-safe.
 */
final class BusThreads {
  private static final Logger LOG = LoggerFactory.getLogger(BusThreads.class);

  /** The role of the current thread when Bloodbank needs it to make progress; null otherwise. */
  private static final ThreadLocal<@Nullable String> NEEDED = new ThreadLocal<>();

  private final ScheduledThreadPoolExecutor timer;
  private final ThreadPoolExecutor io;
  private final Executor callbacks;
  private final @Nullable ThreadPoolExecutor ownCallbacks;

  BusThreads(@Nullable Executor callbackExecutor) {
    ScheduledThreadPoolExecutor t = new ScheduledThreadPoolExecutor(1, factory("timer", true));
    t.setRemoveOnCancelPolicy(true);
    t.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
    this.timer = t;
    this.io = growing("io", true, 30);
    if (callbackExecutor != null) {
      this.callbacks = callbackExecutor;
      this.ownCallbacks = null;
    } else {
      ThreadPoolExecutor own = growing("callbacks", false, 60);
      this.callbacks = own;
      this.ownCallbacks = own;
    }
  }

  /** A pool without a queue that adds a thread whenever each one is busy. */
  private static ThreadPoolExecutor growing(String role, boolean needed, int keepAliveSeconds) {
    return new ThreadPoolExecutor(
        0,
        Integer.MAX_VALUE,
        keepAliveSeconds,
        TimeUnit.SECONDS,
        new SynchronousQueue<>(),
        factory(role, needed));
  }

  /**
   * Names threads {@code bloodbank-<role>-N}, makes them daemons, and marks them when Bloodbank
   * needs them to make progress.
   */
  static ThreadFactory factory(String role, boolean needed) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Runnable body =
          needed
              ? () -> {
                NEEDED.set(role);
                r.run();
              }
              : r;
      Thread t = new Thread(body, "bloodbank-" + role + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }

  /**
   * Fails when the current thread is one Bloodbank needs to make progress, where waiting for an
   * outcome would wait on itself.
   *
   * @param operation what the caller was about to wait for, for the message
   * @throws IllegalStateException on such a thread
   */
  static void checkMayWait(String operation) {
    String role = NEEDED.get();
    if (role != null) {
      throw new IllegalStateException(
          operation
              + " cannot wait on thread '"
              + Thread.currentThread().getName()
              + "': Bloodbank needs this "
              + role
              + " thread to complete publishes, so the wait would never end; use the returned"
              + " future with a continuation instead");
    }
  }

  /** Whether the current thread is one Bloodbank needs to make progress. */
  static boolean onNeededThread() {
    return NEEDED.get() != null;
  }

  /**
   * Runs a deadline check every period on the timer. The check must not block or do I/O.
   *
   * @throws RejectedExecutionException when the bus is closed
   */
  ScheduledFuture<?> every(Runnable check, long periodNanos) {
    return timer.scheduleWithFixedDelay(
        guarded(check), periodNanos, periodNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Runs a non-blocking task on the timer after a delay.
   *
   * @throws RejectedExecutionException when the bus is closed
   */
  ScheduledFuture<?> atDeadline(Runnable check, long delayNanos) {
    return timer.schedule(guarded(check), delayNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Hands a task that may do I/O to the I/O pool after a delay; the timer only hands it over.
   *
   * @param onClosed run instead when the task cannot be run because the bus is closing
   * @throws RejectedExecutionException when the bus is closed already
   */
  ScheduledFuture<?> later(Runnable task, long delayNanos, Runnable onClosed) {
    return timer.schedule(() -> io(task, onClosed), delayNanos, TimeUnit.NANOSECONDS);
  }

  /**
   * Runs a task that may do I/O on the I/O pool.
   *
   * @param onClosed run on the calling thread instead when the pool is shut down
   */
  void io(Runnable task, Runnable onClosed) {
    try {
      io.execute(task);
    } catch (RejectedExecutionException e) {
      onClosed.run();
    }
  }

  /** The I/O pool, for tasks that may wait on the broker or the disk for a bounded time. */
  Executor io() {
    return io;
  }

  /** The executor that runs application code. */
  Executor callbacks() {
    return callbacks;
  }

  /**
   * Runs application code on the callback executor; on the calling thread when that executor
   * refuses (closing), so that a future failed during close still completes.
   */
  void callback(Runnable task) {
    try {
      callbacks.execute(task);
    } catch (RejectedExecutionException e) {
      task.run();
    }
  }

  /** Completes a future on the callback executor. */
  <T> void complete(CompletableFuture<T> future, @Nullable T value) {
    callback(() -> future.complete(value));
  }

  /** Fails a future on the callback executor. */
  void fail(CompletableFuture<?> future, Throwable failure) {
    callback(() -> future.completeExceptionally(failure));
  }

  /**
   * Stops the timer and the pools: the timer at once, then waits for running I/O tasks and, for the
   * bus's own callback pool, running callbacks until the deadline, then interrupts what is left.
   * Never waits for the pool the calling thread belongs to.
   */
  void shutdown(long deadlineNanos) {
    timer.shutdownNow();
    io.shutdown();
    ThreadPoolExecutor own = ownCallbacks;
    if (own != null) {
      own.shutdown();
    }
    String current = Thread.currentThread().getName();
    awaitTermination(io, deadlineNanos, current.startsWith("bloodbank-io-"));
    if (own != null) {
      awaitTermination(own, deadlineNanos, current.startsWith("bloodbank-callbacks-"));
    }
  }

  private static void awaitTermination(
      ExecutorService pool, long deadlineNanos, boolean currentIsMember) {
    if (!currentIsMember) {
      try {
        if (pool.awaitTermination(
            Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS)) {
          return;
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    if (!pool.isTerminated()) {
      pool.shutdownNow();
    }
  }

  /** Keeps a periodic timer task alive when one run throws. */
  private static Runnable guarded(Runnable check) {
    return () -> {
      try {
        check.run();
      } catch (RuntimeException e) {
        LOG.warn("a Bloodbank timer task failed: {}", e.toString(), e);
      }
    };
  }
}
