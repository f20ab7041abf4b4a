package dev.bloodbank.validation;

import dev.bloodbank.BloodbankException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An event does not match its schema, or (in strict mode) its type is unknown. Lists every
 * violation; nothing was sent.
 */
public final class SchemaValidationException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String eventType;
  private final transient List<Violation> violations;

  SchemaValidationException(String eventType, List<Violation> violations) {
    super(
        "event '"
            + eventType
            + "' is invalid ("
            + violations.size()
            + " violation"
            + (violations.size() == 1 ? "" : "s")
            + "): "
            + violations.stream().map(Violation::toString).collect(Collectors.joining("; ")));
    this.eventType = eventType;
    this.violations = List.copyOf(violations);
  }

  /**
   * Returns the event type that was checked.
   *
   * @return the event type
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns every violation found.
   *
   * @return one or more violations
   */
  public List<Violation> violations() {
    return violations;
  }
}
