package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.groups.Tuple.tuple;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.AgentContext;
import dev.bloodbank.AgentType;
import dev.bloodbank.CodeState;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.TriggerType;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.ValidationResult;
import dev.bloodbank.validation.Violation;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The envelope schema accepts what {@link EventCodec#encode} writes, and checks the rest. */
class EnvelopeSchemaTest {
  static final EventCodec CODEC = EventCodec.create();

  static JsonNode payload() throws Exception {
    return Examples.MAPPER.readTree(Examples.ISSUE_TRANSCRIPTION);
  }

  static Stream<EventEnvelope<JsonNode>> encodedEnvelopes() throws Exception {
    JsonNode p = payload();
    String type = "transcription.voice.completed";
    AgentContext full =
        AgentContext.builder(AgentType.CLAUDE_CODE)
            .withName("Tonny")
            .withSystemPrompt("be brief")
            .withInstanceId("i-1")
            .withMcpServers(List.of("github"))
            .withFileReferences(List.of("README.md"))
            .withUrlReferences(List.of("https://example.com"))
            .withCodeState(
                new CodeState("git@x:y.git", "main", "abc", "diff", "bdiff", List.of("a.java")))
            .withCheckpointId("cp-1")
            .build();
    return Stream.of(
        EventEnvelope.builder(type, p).build(),
        EventEnvelope.builder(type, p)
            .withEventId(UUID.randomUUID())
            .withTimestamp(Instant.parse("2026-01-27T10:00:00.123456Z"))
            .withVersion("2.0.0")
            .withSource(new Source("host-1", TriggerType.of("webhook-v2"), "app", Map.of("n", 1)))
            .withCorrelationIds(List.of(UUID.randomUUID(), UUID.randomUUID()))
            .withAgentContext(full)
            .build(),
        EventEnvelope.builder(type, p)
            .withSource(Source.of("h", TriggerType.FILE_WATCH, null))
            .withAgentContext(
                AgentContext.builder(AgentType.of("smolagent"))
                    .withCodeState(CodeState.of(null, null, null))
                    .build())
            .build());
  }

  @ParameterizedTest
  @MethodSource("encodedEnvelopes")
  void whatTheCodecWritesIsAValidEnvelope(EventEnvelope<JsonNode> envelope) {
    JsonNode written = CODEC.parse(CODEC.encode(envelope));
    ValidationResult asTree = Examples.VALIDATOR.check(written);
    assertThat(asTree.violations()).isEmpty();
    assertThat(asTree.coverage()).isEqualTo(ValidationResult.Coverage.FULL);
    assertThat(Examples.VALIDATOR.check(envelope).violations()).isEmpty();
  }

  @Test
  void envelopeAndPayloadViolationsAreReportedTogether() throws Exception {
    ObjectNode bad = (ObjectNode) payload().deepCopy();
    ((ObjectNode) bad.get("audio_metadata")).put("confidence", 1.5);
    EventEnvelope<JsonNode> e =
        EventEnvelope.builder("transcription.voice.completed", (JsonNode) bad)
            .withVersion("")
            .withSource(new Source("", TriggerType.MANUAL, null, Map.of()))
            .build();

    ValidationResult typed = Examples.VALIDATOR.check(e);
    ValidationResult tree = Examples.VALIDATOR.check(CODEC.parse(CODEC.encode(e)));
    for (ValidationResult r : List.of(typed, tree)) {
      assertThat(r.violations())
          .extracting(Violation::part, Violation::pointer)
          .containsExactlyInAnyOrder(
              tuple(Violation.Part.ENVELOPE, "/version"),
              tuple(Violation.Part.ENVELOPE, "/source/host"),
              tuple(Violation.Part.PAYLOAD, "/audio_metadata/confidence"));
    }
    assertThatThrownBy(() -> Examples.VALIDATOR.validate(e))
        .isInstanceOf(SchemaValidationException.class)
        .hasMessageContaining("'transcription.voice.completed'")
        .hasMessageContaining("/payload/audio_metadata/confidence: ")
        .hasMessageContaining("/source/host: ");
  }

  @Test
  void aValidHeaderIsRememberedButAnInvalidOneIsCheckedEveryTime() throws Exception {
    Source bad = new Source("", TriggerType.MANUAL, "app", Map.of());
    for (int i = 0; i < 3; i++) {
      EventEnvelope<JsonNode> e =
          EventEnvelope.builder("transcription.voice.completed", payload()).withSource(bad).build();
      assertThat(Examples.VALIDATOR.check(e).violations())
          .extracting(Violation::pointer)
          .containsExactly("/source/host");
    }
  }

  @Test
  void aPermissiveCheckOfAnUnknownTypeStillChecksTheEnvelope() throws Exception {
    EventEnvelope<JsonNode> e =
        EventEnvelope.builder("somebody.else.event", payload()).withVersion("").build();
    ValidationResult r = Examples.VALIDATOR.check(e);
    assertThat(r.violations())
        .extracting(Violation::keyword)
        .containsExactlyInAnyOrder("minLength", Violation.UNKNOWN_EVENT_TYPE);
    assertThat(Examples.VALIDATOR.check(e, ValidationMode.PERMISSIVE))
        .extracting(Violation::pointer)
        .containsExactly("/version");
  }
}
