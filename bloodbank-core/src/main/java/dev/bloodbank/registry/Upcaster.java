package dev.bloodbank.registry;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Turns a payload written with one version of an event's schema into the next version's shape, so
 * that a handler sees one shape whatever version a producer wrote; registered with {@link
 * EventRegistry#upcaster(String, int, int, Upcaster)}.
 *
 * <p>Runs on the subscriber's or replay's worker thread, before validation and before the payload
 * is mapped to the handler's class; it must not block. It may modify and return the tree it is
 * given (a copy of the received payload). Must be thread-safe.
 *
 * @since 0.2.0
 */
@FunctionalInterface
public interface Upcaster {
  /**
   * Upcasts one payload.
   *
   * @param payload the payload in the older version's shape, a copy the upcaster may change
   * @return the payload in the newer version's shape
   */
  JsonNode upcast(JsonNode payload);
}
