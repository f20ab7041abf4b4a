package dev.bloodbank.server.internal;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.DebugDump;
import dev.bloodbank.internal.LogSafe;
import io.javalin.http.Context;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;

/** {@code /correlation/{id}} and the Python gateway's {@code /debug/correlation/...}. */
final class CausationApi {
  /** Default and largest traversal depth. */
  static final int DEFAULT_DEPTH = 10;

  static final int MAX_DEPTH = 100;

  private final Bloodbank bus;

  CausationApi(Bloodbank bus) {
    this.bus = bus;
  }

  /** {@code GET /correlation/{event_id}?depth=N}: ancestors and descendants. */
  void graph(Context ctx) {
    UUID id = id(ctx);
    int depth = depth(ctx);
    CorrelationTracker t = tracker();
    CompletableFuture<CorrelationGraph> up = t.ancestors(id, depth);
    CompletableFuture<CorrelationGraph> down = t.descendants(id, depth);
    ctx.future(
        () ->
            up.thenCombine(
                    down,
                    (a, d) -> {
                      ObjectNode n = Json.object();
                      n.put("event_id", id.toString());
                      n.put("depth", depth);
                      n.set("ancestors", Json.graph(a));
                      n.set("descendants", Json.graph(d));
                      Json.send(ctx, 200, n);
                      return null;
                    })
                .orTimeout(10, TimeUnit.SECONDS)
                .exceptionally(e -> fail(ctx, e)));
  }

  /** {@code GET /debug/correlation/{event_id}/chain?direction=ancestors|descendants}. */
  void chain(Context ctx) {
    UUID id = id(ctx);
    String direction = ctx.queryParam("direction");
    if (direction == null) {
      direction = "ancestors";
    }
    if (!direction.equals("ancestors") && !direction.equals("descendants")) {
      throw ApiError.badRequest(
          "direction must be ancestors or descendants, was '" + direction + "'");
    }
    String dir = direction;
    CorrelationTracker t = tracker();
    CompletableFuture<CorrelationGraph> g =
        dir.equals("ancestors") ? t.ancestors(id, MAX_DEPTH) : t.descendants(id, MAX_DEPTH);
    ctx.future(
        () ->
            g.thenAccept(
                    graph -> {
                      Set<UUID> chain = new LinkedHashSet<>();
                      for (List<UUID> level : graph.levels().subList(1, graph.levels().size())) {
                        chain.addAll(level);
                      }
                      if (chain.isEmpty()) {
                        throw ApiError.notFound(
                            "no_chain", "no " + dir + " are recorded for event " + id);
                      }
                      ObjectNode n = Json.object();
                      n.put("event_id", id.toString());
                      n.put("direction", dir);
                      n.set("chain", Json.ids(chain));
                      n.put("count", chain.size());
                      Json.send(ctx, 200, n);
                    })
                .orTimeout(10, TimeUnit.SECONDS)
                .exceptionally(e -> fail(ctx, e)));
  }

  /** {@code GET /debug/correlation/{event_id}/dump}. */
  void dump(Context ctx) {
    UUID id = id(ctx);
    CompletableFuture<DebugDump> f = tracker().debugDump(id);
    ctx.future(
        () ->
            f.thenAccept(
                    d -> {
                      if (d.node().recordedAt() == null
                          && d.parents().isEmpty()
                          && d.children().isEmpty()) {
                        throw ApiError.notFound(
                            "not_recorded", "no correlation data is recorded for event " + id);
                      }
                      ObjectNode n = Json.object();
                      n.set("node", Json.node(d.node()));
                      ArrayNode parents = n.putArray("parents");
                      d.parents().forEach(p -> parents.add(Json.node(p)));
                      ArrayNode children = n.putArray("children");
                      d.children().forEach(c -> children.add(Json.node(c)));
                      Json.send(ctx, 200, n);
                    })
                .orTimeout(10, TimeUnit.SECONDS)
                .exceptionally(e -> fail(ctx, e)));
  }

  private static Void fail(Context ctx, Throwable t) {
    Throwable e = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    ApiError err =
        e instanceof ApiError a
            ? a
            : e instanceof java.util.concurrent.TimeoutException
                ? ApiError.unavailable(
                    "tracker_timeout", "the causation store did not answer in 10 s")
                : ApiError.unavailable(
                    "tracker_failed", "the causation store failed: " + e.getMessage());
    Gateway.sendError(ctx, err);
    return null;
  }

  private CorrelationTracker tracker() {
    return bus.correlationTracker()
        .orElseThrow(
            () ->
                ApiError.unavailable(
                    "tracking_disabled",
                    "causation tracking is not configured; set REDIS_URL (or REDIS_HOST) for the"
                        + " server"));
  }

  private static UUID id(Context ctx) {
    String s = ctx.pathParam("event_id");
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException e) {
      throw ApiError.badRequest("the event id '" + LogSafe.escape(s) + "' is not a UUID");
    }
  }

  private static int depth(Context ctx) {
    String s = ctx.queryParam("depth");
    if (s == null) {
      return DEFAULT_DEPTH;
    }
    try {
      int d = Integer.parseInt(s);
      if (d >= 1 && d <= MAX_DEPTH) {
        return d;
      }
    } catch (NumberFormatException e) {
      // below
    }
    throw ApiError.badRequest(
        "depth must be 1 to " + MAX_DEPTH + ", was '" + LogSafe.escape(s) + "'");
  }
}
