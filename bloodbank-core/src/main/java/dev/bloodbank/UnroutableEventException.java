package dev.bloodbank;

/**
 * The broker returned a mandatory publish because no queue is bound for its routing key.
 *
 * <p>The broker still confirms such a message, but it was delivered to nobody, so the publish
 * fails. Not retried: the topology has to change first.
 */
public final class UnroutableEventException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String exchange;
  private final String routingKey;
  private final int replyCode;
  private final String replyText;

  UnroutableEventException(String exchange, String routingKey, int replyCode, String replyText) {
    super(
        String.format(
            "event is unroutable: no queue is bound to exchange '%s' for routing key '%s'"
                + " (broker reply %d %s)",
            exchange, routingKey, replyCode, replyText));
    this.exchange = exchange;
    this.routingKey = routingKey;
    this.replyCode = replyCode;
    this.replyText = replyText;
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
   * Returns the routing key nothing was bound for.
   *
   * @return the routing key
   */
  public String routingKey() {
    return routingKey;
  }

  /**
   * Returns the AMQP reply code of the return, normally 312 (NO_ROUTE).
   *
   * @return the reply code
   */
  public int replyCode() {
    return replyCode;
  }

  /**
   * Returns the broker's reply text, normally {@code NO_ROUTE}.
   *
   * @return the reply text
   */
  public String replyText() {
    return replyText;
  }
}
