package dev.bloodbank.spring.boot;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.SubscriberHealth;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.wal.DurablePublisher;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.springframework.beans.factory.ListableBeanFactory;
import org.springframework.beans.factory.ObjectProvider;

/**
 * What the {@code bloodbank} health indicator reports, on Boot 3.5 and 4 alike; the same SDK calls
 * as bloodbank-server's {@code /healthz}. UP unless the broker is unreachable or blocks publishing
 * (a memory or disk alarm); Redis trouble and a write-ahead log backlog are details, since
 * publishing still works without them.
 */
final class BloodbankHealthCheck {
  /** Bound on the Redis probe of one health check. */
  static final long REDIS_TIMEOUT_MILLIS = 1000;

  record Result(boolean up, Map<String, Object> details) {}

  private final Bloodbank bus;
  private final Supplier<Collection<DurablePublisher>> durablePublishers;
  private final ObjectProvider<BloodbankListenerRegistrar> listeners;

  /**
   * @param durablePublishers the logs whose backlog the check reports; see {@link
   *     #madeDurablePublishers}
   */
  BloodbankHealthCheck(
      Bloodbank bus,
      Supplier<Collection<DurablePublisher>> durablePublishers,
      ObjectProvider<BloodbankListenerRegistrar> listeners) {
    this.bus = bus;
    this.durablePublishers = durablePublishers;
    this.listeners = listeners;
  }

  /**
   * The context's durable publishers that exist already: singletons only, never made for the check
   * (a lazy one would be opened early, a prototype one opened anew, its log never closed, at every
   * check).
   */
  static Supplier<Collection<DurablePublisher>> madeDurablePublishers(ListableBeanFactory beans) {
    return () -> beans.getBeansOfType(DurablePublisher.class, false, false).values();
  }

  Result check() {
    Map<String, Object> details = new LinkedHashMap<>();
    List<String> reasons = new ArrayList<>();
    // An alarm reaches blockedReason() only once the connection publishes: ask the broker now.
    bus.probeBlocked();
    boolean connected = bus.isConnected();
    Map<String, Object> broker = new LinkedHashMap<>();
    broker.put("connected", connected);
    broker.put("exchange", bus.options().exchange());
    Optional<String> blocked = bus.blockedReason();
    blocked.ifPresent(reason -> broker.put("blocked", reason));
    details.put("broker", broker);
    if (!bus.isOpen()) {
      reasons.add("bus closed");
    } else if (!connected) {
      reasons.add("broker unreachable");
    }
    blocked.ifPresent(reason -> reasons.add("broker blocks publishing: " + reason));

    Optional<CorrelationTracker> tracker = bus.correlationTracker();
    Map<String, Object> redis = new LinkedHashMap<>();
    redis.put("configured", tracker.isPresent());
    if (tracker.isPresent()) {
      String error = probeRedis(tracker.get());
      redis.put("ok", error == null);
      if (error != null) {
        redis.put("error", error);
      }
    }
    details.put("redis", redis);

    int pending = 0;
    int logs = 0;
    for (DurablePublisher p : durablePublishers.get()) {
      pending += p.pendingCount();
      logs++;
    }
    Map<String, Object> wal = new LinkedHashMap<>();
    wal.put("configured", logs > 0);
    wal.put("pending", pending);
    details.put("wal", wal);

    BloodbankListenerRegistrar registrar = listeners.getIfAvailable();
    if (registrar != null) {
      Map<String, Object> subs = new LinkedHashMap<>();
      for (Map.Entry<String, SubscriberHealth> e : registrar.health().entrySet()) {
        SubscriberHealth h = e.getValue();
        Map<String, Object> one = new LinkedHashMap<>();
        one.put("consuming", h.isHealthy());
        one.put("handled", h.handled());
        one.put("retried", h.retried());
        one.put("deadLettered", h.deadLettered());
        if (h.lastError() != null) {
          one.put("lastError", h.lastError());
        }
        subs.put(e.getKey(), one);
      }
      details.put("listeners", subs);
    }
    details.put("reasons", reasons);
    return new Result(reasons.isEmpty(), details);
  }

  /** Reads an id nobody has; returns the error, or null when Redis answered in time. */
  private static @Nullable String probeRedis(CorrelationTracker tracker) {
    try {
      tracker.parents(new UUID(0, 0)).get(REDIS_TIMEOUT_MILLIS, TimeUnit.MILLISECONDS);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return "interrupted";
    } catch (ExecutionException e) {
      return String.valueOf(e.getCause());
    } catch (TimeoutException e) {
      return "no answer within " + REDIS_TIMEOUT_MILLIS + " ms";
    }
  }
}
