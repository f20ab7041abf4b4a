package dev.bloodbank.server.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.voice.Transcriber;
import io.javalin.http.Context;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.jspecify.annotations.Nullable;

/** {@code /health} (alive) and {@code /healthz} (ready: the bus can do its job). */
final class Health {
  private final Bloodbank bus;
  private final @Nullable Transcriber transcriber;
  private final BooleanSupplier draining;

  Health(Bloodbank bus, @Nullable Transcriber transcriber, BooleanSupplier draining) {
    this.bus = bus;
    this.transcriber = transcriber;
    this.draining = draining;
  }

  /** Throws 503 unless the broker is connected and not blocking this bus. */
  static void requireBroker(Bloodbank bus) {
    if (!bus.isConnected()) {
      throw ApiError.unavailable(
          "broker_unreachable", "the broker is unreachable; the server is reconnecting");
    }
    Optional<String> blocked = bus.blockedReason();
    if (blocked.isPresent()) {
      throw ApiError.unavailable(
          "broker_blocked", "the broker blocks publishing: " + blocked.get());
    }
  }

  private volatile @Nullable String redisError;

  /**
   * Reads an id nobody has, to learn whether Redis answers; on the server's probe thread, so a
   * request to {@code /healthz} never waits for Redis.
   */
  void refreshRedis() {
    Optional<CorrelationTracker> tracker = bus.correlationTracker();
    if (tracker.isEmpty()) {
      return;
    }
    try {
      tracker.get().parents(new UUID(0, 0)).get(1, TimeUnit.SECONDS);
      redisError = null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (Exception e) {
      redisError = String.valueOf(e.getCause() == null ? e : e.getCause());
    }
  }

  void alive(Context ctx) {
    ObjectNode n = Json.object();
    n.put("status", "alive");
    Json.send(ctx, 200, n);
  }

  void ready(Context ctx) {
    ObjectNode n = Json.object();
    ArrayNode reasons = Json.MAPPER.createArrayNode();
    ObjectNode broker = n.putObject("broker");
    boolean connected = bus.isConnected();
    broker.put("connected", connected);
    Optional<String> blocked = bus.blockedReason();
    if (blocked.isPresent()) {
      broker.put("blocked", blocked.get());
      reasons.add("broker blocks publishing: " + blocked.get());
    } else {
      broker.putNull("blocked");
    }
    if (!connected) {
      reasons.add("broker unreachable");
    }
    ObjectNode redis = n.putObject("redis");
    Optional<CorrelationTracker> tracker = bus.correlationTracker();
    redis.put("configured", tracker.isPresent());
    if (tracker.isPresent()) {
      String error = redisError;
      redis.put("ok", error == null);
      if (error != null) {
        redis.put("error", error);
      }
      // Causation tracking degrades without Redis; publishing still works, so not a reason.
    }
    ObjectNode wal = n.putObject("wal");
    wal.put("configured", transcriber != null);
    if (transcriber != null) {
      wal.put("pending", transcriber.pendingInWal());
    }
    if (draining.getAsBoolean()) {
      reasons.add("shutting down");
    }
    boolean ready = reasons.isEmpty();
    n.put("ready", ready);
    n.set("reasons", reasons);
    Json.send(ctx, ready ? 200 : 503, n);
  }
}
