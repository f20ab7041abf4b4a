package dev.bloodbank.registry;

import dev.bloodbank.BloodbankException;
import java.util.List;

/** An event type, or payload class, that the registry does not know. */
public final class UnknownEventTypeException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String eventType;

  UnknownEventTypeException(String eventType, List<String> similar) {
    super(
        "unknown event type '"
            + eventType
            + "'"
            + (similar.isEmpty() ? "" : "; did you mean " + String.join(", ", similar) + "?")
            + " (register it, or put its schema catalog on the classpath)");
    this.eventType = eventType;
  }

  /**
   * Returns the event type that was looked up.
   *
   * @return the event type
   */
  public String eventType() {
    return eventType;
  }
}
