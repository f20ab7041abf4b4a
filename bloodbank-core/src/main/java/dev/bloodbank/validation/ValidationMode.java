package dev.bloodbank.validation;

/** How strictly events are checked against the schema catalog. */
public enum ValidationMode {
  /** Every event must be of a known type and match its schema. The publisher's default. */
  STRICT,
  /** Events of unknown types pass; known ones must match their schema. The subscriber's default. */
  PERMISSIVE,
  /** Nothing is checked. */
  SKIP
}
