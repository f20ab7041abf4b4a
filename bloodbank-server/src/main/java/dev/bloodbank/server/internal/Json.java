package dev.bloodbank.server.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.DebugDump;
import dev.bloodbank.validation.Violation;
import io.javalin.http.Context;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/** JSON answers: one mapper, snake_case field names as the Python gateway writes them. */
final class Json {
  static final ObjectMapper MAPPER = EventCodec.defaultObjectMapper();
  static final String CONTENT_TYPE = "application/json";

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static void send(Context ctx, int status, JsonNode body) {
    ctx.status(status).contentType(CONTENT_TYPE).result(bytes(body));
  }

  static byte[] bytes(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("cannot write JSON", e);
    }
  }

  static String string(JsonNode node) {
    return new String(bytes(node), StandardCharsets.UTF_8);
  }

  static ObjectNode error(ApiError e, @Nullable String requestId) {
    ObjectNode n = object();
    n.put("error", e.code());
    n.put("message", e.getMessage());
    n.put("status", e.status());
    if (requestId != null) {
      n.put("request_id", requestId);
    }
    if (e.eventId() != null) {
      n.put("event_id", e.eventId());
    }
    if (!e.violations().isEmpty()) {
      ArrayNode vs = n.putArray("violations");
      for (Violation v : e.violations()) {
        ObjectNode o = vs.addObject();
        o.put("pointer", v.envelopePointer());
        o.put("keyword", v.keyword());
        o.put("message", v.message());
      }
    }
    return n;
  }

  static ArrayNode ids(Collection<UUID> ids) {
    ArrayNode a = MAPPER.createArrayNode();
    ids.forEach(id -> a.add(id.toString()));
    return a;
  }

  static ObjectNode graph(CorrelationGraph g) {
    ObjectNode n = object();
    n.put("root", g.root().toString());
    n.put("direction", g.direction().name().toLowerCase(java.util.Locale.ROOT));
    ArrayNode levels = n.putArray("levels");
    g.levels().forEach(level -> levels.add(ids(level)));
    ArrayNode edges = n.putArray("edges");
    for (CorrelationGraph.Edge e : g.edges()) {
      ObjectNode o = edges.addObject();
      o.put("parent", e.parent().toString());
      o.put("child", e.child().toString());
    }
    if (g.limitHit() == null) {
      n.putNull("limit_hit");
    } else {
      n.put("limit_hit", g.limitHit().name().toLowerCase(java.util.Locale.ROOT));
    }
    return n;
  }

  static ObjectNode node(DebugDump.NodeInfo info) {
    ObjectNode n = object();
    n.put("id", info.id().toString());
    n.set("parent_ids", ids(info.parentIds()));
    n.set("child_ids", ids(info.childIds()));
    if (info.recordedAt() == null) {
      n.putNull("recorded_at");
    } else {
      n.put("recorded_at", info.recordedAt().toString());
    }
    n.set("metadata", MAPPER.valueToTree(info.metadata()));
    if (info.ttl() == null) {
      n.putNull("ttl_seconds");
    } else {
      n.put("ttl_seconds", info.ttl().toSeconds());
    }
    return n;
  }
}
