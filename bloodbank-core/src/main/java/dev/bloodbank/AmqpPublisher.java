package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.validation.SchemaValidationException;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Publisher} over a pool of confirm channels on the bus's publishing connection.
 *
 * <p>The calling thread writes each event to its channel, except while the broker blocks the
 * connection (a memory or disk alarm) or the connection is down and recovering: then sends are
 * held, without writing, until the broker unblocks or the connection is back, or their confirm
 * timeout passes, and retries run on the bus's I/O threads. The bus's timer only checks deadlines.
 * Futures complete on the callback executor ({@code internal} publishers, whose futures only
 * Bloodbank waits on, complete on the I/O pool instead).
 */
final class AmqpPublisher implements Publisher, ConfirmChannel.Outcomes {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpPublisher.class);

  /** Header carrying the event's correlation ids as an array of strings. */
  static final String CORRELATION_IDS_HEADER = "correlation_ids";

  /** How much longer than its bound {@link #publishAndWait} waits before giving up. */
  private static final long WAIT_SLACK_NANOS = TimeUnit.SECONDS.toNanos(5);

  /** Why a send held through its whole confirm timeout failed while the connection was down. */
  private static final String RECOVERING =
      "the publishing connection was down when the attempt's confirm timeout passed (the event was"
          + " not written); the connection is recovering";

  /** How long a batch of completions may make no progress before another thread joins in. */
  private static final long STALLED_NANOS = TimeUnit.MILLISECONDS.toNanos(40);

  private final BusContext ctx;
  private final BusThreads threads;
  private final BusConnections connections;
  private final Connection connection;
  private final PublisherOptions options;
  private final String exchange;
  private final List<ConfirmChannel> channels;
  private final AtomicInteger next = new AtomicInteger();
  private final PublishWindow window;
  private final Set<Send> active = ConcurrentHashMap.newKeySet();
  private final ConcurrentLinkedQueue<Send> held = new ConcurrentLinkedQueue<>();
  private final long confirmTimeoutNanos;
  private final @Nullable EventInterceptor interceptor;
  private final Executor completions;
  private final boolean internal;
  private final boolean logContext;
  // Batches of application futures still being completed, watched for a continuation that blocks.
  private final ConcurrentLinkedQueue<Completion> completing = new ConcurrentLinkedQueue<>();
  private final Runnable releaseHeld = this::releaseHeld;
  private final Runnable onClosed;
  // Immutable: made once rather than per event.
  private final Source localSource;
  private volatile boolean closed;

  /**
   * Creates a publisher and opens its channels (later, if the broker blocks the connection now).
   *
   * @param internal true for the bus's own publishers (retry and dead-letter copies, the durable
   *     publisher's sends): their futures complete on the I/O pool, never behind application code
   * @param onClosed run once when closed, to forget it
   */
  AmqpPublisher(
      BusContext ctx,
      Connection connection,
      PublisherOptions options,
      @Nullable EventInterceptor interceptor,
      boolean internal,
      Runnable onClosed)
      throws IOException {
    this.ctx = ctx;
    this.threads = ctx.threads();
    this.connections = ctx.connections();
    this.connection = connection;
    this.options = options;
    this.exchange = ctx.options().exchange();
    this.window = new PublishWindow(options.maxInFlight());
    this.confirmTimeoutNanos = options.confirmTimeout().toNanos();
    this.interceptor = interceptor;
    this.completions = internal ? threads.io() : threads.callbacks();
    this.logContext = !internal && ctx.options().logContext();
    this.internal = internal;
    this.onClosed = onClosed;
    this.localSource = Source.local(ctx.options().serviceName());
    List<ConfirmChannel> list = new ArrayList<>(options.channels());
    try {
      for (int i = 0; i < options.channels(); i++) {
        list.add(
            new ConfirmChannel(connection, this, this::holdsSends, threads.io(), System::nanoTime));
      }
    } catch (IOException | RuntimeException e) {
      for (ConfirmChannel ch : list) {
        ch.close(0);
      }
      throw e;
    }
    this.channels = List.copyOf(list);
    connections.onUnblocked(releaseHeld);
    connections.onConnected(releaseHeld);
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
    return publishNew(this, localSource, eventType, payload, parentIds);
  }

  /**
   * Builds a new event from this service and publishes it through {@code publisher}: the body of
   * {@link Publisher#publish(String, Object, List)} for each implementation.
   */
  static <T> CompletableFuture<EventEnvelope<T>> publishNew(
      Publisher publisher, Source source, String eventType, T payload, List<UUID> parentIds) {
    EventEnvelope<T> envelope;
    try {
      envelope =
          EventEnvelope.builder(eventType, payload)
              .withSource(source)
              .withCorrelationIds(parentIds)
              .build();
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return publisher.publish(envelope);
  }

  @Override
  public <T> CompletableFuture<EventEnvelope<T>> publish(EventEnvelope<T> envelope) {
    // On a thread Bloodbank needs (a misbehaving interceptor, say), waiting for room would wait
    // for confirms that thread is meant to deliver.
    CompletableFuture<EventEnvelope<T>> f =
        publish(envelope, false, BusThreads.onNeededThread() ? 0 : confirmTimeoutNanos);
    return java.util.Objects.requireNonNull(f);
  }

  /**
   * Publishes unless the window is full, without waiting for room.
   *
   * @return the future, or null when the window is full and nothing was done
   */
  <T> @Nullable CompletableFuture<EventEnvelope<T>> tryPublish(EventEnvelope<T> envelope) {
    if (closed) {
      return CompletableFuture.failedFuture(
          PublishException.newClosed(exchange, envelope.eventType()));
    }
    if (!window.tryAcquire()) {
      return null;
    }
    return publish(envelope, true, 0);
  }

  private <T> @Nullable CompletableFuture<EventEnvelope<T>> publish(
      EventEnvelope<T> envelope, boolean permitted, long waitNanos) {
    if (closed) {
      if (permitted) {
        window.release();
      }
      return CompletableFuture.failedFuture(
          PublishException.newClosed(exchange, envelope.eventType()));
    }
    BusObserver observer = ctx.observer();
    // Started here, on the caller's thread, so the producer span's parent is the caller's span.
    Map<String, Object> headers = observer.tracing() ? new HashMap<>(4) : null;
    BusObserver.Publish observing;
    try {
      observing = observer.publish(exchange, envelope, headers);
    } catch (RuntimeException e) {
      // An application's observation handler failed: publish unobserved rather than not at all.
      LOG.warn("could not observe publishing {}: {}", envelope.eventId(), e.toString());
      observing = BusObserver.Publish.NOOP;
    }
    BusObserver.Publish observed = observing;
    byte[] body;
    try {
      var keyOf = options.partitionKey();
      if (keyOf != null) {
        String key = keyOf.apply(envelope);
        if (key != null) {
          if (headers == null) {
            headers = new HashMap<>(2);
          }
          headers.put(PublisherOptions.PARTITION_KEY_HEADER, key);
        }
      }
      EventEnvelope<?> toEncode = interceptor != null ? interceptor.beforeSend(envelope) : envelope;
      body = ctx.codec().encode(toEncode, options.envelopeVersion());
    } catch (RuntimeException e) {
      if (permitted) {
        window.release();
      }
      if (e instanceof SchemaValidationException) {
        observer.validationFailed(envelope.eventType(), "publish");
      }
      BusObserver.endQuietly(observed, e);
      return CompletableFuture.failedFuture(e);
    }
    if (body.length > options.maxEventBytes()) {
      if (permitted) {
        window.release();
      }
      EventTooLargeException big =
          new EventTooLargeException(envelope.eventType(), body.length, options.maxEventBytes());
      BusObserver.endQuietly(observed, big);
      return CompletableFuture.failedFuture(big);
    }
    Send send =
        new Send(
            exchange,
            envelope.eventType(),
            properties(envelope, headers),
            body,
            options.mandatory());
    send.logContext = logContext;
    if (logContext) {
      List<UUID> parents = envelope.correlationIds();
      send.correlationId = parents.isEmpty() ? null : parents.get(0).toString();
      // The bus's own propagator wrote it just now: no need to check it as one received would be.
      Object traceparent = headers == null ? null : headers.get("traceparent");
      send.traceId =
          traceparent instanceof String t && t.length() >= 35 ? t.substring(3, 35) : null;
    }
    CompletableFuture<Void> settled = send.confirmed;
    if (observed != BusObserver.Publish.NOOP) {
      // Chained before the application's future, not beside it: a future runs its dependents
      // last-registered first, so the application's continuations would run (and be timed)
      // before the publish was measured, and its metric would lag behind the future.
      // A throwing observation handler (the application's) must not fail a confirmed publish.
      settled = settled.whenComplete((v, t) -> BusObserver.endQuietly(observed, t));
    }
    CompletableFuture<EventEnvelope<T>> result = settled.thenApply(v -> envelope);
    if (interceptor != null) {
      result = result.whenComplete((e, t) -> interceptor.afterSend(envelope, t));
    }
    if (permitted) {
      start(send);
    } else {
      submit(send, waitNanos);
    }
    return result;
  }

  /**
   * Sends a prepared message (retry and dead-letter copies of the subscribers) from an I/O thread.
   * Never waits: the copies of a subscriber are bounded by its prefetch, and a delivery thread must
   * not stall, nor even touch the publishing connection.
   */
  CompletableFuture<Void> sendRaw(
      String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    Send send = new Send(exchange, routingKey, props, body, true);
    if (closed) {
      send.finish();
      send.confirmed.completeExceptionally(PublishException.newClosed(exchange, routingKey));
      return send.confirmed;
    }
    if (!window.tryAcquire()) {
      send.finish();
      send.confirmed.completeExceptionally(
          PublishException.newTimedOut(exchange, routingKey, 0, 0));
      return send.confirmed;
    }
    threads.io(
        () -> start(send),
        () -> fail(send, PublishException.newClosed(send.exchange, send.routingKey)));
    return send.confirmed;
  }

  /** Waits up to {@code waitNanos} for room in the window, then sends. */
  private void submit(Send send, long waitNanos) {
    boolean permitted;
    try {
      permitted = window.acquire(waitNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      send.finish();
      send.confirmed.completeExceptionally(
          new BloodbankException("interrupted while waiting to publish", e));
      return;
    }
    if (!permitted) {
      send.attempts = 1;
      if (send.finish()) {
        complete(
            send,
            PublishException.newTimedOut(
                send.exchange,
                send.routingKey,
                0,
                TimeUnit.NANOSECONDS.toMillis(Math.max(waitNanos, confirmTimeoutNanos))));
      }
      return;
    }
    start(send);
  }

  /** Sends with a permit of the window held. */
  private void start(Send send) {
    active.add(send);
    attempt(send);
  }

  /**
   * One attempt: written now, held while the broker blocks or the connection recovers, or retried
   * when it fails.
   */
  private void attempt(Send send) {
    if (closed) {
      fail(send, PublishException.newClosed(send.exchange, send.routingKey));
      return;
    }
    send.attempts++;
    long deadline = System.nanoTime() + confirmTimeoutNanos;
    ConfirmChannel ch = channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
    write(ch, send, deadline);
  }

  private void write(ConfirmChannel ch, Send send, long deadline) {
    try {
      if (!ch.send(send, deadline)) {
        hold(send, deadline);
      }
    } catch (IOException | RuntimeException e) {
      retryOrFail(
          send,
          PublishException.newConnectionLost(send.exchange, send.routingKey, send.attempts, e));
    }
  }

  /**
   * Keeps a send unwritten while the broker blocks or the connection recovers; it times out like
   * one awaiting a confirm.
   */
  private void hold(Send send, long deadline) {
    send.deadlineNanos = deadline;
    held.add(send);
    if (closed) {
      releaseHeld();
    } else if (!holdsSends()) {
      // Released between the check and the add: nobody else would write it before its deadline.
      threads.io(releaseHeld, () -> {});
    }
  }

  /**
   * On an I/O thread when the broker unblocks or the connection has recovered (or on close): writes
   * or fails the held sends.
   */
  private void releaseHeld() {
    Send s;
    while ((s = held.peek()) != null) {
      if (!closed && holdsSends()) {
        return;
      }
      if (!held.remove(s)) {
        continue; // timed out meanwhile
      }
      if (closed) {
        fail(s, PublishException.newClosed(s.exchange, s.routingKey));
      } else {
        ConfirmChannel ch = channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
        write(ch, s, s.deadlineNanos);
      }
    }
  }

  /**
   * Whether sends wait unwritten: the broker blocks the connection, or the connection is down and
   * recovering by itself (a write would fail at once and spend an attempt on an outage that usually
   * lasts seconds). Held sends go out when it unblocks or has recovered ({@link #releaseHeld}), or
   * fail when their confirm timeout passes. A connection that will not come back holds nothing:
   * sends fail at once.
   */
  private boolean holdsSends() {
    return connections.isBlocked() || connections.isRecovering(connection);
  }

  private void retryOrFail(Send send, PublishException failure) {
    // The system publisher's sends are the subscribers' retry and dead-letter copies, not
    // publishes: bloodbank.publish does not time them, so their retries are not counted either.
    if (!internal && !closed && send.attempts < options.maxAttempts()) {
      ctx.observer()
          .publishRetried(send.routingKey, failure.kind().name().toLowerCase(Locale.ROOT));
    }
    if (closed) {
      fail(
          send,
          PublishException.newClosedUnconfirmed(send.exchange, send.routingKey, send.attempts));
      return;
    }
    if (send.attempts >= options.maxAttempts()) {
      fail(send, failure);
      return;
    }
    long delay = backoffNanos(send.attempts);
    LOG.debug(
        "retrying publish to '{}' (attempt {} failed: {}) in {} ms",
        send.routingKey,
        send.attempts,
        failure.kind(),
        TimeUnit.NANOSECONDS.toMillis(delay));
    Runnable closedNow =
        () -> fail(send, PublishException.newClosed(send.exchange, send.routingKey));
    try {
      threads.later(() -> attempt(send), delay, closedNow);
    } catch (RejectedExecutionException e) {
      closedNow.run(); // the bus is closing
    }
  }

  private long backoffNanos(int failedAttempts) {
    long base = options.backoffBase().toNanos();
    long cap = options.backoffCap().toNanos();
    long exp = failedAttempts >= 62 ? cap : Math.min(cap, base << Math.min(failedAttempts - 1, 30));
    double jitter = 0.8 + 0.2 * ThreadLocalRandom.current().nextDouble();
    return (long) (exp * jitter);
  }

  private void fail(Send send, Throwable failure) {
    if (send.finish()) {
      active.remove(send);
      window.release();
      complete(send, failure);
    }
  }

  private void complete(Send send, @Nullable Throwable failure) {
    Runnable task =
        () -> {
          LogContext.Saved outer = null;
          if (send.logContext) {
            outer = LogContext.save();
            send.putLogContext();
          }
          try {
            if (failure == null) {
              send.confirmed.complete(null);
            } else {
              send.confirmed.completeExceptionally(failure);
            }
          } finally {
            if (send.logContext) {
              LogContext.restore(outer);
            }
          }
        };
    try {
      completions.execute(task);
    } catch (RejectedExecutionException e) {
      task.run(); // closing: the future completes all the same
    }
  }

  // ---- outcomes, on the connection's thread or the timer -----------------------------------

  @Override
  public void acked(Send send) {
    ackedAll(List.of(send));
  }

  @Override
  public void ackedAll(List<Send> sends) {
    List<Send> confirmed = new ArrayList<>(sends.size());
    for (Send send : sends) {
      UnroutableEventException returned = send.returned;
      if (returned != null) {
        fail(send, returned);
      } else if (send.finish()) {
        active.remove(send);
        window.release();
        confirmed.add(send);
      }
    }
    if (!confirmed.isEmpty()) {
      // One task per confirm rather than per event: a hand-off can wake a thread each time.
      Completion batch = new Completion(confirmed);
      if (!internal && confirmed.size() > 1) {
        completing.add(batch);
      }
      try {
        completions.execute(batch);
      } catch (RejectedExecutionException e) {
        batch.run();
      }
    }
  }

  @Override
  public void nacked(Send send) {
    retryOrFail(send, PublishException.newNacked(send.exchange, send.routingKey, send.attempts));
  }

  @Override
  public void lost(Send send, Throwable cause) {
    retryOrFail(
        send,
        PublishException.newConnectionLost(send.exchange, send.routingKey, send.attempts, cause));
  }

  @Override
  public void timedOut(Send send) {
    retryOrFail(
        send,
        PublishException.newTimedOut(
            send.exchange, send.routingKey, send.attempts, options.confirmTimeout().toMillis()));
  }

  @Override
  public void stuckWrite(long nanos) {
    connections.releaseStuckWrite(Duration.ofNanos(nanos));
  }

  /**
   * The futures of one multiple confirm, completed in order by whichever threads pull them. A
   * continuation that blocks holds up only its own thread: when a batch makes no progress for a
   * sweep, the timer hands it to one more thread (the callback pool grows), so a continuation
   * waiting for a later future of the same batch is released.
   */
  private static final class Completion implements Runnable {
    final List<Send> sends;
    final AtomicInteger next = new AtomicInteger();
    volatile long progressAt = System.nanoTime();

    Completion(List<Send> sends) {
      this.sends = sends;
    }

    @Override
    public void run() {
      int i;
      while ((i = next.getAndIncrement()) < sends.size()) {
        progressAt = System.nanoTime();
        Send s = sends.get(i);
        if (s.logContext) {
          LogContext.Saved outer = LogContext.save();
          s.putLogContext();
          try {
            s.confirmed.complete(null);
          } finally {
            LogContext.restore(outer);
          }
        } else {
          s.confirmed.complete(null);
        }
      }
    }

    boolean pulled() {
      return next.get() >= sends.size();
    }
  }

  /** On the timer: overdue confirms, expired held sends, stuck writes. Never blocks. */
  void sweep() {
    long now = System.nanoTime();
    if (!completing.isEmpty()) {
      for (Completion c : completing) {
        if (c.pulled()) {
          completing.remove(c);
        } else if (now - c.progressAt > STALLED_NANOS) {
          c.progressAt = now; // one more helper per stalled period
          try {
            completions.execute(c);
          } catch (RejectedExecutionException e) {
            completing.remove(c); // closing: the threads that hold it finish it
          }
        }
      }
    }
    for (ConfirmChannel ch : channels) {
      ch.sweep(now, confirmTimeoutNanos);
    }
    if (!held.isEmpty()) {
      for (Send s : held) {
        if (now - s.deadlineNanos >= 0 && held.remove(s)) {
          if (connections.isRecovering(connection)) {
            lost(s, new IOException(RECOVERING));
          } else {
            timedOut(s);
          }
        }
      }
    }
  }

  int inFlight() {
    return window.inFlight();
  }

  // ---- blocking convenience and lifecycle ----------------------------------------------------

  @Override
  public <T> EventEnvelope<T> publishAndWait(EventEnvelope<T> envelope) {
    BusThreads.checkMayWait("publishAndWait");
    return await(publish(envelope), options, exchange, envelope.eventType());
  }

  /**
   * Waits for a publish future, at most {@link PublisherOptions#maxPublishTime()} plus a margin: it
   * always completes before that.
   */
  static <T> T await(
      CompletableFuture<T> future, PublisherOptions options, String exchange, String eventType) {
    long bound = options.maxPublishTime().toNanos() + WAIT_SLACK_NANOS;
    try {
      return future.get(bound, TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BloodbankException("interrupted while waiting for the broker's confirm", e);
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
    } catch (TimeoutException e) {
      throw PublishException.newTimedOut(
          exchange, eventType, options.maxAttempts(), TimeUnit.NANOSECONDS.toMillis(bound));
    }
  }

  static RuntimeException unwrap(@Nullable Throwable t) {
    while (t instanceof CompletionException || t instanceof ExecutionException) {
      t = t.getCause();
    }
    if (t instanceof BloodbankException) {
      return (BloodbankException) t;
    }
    return new BloodbankException(
        t == null ? "publish failed" : t.getClass().getSimpleName() + ": " + t.getMessage(), t);
  }

  @Override
  public void close() {
    close(System.nanoTime() + confirmTimeoutNanos + TimeUnit.SECONDS.toNanos(5));
  }

  /**
   * Stops accepting events, fails the held ones, waits until the deadline (at most a confirm
   * timeout) for confirms in flight, then closes the channels and fails what is left. Idempotent.
   */
  void close(long deadlineNanos) {
    if (closed) {
      return;
    }
    closed = true;
    connections.removeListener(releaseHeld);
    releaseHeld();
    long now = System.nanoTime();
    try {
      window.awaitDrained(Math.min(confirmTimeoutNanos, Math.max(0, deadlineNanos - now)));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    closeChannels(deadlineNanos);
    for (Send s : active) {
      fail(s, PublishException.newClosed(s.exchange, s.routingKey));
    }
    onClosed.run();
  }

  /** Closes the channels on an I/O thread; past the deadline, fails what they awaited. */
  private void closeChannels(long deadlineNanos) {
    if (connections.isBlocked()) {
      // The broker reads nothing now, so no close-ok would come before the alarm clears: fail
      // what the channels await now and let an I/O thread finish closing them later.
      for (ConfirmChannel ch : channels) {
        ch.failOutstanding(new BloodbankException("closed while the broker blocks publishing"));
      }
      threads.io(
          () -> {
            for (ConfirmChannel ch : channels) {
              ch.close(0);
            }
          },
          () -> {});
      return;
    }
    CompletableFuture<Void> done = new CompletableFuture<>();
    Runnable closeAll =
        () -> {
          try {
            for (ConfirmChannel ch : channels) {
              ch.close(Math.max(0, deadlineNanos - System.nanoTime()));
            }
          } finally {
            done.complete(null);
          }
        };
    threads.io(closeAll, closeAll);
    try {
      done.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      LOG.debug("publisher channels did not close in time; failing what they awaited");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (!done.isDone()) {
      for (ConfirmChannel ch : channels) {
        ch.failOutstanding(
            new BloodbankException("the publisher's channels did not close in time"));
      }
    }
  }

  boolean isClosed() {
    return closed;
  }

  // ---- AMQP properties -------------------------------------------------------------------

  /**
   * The properties the wire contract asks for and nothing that repeats the body: RabbitMQ keeps
   * content-header properties of up to 64 bytes on its process heap, and each property beyond that
   * costs the broker CPU on every message (on 3.10, 65 bytes instead of 64 cost it about a fifth of
   * its publish rate; see the README's Performance section). These take 65 bytes without
   * correlation ids, and the header only when there are some.
   */
  static AMQP.BasicProperties properties(EventEnvelope<?> e) {
    return properties(e, null);
  }

  /** The contract's properties, and {@code traced}'s headers (trace context) when there are any. */
  static AMQP.BasicProperties properties(EventEnvelope<?> e, @Nullable Map<String, Object> traced) {
    AMQP.BasicProperties.Builder b =
        new AMQP.BasicProperties.Builder()
            .deliveryMode(2)
            .contentType("application/json")
            .messageId(e.eventId().toString())
            .timestamp(new Date(e.timestamp().toEpochMilli()));
    if (!e.correlationIds().isEmpty()) {
      List<String> ids = new ArrayList<>(e.correlationIds().size());
      for (UUID id : e.correlationIds()) {
        ids.add(id.toString());
      }
      if (traced == null || traced.isEmpty()) {
        b.headers(Map.of(CORRELATION_IDS_HEADER, ids));
      } else {
        traced.put(CORRELATION_IDS_HEADER, ids);
      }
    }
    if (traced != null && !traced.isEmpty()) {
      b.headers(traced);
    }
    return b.build();
  }
}
