package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.DurablePublisher;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WalRecord;
import dev.bloodbank.wal.WriteAheadLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable publisher ({@link Bloodbank#durablePublisher(PublisherOptions)}): logs each event to
 * a {@link WriteAheadLog} before sending it through an internal {@link AmqpPublisher}, marks it
 * done on the broker's confirm, and sends whatever the log still holds each time the publishing
 * connection comes up or the broker unblocks (and every recovery interval while some wait).
 *
 * <p>Threads: the caller encodes and appends; once the record is on disk one send thread ({@code
 * bloodbank-wal-send-N}) hands it to the broker, so events logged while connected go out in order.
 * That thread never waits for a confirm or for room in the inner publisher's window: when the
 * window is full or the bus is not connected, the event stays in the log for the next drain (its
 * one write to the socket is bounded like any other: released past a confirm timeout). Outcomes
 * arrive on the bus's I/O pool (marking records done writes to the file); callers' futures complete
 * on the callback executor. The timer only expires callers' deadlines and asks for drains.
 *
 * <p>A drain streams the log's pending events from where the last one stopped, and sends those that
 * are neither on their way nor just appended: a record just appended belongs to its first send (its
 * event id is "fresh" from before the append until that send is decided), so nothing is sent before
 * it is on disk, nor twice by a drain racing the first send. A drain that finds the inner
 * publisher's window full stops, and goes on once half of the window is free, so a backlog drains
 * at the publisher's own rate in batches, one read of the log each. The heap holds at most {@code 2
 * * maxInFlight} events waiting for the send thread plus one small entry per event whose caller
 * still waits (at most a confirm timeout's worth) or that is on its way; the backlog itself stays
 * on disk. Thread-safe.
 */
final class WalPublisher implements DurablePublisher {
  private static final Logger LOG = LoggerFactory.getLogger(WalPublisher.class);
  private static final long TICK_NANOS = TimeUnit.MILLISECONDS.toNanos(100);
  private static final AtomicInteger THREADS = new AtomicInteger();

  private final BusContext ctx;
  private final BusThreads threads;
  private final PublisherOptions options;
  private final PublisherOptions sendOptions;
  private final Function<PublisherOptions, AmqpPublisher> newPublisher;
  private final Consumer<WalPublisher> forget;
  private final WriteAheadLog wal;
  private final EventInterceptor checks;
  private final String exchange;
  private final Source localSource;
  private final long confirmTimeoutNanos;
  private final long drainEveryNanos;
  private final ExecutorService sender;
  private final Semaphore buffered;
  private final Map<Long, Waiting> callers = new ConcurrentHashMap<>();
  // Events on their way to the broker, by sequence number; putting one here claims the send. The
  // future completes with null once confirmed, else with the failure.
  private final Map<Long, CompletableFuture<@Nullable Throwable>> sending =
      new ConcurrentHashMap<>();
  // Event ids between their append and the decision of their first send: not a drain's to send.
  private final Map<UUID, Integer> fresh = new ConcurrentHashMap<>();
  private final AtomicInteger freshCount = new AtomicInteger();
  // Where the next drain starts reading the log; 0 after a drain read it to its end.
  private volatile long cursor;
  private final AtomicBoolean starved = new AtomicBoolean();
  // A starved drain goes on once this few events are on their way: in batches of half the window,
  // not one read of the log per confirm.
  private final int resumeBelow;
  // Returned as unroutable: kept, but sent again only by replay().
  private final Set<Long> parked = ConcurrentHashMap.newKeySet();
  private final Set<Long> undecodable = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean drainQueued = new AtomicBoolean();
  // Held by a drain's pass and a replay's pass over the log: two passes at once would send the
  // same backlog from two threads, and the broker could get it out of order.
  private final ReentrantLock passLock = new ReentrantLock();
  private final Object delegateLock = new Object();
  private final Runnable drainListener = this::requestDrain;
  private volatile @Nullable AmqpPublisher delegate;
  private volatile @Nullable ScheduledFuture<?> ticker;
  private volatile long lastDrain;
  private volatile boolean closed;

  /** A caller waiting for the outcome of an event it published through this publisher. */
  private static final class Waiting {
    final CompletableFuture<Object> future;
    final Object envelope;
    final String eventType;
    final long deadline;
    volatile boolean handedToBroker;

    Waiting(CompletableFuture<Object> future, Object envelope, String eventType, long deadline) {
      this.future = future;
      this.envelope = envelope;
      this.eventType = eventType;
      this.deadline = deadline;
    }
  }

  /**
   * Opens the log and starts the send thread.
   *
   * @param newPublisher makes the inner publisher, once connected
   * @param forget called once when closed
   * @throws dev.bloodbank.wal.WalException if the log cannot be opened
   */
  WalPublisher(
      BusContext ctx,
      PublisherOptions options,
      Function<PublisherOptions, AmqpPublisher> newPublisher,
      Consumer<WalPublisher> forget) {
    this.ctx = ctx;
    this.threads = ctx.threads();
    this.options = options;
    this.newPublisher = newPublisher;
    this.forget = forget;
    WalOptions walOptions = Objects.requireNonNull(options.durable(), "durable");
    this.checks = ctx.checks().outbound(options.validation());
    // Checked before logging; the inner publisher need not check again.
    this.sendOptions = options.mutate().notDurable().validation(ValidationMode.SKIP).build();
    this.exchange = ctx.options().exchange();
    this.localSource = Source.local(ctx.options().serviceName());
    this.confirmTimeoutNanos = options.confirmTimeout().toNanos();
    this.drainEveryNanos = ctx.options().recoveryInterval().toNanos();
    this.buffered = new Semaphore(2 * options.maxInFlight());
    this.resumeBelow = Math.max(1, options.maxInFlight() / 2);
    this.wal = WriteAheadLog.open(walOptions);
    if (ctx.observer() != BusObserver.NOOP) {
      wal.fsyncListener(ctx.observer()::walFsync);
    }
    try {
      int n = THREADS.incrementAndGet();
      this.sender =
          Executors.newSingleThreadExecutor(
              r -> {
                Thread t = new Thread(r, "bloodbank-wal-send-" + n);
                t.setDaemon(true);
                return t;
              });
      if (wal.pendingCount() > 0) {
        LOG.info(
            "{} holds {} event(s) not confirmed by the broker; they are sent once connected",
            wal.path(),
            wal.pendingCount());
      }
      ticker = threads.every(this::tick, TICK_NANOS);
      ctx.connections().onConnected(drainListener);
      ctx.connections().onUnblocked(drainListener);
    } catch (RuntimeException e) {
      wal.close();
      throw e;
    }
  }

  @Override
  public PublisherOptions options() {
    return options;
  }

  @Override
  public WriteAheadLog wal() {
    return wal;
  }

  @Override
  public int pendingCount() {
    return wal.pendingCount();
  }

  @Override
  public <T> CompletableFuture<EventEnvelope<T>> publish(String eventType, T payload) {
    return publish(eventType, payload, List.of());
  }

  @Override
  public <T> CompletableFuture<EventEnvelope<T>> publish(
      String eventType, T payload, List<UUID> parentIds) {
    return AmqpPublisher.publishNew(this, localSource, eventType, payload, parentIds);
  }

  @Override
  @SuppressWarnings("unchecked")
  public <T> CompletableFuture<EventEnvelope<T>> publish(EventEnvelope<T> envelope) {
    if (closed) {
      return CompletableFuture.failedFuture(
          PublishException.newClosed(exchange, envelope.eventType()));
    }
    EventEnvelope<?> checked;
    byte[] body;
    try {
      checked = checks.beforeSend(envelope);
      body = ctx.codec().encode(checked, options.envelopeVersion());
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (body.length > options.maxEventBytes()) {
      return CompletableFuture.failedFuture(
          new EventTooLargeException(envelope.eventType(), body.length, options.maxEventBytes()));
    }
    try {
      long wait = BusThreads.onNeededThread() ? 0 : confirmTimeoutNanos;
      if (!buffered.tryAcquire(wait, TimeUnit.NANOSECONDS)) {
        return CompletableFuture.failedFuture(
            PublishException.newTimedOut(
                exchange, envelope.eventType(), 0, options.confirmTimeout().toMillis()));
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return CompletableFuture.failedFuture(
          PublishException.newClosed(exchange, envelope.eventType()));
    }
    CompletableFuture<Object> result = new CompletableFuture<>();
    long deadline = System.nanoTime() + confirmTimeoutNanos;
    UUID id = envelope.eventId();
    CompletableFuture<Long> logged;
    markFresh(id);
    try {
      logged = wal.appendAsync(id, envelope.eventType(), body);
    } catch (RuntimeException e) {
      unmarkFresh(id);
      buffered.release();
      return CompletableFuture.failedFuture(e);
    }
    // Runs on the appending thread or the log's flush thread: only a hand-off.
    logged.whenComplete(
        (seq, failure) -> {
          if (failure != null) {
            unmarkFresh(id);
            buffered.release();
            threads.fail(result, unwrap(failure));
            return;
          }
          Waiting w = new Waiting(result, envelope, envelope.eventType(), deadline);
          callers.put(seq, w);
          try {
            sender.execute(() -> sendFresh(seq, checked, w));
          } catch (RejectedExecutionException e) {
            // Closing: the event stays in the log for the next publisher.
            unmarkFresh(id);
            buffered.release();
            if (callers.remove(seq, w)) {
              threads.fail(result, PublishException.newClosed(exchange, envelope.eventType()));
            }
          }
        });
    return (CompletableFuture<EventEnvelope<T>>) (CompletableFuture<?>) result;
  }

  @Override
  public <T> EventEnvelope<T> publishAndWait(EventEnvelope<T> envelope) {
    BusThreads.checkMayWait("publishAndWait");
    return AmqpPublisher.await(publish(envelope), options, exchange, envelope.eventType());
  }

  /** On the send thread: hands a just-logged event to the broker, if it can take it now. */
  private void sendFresh(long seq, EventEnvelope<?> event, Waiting w) {
    CompletableFuture<@Nullable Throwable> f = null;
    try {
      if (!closed && ctx.connections().isConnected()) {
        f = send(seq, event);
      }
    } catch (RuntimeException e) {
      LOG.debug("event {} waits in {}: {}", seq, wal.path(), e.toString());
    } finally {
      // From here on a drain may send it (when it is not on its way); the tick fails its caller on
      // time if nothing does.
      unmarkFresh(event.eventId());
      buffered.release();
    }
    if (f != null) {
      attach(seq, w, f);
    }
  }

  private void markFresh(UUID id) {
    fresh.merge(id, 1, Integer::sum);
    freshCount.incrementAndGet();
  }

  private void unmarkFresh(UUID id) {
    fresh.computeIfPresent(id, (k, n) -> n == 1 ? null : n - 1);
    freshCount.decrementAndGet();
  }

  /**
   * Completes a caller with the outcome of the send of its event; from now on its deadline is the
   * send's, not the tick's.
   */
  private void attach(long seq, Waiting w, CompletableFuture<@Nullable Throwable> outcome) {
    w.handedToBroker = true;
    outcome.whenComplete(
        (failure, never) -> {
          if (callers.remove(seq, w)) {
            if (failure == null) {
              threads.complete(w.future, w.envelope);
            } else {
              threads.fail(w.future, failure);
            }
          }
        });
  }

  /**
   * Claims a logged event and hands it to the broker without waiting; its outcome follows in {@link
   * #outcome}.
   *
   * @return the outcome (null once confirmed, else the failure), the one already under way, or null
   *     when the inner publisher has no room now (the event stays in the log)
   */
  private @Nullable CompletableFuture<@Nullable Throwable> send(long seq, EventEnvelope<?> event) {
    CompletableFuture<@Nullable Throwable> mine = new CompletableFuture<>();
    CompletableFuture<@Nullable Throwable> under = sending.putIfAbsent(seq, mine);
    if (under != null) {
      return under;
    }
    AmqpPublisher d;
    CompletableFuture<? extends EventEnvelope<?>> f;
    try {
      d = delegate();
      f = d == null ? null : d.tryPublish(event);
    } catch (RuntimeException e) {
      sending.remove(seq, mine);
      throw e;
    }
    if (f == null) {
      sending.remove(seq, mine);
      return null;
    }
    f.whenComplete((e, t) -> outcome(seq, mine, t));
    return mine;
  }

  private @Nullable AmqpPublisher delegate() {
    AmqpPublisher d = delegate;
    if (d != null && !d.isClosed()) {
      return d;
    }
    synchronized (delegateLock) {
      d = delegate;
      if (d == null || d.isClosed()) {
        if (closed) {
          return null;
        }
        d = newPublisher.apply(sendOptions);
        delegate = d;
      }
      return d;
    }
  }

  /** The broker's answer for a logged event, first send or drain; on an I/O thread. */
  private void outcome(
      long seq, CompletableFuture<@Nullable Throwable> mine, @Nullable Throwable failure) {
    if (failure == null) {
      wal.markDone(seq);
      parked.remove(seq);
      sending.remove(seq, mine);
      mine.complete(null);
      drainIfStarved();
      return;
    }
    Throwable cause = unwrap(failure);
    if (cause instanceof UnroutableEventException) {
      // No queue was bound for it; sending it again at every drain would not change that.
      if (parked.add(seq)) {
        LOG.warn(
            "event {} in {} was returned as unroutable; it stays in the log and is sent again by"
                + " replay(): {}",
            seq,
            wal.path(),
            LogSafe.escape(String.valueOf(cause.getMessage())));
      }
    } else if (isPermanent(cause)) {
      // Sending it again would fail the same way; keeping it would block nothing but fill the log.
      wal.markDone(seq);
      LOG.warn(
          "event {} is removed from {} without being delivered: {}",
          seq,
          wal.path(),
          LogSafe.escape(String.valueOf(cause.getMessage())));
    }
    sending.remove(seq, mine);
    mine.complete(cause);
    drainIfStarved();
  }

  /** A drain stopped for lack of room: goes on once there is room for a batch. */
  private void drainIfStarved() {
    if (sending.size() <= resumeBelow && starved.compareAndSet(true, false)) {
      requestDrain();
    }
  }

  private static boolean isPermanent(Throwable t) {
    return t instanceof EventTooLargeException
        || (t instanceof BloodbankException
            && !(t instanceof PublishException)
            && !(t instanceof ConnectionException)
            && !(t instanceof UnroutableEventException));
  }

  private static Throwable unwrap(Throwable t) {
    while (t instanceof CompletionException || t instanceof ExecutionException) {
      if (t.getCause() == null) {
        break;
      }
      t = t.getCause();
    }
    return t;
  }

  /**
   * On the timer, every 100 ms: fails callers that waited a confirm timeout unsent; asks for a
   * drain when one is due. Never blocks: the log's counts are read by the drain itself.
   */
  private void tick() {
    long now = System.nanoTime();
    for (Map.Entry<Long, Waiting> e : callers.entrySet()) {
      Waiting w = e.getValue();
      if (!w.handedToBroker && now - w.deadline > 0 && callers.remove(e.getKey(), w)) {
        threads.fail(
            w.future,
            PublishException.newConnectionLost(
                exchange,
                w.eventType,
                0,
                new ConnectionException(
                    "not connected to the broker within the confirm timeout; the event stays in "
                        + wal.path()
                        + " and is sent once connected",
                    null)));
      }
    }
    if (!closed
        && waiting() > 0
        && ctx.connections().isConnected()
        && !ctx.connections().isBlocked()
        && now - lastDrain > drainEveryNanos) {
      requestDrain();
    }
  }

  private void requestDrain() {
    if (closed || !drainQueued.compareAndSet(false, true)) {
      return;
    }
    try {
      sender.execute(this::drain);
    } catch (RejectedExecutionException e) {
      drainQueued.set(false);
    }
  }

  /** How many logged events neither go out nor wait for a reason: what a drain would send. */
  private int waiting() {
    return wal.pendingCount()
        - sending.size()
        - freshCount.get()
        - parked.size()
        - undecodable.size();
  }

  /**
   * On the send thread: streams the log from the cursor and sends every pending event that is
   * neither fresh, on its way, parked nor undecodable, until the inner publisher has no room (then
   * the next outcome asks for another drain).
   */
  private void drain() {
    drainQueued.set(false);
    lastDrain = System.nanoTime();
    if (closed || !ctx.connections().isConnected() || ctx.connections().isBlocked()) {
      return;
    }
    if (!passLock.tryLock()) {
      return; // a replay is sending the backlog; the periodic drain comes back after it
    }
    try {
      drainPass();
    } finally {
      passLock.unlock();
    }
  }

  private void drainPass() {
    int[] sent = {0};
    boolean[] full = {false};
    long from = cursor;
    try {
      wal.forEachPending(
          from,
          r -> {
            if (closed || !ctx.connections().isConnected() || ctx.connections().isBlocked()) {
              full[0] = true; // stopped for now: the next drain goes on from here
              cursor = r.seq();
              return false;
            }
            long seq = r.seq();
            if (fresh.containsKey(r.eventId())
                || sending.containsKey(seq)
                || parked.contains(seq)
                || undecodable.contains(seq)) {
              return true;
            }
            EventEnvelope<JsonNode> event = decode(r);
            if (event == null) {
              return true;
            }
            CompletableFuture<@Nullable Throwable> f = send(seq, event);
            if (f == null) {
              full[0] = true;
              cursor = seq;
              starved.set(true);
              // Outcomes may have come before `starved` was set: nobody else asks then.
              drainIfStarved();
              return false;
            }
            Waiting w = callers.get(seq);
            if (w != null) {
              attach(seq, w, f);
            }
            sent[0]++;
            return true;
          });
    } catch (RuntimeException e) {
      LOG.debug("drain of {} postponed: {}", wal.path(), e.toString());
      return;
    }
    if (!full[0]) {
      cursor = 0; // read to the end: the next drain starts from the oldest again
    }
    if (sent[0] > 0) {
      LOG.debug("sent {} event(s) from {} again", sent[0], wal.path());
    }
  }

  private @Nullable EventEnvelope<JsonNode> decode(WalRecord r) {
    try {
      return ctx.codec().decode(r.event());
    } catch (RuntimeException e) {
      if (undecodable.add(r.seq())) {
        LOG.error(
            "event {} ({}) in {} cannot be decoded and is not sent: {}",
            r.eventId(),
            LogSafe.escape(r.eventType()),
            wal.path(),
            LogSafe.escape(String.valueOf(e.getMessage())));
      }
      return null;
    }
  }

  @Override
  public int replay(Duration timeout, BiConsumer<Integer, Integer> progress) {
    Objects.requireNonNull(timeout, "timeout");
    Objects.requireNonNull(progress, "progress");
    BusThreads.checkMayWait("replay");
    long deadline = System.nanoTime() + timeout.toNanos();
    if (closed) {
      throw new BloodbankException("this durable publisher is closed");
    }
    try {
      if (!passLock.tryLock(timeout.toNanos(), TimeUnit.NANOSECONDS)) {
        throw new BloodbankException(
            "replay of " + wal.path() + " found a drain still sending after " + timeout);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BloodbankException("replay of " + wal.path() + " interrupted", e);
    }
    List<CompletableFuture<@Nullable Throwable>> outcomes = new ArrayList<>();
    try {
      parked.clear();
      // The outcomes of what this replay sends or finds on its way; one small entry per event.
      replayPass(deadline, outcomes);
    } finally {
      passLock.unlock();
    }
    return awaitReplay(deadline, outcomes, progress);
  }

  private void replayPass(long deadline, List<CompletableFuture<@Nullable Throwable>> outcomes) {
    wal.forEachPending(
        0,
        r -> {
          long seq = r.seq();
          CompletableFuture<@Nullable Throwable> under = sending.get(seq);
          if (under != null) {
            outcomes.add(under);
            return true;
          }
          if (fresh.containsKey(r.eventId())) {
            return true; // just appended: its own send is on the way
          }
          EventEnvelope<JsonNode> event = decode(r);
          if (event == null) {
            return true;
          }
          CompletableFuture<@Nullable Throwable> f = null;
          // Unlike a drain, a replay waits for room: its caller asked to wait.
          while (f == null && !closed && System.nanoTime() < deadline) {
            f = send(seq, event);
            if (f == null) {
              sleepBriefly();
            }
          }
          if (f == null) {
            return false;
          }
          Waiting w = callers.get(seq);
          if (w != null) {
            attach(seq, w, f);
          }
          outcomes.add(f);
          return true;
        });
  }

  private int awaitReplay(
      long deadline,
      List<CompletableFuture<@Nullable Throwable>> outcomes,
      BiConsumer<Integer, Integer> progress) {
    AtomicInteger done = new AtomicInteger();
    int total = outcomes.size();
    for (CompletableFuture<@Nullable Throwable> f : outcomes) {
      f.whenComplete(
          (failure, t) -> threads.callback(() -> progress.accept(done.incrementAndGet(), total)));
    }
    int confirmed = 0;
    for (CompletableFuture<@Nullable Throwable> f : outcomes) {
      try {
        if (f.get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS) == null) {
          confirmed++;
        }
      } catch (TimeoutException | ExecutionException e) {
        // not confirmed in time: it stays in the log
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return confirmed;
  }

  private static void sleepBriefly() {
    try {
      Thread.sleep(5);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() {
    close(System.nanoTime() + 2 * confirmTimeoutNanos);
  }

  /**
   * Stops accepting events, lets the send thread finish, waits for confirms until the deadline, and
   * closes the log; what was not confirmed stays in it. Idempotent.
   */
  void close(long deadlineNanos) {
    if (closed) {
      return;
    }
    closed = true;
    ScheduledFuture<?> t = ticker;
    if (t != null) {
      t.cancel(false);
    }
    ctx.connections().removeListener(drainListener);
    sender.shutdown();
    try {
      sender.awaitTermination(
          Math.min(confirmTimeoutNanos, Math.max(0, deadlineNanos - System.nanoTime())),
          TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.shutdownNow();
    AmqpPublisher d;
    synchronized (delegateLock) {
      // A delegate() in progress finishes first; later ones see `closed`.
      d = delegate;
      delegate = null;
    }
    if (d != null) {
      d.close(deadlineNanos); // waits for confirms in flight; the rest stays in the log
    }
    // Outcomes run on I/O threads after the inner publisher counts them done: let them mark the
    // log and complete their callers before both go.
    try {
      CompletableFuture.allOf(sending.values().toArray(new CompletableFuture<?>[0]))
          .get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      LOG.debug("{}: some outcomes did not arrive before the deadline", wal.path());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (Map.Entry<Long, Waiting> e : callers.entrySet()) {
      if (callers.remove(e.getKey(), e.getValue())) {
        threads.fail(
            e.getValue().future, PublishException.newClosed(exchange, e.getValue().eventType));
      }
    }
    int left = wal.pendingCount();
    wal.close();
    if (left > 0) {
      LOG.info("{} keeps {} event(s) for the next durable publisher", wal.path(), left);
    }
    forget.accept(this);
  }

  boolean isClosed() {
    return closed;
  }
}
