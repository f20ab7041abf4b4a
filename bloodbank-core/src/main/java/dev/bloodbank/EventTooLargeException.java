package dev.bloodbank;

/** An encoded event is larger than the configured limit; it was not sent. */
public final class EventTooLargeException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String eventType;
  private final long size;
  private final long limit;

  EventTooLargeException(String eventType, long size, long limit) {
    super(
        String.format(
            "event '%s' is %d bytes when encoded, over the limit of %d bytes; it was not sent",
            eventType, size, limit));
    this.eventType = eventType;
    this.size = size;
    this.limit = limit;
  }

  /**
   * Returns the event type (routing key) of the rejected event.
   *
   * @return the event type
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns the encoded size of the event.
   *
   * @return the size in bytes
   */
  public long size() {
    return size;
  }

  /**
   * Returns the configured limit.
   *
   * @return the limit in bytes
   */
  public long limit() {
    return limit;
  }
}
