package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Golden v2 and v1 documents: decoded to the expected model, encoded back byte for byte. */
class EnvelopeGoldenTest {
  private static final EventCodec CODEC = EventCodec.create();
  private static final ObjectMapper JSON = new ObjectMapper();

  static byte[] golden(String name) throws IOException {
    try (InputStream in = EnvelopeGoldenTest.class.getResourceAsStream("/golden/" + name)) {
      assertThat(in).as(name).isNotNull();
      return in.readAllBytes();
    }
  }

  @Test
  void fullV2DecodesToTheExpectedModel() throws IOException {
    EventEnvelope<JsonNode> e = CODEC.decode(golden("v2-full.json"));
    assertThat(e.eventId()).isEqualTo(UUID.fromString("9f0c2d4e-8a1b-4c3d-9e5f-0a1b2c3d4e5f"));
    assertThat(e.eventType()).isEqualTo("fireflies.transcript.ready");
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00.123456Z"));
    assertThat(e.version()).isEqualTo("1.0.0");
    assertThat(e.source().host()).isEqualTo("laptop");
    assertThat(e.source().type()).isSameAs(TriggerType.AGENT);
    assertThat(e.source().app()).isEqualTo("my-app");
    assertThat(e.source().meta())
        .containsEntry("pid", 4242)
        .containsEntry("tags", List.of("a", "b"));
    assertThat(e.correlationIds())
        .containsExactly(
            UUID.fromString("6a1d0b7e-3c2f-4e8a-9b1c-2d3e4f5a6b7c"),
            UUID.fromString("7b2e1c8f-4d3a-5f9b-8c2d-3e4f5a6b7c8d"));
    AgentContext a = e.agentContext();
    assertThat(a).isNotNull();
    assertThat(a.type()).isSameAs(AgentType.CLAUDE_CODE);
    assertThat(a.name()).isEqualTo("Tonny");
    assertThat(a.systemPrompt()).isNull();
    assertThat(a.instanceId()).isEqualTo("sess-1");
    assertThat(a.mcpServers()).containsExactly("bloodbank");
    assertThat(a.fileReferences()).containsExactly("README.md");
    assertThat(a.urlReferences()).isEmpty();
    assertThat(a.codeState())
        .isEqualTo(
            new CodeState(
                "git@example.com:team/app.git",
                "main",
                "abc123",
                null,
                null,
                List.of("src/App.java")));
    assertThat(e.payload().get("title").asText()).isEqualTo("Réunion hebdo ✓");
    assertThat(e.payload().get("duration").asDouble()).isEqualTo(1800.5);
  }

  @Test
  void v2GoldenFilesEncodeBackByteForByte() throws IOException {
    for (String name : List.of("v2-full.json", "v2-minimal.json")) {
      byte[] original = golden(name);
      String expected = new String(original, StandardCharsets.UTF_8).strip();
      byte[] again = CODEC.encode(CODEC.decode(original));
      assertThat(new String(again, StandardCharsets.UTF_8)).as(name).isEqualTo(expected);
    }
  }

  @Test
  void absentOptionalFieldsAndUnknownFieldsAreTolerated() throws IOException {
    EventEnvelope<JsonNode> e = CODEC.decode(golden("v2-python-absent.json"));
    assertThat(e.version()).isEqualTo(EventEnvelope.DEFAULT_VERSION);
    assertThat(e.correlationIds()).isEmpty();
    assertThat(e.agentContext()).isNull();
    assertThat(e.source().app()).isNull();
    assertThat(e.source().meta()).isEmpty();
    assertThat(e.source().type()).isSameAs(TriggerType.SCHEDULED);
    // Python's naive utcnow().isoformat() is UTC
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00Z"));
    JsonNode out = JSON.readTree(CODEC.encode(e));
    assertThat(out.has("some_future_field")).isFalse();
    assertThat(fieldNames(out))
        .containsExactly(
            "event_id",
            "event_type",
            "timestamp",
            "version",
            "source",
            "correlation_ids",
            "agent_context",
            "payload");
  }

  @Test
  void legacyV1DecodesIntoTheV2Model() throws IOException {
    EventEnvelope<JsonNode> e = CODEC.decode(golden("v1-legacy.json"));
    assertThat(e.eventId()).isEqualTo(UUID.fromString("1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b"));
    assertThat(e.eventType()).isEqualTo("transcription.voice.completed");
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2025-10-01T08:30:00Z"));
    assertThat(e.source().app()).isEqualTo("whisperlivekit");
    assertThat(e.source().meta()).containsEntry("session_id", "abc-session");
    assertThat(e.correlationIds())
        .containsExactly(UUID.fromString("2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c"));
    assertThat(e.payload()).isEqualTo(JSON.readTree("{\"text\":\"hello\"}"));

    JsonNode v2 = JSON.readTree(CODEC.encode(e));
    assertThat(v2.get("event_id").asText()).isEqualTo("1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b");
    assertThat(v2.get("payload")).isEqualTo(JSON.readTree("{\"text\":\"hello\"}"));
    assertThat(v2.get("correlation_ids").get(0).asText())
        .isEqualTo("2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c");
    assertThat(v2.has("data")).isFalse();
    assertThat(v2.has("id")).isFalse();
  }

  @Test
  void typedPayloadsRoundTripWithSnakeCaseNames() {
    record Meeting(String meetingId, int participantCount, Map<String, String> extra) {}
    EventEnvelope<Meeting> e =
        EventEnvelope.builder("theboard.meeting.created", new Meeting("m-1", 3, Map.of("k", "v")))
            .withTimestamp(Instant.parse("2026-01-27T10:00:00.123456789Z"))
            .withSource(Source.of("h", TriggerType.of("cron-like"), "svc"))
            .withAgentContext(AgentContext.builder(AgentType.of("smolagent")).build())
            .build();
    byte[] bytes = CODEC.encode(e);
    assertThat(new String(bytes, StandardCharsets.UTF_8))
        .contains("\"timestamp\":\"2026-01-27T10:00:00.123456Z\"")
        .contains(
            "\"payload\":{\"meeting_id\":\"m-1\",\"participant_count\":3,\"extra\":{\"k\":\"v\"}}")
        .contains("\"type\":\"cron-like\"")
        .contains("\"type\":\"smolagent\"");
    EventEnvelope<Meeting> back = CODEC.decode(bytes, Meeting.class);
    assertThat(back).isEqualTo(e);
    assertThat(back.source().type().isKnown()).isFalse();
    assertThat(back.agentContext().type().isKnown()).isFalse();
  }

  private static List<String> fieldNames(JsonNode n) {
    List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
