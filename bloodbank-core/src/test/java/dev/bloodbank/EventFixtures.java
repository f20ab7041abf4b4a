package dev.bloodbank;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.params.provider.Arguments;

/**
 * The shared canonical envelopes, payloads and golden documents of the test suites.
 *
 * <p>Every envelope has a fixed id and timestamp, so two calls return equal envelopes.
 * Parameterized tests take them with
 * {@code @MethodSource("dev.bloodbank.EventFixtures#envelopes")}. The golden documents live under
 * {@code src/test/resources/golden/codec/}: {@code v2-full.json} and {@code v2-minimal.json} as a
 * Python service writes them (pretty, ASCII-escaped; the minimal one with its optional fields
 * absent), their {@code .canonical.json} twins in the compact form {@link EventCodec#encode}
 * produces (no final newline; raw UTF-8, except that Jackson writes characters outside the BMP as
 * escaped surrogate pairs), and {@code v1-legacy.json}.
 */
public final class EventFixtures {
  /** A plain mapper for building and inspecting JSON trees, independent of the codec's mapper. */
  public static final ObjectMapper JSON = JsonMapper.builder().build();

  /** The id of {@link #minimal()} and of the minimal golden documents. */
  public static final UUID MINIMAL_ID = UUID.fromString("0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b");

  /** The id of {@link #full()} and of the full golden documents. */
  public static final UUID FULL_ID = UUID.fromString("3b0e9c1a-6f2d-4e8b-9a7c-1d2e3f4a5b6c");

  /** The id of the v1 golden document. */
  public static final UUID V1_ID = UUID.fromString("1e2f3a4b-5c6d-4e7f-8a9b-0c1d2e3f4a5b");

  /** The {@code correlation_id} of the v1 golden document. */
  public static final UUID V1_CORRELATION_ID =
      UUID.fromString("2f3a4b5c-6d7e-4f8a-9b0c-1d2e3f4a5b6c");

  /** The correlation ids of {@link #full()}, in order. */
  public static final List<UUID> FULL_CORRELATION_IDS =
      List.of(
          UUID.fromString("6a1d0b7e-3c2f-4e8a-9b1c-2d3e4f5a6b7c"),
          UUID.fromString("7b2e1c8f-4d3a-4f9b-8c2d-3e4f5a6b7c8d"),
          UUID.fromString("8c3f2d9a-5e4b-4a0c-9d3e-4f5a6b7c8d9e"));

  /** A whole-second timestamp. */
  public static final Instant WHOLE_SECOND = Instant.parse("2026-01-27T10:00:00Z");

  /** A timestamp with microseconds, the finest Python keeps. */
  public static final Instant MICROS = Instant.parse("2026-01-27T10:00:00.123456Z");

  /** The payload of {@link #full()} and of the full golden documents. */
  public static final String FULL_PAYLOAD_JSON =
      "{\"meeting\":{\"id\":\"tr-1\",\"title\":\"Réunion hebdo ✓ 日本語 😀\","
          + "\"participants\":[{\"name\":\"Zoë\",\"speaking_seconds\":312.5},"
          + "{\"name\":\"Ōta\",\"speaking_seconds\":0}],"
          + "\"tags\":[],\"archived\":false,\"notes\":null},"
          + "\"duration\":1800.5,\"offset\":-3,\"count\":9007199254740993,"
          + "\"huge\":123456789012345678901234567890,"
          + "\"quote\":\"she said \\\"hi\\\" \\\\ back/slash\"}";

  private EventFixtures() {}

  /**
   * A sample typed payload, named in snake_case on the wire as the Python services name fields.
   *
   * @param text the transcribed text
   * @param sessionId the recording session
   * @param confidence the recognizer's confidence, 0 to 1
   * @param language the BCP 47 language tag, or null when unknown
   * @param segments the timed segments, empty when absent
   */
  public record TranscriptionPayload(
      @JsonProperty("text") String text,
      @JsonProperty("session_id") UUID sessionId,
      @JsonProperty("confidence") double confidence,
      @JsonProperty("language") @Nullable String language,
      @JsonProperty("segments") List<Segment> segments) {

    /** Copies the list; an absent list reads as empty. */
    public TranscriptionPayload {
      segments = segments == null ? List.of() : List.copyOf(segments);
    }
  }

  /**
   * A timed segment of a {@link TranscriptionPayload}.
   *
   * @param startSeconds where the segment starts
   * @param endSeconds where it ends
   * @param speaker who spoke
   */
  public record Segment(
      @JsonProperty("start_seconds") double startSeconds,
      @JsonProperty("end_seconds") double endSeconds,
      @JsonProperty("speaker") String speaker) {}

  /** The typed payload of {@link #transcription()}. */
  public static TranscriptionPayload transcriptionPayload() {
    return new TranscriptionPayload(
        "Bonjour à tous — hello 👋",
        UUID.fromString("5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"),
        0.93,
        "fr-FR",
        List.of(new Segment(0.0, 1.25, "Zoë"), new Segment(1.25, 4.5, "Ōta")));
  }

  /** The JSON of {@link #transcriptionPayload()}, as the encoder writes it. */
  public static final String TRANSCRIPTION_PAYLOAD_JSON =
      "{\"text\":\"Bonjour à tous — hello \\uD83D\\uDC4B\","
          + "\"session_id\":\"5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b\","
          + "\"confidence\":0.93,\"language\":\"fr-FR\","
          + "\"segments\":[{\"start_seconds\":0.0,\"end_seconds\":1.25,\"speaker\":\"Zoë\"},"
          + "{\"start_seconds\":1.25,\"end_seconds\":4.5,\"speaker\":\"Ōta\"}]}";

  /** Only the required fields; equal to the decoded minimal golden documents. */
  public static EventEnvelope<JsonNode> minimal() {
    return EventEnvelope.<JsonNode>builder("llm.prompt", JSON.createObjectNode())
        .withEventId(MINIMAL_ID)
        .withTimestamp(WHOLE_SECOND)
        .withSource(Source.of("h", TriggerType.MANUAL, null))
        .build();
  }

  /** Every field set; equal to the decoded full golden documents. */
  public static EventEnvelope<JsonNode> full() {
    Map<String, Object> nested = new LinkedHashMap<>();
    nested.put("k", "v");
    nested.put("n", null);
    Map<String, Object> meta = new LinkedHashMap<>();
    meta.put("pid", 4242);
    meta.put("ratio", 0.25);
    meta.put("debug", false);
    meta.put("tags", List.of("a", "ü"));
    meta.put("nested", nested);
    return EventEnvelope.<JsonNode>builder("fireflies.transcript.ready", json(FULL_PAYLOAD_JSON))
        .withEventId(FULL_ID)
        .withTimestamp(MICROS)
        .withSource(new Source("laptop-7", TriggerType.AGENT, "réunion-app", meta))
        .withCorrelationIds(FULL_CORRELATION_IDS)
        .withAgentContext(
            AgentContext.builder(AgentType.CLAUDE_CODE)
                .withName("Tonny")
                .withSystemPrompt("You are helpful.\nBe brief.")
                .withInstanceId("sess-42")
                .withMcpServers(List.of("bloodbank", "github"))
                .withFileReferences(List.of("README.md", "src/Main.java"))
                .withUrlReferences(List.of("https://example.com/spec?a=1&b=2"))
                .withCodeState(
                    new CodeState(
                        "git@example.com:team/app.git",
                        "feature/ünïcode",
                        "0123456789abcdef0123456789abcdef01234567",
                        "--- a/x\n+++ b/x\n@@ -1 +1 @@\n-\told\n+\tnew\n",
                        "diff --git a/y b/y",
                        List.of("x", "y z.txt")))
                .withCheckpointId("ckpt-7")
                .build())
        .build();
  }

  /** An agent context with a sparse code state: nulls and empty lists. */
  public static EventEnvelope<JsonNode> agentWithCodeState() {
    return EventEnvelope.<JsonNode>builder(
            "agent.task.completed", json("{\"task\":\"refactor\",\"files_changed\":3}"))
        .withEventId(UUID.fromString("4c5d6e7f-8091-4a2b-b3c4-d5e6f708192a"))
        .withTimestamp(Instant.parse("2026-02-03T04:05:06.000007Z"))
        .withSource(Source.of("ci-runner", TriggerType.AGENT, "agent-svc"))
        .withAgentContext(
            AgentContext.builder(AgentType.GEMINI)
                .withInstanceId("run-9")
                .withCodeState(CodeState.of("https://git.example.com/r.git", "main", "deadbeef"))
                .build())
        .build();
  }

  /** Five causes, in an order that must be kept. */
  public static EventEnvelope<JsonNode> manyCorrelationIds() {
    return EventEnvelope.<JsonNode>builder("theboard.meeting.summarized", json("[1,2,3]"))
        .withEventId(UUID.fromString("5d6e7f80-91a2-4b3c-84d5-e6f708192a3b"))
        .withTimestamp(Instant.parse("2025-12-31T23:59:59.999999Z"))
        .withSource(Source.of("worker-3", TriggerType.SCHEDULED, "summarizer"))
        .withCorrelationIds(
            List.of(
                UUID.fromString("ffffffff-ffff-4fff-bfff-ffffffffffff"),
                UUID.fromString("00000000-0000-4000-8000-000000000001"),
                UUID.fromString("a0a0a0a0-b1b1-4c2c-9d3d-e4e4e4e4e4e4"),
                UUID.fromString("70117275-3199-5e4c-a175-71646fb33ad7"),
                UUID.fromString("10000000-0000-4000-8000-000000000000")))
        .build();
  }

  /** {@code source.type} and {@code agent_context.type} values this SDK does not know. */
  public static EventEnvelope<JsonNode> unknownEnumValues() {
    return EventEnvelope.<JsonNode>builder(
            "hooks.github.push", json("{\"ref\":\"refs/heads/main\"}"))
        .withEventId(UUID.fromString("6e7f8091-a2b3-4c4d-95e6-f708192a3b4c"))
        .withTimestamp(WHOLE_SECOND)
        .withSource(Source.of("gw", TriggerType.of("webhook-relay"), null))
        .withAgentContext(AgentContext.builder(AgentType.of("smolagent")).build())
        .build();
  }

  /** A typed record payload. */
  public static EventEnvelope<TranscriptionPayload> transcription() {
    return EventEnvelope.builder("transcription.voice.completed", transcriptionPayload())
        .withEventId(UUID.fromString("7f8091a2-b3c4-4d5e-a6f7-08192a3b4c5d"))
        .withTimestamp(MICROS)
        .withVersion("1.1.0")
        .withSource(Source.of("laptop", TriggerType.FILE_WATCH, "whisperlivekit"))
        .withCorrelationId(MINIMAL_ID)
        .build();
  }

  /**
   * Every fixture envelope with its display name and payload class, for {@code (EventEnvelope<?>
   * envelope, Class<?> payloadType)} parameters.
   */
  public static Stream<Arguments> envelopes() {
    return Stream.of(
        Arguments.of(Named.of("minimal", minimal()), JsonNode.class),
        Arguments.of(Named.of("full", full()), JsonNode.class),
        Arguments.of(Named.of("agent with code state", agentWithCodeState()), JsonNode.class),
        Arguments.of(Named.of("many correlation ids", manyCorrelationIds()), JsonNode.class),
        Arguments.of(Named.of("unknown enum values", unknownEnumValues()), JsonNode.class),
        Arguments.of(Named.of("typed transcription", transcription()), TranscriptionPayload.class));
  }

  /** Every fixture envelope, for a single {@code EventEnvelope<?>} parameter. */
  public static Stream<EventEnvelope<?>> allEnvelopes() {
    return Stream.of(
        minimal(),
        full(),
        agentWithCodeState(),
        manyCorrelationIds(),
        unknownEnumValues(),
        transcription());
  }

  /**
   * The v2 golden documents with their canonical encoding and the envelope they decode to: {@code
   * (String document, String canonical, EventEnvelope<JsonNode> expected)}.
   */
  public static Stream<Arguments> goldenV2() {
    return Stream.of(
        Arguments.of("v2-full.json", "v2-full.canonical.json", full()),
        Arguments.of("v2-full.canonical.json", "v2-full.canonical.json", full()),
        Arguments.of("v2-minimal.json", "v2-minimal.canonical.json", minimal()),
        Arguments.of("v2-minimal.canonical.json", "v2-minimal.canonical.json", minimal()));
  }

  /**
   * Returns a golden document's bytes, exactly as stored.
   *
   * @param name the file name under {@code golden/codec/}
   * @return the bytes
   * @throws IllegalStateException if the resource is missing
   */
  public static byte[] golden(String name) {
    String path = "/golden/codec/" + name;
    try (InputStream in = EventFixtures.class.getResourceAsStream(path)) {
      if (in == null) {
        throw new IllegalStateException("test resource " + path + " is missing");
      }
      return in.readAllBytes();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Parses JSON text into a tree with the plain mapper. */
  public static JsonNode json(String text) {
    try {
      return JSON.readTree(text);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("bad fixture JSON: " + text, e);
    }
  }

  /** Parses JSON bytes into a tree with the plain mapper. */
  public static JsonNode json(byte[] bytes) {
    try {
      return JSON.readTree(bytes);
    } catch (IOException e) {
      throw new IllegalArgumentException("bad JSON", e);
    }
  }

  /** Returns the UTF-8 bytes of a string. */
  public static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Returns a valid minimal v2 document as a mutable tree, for tests that break one field of it.
   *
   * @return {@code {"event_id", "event_type", "timestamp", "source": {"host", "type"}, "payload"}}
   */
  public static ObjectNode validV2Tree() {
    ObjectNode root = JSON.createObjectNode();
    root.put("event_id", MINIMAL_ID.toString());
    root.put("event_type", "a.b");
    root.put("timestamp", "2026-01-27T10:00:00Z");
    ObjectNode source = root.putObject("source");
    source.put("host", "h");
    source.put("type", "manual");
    root.putObject("payload").put("text", "hi");
    return root;
  }
}
