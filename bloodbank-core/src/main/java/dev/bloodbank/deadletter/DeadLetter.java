package dev.bloodbank.deadletter;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * One message of a dead-letter queue, as {@link DeadLetters#peek(String, int)} shows it: the event
 * as it was published and why it failed.
 *
 * <p>The failure fields come from the {@linkplain dev.bloodbank.FailureHeaders headers a Bloodbank
 * subscriber writes}; for a message the broker dead-lettered itself (rejected, expired, over a
 * length or delivery limit) they come from its {@code x-death} header instead, and the reason is
 * the broker's ({@code rejected}, {@code expired}, {@code maxlen}, {@code delivery_limit}).
 * Immutable and thread-safe: the body is copied in and out.
 *
 * @param queue the dead-letter queue it is in
 * @param eventId the AMQP {@code message_id}, else the envelope's {@code event_id}
 * @param eventType the AMQP {@code type}, else the envelope's {@code event_type}
 * @param exchange the exchange the event was first published to
 * @param routingKey the routing key the event was first published with
 * @param failedQueue the queue whose consumer failed: where a replay moves it back to
 * @param reason why it failed, e.g. {@code handler-failed}, {@code invalid}, {@code malformed}
 * @param errorClass the class of the handler's last exception
 * @param errorMessage the message of the handler's last exception
 * @param attempts how many attempts failed, 0 when unknown
 * @param firstFailure when the first attempt failed
 * @param lastFailure when the last attempt failed
 * @param violations schema violations as {@code "<pointer>: <message>"}, for reason {@code invalid}
 * @param headers all AMQP headers, strings decoded
 * @param body the message body as received
 * @since 0.2.0
 */
public record DeadLetter(
    String queue,
    @Nullable String eventId,
    @Nullable String eventType,
    @Nullable String exchange,
    @Nullable String routingKey,
    @Nullable String failedQueue,
    @Nullable String reason,
    @Nullable String errorClass,
    @Nullable String errorMessage,
    int attempts,
    @Nullable Instant firstFailure,
    @Nullable Instant lastFailure,
    List<String> violations,
    Map<String, Object> headers,
    byte[] body) {

  /**
   * Creates a dead letter; the lists, map and body are copied.
   *
   * @throws NullPointerException when the queue, violations, headers or body are null
   */
  public DeadLetter {
    Objects.requireNonNull(queue, "queue");
    violations = List.copyOf(violations);
    headers = Map.copyOf(headers);
    body = body.clone();
  }

  /**
   * Returns a copy of the message body.
   *
   * @return the body bytes
   */
  @Override
  public byte[] body() {
    return body.clone();
  }

  /**
   * Returns the body decoded as UTF-8, which every Bloodbank event is; malformed bytes become
   * U+FFFD.
   *
   * @return the body text
   */
  public String bodyText() {
    return new String(body, StandardCharsets.UTF_8);
  }

  @Override
  public boolean equals(@Nullable Object o) {
    return o instanceof DeadLetter d
        && queue.equals(d.queue)
        && Objects.equals(eventId, d.eventId)
        && Objects.equals(eventType, d.eventType)
        && Objects.equals(exchange, d.exchange)
        && Objects.equals(routingKey, d.routingKey)
        && Objects.equals(failedQueue, d.failedQueue)
        && Objects.equals(reason, d.reason)
        && Objects.equals(errorClass, d.errorClass)
        && Objects.equals(errorMessage, d.errorMessage)
        && attempts == d.attempts
        && Objects.equals(firstFailure, d.firstFailure)
        && Objects.equals(lastFailure, d.lastFailure)
        && violations.equals(d.violations)
        && headers.equals(d.headers)
        && Arrays.equals(body, d.body);
  }

  @Override
  public int hashCode() {
    return Objects.hash(queue, eventId, routingKey, failedQueue, reason) * 31
        + Arrays.hashCode(body);
  }

  @Override
  public String toString() {
    return "DeadLetter{queue="
        + queue
        + ", eventId="
        + eventId
        + ", eventType="
        + eventType
        + ", routingKey="
        + routingKey
        + ", failedQueue="
        + failedQueue
        + ", reason="
        + reason
        + ", attempts="
        + attempts
        + ", bytes="
        + body.length
        + "}";
  }
}
