package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WalRecord;
import dev.bloodbank.wal.WriteAheadLog;
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
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The durable publisher ({@link PublisherOptions.Builder#durable(WalOptions)}): logs each event to
 * a {@link WriteAheadLog} before sending it through an {@link AmqpPublisher}, marks it done on the
 * broker's confirm, and sends whatever the log still holds each time the publishing connection
 * comes up (after a lazy connect, after every recovery, and when it opens a log a crashed process
 * left events in).
 *
 * <p>One thread sends, so events logged while connected go out in order. Events that wait for the
 * broker are held on disk, not in memory: the heap holds at most {@code 2 * maxInFlight} events
 * waiting for the send thread plus one small entry per event whose caller still waits (at most a
 * confirm timeout's worth). Thread-safe.
 */
final class WalPublisher implements Publisher {
  private static final Logger LOG = LoggerFactory.getLogger(WalPublisher.class);
  private static final long TICK_MILLIS = 100;

  private final Bloodbank bus;
  private final PublisherOptions options;
  private final PublisherOptions sendOptions;
  private final WriteAheadLog wal;
  private final EventInterceptor checks;
  private final String exchange;
  private final Source localSource;
  private final long confirmTimeoutNanos;
  private final long drainEveryNanos;
  private final ExecutorService sender;
  private final Semaphore buffered;
  private final Map<Long, Waiting> callers = new ConcurrentHashMap<>();
  private final Set<Long> inFlight = ConcurrentHashMap.newKeySet();
  private final Set<Long> undecodable = ConcurrentHashMap.newKeySet();
  private final AtomicBoolean drainQueued = new AtomicBoolean();
  private final Object delegateLock = new Object();
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

  WalPublisher(Bloodbank bus, PublisherOptions options) {
    this.bus = bus;
    this.options = options;
    WalOptions walOptions = Objects.requireNonNull(options.durable(), "durable");
    ValidationMode mode =
        options.validation() != null ? options.validation() : bus.options().validation();
    this.checks = bus.outboundChecks(mode);
    // Checked before logging; the inner publisher need not check again.
    this.sendOptions =
        PublisherOptions.builder()
            .confirmTimeout(options.confirmTimeout())
            .maxAttempts(options.maxAttempts())
            .backoff(options.backoffBase(), options.backoffCap())
            .maxEventBytes(options.maxEventBytes())
            .maxInFlight(options.maxInFlight())
            .channels(options.channels())
            .mandatory(options.mandatory())
            .validation(ValidationMode.SKIP)
            .build();
    this.exchange = bus.options().exchange();
    this.localSource = Source.local(bus.options().serviceName());
    this.confirmTimeoutNanos = options.confirmTimeout().toNanos();
    this.drainEveryNanos = bus.options().recoveryInterval().toNanos();
    this.buffered = new Semaphore(2 * options.maxInFlight());
    this.wal = WriteAheadLog.open(walOptions);
    this.sender =
        Executors.newSingleThreadExecutor(
            r -> {
              Thread t = new Thread(r, "bloodbank-wal-send");
              t.setDaemon(true);
              return t;
            });
  }

  void start() {
    int pending = wal.pendingCount();
    if (pending > 0) {
      LOG.info(
          "{} holds {} event(s) not confirmed by the broker; they are sent once connected",
          wal.path(),
          pending);
    }
    ticker =
        bus.scheduler()
            .scheduleWithFixedDelay(this::tick, TICK_MILLIS, TICK_MILLIS, TimeUnit.MILLISECONDS);
    bus.onConnected(this::requestDrain);
  }

  @Override
  public PublisherOptions options() {
    return options;
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
      body = bus.codec().encode(checked);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (body.length > options.maxEventBytes()) {
      return CompletableFuture.failedFuture(
          new EventTooLargeException(envelope.eventType(), body.length, options.maxEventBytes()));
    }
    try {
      if (!buffered.tryAcquire(confirmTimeoutNanos, TimeUnit.NANOSECONDS)) {
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
    CompletableFuture<Long> logged;
    try {
      logged = wal.appendAsync(envelope.eventId(), envelope.eventType(), body);
    } catch (RuntimeException e) {
      buffered.release();
      return CompletableFuture.failedFuture(e);
    }
    logged.whenComplete(
        (seq, failure) -> {
          if (failure != null) {
            buffered.release();
            result.completeExceptionally(unwrap(failure));
            return;
          }
          Waiting w = new Waiting(result, envelope, envelope.eventType(), deadline);
          inFlight.add(seq);
          callers.put(seq, w);
          try {
            sender.execute(() -> sendFresh(seq, checked, w));
          } catch (RejectedExecutionException e) {
            buffered.release();
            inFlight.remove(seq);
            callers.remove(seq);
            result.completeExceptionally(
                PublishException.newClosed(exchange, envelope.eventType()));
          }
        });
    return (CompletableFuture<EventEnvelope<T>>) (CompletableFuture<?>) result;
  }

  @Override
  public <T> EventEnvelope<T> publishAndWait(EventEnvelope<T> envelope) {
    try {
      return publish(envelope).get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof BloodbankException) {
        throw (BloodbankException) cause;
      }
      throw new BloodbankException("publish failed: " + cause, cause);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BloodbankException("interrupted while waiting for the broker's confirm", e);
    }
  }

  /** On the send thread: hands a just-logged event to the broker, if connected. */
  private void sendFresh(long seq, EventEnvelope<?> event, Waiting w) {
    try {
      AmqpPublisher d = closed || !bus.isConnected() ? null : delegate();
      if (d == null) {
        inFlight.remove(seq); // stays in the log for the next drain
        return;
      }
      w.handedToBroker = true;
      d.publish(event).whenComplete((e, t) -> outcome(seq, t));
    } catch (RuntimeException e) {
      w.handedToBroker = false;
      inFlight.remove(seq);
      LOG.debug("event {} waits in {}: {}", seq, wal.path(), e.toString());
    } finally {
      buffered.release();
    }
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
        d = bus.newPublisher(sendOptions);
        delegate = d;
      }
      return d;
    }
  }

  /** The broker's answer for a logged event, first send or replay. */
  private void outcome(long seq, @Nullable Throwable failure) {
    Waiting w = callers.remove(seq);
    if (failure == null) {
      wal.markDone(seq);
      inFlight.remove(seq);
      if (w != null) {
        w.future.complete(w.envelope);
      }
      return;
    }
    Throwable cause = unwrap(failure);
    if (isPermanent(cause)) {
      // Sending it again would fail the same way; keeping it would block nothing but fill the log.
      wal.markDone(seq);
      LOG.warn(
          "event {} is removed from {} without being delivered: {}",
          seq,
          wal.path(),
          LogSafe.escape(String.valueOf(cause.getMessage())));
    }
    inFlight.remove(seq);
    if (w != null) {
      w.future.completeExceptionally(cause);
    }
  }

  private static boolean isPermanent(Throwable t) {
    return t instanceof UnroutableEventException
        || t instanceof EventTooLargeException
        || (t instanceof BloodbankException
            && !(t instanceof PublishException)
            && !(t instanceof ConnectionException));
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

  /** Every 100 ms: fail callers that waited a confirm timeout unsent; drain when due. */
  private void tick() {
    try {
      long now = System.nanoTime();
      for (Map.Entry<Long, Waiting> e : callers.entrySet()) {
        Waiting w = e.getValue();
        if (!w.handedToBroker && now - w.deadline > 0 && callers.remove(e.getKey(), w)) {
          w.future.completeExceptionally(
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
          && bus.isConnected()
          && now - lastDrain > drainEveryNanos
          && wal.pendingCount() > inFlight.size()) {
        requestDrain();
      }
    } catch (RuntimeException e) {
      LOG.warn("durable publisher tick failed: {}", e.toString());
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

  /** On the send thread: sends every logged event that is not confirmed and not on its way. */
  private void drain() {
    drainQueued.set(false);
    lastDrain = System.nanoTime();
    if (closed || !bus.isConnected()) {
      return;
    }
    List<WalRecord> pending;
    AmqpPublisher d;
    try {
      pending = wal.pending();
      d = delegate();
    } catch (RuntimeException e) {
      LOG.debug("drain of {} postponed: {}", wal.path(), e.toString());
      return;
    }
    if (d == null) {
      return;
    }
    int sent = 0;
    for (WalRecord r : pending) {
      if (closed || !bus.isConnected()) {
        break;
      }
      long seq = r.seq();
      if (undecodable.contains(seq) || !inFlight.add(seq)) {
        continue;
      }
      EventEnvelope<JsonNode> event;
      try {
        event = bus.codec().decode(r.event());
      } catch (RuntimeException e) {
        inFlight.remove(seq);
        undecodable.add(seq);
        LOG.error(
            "event {} ({}) in {} cannot be decoded and is not sent: {}",
            r.eventId(),
            LogSafe.escape(r.eventType()),
            wal.path(),
            LogSafe.escape(String.valueOf(e.getMessage())));
        continue;
      }
      Waiting w = callers.get(seq);
      if (w != null) {
        w.handedToBroker = true;
      }
      d.publish(event).whenComplete((e, t) -> outcome(seq, t));
      sent++;
    }
    if (sent > 0) {
      LOG.info("sent {} event(s) from {} again after a connection came up", sent, wal.path());
    }
  }

  /**
   * Returns how many logged events the broker has not confirmed yet.
   *
   * @return the count
   */
  int pendingCount() {
    return wal.pendingCount();
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    ScheduledFuture<?> t = ticker;
    if (t != null) {
      t.cancel(false);
    }
    sender.shutdown();
    try {
      sender.awaitTermination(confirmTimeoutNanos, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.shutdownNow();
    AmqpPublisher d = delegate;
    if (d != null) {
      d.close(); // waits for confirms in flight; the rest stays in the log
    }
    for (Map.Entry<Long, Waiting> e : callers.entrySet()) {
      if (callers.remove(e.getKey(), e.getValue())) {
        e.getValue()
            .future
            .completeExceptionally(PublishException.newClosed(exchange, e.getValue().eventType));
      }
    }
    int left = wal.pendingCount();
    wal.close();
    if (left > 0) {
      LOG.info("{} keeps {} event(s) for the next durable publisher", wal.path(), left);
    }
    bus.forget(this);
  }

  boolean isClosed() {
    return closed;
  }
}
