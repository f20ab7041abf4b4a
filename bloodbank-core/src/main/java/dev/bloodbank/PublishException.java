package dev.bloodbank;

import org.jspecify.annotations.Nullable;

/**
 * A publish that the broker did not confirm.
 *
 * <p>{@link #kind()} tells why. {@link Kind#NACKED}, {@link Kind#TIMED_OUT} and {@link
 * Kind#CONNECTION_LOST} are transient: the publisher retries them itself and reports this exception
 * only once its attempts are used up. A timed-out or lost publish may still have reached the
 * broker; consumers drop the duplicate by event id.
 */
public final class PublishException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  /** Why a publish failed. */
  public enum Kind {
    /** The broker answered with a negative confirm (basic.nack). */
    NACKED,
    /** No confirm arrived within the publish timeout. */
    TIMED_OUT,
    /** The channel or connection closed before the confirm arrived. */
    CONNECTION_LOST,
    /** The publisher or its {@link Bloodbank} was closed. */
    CLOSED
  }

  private final Kind kind;
  private final String exchange;
  private final String routingKey;
  private final int attempts;

  private PublishException(
      Kind kind,
      String exchange,
      String routingKey,
      int attempts,
      String message,
      @Nullable Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.attempts = attempts;
  }

  static PublishException newNacked(String exchange, String routingKey, int attempts) {
    return new PublishException(
        Kind.NACKED,
        exchange,
        routingKey,
        attempts,
        String.format(
            "broker nacked the event published to exchange '%s' with routing key '%s' (%d attempt%s)",
            exchange, routingKey, attempts, attempts == 1 ? "" : "s"),
        null);
  }

  static PublishException newTimedOut(
      String exchange, String routingKey, int attempts, long timeoutMillis) {
    return new PublishException(
        Kind.TIMED_OUT,
        exchange,
        routingKey,
        attempts,
        String.format(
            "no broker confirm within %d ms for the event published to exchange '%s' with routing"
                + " key '%s' (%d attempt%s)",
            timeoutMillis, exchange, routingKey, attempts, attempts == 1 ? "" : "s"),
        null);
  }

  static PublishException newConnectionLost(
      String exchange, String routingKey, int attempts, @Nullable Throwable cause) {
    return new PublishException(
        Kind.CONNECTION_LOST,
        exchange,
        routingKey,
        attempts,
        String.format(
            "connection lost before the broker confirmed the event published to exchange '%s' with"
                + " routing key '%s' (%d attempt%s)%s",
            exchange,
            routingKey,
            attempts,
            attempts == 1 ? "" : "s",
            cause == null ? "" : ": " + cause.getMessage()),
        cause);
  }

  static PublishException newClosed(String exchange, String routingKey) {
    return new PublishException(
        Kind.CLOSED,
        exchange,
        routingKey,
        0,
        String.format(
            "publisher is closed; event for exchange '%s' with routing key '%s' was not sent",
            exchange, routingKey),
        null);
  }

  static PublishException newClosedUnconfirmed(String exchange, String routingKey, int attempts) {
    return new PublishException(
        Kind.CLOSED,
        exchange,
        routingKey,
        attempts,
        String.format(
            "publisher closed before the broker confirmed the event published to exchange '%s'"
                + " with routing key '%s' (%d attempt%s); it may still arrive",
            exchange, routingKey, attempts, attempts == 1 ? "" : "s"),
        null);
  }

  /**
   * Returns why the publish failed.
   *
   * @return the kind of failure
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Returns the exchange the event was published to.
   *
   * @return the exchange name
   */
  public String exchange() {
    return exchange;
  }

  /**
   * Returns the routing key of the event.
   *
   * @return the routing key
   */
  public String routingKey() {
    return routingKey;
  }

  /**
   * Returns how many times the publisher tried before giving up.
   *
   * @return the number of attempts, 0 when nothing was sent
   */
  public int attempts() {
    return attempts;
  }

  /**
   * Returns whether another publish of the same event may succeed.
   *
   * @return true for nacks, timeouts and lost connections
   */
  public boolean isTransient() {
    return kind != Kind.CLOSED;
  }
}
