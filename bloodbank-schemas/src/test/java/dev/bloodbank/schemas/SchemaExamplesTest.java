package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.validation.ValidationResult;
import dev.bloodbank.validation.Violation;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every schema of the catalog against its valid and invalid examples. */
class SchemaExamplesTest {

  static Stream<String> schemaFiles() {
    return Examples.schemaFiles().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaFiles")
  void everySchemaHasValidAndInvalidExamples(String schemaFile) {
    JsonNode examples = Examples.read(Examples.exampleFile(schemaFile));
    assertThat(examples.path("valid").size()).as("valid examples of %s", schemaFile).isPositive();
    assertThat(examples.path("invalid").size())
        .as("invalid examples of %s", schemaFile)
        .isPositive();
    for (JsonNode e : examples.path("invalid")) {
      assertThat(e.path("pointer").isTextual()).as("pointer of %s", e).isTrue();
    }
  }

  @ParameterizedTest(name = "{0} valid #{1}")
  @MethodSource("dev.bloodbank.schemas.Examples#valid")
  void validExampleValidates(String schemaFile, int index, JsonNode document) {
    ValidationResult r =
        Examples.COMMON_VALIDATOR.checkPayload(Examples.checkedAs(schemaFile), document);
    assertThat(r.violations()).isEmpty();
    assertThat(r.coverage()).isEqualTo(ValidationResult.Coverage.FULL);
  }

  @ParameterizedTest(name = "{0} invalid at {1}")
  @MethodSource("dev.bloodbank.schemas.Examples#invalid")
  void invalidExampleFailsAtItsPointer(String schemaFile, String pointer, JsonNode document) {
    ValidationResult r =
        Examples.COMMON_VALIDATOR.checkPayload(Examples.checkedAs(schemaFile), document);
    assertThat(r.isValid()).isFalse();
    assertThat(r.violations()).extracting(Violation::pointer).contains(pointer);
    assertThat(r.violations())
        .allSatisfy(
            v -> {
              assertThat(v.part()).isEqualTo(Violation.Part.PAYLOAD);
              assertThat(v.message()).isNotBlank().doesNotStartWith("/");
            });
  }

  @Test
  void theExampleOfTheIssueValidatesAgainstTranscriptionV1() throws Exception {
    JsonNode payload = Examples.MAPPER.readTree(Examples.ISSUE_TRANSCRIPTION);
    ValidationResult r = Examples.VALIDATOR.checkPayload("transcription.voice.completed", payload);
    assertThat(r.violations()).isEmpty();
    assertThat(Examples.CATALOG.require("transcription.voice.completed").schemaResource())
        .contains("dev/bloodbank/schemas/voice/transcription.v1.schema.json");
  }

  @Test
  void everyViolationOfAPayloadIsListed() throws Exception {
    JsonNode payload =
        Examples.MAPPER.readTree(
            "{\"text\":7,\"timestamp\":\"soon\",\"session_id\":\"x\","
                + "\"audio_metadata\":{\"confidence\":1.5,\"sample_rate\":0}}");
    ValidationResult r = Examples.VALIDATOR.checkPayload("transcription.voice.completed", payload);
    assertThat(r.violations())
        .extracting(Violation::pointer)
        .containsExactlyInAnyOrder(
            "/text",
            "/timestamp",
            "/source",
            "/session_id",
            "/audio_metadata/confidence",
            "/audio_metadata/sample_rate");
    assertThat(r.violations())
        .filteredOn(v -> v.pointer().equals("/source"))
        .singleElement()
        .satisfies(
            v -> {
              assertThat(v.keyword()).isEqualTo("required");
              assertThat(v.message()).contains("source");
            });
  }

  /** (event type, optional property) for every optional top-level property of every event. */
  static Stream<Arguments> optionalProperties() {
    List<Arguments> out = new ArrayList<>();
    Examples.CATALOG
        .all()
        .forEach(
            d -> {
              JsonNode schema = Examples.CATALOG.schema(d.eventType());
              Set<String> required = new HashSet<>();
              schema.path("required").forEach(n -> required.add(n.asText()));
              for (Map.Entry<String, JsonNode> p : schema.path("properties").properties()) {
                if (!required.contains(p.getKey())) {
                  out.add(Arguments.of(d.eventType(), p.getKey()));
                }
              }
            });
    return out.stream();
  }

  @ParameterizedTest(name = "{0} {1}: null")
  @MethodSource("optionalProperties")
  void optionalPropertiesAcceptNullAsThePythonServicesSendIt(String eventType, String property) {
    ObjectNode payload =
        (ObjectNode)
            Examples.read("examples/" + eventType + ".json").path("valid").get(0).deepCopy();
    payload.putNull(property);
    assertThat(Examples.VALIDATOR.checkPayload(eventType, payload).violations()).isEmpty();
  }

  @Test
  void aTranscriptHasAtMostTenThousandSentences() {
    ObjectNode ready =
        (ObjectNode)
            Examples.read("examples/fireflies.transcript.ready.json")
                .path("valid")
                .get(0)
                .deepCopy();
    JsonNode sentence = ready.path("sentences").get(0);
    ArrayNode sentences = JsonNodeFactory.instance.arrayNode();
    for (int i = 0; i < 10_000; i++) {
      sentences.add(sentence);
    }
    ready.set("sentences", sentences);
    assertThat(Examples.VALIDATOR.checkPayload("fireflies.transcript.ready", ready).isValid())
        .isTrue();
    sentences.add(sentence);
    assertThat(Examples.VALIDATOR.checkPayload("fireflies.transcript.ready", ready).violations())
        .extracting(Violation::pointer, Violation::keyword)
        .containsExactly(tuple("/sentences", "maxItems"));
  }
}
