package dev.bloodbank;

/**
 * Names of the AMQP headers a subscriber writes on retried and dead-lettered messages.
 *
 * <p>A message in a dead-letter queue carries all of them; the Python services and the {@code bb}
 * tool read the same names.
 */
public final class FailureHeaders {
  /** Why the message failed: one of the {@code REASON_*} values. */
  public static final String REASON = "x-bloodbank-failure-reason";

  /** Fully qualified class name of the last exception. */
  public static final String ERROR_CLASS = "x-bloodbank-error-class";

  /** Message of the last exception, control characters escaped, at most 1,000 characters. */
  public static final String ERROR_MESSAGE = "x-bloodbank-error-message";

  /**
   * How many attempts failed so far (an integer). A received value is trusted only between 0 and
   * one less than the subscriber's {@link SubscriberOptions#maxAttempts()}: every message gets at
   * least one attempt and never more than the configured number.
   */
  public static final String ATTEMPTS = "x-bloodbank-attempts";

  /** The exchange the event was first published to. */
  public static final String ORIGINAL_EXCHANGE = "x-bloodbank-original-exchange";

  /** The routing key the event was first published with. */
  public static final String ORIGINAL_ROUTING_KEY = "x-bloodbank-original-routing-key";

  /** The queue whose consumer failed. */
  public static final String QUEUE = "x-bloodbank-queue";

  /** When the first attempt failed, ISO-8601 UTC. */
  public static final String FIRST_FAILURE = "x-bloodbank-first-failure";

  /** When the last attempt failed, ISO-8601 UTC. */
  public static final String LAST_FAILURE = "x-bloodbank-last-failure";

  /**
   * The {@code expiration} property the message arrived with. Retry and dead-letter copies carry
   * none, as RabbitMQ's own dead-lettering does, so that a dead letter never expires unseen.
   *
   * @since 0.2.0
   */
  public static final String ORIGINAL_EXPIRATION = "x-bloodbank-original-expiration";

  /**
   * The {@code user_id} property the message arrived with. Copies carry none: the broker refuses a
   * user id other than the publishing connection's own, which would close the channel that forwards
   * every subscriber's copies.
   *
   * @since 0.2.0
   */
  public static final String ORIGINAL_USER_ID = "x-bloodbank-original-user-id";

  /**
   * Prefix of the headers that keep what a copy must not carry on: {@code x-bloodbank-original-cc}
   * and {@code x-bloodbank-original-bcc} hold the producer's {@code CC} and {@code BCC} routing
   * headers, which would make the broker copy each retry or dead letter into the queues they name.
   *
   * @since 0.2.0
   */
  public static final String ORIGINAL_PREFIX = "x-bloodbank-original-";

  /** Schema violations, as a list of {@code "<pointer>: <message>"} strings. */
  public static final String VIOLATIONS = "x-bloodbank-violations";

  /** {@link #REASON}: the handler threw on every attempt. */
  public static final String REASON_HANDLER_FAILED = "handler-failed";

  /** {@link #REASON}: the message could not be decoded as an event; not retried. */
  public static final String REASON_MALFORMED = "malformed";

  /** {@link #REASON}: the event broke its schema; not retried. */
  public static final String REASON_INVALID = "invalid";

  /** {@link #REASON}: the content type is not JSON; not retried. */
  public static final String REASON_UNSUPPORTED_CONTENT_TYPE = "unsupported-content-type";

  private FailureHeaders() {}
}
