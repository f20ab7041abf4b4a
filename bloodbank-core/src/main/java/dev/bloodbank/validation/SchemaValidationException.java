package dev.bloodbank.validation;

import dev.bloodbank.BloodbankException;
import java.util.List;
import java.util.stream.Collectors;

/**
 * An event does not match its schema, or (in strict mode) its type is unknown. {@link
 * #violations()} lists every violation; the message names the event type and shows the first
 * {@value #MESSAGE_VIOLATIONS} of them as {@code <pointer>: <message>}, payload pointers under
 * {@code /payload}. A publisher that throws it has sent nothing. Immutable and thread-safe.
 */
public final class SchemaValidationException extends BloodbankException {
  /** How many violations the message shows; {@link #violations()} has them all. */
  public static final int MESSAGE_VIOLATIONS = 20;

  private static final long serialVersionUID = 1L;

  private final String eventType;
  private final List<Violation> violations;

  SchemaValidationException(String eventType, List<Violation> violations) {
    super(message(eventType, violations));
    this.eventType = eventType;
    this.violations = List.copyOf(violations);
  }

  private static String message(String eventType, List<Violation> violations) {
    int n = violations.size();
    String shown =
        violations.stream()
            .limit(MESSAGE_VIOLATIONS)
            .map(Violation::toString)
            .collect(Collectors.joining("; "));
    return "event '"
        + eventType
        + "' is invalid ("
        + n
        + " violation"
        + (n == 1 ? "" : "s")
        + "): "
        + shown
        + (n > MESSAGE_VIOLATIONS ? "; and " + (n - MESSAGE_VIOLATIONS) + " more" : "");
  }

  /**
   * Returns the event type that was checked.
   *
   * @return the event type; {@code "?"} when the envelope had none
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns every violation found.
   *
   * @return one or more violations, envelope ones first
   */
  public List<Violation> violations() {
    return violations;
  }
}
