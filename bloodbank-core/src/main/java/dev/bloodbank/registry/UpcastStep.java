package dev.bloodbank.registry;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.Objects;

/**
 * One registered upcast: from a version of an event's schema to a later one. Immutable and
 * thread-safe (the schema is copied in and out).
 *
 * @param eventType the event type
 * @param fromVersion the version the upcaster reads
 * @param toVersion the version it writes
 * @param fromSchema the schema of {@code fromVersion}: a payload valid under it, and not under the
 *     current schema, is upcast
 * @param upcaster the function
 * @since 0.2.0
 */
public record UpcastStep(
    String eventType, int fromVersion, int toVersion, JsonNode fromSchema, Upcaster upcaster) {
  /**
   * Creates a step.
   *
   * @throws IllegalArgumentException when the versions are not {@code 1 <= from < to}
   */
  public UpcastStep {
    Objects.requireNonNull(eventType, "eventType");
    Objects.requireNonNull(fromSchema, "fromSchema");
    Objects.requireNonNull(upcaster, "upcaster");
    if (fromVersion < 1 || toVersion <= fromVersion) {
      throw new IllegalArgumentException(
          "an upcaster of "
              + eventType
              + " goes from a version to a later one, both at least 1; got "
              + fromVersion
              + " -> "
              + toVersion);
    }
    fromSchema = fromSchema.deepCopy();
  }

  /**
   * Returns the schema of {@link #fromVersion()}.
   *
   * @return a copy of the schema
   */
  @Override
  public JsonNode fromSchema() {
    return fromSchema.deepCopy();
  }
}
