package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import dev.bloodbank.internal.LogContext;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jspecify.annotations.Nullable;

/** One message on its way to the broker, across all its attempts. */
final class Send {
  final String exchange;
  final String routingKey;
  final AMQP.BasicProperties props;
  final byte[] body;
  final boolean mandatory;
  final CompletableFuture<Void> confirmed = new CompletableFuture<>();
  private final AtomicBoolean done = new AtomicBoolean();
  int attempts;
  // Whether the future completes with the event in the MDC (an application's publish).
  boolean logContext;
  // What the log context shows besides id and type; set with logContext.
  @Nullable String correlationId;
  @Nullable String traceId;

  // Set by the channel for the current attempt; read by the confirm and sweep threads.
  volatile long deadlineNanos;
  volatile @Nullable UnroutableEventException returned;

  Send(
      String exchange,
      String routingKey,
      AMQP.BasicProperties props,
      byte[] body,
      boolean mandatory) {
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.props = props;
    this.body = body;
    this.mandatory = mandatory;
  }

  /** Claims the right to report the final outcome; true exactly once. */
  boolean finish() {
    return done.compareAndSet(false, true);
  }

  boolean isDone() {
    return done.get();
  }

  /** Puts this event in the MDC for the future's callbacks. */
  void putLogContext() {
    LogContext.put(String.valueOf(props.getMessageId()), routingKey, correlationId, traceId);
  }

  @Nullable String messageId() {
    return props.getMessageId();
  }
}
