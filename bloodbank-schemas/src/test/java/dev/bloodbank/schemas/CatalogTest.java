package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.EventCodec;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every schema against its examples, and every generated class against its schema. */
class CatalogTest {
  static final EventRegistry REGISTRY = EventRegistry.fromClasspath();
  static final ObjectMapper MAPPER = EventCodec.defaultObjectMapper();
  static final EventValidator VALIDATOR = EventValidator.create(REGISTRY, MAPPER);

  static JsonNode examples(String eventType) throws IOException {
    try (InputStream in =
        CatalogTest.class.getResourceAsStream("/examples/" + eventType + ".json")) {
      assertThat(in).as("examples/%s.json", eventType).isNotNull();
      return MAPPER.readTree(in);
    }
  }

  static Stream<String> eventTypes() {
    return REGISTRY.all().stream().map(EventDefinition::eventType);
  }

  static Stream<Arguments> validExamples() throws IOException {
    List<Arguments> out = new ArrayList<>();
    for (String t : eventTypes().toList()) {
      JsonNode valid = examples(t).get("valid");
      assertThat(valid.size()).as("valid examples of %s", t).isPositive();
      for (int i = 0; i < valid.size(); i++) {
        out.add(Arguments.of(t, i, valid.get(i)));
      }
    }
    return out.stream();
  }

  static Stream<Arguments> invalidExamples() throws IOException {
    List<Arguments> out = new ArrayList<>();
    for (String t : eventTypes().toList()) {
      JsonNode invalid = examples(t).get("invalid");
      assertThat(invalid.size()).as("invalid examples of %s", t).isPositive();
      for (JsonNode e : invalid) {
        out.add(Arguments.of(t, e.get("pointer").asText(), e.get("payload")));
      }
    }
    return out.stream();
  }

  @Test
  void catalogHasEveryEventOfTheIssue() {
    assertThat(eventTypes())
        .containsExactlyInAnyOrder(
            "transcription.voice.completed",
            "fireflies.transcript.upload",
            "fireflies.transcript.ready",
            "fireflies.transcript.processed",
            "fireflies.transcript.failed",
            "agent.thread.prompt",
            "agent.thread.response",
            "agent.thread.error",
            "artifact.created",
            "artifact.updated",
            "artifact.deleted",
            "artifact.ingestion.failed",
            "github.pr.created",
            "calendar.event.created",
            "theboard.meeting.created",
            "theboard.meeting.started",
            "theboard.meeting.completed",
            "llm.prompt",
            "llm.response",
            "command.completed",
            "command.failed");
    assertThat(REGISTRY.all()).allSatisfy(d -> assertThat(d.payloadClass()).isNotNull());
  }

  @ParameterizedTest(name = "{0} valid #{1}")
  @MethodSource("validExamples")
  void validExampleValidates(String eventType, int index, JsonNode payload) {
    assertThat(VALIDATOR.checkPayload(eventType, payload, ValidationMode.STRICT)).isEmpty();
  }

  @ParameterizedTest(name = "{0} invalid at {1}")
  @MethodSource("invalidExamples")
  void invalidExampleFailsAtItsPointer(String eventType, String pointer, JsonNode payload) {
    List<Violation> violations = VALIDATOR.checkPayload(eventType, payload, ValidationMode.STRICT);
    assertThat(violations).extracting(Violation::pointer).contains(pointer);
    assertThat(violations).allSatisfy(v -> assertThat(v.part()).isEqualTo(Violation.Part.PAYLOAD));
  }

  @ParameterizedTest(name = "{0} valid #{1}")
  @MethodSource("validExamples")
  void generatedClassRoundTripsAndItsJsonValidates(String eventType, int index, JsonNode payload)
      throws IOException {
    Class<?> type = REGISTRY.require(eventType).payloadClass();
    Object pojo = MAPPER.treeToValue(payload, type);
    JsonNode json = MAPPER.valueToTree(pojo);
    Object again = MAPPER.treeToValue(json, type);
    assertThat(again).isEqualTo(pojo).hasSameHashCodeAs(pojo);
    assertThat(VALIDATOR.checkPayload(eventType, json, ValidationMode.STRICT)).isEmpty();
  }
}
