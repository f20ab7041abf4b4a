package dev.bloodbank.schemas;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.EventCodec;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.params.provider.Arguments;

/**
 * Shared fixtures: the catalog's schema files, their examples, and a registry and validator over
 * them.
 *
 * <p>Examples live in {@code src/test/resources/examples/}: {@code <event type>.json} for an event
 * schema, {@code common/<name>.v<N>.json} for a schema of {@code common/}. Each holds {@code valid}
 * (documents that must validate) and {@code invalid} ({@code {"pointer": ..., "payload": ...}}: a
 * document that must fail with a violation at that JSON pointer, relative to the document).
 */
final class Examples {
  static final String RESOURCE_BASE = "dev/bloodbank/schemas/";

  /** The example of issue #3; it must validate against transcription.v1. */
  static final String ISSUE_TRANSCRIPTION =
      "{\"text\":\"The transcribed text\",\"timestamp\":\"2026-01-27T10:00:00Z\","
          + "\"source\":\"whisperlivekit\",\"target\":\"tonny\","
          + "\"session_id\":\"550e8400-e29b-41d4-a716-446655440000\","
          + "\"audio_metadata\":{\"duration_seconds\":3.5,\"sample_rate\":16000,\"confidence\":0.95,"
          + "\"language\":\"en\",\"model\":\"base\",\"speaker_id\":\"speaker_1\"},"
          + "\"context\":{\"device_type\":\"mobile\",\"user_id\":\"user123\","
          + "\"tags\":[\"meeting\",\"notes\"]}}";

  static final ObjectMapper MAPPER = EventCodec.defaultObjectMapper();

  /** The catalog as an application sees it: the index on the classpath. */
  static final EventRegistry CATALOG = EventRegistry.fromClasspath();

  static final EventValidator VALIDATOR = EventValidator.create(CATALOG, MAPPER);

  /** The catalog plus each common/ schema registered as pseudo-event {@code test.common.<name>}. */
  static final EventRegistry WITH_COMMON = EventRegistry.fromClasspath();

  static final EventValidator COMMON_VALIDATOR;

  static {
    for (String s : schemaFiles()) {
      if (s.startsWith("common/")) {
        WITH_COMMON.register(
            EventDefinition.builder(pseudoEventType(s)).schemaResource(RESOURCE_BASE + s).build());
      }
    }
    COMMON_VALIDATOR = EventValidator.create(WITH_COMMON, MAPPER);
  }

  private Examples() {}

  /** Paths of every schema file under the catalog root, e.g. {@code voice/transcription.v1...}. */
  static List<String> schemaFiles() {
    URL envelope = Examples.class.getClassLoader().getResource(RESOURCE_BASE + "common/");
    try {
      Path root = Path.of(envelope.toURI()).getParent();
      try (Stream<Path> s = Files.walk(root)) {
        return s.filter(p -> p.getFileName().toString().endsWith(".schema.json"))
            .map(p -> root.relativize(p).toString().replace('\\', '/'))
            .sorted()
            .toList();
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }

  /** {@code common/source.v1.schema.json} → {@code test.common.source-v1}. */
  static String pseudoEventType(String commonSchema) {
    String name = commonSchema.substring("common/".length(), commonSchema.indexOf(".schema.json"));
    return "test.common." + name.replace('.', '-');
  }

  /** The example file of a schema file. */
  static String exampleFile(String schemaFile) {
    if (schemaFile.startsWith("common/")) {
      return "examples/" + schemaFile.replace(".schema.json", ".json");
    }
    String type =
        CATALOG.all().stream()
            .filter(d -> d.schemaResource().orElse("").equals(RESOURCE_BASE + schemaFile))
            .map(EventDefinition::eventType)
            .findFirst()
            .orElseThrow(() -> new AssertionError(schemaFile + " is not in the catalog index"));
    return "examples/" + type + ".json";
  }

  /** The event type examples of a schema file are checked as. */
  static String checkedAs(String schemaFile) {
    return schemaFile.startsWith("common/")
        ? pseudoEventType(schemaFile)
        : CATALOG.all().stream()
            .filter(d -> d.schemaResource().orElse("").equals(RESOURCE_BASE + schemaFile))
            .map(EventDefinition::eventType)
            .findFirst()
            .orElseThrow();
  }

  static JsonNode read(String resource) {
    try (InputStream in = Examples.class.getClassLoader().getResourceAsStream(resource)) {
      if (in == null) {
        throw new AssertionError("missing test resource " + resource);
      }
      return MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(resource, e);
    }
  }

  /** (schema file, index, document) for every valid example. */
  static Stream<Arguments> valid() {
    List<Arguments> out = new ArrayList<>();
    for (String s : schemaFiles()) {
      JsonNode valid = read(exampleFile(s)).path("valid");
      for (int i = 0; i < valid.size(); i++) {
        out.add(Arguments.of(s, i, valid.get(i)));
      }
    }
    return out.stream();
  }

  /** (schema file, expected pointer, document) for every invalid example. */
  static Stream<Arguments> invalid() {
    List<Arguments> out = new ArrayList<>();
    for (String s : schemaFiles()) {
      for (JsonNode e : read(exampleFile(s)).path("invalid")) {
        out.add(Arguments.of(s, e.get("pointer").asText(), e.get("payload")));
      }
    }
    return out.stream();
  }

  /** (event type, index, payload) for every valid example of an event schema. */
  static Stream<Arguments> validPayloads() {
    return valid()
        .filter(a -> !((String) a.get()[0]).startsWith("common/"))
        .map(a -> Arguments.of(checkedAs((String) a.get()[0]), a.get()[1], a.get()[2]));
  }

  /** JSON pointers of every non-null value in a document, the document itself included. */
  static Set<String> nonNullPointers(JsonNode node) {
    Set<String> out = new LinkedHashSet<>();
    Deque<Map.Entry<String, JsonNode>> todo = new ArrayDeque<>();
    todo.add(Map.entry("", node));
    while (!todo.isEmpty()) {
      Map.Entry<String, JsonNode> e = todo.pop();
      JsonNode n = e.getValue();
      if (n.isNull()) {
        continue;
      }
      out.add(e.getKey());
      if (n.isObject()) {
        for (Map.Entry<String, JsonNode> f : n.properties()) {
          todo.add(Map.entry(e.getKey() + "/" + f.getKey(), f.getValue()));
        }
      } else if (n.isArray()) {
        for (int i = 0; i < n.size(); i++) {
          todo.add(Map.entry(e.getKey() + "/" + i, n.get(i)));
        }
      }
    }
    return out;
  }
}
