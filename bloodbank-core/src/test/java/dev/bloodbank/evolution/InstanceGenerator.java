package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.net.URI;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A deterministic generator of instances for a schema: for each subschema, the boundary values of
 * its bounds, each {@code enum} value, null where allowed, a minimal object (required properties
 * only), a maximal one (every property), one per property sample, extra properties where the object
 * is open (named after the {@code hints}, so that a property the other schema declares is tried
 * with values of every type), short, full and duplicated arrays. Most instances are valid under the
 * schema; the caller keeps those its validator accepts. With {@link UndeclaredProperties#ABSENT} an
 * object that the checker treats as a record (open, declaring its properties in {@code properties}
 * only) gets no undeclared extra properties, as its writers send none.
 */
final class InstanceGenerator {
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  private static final int MAX_PER_NODE = 40;
  private static final int MAX_DEPTH = 8;

  private static final List<String> RECORD_BREAKERS =
      List.of(
          "allOf",
          "anyOf",
          "oneOf",
          "if",
          "then",
          "else",
          "dependentSchemas",
          "dependencies",
          "patternProperties",
          "unevaluatedProperties",
          "$ref");

  private final Map<String, JsonNode> documents;
  private final Set<String> hints;
  private final boolean writersSendOnlyDeclared;

  InstanceGenerator(Map<String, JsonNode> documents, Set<String> hints) {
    this(documents, hints, UndeclaredProperties.ANY);
  }

  InstanceGenerator(Map<String, JsonNode> documents, Set<String> hints, UndeclaredProperties mode) {
    this.documents = documents;
    this.hints = hints;
    this.writersSendOnlyDeclared = mode == UndeclaredProperties.ABSENT;
  }

  List<JsonNode> generate(JsonNode root) {
    URI base = URI.create(root.path("$id").asText("urn:bloodbank:evolution-case")).normalize();
    return gen(root, root, base, 0);
  }

  private List<JsonNode> gen(JsonNode s, JsonNode doc, URI base, int depth) {
    List<JsonNode> out = new ArrayList<>();
    if (depth > MAX_DEPTH) {
      return out;
    }
    if (s.isBoolean()) {
      if (s.booleanValue()) {
        out.addAll(anything());
      }
      return out;
    }
    if (s.path("$ref").isTextual()) {
      String ref = s.get("$ref").textValue();
      JsonNode targetDoc = doc;
      URI targetBase = base;
      String fragment = "";
      int hash = ref.indexOf('#');
      String path = hash < 0 ? ref : ref.substring(0, hash);
      fragment = hash < 0 ? "" : ref.substring(hash + 1);
      if (!path.isEmpty()) {
        targetBase = base.resolve(path);
        targetDoc = documents.get(targetBase.toString());
      }
      out.addAll(gen(targetDoc.at(fragment), targetDoc, targetBase, depth + 1));
    }
    if (s.has("const")) {
      out.add(s.get("const"));
      return out;
    }
    if (s.has("enum")) {
      s.get("enum").forEach(out::add);
      return out;
    }
    for (String k : List.of("anyOf", "oneOf", "allOf")) {
      s.path(k).forEach(x -> out.addAll(gen(x, doc, base, depth + 1)));
    }
    if (s.has("if")) {
      out.addAll(gen(s.path("then"), doc, base, depth + 1));
      out.addAll(gen(s.path("else"), doc, base, depth + 1));
      out.addAll(gen(s.path("if"), doc, base, depth + 1));
    }
    JsonNode type = s.get("type");
    List<String> types = new ArrayList<>();
    if (type == null) {
      if (!s.has("$ref") && !s.has("anyOf") && !s.has("oneOf") && !s.has("if")) {
        types.addAll(List.of("null", "boolean", "integer", "number", "string", "array", "object"));
      }
    } else if (type.isTextual()) {
      types.add(type.textValue());
    } else {
      type.forEach(t -> types.add(t.textValue()));
    }
    for (String t : types) {
      switch (t) {
        case "null" -> out.add(F.nullNode());
        case "boolean" -> {
          out.add(F.booleanNode(true));
          out.add(F.booleanNode(false));
        }
        case "integer" -> out.addAll(numbers(s, true));
        case "number" -> out.addAll(numbers(s, false));
        case "string" -> out.addAll(strings(s));
        case "object" -> out.addAll(objects(s, doc, base, depth));
        case "array" -> out.addAll(arrays(s, doc, base, depth));
        default -> {}
      }
    }
    return distinct(out);
  }

  private static List<JsonNode> anything() {
    return List.of(
        F.nullNode(),
        F.booleanNode(true),
        F.numberNode(3),
        F.numberNode(new BigDecimal("2.5")),
        F.textNode("s"),
        F.arrayNode(),
        F.objectNode());
  }

  private static List<JsonNode> numbers(JsonNode s, boolean integers) {
    List<BigDecimal> candidates = new ArrayList<>();
    BigDecimal half = new BigDecimal("0.5");
    for (String k : List.of("minimum", "maximum")) {
      if (s.path(k).isNumber()) {
        BigDecimal v = s.get(k).decimalValue();
        candidates.add(v);
        candidates.add(k.equals("minimum") ? v.add(BigDecimal.ONE) : v.subtract(BigDecimal.ONE));
        candidates.add(k.equals("minimum") ? v.add(half) : v.subtract(half));
      }
    }
    for (String k : List.of("exclusiveMinimum", "exclusiveMaximum")) {
      if (s.path(k).isNumber()) {
        BigDecimal v = s.get(k).decimalValue();
        int sign = k.equals("exclusiveMinimum") ? 1 : -1;
        candidates.add(v.add(new BigDecimal("0.25").multiply(BigDecimal.valueOf(sign))));
        candidates.add(v.add(BigDecimal.valueOf(sign)));
      }
    }
    for (String v : List.of("0", "-1", "1", "7", "2.5", "-3.25", "1000000", "1000000.5")) {
      candidates.add(new BigDecimal(v));
    }
    List<JsonNode> out = new ArrayList<>();
    for (BigDecimal c : candidates) {
      if (integers) {
        c = c.setScale(0, RoundingMode.CEILING);
        out.add(F.numberNode(c.longValueExact()));
      } else {
        out.add(
            c.stripTrailingZeros().scale() <= 0
                ? F.numberNode(c.longValue())
                : F.numberNode(c.doubleValue()));
      }
    }
    return out;
  }

  private static List<JsonNode> strings(JsonNode s) {
    List<JsonNode> out = new ArrayList<>();
    String format = s.path("format").asText("");
    switch (format) {
      case "uuid" -> out.add(F.textNode("550e8400-e29b-41d4-a716-446655440000"));
      case "date-time" -> out.add(F.textNode("2024-01-02T03:04:05Z"));
      case "email" -> out.add(F.textNode("someone@example.com"));
      case "date" -> out.add(F.textNode("2024-01-02"));
      case "uri" -> out.add(F.textNode("https://example.com/x"));
      default -> {}
    }
    int min = s.path("minLength").asInt(0);
    int max = Math.min(s.path("maxLength").asInt(64), 64);
    out.add(F.textNode("a".repeat(min)));
    out.add(F.textNode("a".repeat(Math.max(min, max))));
    out.add(F.textNode("abc"));
    out.add(F.textNode("550e8400-e29b-41d4-a716-446655440000"));
    return out;
  }

  private List<JsonNode> objects(JsonNode s, JsonNode doc, URI base, int depth) {
    Map<String, List<JsonNode>> props = new LinkedHashMap<>();
    s.path("properties")
        .fields()
        .forEachRemaining(
            e -> props.put(e.getKey(), cap(gen(e.getValue(), doc, base, depth + 1), 8)));
    JsonNode additional = s.has("additionalProperties") ? s.get("additionalProperties") : null;
    boolean closed = additional != null && additional.isBoolean() && !additional.booleanValue();
    boolean record =
        writersSendOnlyDeclared
            && s.has("properties")
            && (additional == null || additional.equals(F.booleanNode(true)))
            && RECORD_BREAKERS.stream().noneMatch(s::has)
            && allDeclared(s);
    List<JsonNode> extraValues =
        additional == null ? anything() : cap(gen(additional, doc, base, depth + 1), 8);
    ObjectNode minimal = F.objectNode();
    for (JsonNode r : s.path("required")) {
      String n = r.textValue();
      List<JsonNode> v = props.getOrDefault(n, extraValues);
      minimal.set(n, v.isEmpty() ? F.textNode("x") : v.get(0));
    }
    List<JsonNode> out = new ArrayList<>();
    out.add(minimal);
    ObjectNode maximal = minimal.deepCopy();
    props.forEach(
        (n, v) -> {
          if (!v.isEmpty()) {
            maximal.set(n, v.get(0));
          }
        });
    out.add(maximal);
    props.forEach(
        (n, values) -> {
          for (JsonNode v : values) {
            out.add(minimal.deepCopy().set(n, v));
          }
        });
    if (!closed && !record) {
      for (String n : hintsAnd("zz_extra")) {
        if (!props.containsKey(n)) {
          for (JsonNode v : extraValues) {
            out.add(minimal.deepCopy().set(n, v));
          }
        }
      }
      int max = Math.min(s.path("maxProperties").asInt(4), 8);
      ObjectNode full = maximal.deepCopy();
      for (int i = 0; full.size() < max; i++) {
        full.set("zz_fill_" + i, extraValues.isEmpty() ? F.nullNode() : extraValues.get(0));
      }
      out.add(full);
    }
    return cap(out, MAX_PER_NODE);
  }

  private List<JsonNode> arrays(JsonNode s, JsonNode doc, URI base, int depth) {
    List<List<JsonNode>> prefix = new ArrayList<>();
    s.path("prefixItems").forEach(p -> prefix.add(cap(gen(p, doc, base, depth + 1), 8)));
    JsonNode itemsSchema = s.has("items") ? s.get("items") : F.booleanNode(true);
    List<JsonNode> items = cap(gen(itemsSchema, doc, base, depth + 1), 8);
    ArrayNode tuple = F.arrayNode();
    for (List<JsonNode> p : prefix) {
      tuple.add(p.isEmpty() ? F.nullNode() : p.get(0));
    }
    List<JsonNode> out = new ArrayList<>();
    out.add(F.arrayNode());
    out.add(tuple);
    for (int i = 0; i < prefix.size(); i++) {
      for (JsonNode v : prefix.get(i)) {
        ArrayNode a = tuple.deepCopy();
        a.set(i, v);
        out.add(a);
      }
    }
    for (JsonNode v : items) {
      out.add(tuple.deepCopy().add(v));
    }
    if (!items.isEmpty()) {
      out.add(tuple.deepCopy().add(items.get(0)).add(items.get(0)));
      int n = Math.min(Math.max(s.path("maxItems").asInt(3), s.path("minItems").asInt(0)), 8);
      ArrayNode full = tuple.deepCopy();
      for (int i = 0; full.size() < n; i++) {
        full.add(items.get(i % items.size()));
      }
      out.add(full);
      ArrayNode distinct = tuple.deepCopy();
      for (int i = 0; distinct.size() < n && i < items.size(); i++) {
        distinct.add(items.get(i));
      }
      out.add(distinct);
    }
    return cap(out, MAX_PER_NODE);
  }

  private static boolean allDeclared(JsonNode s) {
    for (JsonNode r : s.path("required")) {
      if (!s.path("properties").has(r.asText())) {
        return false;
      }
    }
    return true;
  }

  private List<String> hintsAnd(String name) {
    List<String> out = new ArrayList<>(hints);
    out.add(name);
    return out;
  }

  private static List<JsonNode> distinct(List<JsonNode> in) {
    Map<String, JsonNode> seen = new LinkedHashMap<>();
    for (JsonNode n : in) {
      seen.putIfAbsent(n.getNodeType() + ":" + n, n);
    }
    return new ArrayList<>(seen.values());
  }

  private static List<JsonNode> cap(List<JsonNode> in, int max) {
    List<JsonNode> d = distinct(in);
    return d.size() <= max ? d : new ArrayList<>(d.subList(0, max));
  }
}
