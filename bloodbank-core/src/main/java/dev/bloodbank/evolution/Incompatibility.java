package dev.bloodbank.evolution;

import java.util.Objects;

/**
 * One reason a schema change breaks a compatibility direction. Immutable and thread-safe.
 *
 * @param direction the direction it breaks: {@link Direction#BACKWARD} when the new schema rejects
 *     some old data, {@link Direction#FORWARD} when the old schema rejects some new data
 * @param rule the stable kebab-case name of the rule, from the table in {@code
 *     docs/schema-evolution.md}, e.g. {@code required-added} or {@code unsupported-change}
 * @param pointer JSON pointer (RFC 6901) of the instance value concerned, e.g. {@code
 *     /audio_metadata/sample_rate}; {@code ""} for the whole instance. An array element is written
 *     {@code *} (any index past the tuple's {@code prefixItems}), and so is a property the schema
 *     does not name (one governed by {@code additionalProperties})
 * @param schemaLocation where in the new schema the rule fired, as a JSON pointer into the
 *     candidate document ({@code /properties/audio_metadata/properties/sample_rate}); prefixed with
 *     the document's URI and {@code #} when a {@code $ref} led into another document
 * @param message what changed, old value first: {@code minimum 0 -> 1}
 * @param previousIndex which earlier version the candidate was compared with, an index into the
 *     history given to {@link SchemaCompatibility#check(java.util.List,
 *     com.fasterxml.jackson.databind.JsonNode, CompatibilityLevel)} (0 is the oldest); 0 for a
 *     check against one previous schema
 * @since 0.2.0
 */
public record Incompatibility(
    Direction direction,
    String rule,
    String pointer,
    String schemaLocation,
    String message,
    int previousIndex) {

  /** A direction of compatibility. */
  public enum Direction {
    /** Readers on the new schema, data written with the old one. */
    BACKWARD,
    /** Readers on the old schema, data written with the new one. */
    FORWARD
  }

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException when the pointer is neither empty nor starts with {@code /},
   *     or the index is negative
   */
  public Incompatibility {
    Objects.requireNonNull(direction, "direction");
    Objects.requireNonNull(rule, "rule");
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(schemaLocation, "schemaLocation");
    Objects.requireNonNull(message, "message");
    if (!pointer.isEmpty() && pointer.charAt(0) != '/') {
      throw new IllegalArgumentException(
          "pointer '" + pointer + "' is not a JSON pointer (empty, or starting with /)");
    }
    if (previousIndex < 0) {
      throw new IllegalArgumentException("previousIndex " + previousIndex + " is negative");
    }
  }

  /**
   * Formats as {@code required-added at /session_id: session_id is now required (breaks BACKWARD)}.
   */
  @Override
  public String toString() {
    return rule
        + " at "
        + (pointer.isEmpty() ? "/" : pointer)
        + ": "
        + message
        + " (breaks "
        + direction
        + ")";
  }
}
