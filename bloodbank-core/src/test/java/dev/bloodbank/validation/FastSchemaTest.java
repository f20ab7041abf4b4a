package dev.bloodbank.validation;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.networknt.schema.Schema;
import dev.bloodbank.registry.EventRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@link FastSchema} never accepts what the reference validator (networknt, configured as for the
 * catalog) rejects: differential checks on the catalog's schemas, their valid and invalid examples,
 * and thousands of seeded mutations of the valid ones. Also checks that the fast path is taken at
 * all: the valid examples of every schema it compiles are accepted.
 */
class FastSchemaTest {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final JsonNodeFactory F = JsonNodeFactory.instance;
  // The catalog lives in its own module; its sources are read in place, not copied.
  private static final Path CATALOG =
      Path.of("..", "bloodbank-schemas", "src", "main", "resources");
  private static final Path EXAMPLES =
      Path.of("..", "bloodbank-schemas", "src", "test", "resources", "examples");
  private static final int MUTANTS_PER_EXAMPLE = 400;

  private final EventValidator validator = EventValidator.create(EventRegistry.empty());

  /** Event type to schema document, for every payload schema in the catalog. */
  private static Map<String, JsonNode> catalog() throws IOException {
    assertThat(CATALOG).as("the catalog's sources next to this module").isDirectory();
    Map<String, JsonNode> out = new TreeMap<>();
    try (Stream<Path> files = Files.walk(CATALOG)) {
      for (Path f : files.filter(p -> p.toString().endsWith(".schema.json")).toList()) {
        JsonNode s = JSON.readTree(f.toFile());
        JsonNode type = s.path("x-bloodbank").path("event_type");
        if (type.isTextual()) {
          out.put(type.textValue(), s);
        }
      }
    }
    assertThat(out).hasSizeGreaterThan(15);
    return out;
  }

  private static JsonNode examples(String eventType) throws IOException {
    Path f = EXAMPLES.resolve(eventType + ".json");
    return Files.exists(f) ? JSON.readTree(f.toFile()) : F.objectNode();
  }

  @Test
  void neverAcceptsWhatTheReferenceRejects() throws IOException {
    int compiled = 0;
    long accepted = 0;
    long rejectedByBoth = 0;
    List<String> notCompiled = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : catalog().entrySet()) {
      FastSchema fast = FastSchema.compile(e.getValue());
      if (fast == null) {
        notCompiled.add(e.getKey());
        continue;
      }
      compiled++;
      Schema reference = validator.referenceSchema(e.getValue());
      JsonNode ex = examples(e.getKey());
      for (JsonNode valid : ex.path("valid")) {
        assertThat(reference.validate(valid)).as("%s: example is valid", e.getKey()).isEmpty();
        assertThat(fast.accepts(valid))
            .as("%s: the fast path takes a valid example: %s", e.getKey(), valid)
            .isTrue();
      }
      List<JsonNode> instances = new ArrayList<>();
      ex.path("invalid").forEach(i -> instances.add(i.has("payload") ? i.get("payload") : i));
      Random random = new Random(e.getKey().hashCode());
      for (JsonNode valid : ex.path("valid")) {
        for (int i = 0; i < MUTANTS_PER_EXAMPLE; i++) {
          JsonNode m = valid.deepCopy();
          int changes = 1 + random.nextInt(3);
          for (int c = 0; c < changes; c++) {
            m = mutate(m, random);
          }
          instances.add(m);
        }
      }
      for (JsonNode x : instances) {
        boolean fastSays = fast.accepts(x);
        boolean valid = reference.validate(x).isEmpty();
        if (fastSays) {
          assertThat(valid)
              .as("%s: accepted by the fast path but not by the reference: %s", e.getKey(), x)
              .isTrue();
          accepted++;
        } else if (!valid) {
          rejectedByBoth++;
        }
      }
    }
    // The fast path must matter: most catalog schemas compile, and mutations land on both sides.
    assertThat(compiled).as("compiled; not compiled: %s", notCompiled).isGreaterThan(12);
    assertThat(notCompiled).doesNotContain("transcription.voice.completed");
    assertThat(accepted).isGreaterThan(1000);
    assertThat(rejectedByBoth).isGreaterThan(1000);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "550e8400-e29b-41d4-a716-446655440000",
        "550E8400-E29B-41D4-A716-446655440000",
        "550e8400e29b41d4a716446655440000",
        "550e8400-e29b-41d4-a716-44665544000g",
        "{550e8400-e29b-41d4-a716-446655440000}",
        "2026-01-27T10:00:00Z",
        "2026-01-27T10:00:00.123456789Z",
        "2026-01-27T10:00:00.1234567891Z",
        "2026-01-27T10:00:00+14:00",
        "2026-01-27T10:00:00-23:59",
        "2026-01-27T10:00:00+18:00",
        "2026-01-27T10:00:00-18:00",
        "2026-01-27T10:00:00+18:01",
        "2026-01-27t10:00:00z",
        "2026-01-27 10:00:00Z",
        "2024-02-29T00:00:00Z",
        "2026-02-29T00:00:00Z",
        "2026-04-31T00:00:00Z",
        "2026-12-31T23:59:60Z",
        "0000-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "2026-01-27T24:00:00Z",
        "2026-01-27T10:00:00",
        "2026-01-27T10:00:00.Z",
        "2026-01-27T10:00:00+0100",
        ""
      })
  void formatsAgreeWithTheReference(String value) {
    ObjectNode schema = F.objectNode();
    ObjectNode props = schema.putObject("properties");
    props.putObject("id").put("format", "uuid");
    props.putObject("at").put("format", "date-time");
    FastSchema fast = FastSchema.compile(schema);
    Schema reference = validator.referenceSchema(schema);
    for (String field : List.of("id", "at")) {
      ObjectNode x = F.objectNode().put(field, value);
      if (fast.accepts(x)) {
        assertThat(reference.validate(x)).as("%s = %s", field, value).isEmpty();
      }
    }
  }

  @Test
  void acceptsTheCommonShapesOfItsFormats() {
    assertThat(FastSchema.Formats.isUuid("550e8400-e29b-41d4-a716-446655440000")).isTrue();
    assertThat(FastSchema.Formats.isDateTime("2026-01-27T10:00:00Z")).isTrue();
    assertThat(FastSchema.Formats.isDateTime("2026-01-27T10:00:00.123456+02:00")).isTrue();
    assertThat(FastSchema.Formats.isDateTime("2026-02-29T10:00:00Z")).isFalse();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "{\"type\": \"string\", \"pattern\": \"^a\"}",
        "{\"oneOf\": [{\"type\": \"string\"}, {\"type\": \"integer\"}]}",
        "{\"if\": {\"type\": \"string\"}, \"then\": {\"minLength\": 1}}",
        "{\"properties\": {\"s\": {\"$ref\": \"source.v1.schema.json\"}}}",
        "{\"properties\": {\"s\": {\"$id\": \"other\", \"type\": \"string\"}}}",
        "{\"type\": \"strings\"}",
        "{\"minimum\": 1, \"exclusiveMinimum\": 0}",
        "{\"uniqueItems\": true}",
        "{\"enum\": [1, 2], \"const\": 3}",
        "{\"const\": 3, \"enum\": [1, 2]}"
      })
  void leavesSchemasOutsideItsKeywordsToTheReference(String schema) throws IOException {
    assertThat(FastSchema.compile(JSON.readTree(schema))).isNull();
  }

  @Test
  void followsLocalReferencesIncludingRecursiveOnes() throws IOException {
    JsonNode schema =
        JSON.readTree(
            """
            {"$defs": {"tree": {"type": "object", "required": ["v"],
               "properties": {"v": {"type": "integer", "minimum": 0},
                              "kids": {"type": "array", "items": {"$ref": "#/$defs/tree"}}},
               "additionalProperties": false}},
             "$ref": "#/$defs/tree"}
            """);
    FastSchema fast = FastSchema.compile(schema);
    assertThat(fast).isNotNull();
    assertThat(fast.accepts(JSON.readTree("{\"v\": 1, \"kids\": [{\"v\": 2, \"kids\": []}]}")))
        .isTrue();
    assertThat(fast.accepts(JSON.readTree("{\"v\": 1, \"kids\": [{\"v\": -2}]}"))).isFalse();
    assertThat(fast.accepts(JSON.readTree("{\"v\": 1, \"kids\": [{\"w\": 2, \"v\": 0}]}")))
        .isFalse();
  }

  @Test
  void boundsAreExactAtTheirEdges() throws IOException {
    FastSchema fast =
        FastSchema.compile(
            JSON.readTree("{\"type\": \"number\", \"minimum\": 0, \"exclusiveMaximum\": 1}"));
    assertThat(fast.accepts(F.numberNode(0))).isTrue();
    assertThat(fast.accepts(F.numberNode(0.0))).isTrue();
    assertThat(fast.accepts(F.numberNode(-0.000001))).isFalse();
    assertThat(fast.accepts(F.numberNode(0.999999))).isTrue();
    assertThat(fast.accepts(F.numberNode(1))).isFalse();
    assertThat(fast.accepts(F.numberNode(1.0))).isFalse();
    assertThat(fast.accepts(F.textNode("0.5"))).isFalse();
    FastSchema open =
        FastSchema.compile(JSON.readTree("{\"exclusiveMinimum\": 0, \"maximum\": 0.1}"));
    assertThat(open.accepts(F.numberNode(0))).isFalse();
    assertThat(open.accepts(F.numberNode(0.0))).isFalse();
    assertThat(open.accepts(F.numberNode(0.05))).isTrue();
    // 0.1 is not exact as a double: equality with it is left to the reference.
    assertThat(open.accepts(F.numberNode(0.1))).isFalse();
  }

  // ---- mutations --------------------------------------------------------------------------

  private static final JsonNode[] VALUES = {
    F.nullNode(),
    F.booleanNode(true),
    F.numberNode(0),
    F.numberNode(-1),
    F.numberNode(1),
    F.numberNode(2.0),
    F.numberNode(1.5),
    F.numberNode(-0.5),
    F.numberNode(1e300),
    F.numberNode(Long.MAX_VALUE),
    F.numberNode(16000),
    F.textNode(""),
    F.textNode("x"),
    F.textNode("\uD83D\uDE00"),
    F.textNode("550e8400-e29b-41d4-a716-446655440000"),
    F.textNode("550E8400-E29B-41D4-A716-446655440000"),
    F.textNode("550e8400-e29b-41d4-a716-44665544000"),
    F.textNode("2026-01-27T10:00:00Z"),
    F.textNode("2026-01-27T10:00:00.5+02:00"),
    F.textNode("2026-13-27T10:00:00Z"),
    F.textNode("2026-02-29T10:00:00Z"),
    F.textNode("2026-01-27"),
    F.textNode("https://example.com/a"),
    F.textNode("x".repeat(300)),
    F.objectNode(),
    F.arrayNode(),
  };

  /** One random change somewhere in the value: a removal, a replacement, or a new field. */
  private static JsonNode mutate(JsonNode root, Random random) {
    List<JsonNode> containers = new ArrayList<>();
    collect(root, containers);
    if (containers.isEmpty()) {
      return pick(random);
    }
    JsonNode target = containers.get(random.nextInt(containers.size()));
    if (target instanceof ObjectNode o) {
      List<String> names = new ArrayList<>();
      Iterator<String> it = o.fieldNames();
      it.forEachRemaining(names::add);
      int action = random.nextInt(4);
      if (names.isEmpty() || action == 0) {
        o.set("extra_" + random.nextInt(3), pick(random));
      } else if (action == 1) {
        o.remove(names.get(random.nextInt(names.size())));
      } else {
        o.set(names.get(random.nextInt(names.size())), pick(random));
      }
    } else if (target instanceof ArrayNode a) {
      if (a.isEmpty() || random.nextBoolean()) {
        a.add(pick(random));
      } else {
        a.set(random.nextInt(a.size()), pick(random));
      }
    }
    return root;
  }

  private static JsonNode pick(Random random) {
    JsonNode v = VALUES[random.nextInt(VALUES.length)];
    if (random.nextInt(8) == 0) {
      ObjectNode o = F.objectNode();
      o.set("nested", VALUES[random.nextInt(VALUES.length)]);
      return o;
    }
    return v.deepCopy();
  }

  private static void collect(JsonNode n, List<JsonNode> out) {
    if (n.isContainerNode()) {
      out.add(n);
      n.forEach(c -> collect(c, out));
    }
  }
}
