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
   * The event already in the MDC, for {@link #restore} after a nested one: a command run inside a
   * handler, or a publish callback run on the thread of a handler that published (a direct callback
   * executor). Clearing there would take the outer event's keys away for the rest of it.
   *
   * @return the outer event's keys, or null when there is none (the usual case, one lookup)
   */
  public static @Nullable Saved save() {
    String id = MDC.get(EVENT_ID);
    return id == null
        ? null
        : new Saved(id, MDC.get(EVENT_TYPE), MDC.get(CORRELATION_ID), MDC.get(TRACE_ID));
  }

  /**
   * Removes the keys {@link #put} set, and puts back what {@link #save} found before.
   *
   * @param saved what {@link #save} returned
   */
  public static void restore(@Nullable Saved saved) {
    clear();
    if (saved != null) {
      MDC.put(EVENT_ID, saved.eventId());
      if (saved.eventType() != null) {
        MDC.put(EVENT_TYPE, saved.eventType());
      }
      if (saved.correlationId() != null) {
        MDC.put(CORRELATION_ID, saved.correlationId());
      }
      if (saved.traceId() != null) {
        MDC.put(TRACE_ID, saved.traceId());
      }
    }
  }

  /**
   * An outer event's MDC keys.
   *
   * @param eventId its id
   * @param eventType its type, if it was there
   * @param correlationId its first parent, if any
   * @param traceId its trace, if any
   */
  public record Saved(
      String eventId,
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
