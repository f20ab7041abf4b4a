package dev.bloodbank.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * The W3C {@code traceparent} of the last events a bus published or consumed, by event id, so a
 * child published later can link its span to its causation parents' spans. Bounded: the oldest are
 * forgotten first. Thread-safe; never blocks.
 */
final class RecentTraces {
  private final int capacity;
  private final Map<UUID, String> traces = new ConcurrentHashMap<>();
  private final Queue<UUID> order = new ConcurrentLinkedQueue<>();
  private final AtomicInteger size = new AtomicInteger();

  RecentTraces(int capacity) {
    this.capacity = capacity;
  }

  /** Remembers an event's trace context; ignores a value that is not a valid traceparent. */
  void remember(UUID eventId, @Nullable Object traceparent) {
    if (LogContext.traceIdOf(traceparent) == null) {
      return;
    }
    if (traces.put(eventId, traceparent.toString()) == null) {
      order.add(eventId);
      if (size.incrementAndGet() > capacity) {
        UUID oldest = order.poll();
        if (oldest != null) {
          traces.remove(oldest);
          size.decrementAndGet();
        }
      }
    }
  }

  /** The remembered traceparents of these events, in their order; those not remembered left out. */
  List<String> of(List<UUID> eventIds) {
    List<String> out = new ArrayList<>(0);
    for (UUID id : eventIds) {
      String t = traces.get(id);
      if (t != null) {
        out.add(t);
      }
    }
    return out;
  }

  /** How many are remembered now. */
  int size() {
    return traces.size();
  }
}
