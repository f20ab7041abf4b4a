package dev.bloodbank.validation;

import java.util.List;
import java.util.Objects;

/**
 * The outcome of checking one event: its violations, and how far it was checked.
 *
 * <p>Returned by {@link EventValidator#check(dev.bloodbank.EventEnvelope)} and friends, which never
 * throw for an invalid event; {@link #throwIfInvalid()} turns an invalid result into the {@link
 * SchemaValidationException} that {@code validate} would have thrown. Immutable and thread-safe.
 */
public final class ValidationResult {
  /** How far an event was checked. */
  public enum Coverage {
    /** Nothing was checked: the mode was {@link ValidationMode#SKIP}. */
    NONE,
    /**
     * The envelope only: the event type is unknown and the mode {@link ValidationMode#PERMISSIVE}.
     */
    ENVELOPE,
    /**
     * The envelope and the payload against the schema of its type (or, strictly, an unknown type).
     */
    FULL
  }

  private final String eventType;
  private final ValidationMode mode;
  private final Coverage coverage;
  private final List<Violation> violations;

  ValidationResult(
      String eventType, ValidationMode mode, Coverage coverage, List<Violation> violations) {
    this.eventType = Objects.requireNonNull(eventType, "eventType");
    this.mode = Objects.requireNonNull(mode, "mode");
    this.coverage = Objects.requireNonNull(coverage, "coverage");
    this.violations = List.copyOf(violations);
  }

  /**
   * Returns the event type that was checked.
   *
   * @return the event type; {@code "?"} for an envelope document without a textual {@code
   *     event_type}
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns the mode the event was checked in.
   *
   * @return the mode
   */
  public ValidationMode mode() {
    return mode;
  }

  /**
   * Returns how far the event was checked.
   *
   * @return the coverage
   */
  public Coverage coverage() {
    return coverage;
  }

  /**
   * Returns whether no violation was found. An unchecked event ({@link Coverage#NONE}) is valid.
   *
   * @return true when {@link #violations()} is empty
   */
  public boolean isValid() {
    return violations.isEmpty();
  }

  /**
   * Returns every violation found, envelope ones first, each in document order as reported by the
   * validator.
   *
   * @return an immutable list, empty when valid
   */
  public List<Violation> violations() {
    return violations;
  }

  /**
   * Throws when the event is invalid.
   *
   * @throws SchemaValidationException listing every violation and naming the event type
   */
  public void throwIfInvalid() {
    if (!violations.isEmpty()) {
      throw new SchemaValidationException(eventType, violations);
    }
  }

  /** Formats as {@code valid fireflies.transcript.ready (FULL)} or with the violations. */
  @Override
  public String toString() {
    return (isValid() ? "valid " : "invalid ")
        + eventType
        + " ("
        + coverage
        + ")"
        + (isValid() ? "" : ": " + violations);
  }
}
