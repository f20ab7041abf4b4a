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
      try {
        // A read of an id nobody has: answers fast when Redis is up, fails when it is not.
        tracker.get().parents(new UUID(0, 0)).get(1, TimeUnit.SECONDS);
        redis.put("ok", true);
      } catch (Exception e) {
        redis.put("ok", false);
        redis.put("error", String.valueOf(e.getCause() == null ? e : e.getCause()));
        // Causation tracking degrades without Redis; publishing still works, so not a reason.
      }
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
