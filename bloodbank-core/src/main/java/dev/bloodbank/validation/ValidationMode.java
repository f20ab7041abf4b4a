package dev.bloodbank.validation;

/** How strictly events are checked against the schema catalog. Immutable and thread-safe. */
public enum ValidationMode {
  /**
   * Every event must be of a type the registry knows and match its schema; an unknown type is a
   * violation at {@code /event_type}. The publisher's default.
   */
  STRICT,
  /**
   * Events of unknown types pass with only their envelope checked; known ones must match their
   * schema. The subscriber's default.
   */
  PERMISSIVE,
  /** Nothing is checked. */
  SKIP
}
