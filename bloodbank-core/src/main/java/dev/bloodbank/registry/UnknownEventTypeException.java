package dev.bloodbank.registry;

import dev.bloodbank.BloodbankException;
import java.util.List;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * The registry has no event of the type, or no single event of the payload class, that was looked
 * up. The message names what was looked up and the known candidates. Immutable and thread-safe.
 */
public final class UnknownEventTypeException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String eventType;
  private final transient @Nullable Class<?> payloadClass;
  private final List<String> candidates;

  private UnknownEventTypeException(
      String message, String eventType, @Nullable Class<?> payloadClass, List<String> candidates) {
    super(message);
    this.eventType = eventType;
    this.payloadClass = payloadClass;
    this.candidates = List.copyOf(candidates);
  }

  static UnknownEventTypeException newUnknownType(String eventType, List<String> similar) {
    return new UnknownEventTypeException(
        "unknown event type '"
            + eventType
            + "'"
            + (similar.isEmpty() ? "" : "; did you mean " + String.join(", ", similar) + "?")
            + " (register it, or put its schema catalog on the classpath)",
        eventType,
        null,
        similar);
  }

  static UnknownEventTypeException newUnknownClass(Class<?> payloadClass, List<String> bound) {
    return new UnknownEventTypeException(
        bound.isEmpty()
            ? "no event type has payload class "
                + payloadClass.getName()
                + " (register it with an EventDefinition, or publish with an explicit event type)"
            : "payload class "
                + payloadClass.getName()
                + " is bound to several event types ("
                + String.join(", ", bound)
                + "); publish with an explicit event type",
        payloadClass.getName(),
        payloadClass,
        bound);
  }

  /**
   * Returns what was looked up: the event type, or for a payload-class lookup the class name.
   *
   * @return the event type or class name
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns the payload class, when a class was looked up.
   *
   * @return the class, or empty for an event-type lookup
   */
  public Optional<Class<?>> payloadClass() {
    return Optional.ofNullable(payloadClass);
  }

  /**
   * Returns the candidates: for an unknown event type, up to three similar known types (closest
   * first); for a payload class bound to several event types, those types.
   *
   * @return the candidates, possibly empty
   */
  public List<String> candidates() {
    return candidates;
  }
}
