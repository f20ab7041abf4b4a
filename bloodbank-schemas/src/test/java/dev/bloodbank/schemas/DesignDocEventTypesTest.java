package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.schemas.llm.LlmPrompt;
import dev.bloodbank.validation.ValidationMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The event types the Python services' design documents and code name, against the catalog.
 *
 * <p>{@code design-docs-event-types.txt} lists each name with its source and whether the catalog
 * has it; {@code python-payloads.json} holds payloads shaped as the Python code writes them (nulls
 * for unset Optional fields, defaults written, {@code +00:00} timestamps), by event type.
 */
class DesignDocEventTypesTest {
  static final String LIST = "design-docs-event-types.txt";
  static final String PAYLOADS = "python-payloads.json";
  static final String NO_PYTHON_PAYLOAD = "no Python payload";

  /** Catalog events no Python service defines: outcomes of the Java command processor. */
  static final Set<String> JAVA_ONLY = Set.of("command.completed", "command.failed");

  enum Status {
    CATALOG,
    EXCLUDED,
    GAP
  }

  record Entry(String eventType, Status status, String source, String reason, int line) {
    @Override
    public String toString() {
      return eventType;
    }
  }

  static List<Entry> entries() {
    List<Entry> out = new ArrayList<>();
    try (InputStream in = DesignDocEventTypesTest.class.getClassLoader().getResourceAsStream(LIST);
        BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
      String line;
      int n = 0;
      while ((line = r.readLine()) != null) {
        n++;
        if (line.isBlank() || line.startsWith("#")) {
          continue;
        }
        // The reason is last, so it may itself contain '|' (e.g. "status ok|error").
        String[] f = line.split("\\|", 4);
        if (f.length != 4) {
          throw new AssertionError(LIST + ":" + n + ": expected 4 fields, got: " + line);
        }
        out.add(
            new Entry(
                f[0].strip(),
                Status.valueOf(f[1].strip().toUpperCase(Locale.ROOT)),
                f[2].strip(),
                f[3].strip(),
                n));
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out;
  }

  static Stream<Entry> inCatalog() {
    return entries().stream().filter(e -> e.status() == Status.CATALOG);
  }

  static Stream<Entry> notInCatalog() {
    return entries().stream().filter(e -> e.status() != Status.CATALOG);
  }

  /** (event type, source, payload) for every payload of python-payloads.json. */
  static Stream<Arguments> pythonPayloads() {
    List<Arguments> out = new ArrayList<>();
    for (Map.Entry<String, JsonNode> e : Examples.read(PAYLOADS).properties()) {
      for (JsonNode p : e.getValue()) {
        out.add(Arguments.of(e.getKey(), p.path("source").asText(), p.path("payload")));
      }
    }
    return out.stream();
  }

  @Test
  void theListIsWellFormed() {
    List<Entry> entries = entries();
    assertThat(entries).hasSizeGreaterThan(100);
    assertThat(entries).extracting(Entry::eventType).doesNotHaveDuplicates();
    for (Entry e : entries) {
      assertThat(e.source())
          .as("%s:%d source of %s", LIST, e.line(), e.eventType())
          .matches(".*[A-Za-z0-9]+@[0-9a-f]{7} .*");
      if (e.status() != Status.CATALOG) {
        assertThat(e.reason())
            .as("%s:%d reason for %s", LIST, e.line(), e.eventType())
            .isNotBlank();
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inCatalog")
  void theCatalogHasEveryEventTypeListedForIt(Entry e) {
    assertThat(Examples.CATALOG.find(e.eventType()))
        .as("%s (%s:%d, from %s)", e.eventType(), LIST, e.line(), e.source())
        .isPresent()
        .get()
        .satisfies(d -> assertThat(d.payloadClass()).isNotNull());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("notInCatalog")
  void excludedAndMissingEventTypesAreNotInTheCatalog(Entry e) {
    assertThat(Examples.CATALOG.find(e.eventType()))
        .as("%s is in the catalog now: mark it catalog in %s:%d", e.eventType(), LIST, e.line())
        .isEmpty();
  }

  @Test
  void everyCatalogEventOfPythonIsListed() {
    Set<String> listed = new HashSet<>();
    inCatalog().forEach(e -> listed.add(e.eventType()));
    assertThat(Examples.CATALOG.all())
        .extracting(EventDefinition::eventType)
        .filteredOn(t -> !JAVA_ONLY.contains(t))
        .allSatisfy(t -> assertThat(listed).as("listed as catalog in %s", LIST).contains(t));
  }

  @Test
  void everyListedEventWhosePayloadPythonWritesHasAPythonPayload() {
    JsonNode payloads = Examples.read(PAYLOADS);
    List<Entry> catalog = inCatalog().toList();
    for (Entry e : catalog) {
      if (e.reason().startsWith(NO_PYTHON_PAYLOAD)) {
        assertThat(payloads.has(e.eventType())).as("payloads of %s", e.eventType()).isFalse();
      } else {
        assertThat(payloads.path(e.eventType()).size())
            .as("payloads of %s in %s", e.eventType(), PAYLOADS)
            .isPositive();
      }
    }
    Set<String> listed = new HashSet<>();
    catalog.forEach(e -> listed.add(e.eventType()));
    assertThat(payloads.fieldNames()).toIterable().allMatch(listed::contains);
  }

  @ParameterizedTest(name = "{0}: {1}")
  @MethodSource("pythonPayloads")
  void aPythonShapedPayloadValidatesAndItsClassKeepsEveryValue(
      String eventType, String source, JsonNode payload) throws Exception {
    assertThat(Examples.VALIDATOR.checkPayload(eventType, payload).violations()).isEmpty();
    // As a whole v2 envelope the way Python writes it, checked the way a publisher checks.
    assertThat(Examples.VALIDATOR.check(pythonEnvelope(eventType, payload), ValidationMode.STRICT))
        .isEmpty();
    // A Java consumer that reads it into the generated class loses nothing Python sent.
    Class<?> type = Examples.CATALOG.require(eventType).payloadClass();
    JsonNode again = Examples.MAPPER.valueToTree(Examples.MAPPER.treeToValue(payload, type));
    assertThat(Examples.nonNullPointers(again)).containsAll(Examples.nonNullPointers(payload));
  }

  @Test
  void theMcpToolsPromptWithoutAModelValidatesWithTheModelNullOrAbsent() throws Exception {
    // bloodbank event_producers/mcp_server.py publish_llm_prompt(provider, prompt, model=None)
    ObjectNode prompt =
        (ObjectNode)
            Examples.MAPPER.readTree(
                "{\"provider\":\"anthropic\",\"model\":null,\"prompt\":\"hi\","
                    + "\"project\":null,\"working_dir\":null,\"domain\":null,\"tags\":[]}");
    ObjectNode absent = prompt.deepCopy();
    absent.remove("model");
    for (JsonNode p : List.of(prompt, absent)) {
      assertThat(Examples.VALIDATOR.check(pythonEnvelope("llm.prompt", p), ValidationMode.STRICT))
          .isEmpty();
      LlmPrompt typed = Examples.MAPPER.treeToValue(p, LlmPrompt.class);
      assertThat(typed.getModel()).isNull();
      assertThat(typed.getTags()).isEmpty();
    }
  }

  @Test
  void talkyTonnysPayloadIsTheTranscriptionPayload() {
    JsonNode tonny = Examples.CATALOG.schema("talkytonny.transcription.completed");
    JsonNode whisper = Examples.CATALOG.schema("transcription.voice.completed");
    assertThat(tonny.path("required")).isEqualTo(whisper.path("required"));
    assertThat(withoutClassNames(tonny.path("properties")))
        .isEqualTo(withoutClassNames(whisper.path("properties")));
    assertThat(tonny.path("description").asText())
        .contains("assumed to match transcription.voice.completed");
  }

  /** The properties with the keywords that name Java classes removed. */
  private static JsonNode withoutClassNames(JsonNode properties) {
    ObjectNode copy = properties.deepCopy();
    for (JsonNode p : copy) {
      ((ObjectNode) p).remove(List.of("javaType", "existingJavaType"));
    }
    return copy;
  }

  /** A v2 envelope as Python's EventEnvelope.model_dump() and orjson write it. */
  static JsonNode pythonEnvelope(String eventType, JsonNode payload) {
    ObjectNode e = Examples.MAPPER.createObjectNode();
    e.put("event_id", UUID.randomUUID().toString());
    e.put("event_type", eventType);
    e.put("timestamp", "2026-04-01T12:00:00.123456+00:00");
    e.put("version", "1.0.0");
    ObjectNode source = e.putObject("source");
    source.put("host", "big-chungus");
    source.put("type", "manual");
    source.put("app", "python");
    source.putNull("meta");
    e.putArray("correlation_ids");
    e.putNull("agent_context");
    e.set("payload", payload);
    return e;
  }
}
