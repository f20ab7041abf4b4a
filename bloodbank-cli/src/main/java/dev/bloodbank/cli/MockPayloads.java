package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Iterator;
import java.util.Map;
import java.util.UUID;

/** Makes an example payload that satisfies a JSON Schema (the subset the catalog uses). */
final class MockPayloads {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int MAX_DEPTH = 8;

  private MockPayloads() {}

  static JsonNode example(JsonNode schema) {
    return example(schema, schema, "value", 0);
  }

  private static JsonNode example(JsonNode root, JsonNode s, String name, int depth) {
    if (s.has("$ref")) {
      String ref = s.get("$ref").asText();
      if (ref.startsWith("#/")) {
        JsonNode target = root.at(ref.substring(1));
        if (!target.isMissingNode()) {
          return example(root, target, name, depth + 1);
        }
      }
      return F.objectNode();
    }
    if (s.has("const")) {
      return s.get("const");
    }
    if (s.has("enum") && s.get("enum").size() > 0) {
      return s.get("enum").get(0);
    }
    if (s.has("examples") && s.get("examples").size() > 0) {
      return s.get("examples").get(0);
    }
    if (s.has("anyOf")) {
      for (JsonNode alt : s.get("anyOf")) {
        if (!"null".equals(alt.path("type").asText())) {
          return example(root, alt, name, depth + 1);
        }
      }
    }
    String type = type(s);
    if (depth > MAX_DEPTH) {
      return F.nullNode();
    }
    switch (type) {
      case "object":
        ObjectNode o = F.objectNode();
        Iterator<Map.Entry<String, JsonNode>> props = s.path("properties").fields();
        while (props.hasNext()) {
          Map.Entry<String, JsonNode> p = props.next();
          o.set(p.getKey(), example(root, p.getValue(), p.getKey(), depth + 1));
        }
        return o;
      case "array":
        ArrayNode a = F.arrayNode();
        if (s.has("items")) {
          a.add(example(root, s.get("items"), name, depth + 1));
        }
        return a;
      case "integer":
        return F.numberNode(
            (long)
                Math.max(
                    s.path("minimum").asDouble(1), Math.min(1, s.path("maximum").asDouble(1))));
      case "number":
        double min = s.path("minimum").asDouble(0);
        double max = s.path("maximum").asDouble(min + 1);
        return F.numberNode(Math.min(max, min + 0.5));
      case "boolean":
        return F.booleanNode(false);
      case "null":
        return F.nullNode();
      default:
        String format = s.path("format").asText("");
        if (format.equals("uuid")) {
          return F.textNode(UUID.randomUUID().toString());
        }
        if (format.equals("date-time")) {
          return F.textNode(
              java.time.Instant.now()
                  .truncatedTo(java.time.temporal.ChronoUnit.SECONDS)
                  .toString());
        }
        String text = "example " + name;
        int maxLength = s.path("maxLength").asInt(Integer.MAX_VALUE);
        return F.textNode(text.length() > maxLength ? text.substring(0, maxLength) : text);
    }
  }

  private static String type(JsonNode s) {
    JsonNode t = s.get("type");
    if (t == null) {
      return s.has("properties") ? "object" : "string";
    }
    if (t.isArray()) {
      for (JsonNode e : t) {
        if (!"null".equals(e.asText())) {
          return e.asText();
        }
      }
      return "null";
    }
    return t.asText();
  }
}
