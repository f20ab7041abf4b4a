package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link Publisher} over a pool of confirm channels on the bus's publishing connection. */
final class AmqpPublisher implements Publisher, ConfirmChannel.Outcomes {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpPublisher.class);

  /** Header carrying the event's correlation ids as an array of strings. */
  static final String CORRELATION_IDS_HEADER = "correlation_ids";

  private final Bloodbank bus;
  private final PublisherOptions options;
  private final String exchange;
  private final List<ConfirmChannel> channels;
  private final AtomicInteger next = new AtomicInteger();
  private final PublishWindow window;
  private final Set<Send> active = ConcurrentHashMap.newKeySet();
  private final long confirmTimeoutNanos;
  private final @Nullable EventInterceptor interceptor;
  // Immutable: made once rather than per event.
  private final Source localSource;
  private volatile boolean closed;

  AmqpPublisher(
      Bloodbank bus,
      Connection connection,
      PublisherOptions options,
      @Nullable EventInterceptor interceptor)
      throws IOException {
    this.bus = bus;
    this.options = options;
    this.exchange = bus.options().exchange();
    this.window = new PublishWindow(options.maxInFlight());
    this.confirmTimeoutNanos = options.confirmTimeout().toNanos();
    this.interceptor = interceptor;
    this.localSource = Source.local(bus.options().serviceName());
    List<ConfirmChannel> list = new ArrayList<>(options.channels());
    try {
      for (int i = 0; i < options.channels(); i++) {
        list.add(new ConfirmChannel(connection, this));
      }
    } catch (IOException | RuntimeException e) {
      for (ConfirmChannel ch : list) {
        ch.close();
      }
      throw e;
    }
    this.channels = List.copyOf(list);
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
    if (closed) {
      return CompletableFuture.failedFuture(
          PublishException.newClosed(exchange, envelope.eventType()));
    }
    byte[] body;
    try {
      EventEnvelope<?> toEncode = interceptor != null ? interceptor.beforeSend(envelope) : envelope;
      body = bus.codec().encode(toEncode);
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    if (body.length > options.maxEventBytes()) {
      return CompletableFuture.failedFuture(
          new EventTooLargeException(envelope.eventType(), body.length, options.maxEventBytes()));
    }
    Send send =
        new Send(exchange, envelope.eventType(), properties(envelope), body, options.mandatory());
    CompletableFuture<EventEnvelope<T>> result = send.confirmed.thenApply(v -> envelope);
    if (interceptor != null) {
      result = result.whenComplete((e, t) -> interceptor.afterSend(envelope, t));
    }
    submit(send);
    return result;
  }

  /** Sends a prepared message (retry and dead-letter copies of the subscribers). */
  CompletableFuture<Void> sendRaw(
      String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    Send send = new Send(exchange, routingKey, props, body, true);
    if (closed) {
      send.confirmed.completeExceptionally(PublishException.newClosed(exchange, routingKey));
      return send.confirmed;
    }
    submit(send);
    return send.confirmed;
  }

  private void submit(Send send) {
    boolean permitted;
    try {
      permitted = window.acquire(confirmTimeoutNanos);
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
                send.exchange, send.routingKey, 0, options.confirmTimeout().toMillis()));
      }
      return;
    }
    active.add(send);
    attempt(send);
  }

  private void attempt(Send send) {
    if (closed) {
      fail(send, PublishException.newClosed(send.exchange, send.routingKey));
      return;
    }
    send.attempts++;
    ConfirmChannel ch = channels.get(Math.floorMod(next.getAndIncrement(), channels.size()));
    try {
      ch.send(send, System.nanoTime() + confirmTimeoutNanos);
    } catch (IOException | RuntimeException e) {
      retryOrFail(
          send,
          PublishException.newConnectionLost(send.exchange, send.routingKey, send.attempts, e));
    }
  }

  private void retryOrFail(Send send, PublishException failure) {
    if (closed || send.attempts >= options.maxAttempts()) {
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
    bus.scheduler().schedule(() -> attempt(send), delay, TimeUnit.NANOSECONDS);
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
    bus.callbacks()
        .execute(
            () -> {
              if (failure == null) {
                send.confirmed.complete(null);
              } else {
                send.confirmed.completeExceptionally(failure);
              }
            });
  }

  // ---- outcomes, on the connection thread --------------------------------------------------

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
      bus.callbacks()
          .execute(
              () -> {
                for (Send s : confirmed) {
                  s.confirmed.complete(null);
                }
              });
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

  void sweep() {
    long now = System.nanoTime();
    for (ConfirmChannel ch : channels) {
      ch.sweep(now);
    }
  }

  int inFlight() {
    return window.inFlight();
  }

  // ---- blocking convenience and lifecycle ----------------------------------------------------

  @Override
  public <T> EventEnvelope<T> publishAndWait(EventEnvelope<T> envelope) {
    try {
      return publish(envelope).get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new BloodbankException("interrupted while waiting for the broker's confirm", e);
    } catch (ExecutionException e) {
      throw unwrap(e.getCause());
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
    if (closed) {
      return;
    }
    closed = true;
    try {
      window.awaitDrained(confirmTimeoutNanos);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    for (ConfirmChannel ch : channels) {
      ch.close();
    }
    for (Send s : active) {
      fail(s, PublishException.newClosed(s.exchange, s.routingKey));
    }
    bus.forget(this);
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
      b.headers(Map.of(CORRELATION_IDS_HEADER, ids));
    }
    return b.build();
  }
}
