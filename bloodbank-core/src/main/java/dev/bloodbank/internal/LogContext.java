package dev.bloodbank.internal;

import org.jspecify.annotations.Nullable;
import org.slf4j.MDC;

/**
 * The event in SLF4J's MDC while the bus runs application code for it: handlers, commands and
 * publish callbacks. Each key is removed afterwards, so a pooled thread carries nothing over.
 */
public final class LogContext {
  /** MDC key of the event id. */
  public static final String EVENT_ID = "event_id";

  /** MDC key of the event type. */
  public static final String EVENT_TYPE = "event_type";

  /** MDC key of the event's first correlation (parent) id. */
  public static final String CORRELATION_ID = "correlation_id";

  /** MDC key of the trace id, when the event is traced. */
  public static final String TRACE_ID = "trace_id";

  private LogContext() {}

  /**
   * Puts the event's keys; a null value leaves its key out. Pair with {@link #clear()}, or with
   * {@link #save()} before and {@link #restore} after.
   */
  public static void put(
      String eventId, String eventType, @Nullable String correlationId, @Nullable String traceId) {
    MDC.put(EVENT_ID, eventId);
    MDC.put(EVENT_TYPE, eventType);
    // A key left out is removed: a nested event must not show the outer one's parent or trace.
    if (correlationId != null) {
      MDC.put(CORRELATION_ID, correlationId);
    } else {
      MDC.remove(CORRELATION_ID);
    }
    if (traceId != null) {
      MDC.put(TRACE_ID, traceId);
    } else {
      MDC.remove(TRACE_ID);
    }
  }

  /** Removes the keys {@link #put} set. */
  public static void clear() {
    MDC.remove(EVENT_ID);
    MDC.remove(EVENT_TYPE);
    MDC.remove(CORRELATION_ID);
    MDC.remove(TRACE_ID);
  }

  /**
   * The keys already in the MDC, for {@link #restore} afterwards: an outer event's (a command run
   * inside a handler, a publish callback on the thread of a handler that published), or the
   * application's own {@code correlation_id} or {@code trace_id} on a thread of its own. Clearing
   * there would take them away for the rest of it.
   *
   * @return what was there, or null when none of the keys was (the usual case)
   */
  public static @Nullable Saved save() {
    String id = MDC.get(EVENT_ID);
    String type = MDC.get(EVENT_TYPE);
    String correlation = MDC.get(CORRELATION_ID);
    String trace = MDC.get(TRACE_ID);
    return id == null && type == null && correlation == null && trace == null
        ? null
        : new Saved(id, type, correlation, trace);
  }

  /**
   * Removes the keys {@link #put} set, and puts back what {@link #save} found before.
   *
   * @param saved what {@link #save} returned
   */
  public static void restore(@Nullable Saved saved) {
    clear();
    if (saved != null) {
      putIfSet(EVENT_ID, saved.eventId());
      putIfSet(EVENT_TYPE, saved.eventType());
      putIfSet(CORRELATION_ID, saved.correlationId());
      putIfSet(TRACE_ID, saved.traceId());
    }
  }

  private static void putIfSet(String key, @Nullable String value) {
    if (value != null) {
      MDC.put(key, value);
    }
  }

  /**
   * The MDC keys found before an event's were put.
   *
   * @param eventId an outer event's id, if one was there
   * @param eventType its type, if it was there
   * @param correlationId its first parent, if any
   * @param traceId its trace, if any
   */
  public record Saved(
      @Nullable String eventId,
      @Nullable String eventType,
      @Nullable String correlationId,
      @Nullable String traceId) {}

  /**
   * The trace id of a W3C {@code traceparent} value, or null when it is not a valid one. The value
   * may come from any producer on the bus, so it is checked whole (lower-case hex, no all-zero ids,
   * version {@code ff} refused) before any of it reaches a log line.
   */
  public static @Nullable String traceIdOf(@Nullable Object traceparent) {
    if (traceparent == null) {
      return null;
    }
    String s = traceparent.toString();
    // version "-" 32 hex trace id "-" 16 hex parent id "-" 2 hex flags; a later version may add
    // "-" and more fields, version 00 may not.
    if (s.length() < 55
        || s.charAt(2) != '-'
        || s.charAt(35) != '-'
        || s.charAt(52) != '-'
        || !hex(s, 0, 2)
        || s.startsWith("ff")
        || (s.length() > 55 && (s.startsWith("00") || s.charAt(55) != '-'))
        || !hex(s, 3, 35)
        || !hex(s, 36, 52)
        || !hex(s, 53, 55)
        || zeros(s, 3, 35)
        || zeros(s, 36, 52)) {
      return null;
    }
    return s.substring(3, 35);
  }

  private static boolean hex(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
        return false;
      }
    }
    return true;
  }

  private static boolean zeros(String s, int from, int to) {
    for (int i = from; i < to; i++) {
      if (s.charAt(i) != '0') {
        return false;
      }
    }
    return true;
  }
}
