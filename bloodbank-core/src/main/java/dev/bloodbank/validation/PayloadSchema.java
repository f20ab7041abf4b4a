package dev.bloodbank.validation;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;

/**
 * A payload schema compiled by {@link EventValidator#compile(JsonNode)}: a schema other than the
 * registry's current one for an event type, such as an older version of it or a candidate, checked
 * exactly as the catalog's schemas are (Draft 2020-12 unless the schema says otherwise, formats
 * asserted, catalog {@code $ref}s resolved from the class path). Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public interface PayloadSchema {
  /**
   * Returns the schema document it was compiled from.
   *
   * @return a copy of the schema
   */
  JsonNode schema();

  /**
   * Checks a payload against the schema.
   *
   * @param payload the payload as a JSON tree
   * @return the violations, with pointers relative to the payload; empty when valid
   */
  List<Violation> check(JsonNode payload);

  /**
   * Returns whether a payload is valid under the schema.
   *
   * @param payload the payload as a JSON tree
   * @return true when {@link #check(JsonNode)} finds nothing
   */
  default boolean accepts(JsonNode payload) {
    return check(payload).isEmpty();
  }
}
