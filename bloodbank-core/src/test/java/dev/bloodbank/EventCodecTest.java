package dev.bloodbank;

import static dev.bloodbank.EventFixtures.JSON;
import static dev.bloodbank.EventFixtures.golden;
import static dev.bloodbank.EventFixtures.json;
import static dev.bloodbank.EventFixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.EventFixtures.Segment;
import dev.bloodbank.EventFixtures.TranscriptionPayload;
import dev.bloodbank.MalformedEventException.Kind;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.assertj.core.api.InstanceOfAssertFactories;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Encoding and decoding of envelopes: golden files, bad input, typed payloads and round trips. */
class EventCodecTest {
  private static final EventCodec CODEC = EventCodec.create();

  /** Runs a decode that must fail and returns its exception; fails the test if it decodes. */
  static MalformedEventException malformed(ThrowingCallable decode) {
    Throwable t = catchThrowable(decode);
    assertThat(t)
        .as("expected a MalformedEventException")
        .isInstanceOf(MalformedEventException.class);
    return (MalformedEventException) t;
  }

  /** Asserts a fault located by JSON pointer: kind, pointer, and a message that starts with it. */
  static void assertAtPointer(MalformedEventException e, Kind kind, String pointer) {
    assertThat(e.kind()).as("kind of: %s", e.getMessage()).isEqualTo(kind);
    assertThat(e.pointer()).as("pointer of: %s", e.getMessage()).isEqualTo(pointer);
    assertThat(e.getMessage()).startsWith((pointer.isEmpty() ? "document" : pointer) + ": ");
    assertThat(e.line()).isEqualTo(-1);
    assertThat(e.column()).isEqualTo(-1);
  }

  /** Asserts a fault located by line and column, named in the message. */
  static void assertAtLocation(MalformedEventException e, Kind kind, int line, int column) {
    assertThat(e.kind()).as("kind of: %s", e.getMessage()).isEqualTo(kind);
    assertThat(e.pointer()).isNull();
    assertThat(e.line()).as("line of: %s", e.getMessage()).isEqualTo(line);
    assertThat(e.column()).as("column of: %s", e.getMessage()).isEqualTo(column);
    assertThat(e.getMessage()).endsWith(" at line " + line + ", column " + column);
  }

  static byte[] mutated(Consumer<ObjectNode> change) {
    ObjectNode doc = EventFixtures.validV2Tree();
    change.accept(doc);
    return utf8(doc.toString());
  }

  static ObjectNode obj(ObjectNode parent, String field) {
    return (ObjectNode) parent.get(field);
  }

  /** A valid document whose payload string {@code t} holds these raw bytes. */
  static byte[] withRawBytesInString(byte... raw) {
    String doc =
        new String(mutated(d -> d.putObject("payload").put("t", "@@")), StandardCharsets.UTF_8);
    int at = doc.indexOf("@@");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.writeBytes(utf8(doc.substring(0, at)));
    out.writeBytes(raw);
    out.writeBytes(utf8(doc.substring(at + 2)));
    return out.toByteArray();
  }

  @Nested
  class Golden {
    @Test
    void fullV2DecodesFieldByField() {
      EventEnvelope<JsonNode> e = CODEC.decode(golden("v2-full.json"));

      assertThat(e.eventId()).isEqualTo(UUID.fromString("3b0e9c1a-6f2d-4e8b-9a7c-1d2e3f4a5b6c"));
      assertThat(e.eventType()).isEqualTo("fireflies.transcript.ready");
      assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00.123456Z"));
      assertThat(e.version()).isEqualTo("1.0.0");

      Source s = e.source();
      assertThat(s.host()).isEqualTo("laptop-7");
      assertThat(s.type()).isSameAs(TriggerType.AGENT);
      assertThat(s.app()).isEqualTo("réunion-app");
      assertThat(s.meta())
          .containsOnlyKeys("pid", "ratio", "debug", "tags", "nested")
          .containsEntry("pid", 4242)
          .containsEntry("ratio", 0.25)
          .containsEntry("debug", false)
          .containsEntry("tags", List.of("a", "ü"));
      assertThat(s.meta().get("nested"))
          .asInstanceOf(InstanceOfAssertFactories.map(String.class, Object.class))
          .hasSize(2)
          .containsEntry("k", "v")
          .containsEntry("n", null);

      assertThat(e.correlationIds())
          .containsExactly(
              UUID.fromString("6a1d0b7e-3c2f-4e8a-9b1c-2d3e4f5a6b7c"),
              UUID.fromString("7b2e1c8f-4d3a-4f9b-8c2d-3e4f5a6b7c8d"),
              UUID.fromString("8c3f2d9a-5e4b-4a0c-9d3e-4f5a6b7c8d9e"));

      AgentContext a = e.agentContext();
      assertThat(a).isNotNull();
      assertThat(a.type()).isSameAs(AgentType.CLAUDE_CODE);
      assertThat(a.name()).isEqualTo("Tonny");
      assertThat(a.systemPrompt()).isEqualTo("You are helpful.\nBe brief.");
      assertThat(a.instanceId()).isEqualTo("sess-42");
      assertThat(a.mcpServers()).containsExactly("bloodbank", "github");
      assertThat(a.fileReferences()).containsExactly("README.md", "src/Main.java");
      assertThat(a.urlReferences()).containsExactly("https://example.com/spec?a=1&b=2");
      assertThat(a.checkpointId()).isEqualTo("ckpt-7");
      CodeState c = a.codeState();
      assertThat(c).isNotNull();
      assertThat(c.repoUrl()).isEqualTo("git@example.com:team/app.git");
      assertThat(c.branch()).isEqualTo("feature/ünïcode");
      assertThat(c.lastCommitHash()).isEqualTo("0123456789abcdef0123456789abcdef01234567");
      assertThat(c.workingDiff()).isEqualTo("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-\told\n+\tnew\n");
      assertThat(c.branchDiff()).isEqualTo("diff --git a/y b/y");
      assertThat(c.dirtyFiles()).containsExactly("x", "y z.txt");

      JsonNode p = e.payload();
      assertThat(p.path("meeting").path("title").textValue()).isEqualTo("Réunion hebdo ✓ 日本語 😀");
      assertThat(p.path("meeting").path("participants").get(0).path("name").textValue())
          .isEqualTo("Zoë");
      assertThat(p.path("meeting").path("participants").get(1).path("speaking_seconds").isInt())
          .isTrue();
      assertThat(p.path("meeting").path("notes").isNull()).isTrue();
      assertThat(p.path("meeting").path("tags").isEmpty()).isTrue();
      assertThat(p.path("duration").doubleValue()).isEqualTo(1800.5);
      assertThat(p.path("offset").intValue()).isEqualTo(-3);
      assertThat(p.path("count").longValue()).isEqualTo(9007199254740993L);
      assertThat(p.path("huge").bigIntegerValue())
          .isEqualTo(new java.math.BigInteger("123456789012345678901234567890"));
      assertThat(p.path("quote").textValue()).isEqualTo("she said \"hi\" \\ back/slash");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.bloodbank.EventFixtures#goldenV2")
    void decodesToTheFixtureAndEncodesToTheCanonicalBytes(
        String document, String canonical, EventEnvelope<JsonNode> expected) {
      EventEnvelope<JsonNode> decoded = CODEC.decode(golden(document));
      assertThat(decoded).isEqualTo(expected);

      byte[] encoded = CODEC.encode(decoded);
      assertThat(json(encoded)).isEqualTo(json(golden(canonical)));
      assertThat(new String(encoded, StandardCharsets.UTF_8))
          .isEqualTo(new String(golden(canonical), StandardCharsets.UTF_8));
      assertThat(encoded).isEqualTo(golden(canonical));
    }

    @Test
    void buildingTheFullEnvelopeInJavaEncodesToTheCanonicalBytes() {
      assertThat(CODEC.encode(EventFixtures.full())).isEqualTo(golden("v2-full.canonical.json"));
      assertThat(CODEC.encode(EventFixtures.minimal()))
          .isEqualTo(golden("v2-minimal.canonical.json"));
    }

    @Test
    void theReadableAndCanonicalGoldensHoldTheSameDocument() {
      assertThat(json(golden("v2-full.json"))).isEqualTo(json(golden("v2-full.canonical.json")));
      // the readable one is ASCII-escaped, as Python's json.dumps writes it
      assertThat(golden("v2-full.json")).doesNotContain((byte) 0xC3);
      // the canonical one is one line of UTF-8 with BMP characters unescaped; Jackson writes
      // characters outside the BMP as surrogate escapes
      String canonical = new String(golden("v2-full.canonical.json"), StandardCharsets.UTF_8);
      assertThat(canonical)
          .contains("Réunion hebdo ✓ 日本語 \\uD83D\\uDE00")
          .doesNotContain("\n")
          .doesNotContain("\": ")
          .doesNotContain("\", ")
          .isEqualTo(canonical.strip());
    }

    @Test
    void minimalV2WithAbsentOptionalFieldsTakesTheDefaults() {
      EventEnvelope<JsonNode> e = CODEC.decode(golden("v2-minimal.json"));
      assertThat(e.eventId()).isEqualTo(EventFixtures.MINIMAL_ID);
      assertThat(e.eventType()).isEqualTo("llm.prompt");
      assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00Z"));
      assertThat(e.version()).isEqualTo(EventEnvelope.DEFAULT_VERSION);
      assertThat(e.source()).isEqualTo(Source.of("h", TriggerType.MANUAL, null));
      assertThat(e.correlationIds()).isEmpty();
      assertThat(e.agentContext()).isNull();
      assertThat(e.payload()).isEqualTo(JSON.createObjectNode());
    }

    @Test
    void explicitNullsOfOptionalFieldsReadAsAbsent() {
      byte[] doc =
          mutated(
              d -> {
                d.putNull("version");
                d.putNull("correlation_ids");
                d.putNull("agent_context");
                obj(d, "source").putNull("app");
                obj(d, "source").putNull("meta");
              });
      EventEnvelope<JsonNode> e = CODEC.decode(doc);
      assertThat(e.version()).isEqualTo("1.0.0");
      assertThat(e.correlationIds()).isEmpty();
      assertThat(e.agentContext()).isNull();
      assertThat(e.source().app()).isNull();
      assertThat(e.source().meta()).isEmpty();
    }

    @Test
    void absentAgentContextListsReadAsEmpty() {
      byte[] doc = mutated(d -> d.putObject("agent_context").put("type", "letta"));
      AgentContext a = CODEC.decode(doc).agentContext();
      assertThat(a).isEqualTo(AgentContext.builder(AgentType.LETTA).build());
      assertThat(a.mcpServers()).isEmpty();
      assertThat(a.codeState()).isNull();
    }

    @Test
    void unknownTopLevelFieldsAreIgnoredAndNotReEncoded() {
      byte[] doc = mutated(d -> d.putObject("some_future_field").put("x", 1));
      JsonNode out = json(CODEC.encode(CODEC.decode(doc)));
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
    void legacyV1DecodesIntoTheV2Model() {
      EventEnvelope<JsonNode> e = CODEC.decode(golden("v1-legacy.json"));
      assertThat(e.eventId()).isEqualTo(EventFixtures.V1_ID);
      assertThat(e.eventType()).isEqualTo("transcription.voice.completed");
      // Python's naive utcnow().isoformat(): UTC
      assertThat(e.timestamp()).isEqualTo(Instant.parse("2025-10-01T08:30:00.25Z"));
      assertThat(e.version()).isEqualTo(EventEnvelope.DEFAULT_VERSION);
      assertThat(e.source().app()).isEqualTo("whisperlivekit");
      assertThat(e.source().host()).isEqualTo("unknown");
      assertThat(e.source().type()).isSameAs(TriggerType.MANUAL);
      assertThat(e.source().meta()).containsEntry("session_id", "abc-session");
      assertThat(e.correlationIds()).containsExactly(EventFixtures.V1_CORRELATION_ID);
      assertThat(e.agentContext()).isNull();
      assertThat(e.payload())
          .isEqualTo(json("{\"text\":\"héllo wörld\",\"segments\":[{\"start\":0.0,\"end\":1.5}]}"));
    }

    @Test
    void legacyV1ReEncodesInTheV2Shape() {
      byte[] v1 = golden("v1-legacy.json");
      JsonNode old = json(v1);
      EventEnvelope<JsonNode> e = CODEC.decode(v1);
      JsonNode v2 = json(CODEC.encode(e));

      assertThat(fieldNames(v2))
          .containsExactly(
              "event_id",
              "event_type",
              "timestamp",
              "version",
              "source",
              "correlation_ids",
              "agent_context",
              "payload");
      assertThat(v2.get("event_id")).isEqualTo(old.get("id"));
      assertThat(v2.get("event_type")).isEqualTo(old.get("event_type"));
      assertThat(v2.get("timestamp").textValue()).isEqualTo("2025-10-01T08:30:00.250Z");
      assertThat(v2.get("payload")).isEqualTo(old.get("data"));
      assertThat(v2.get("correlation_ids"))
          .isEqualTo(JSON.createArrayNode().add(old.get("correlation_id")));
      assertThat(v2.get("source").get("app")).isEqualTo(old.get("source"));
      assertThat(v2.get("source").get("host").textValue()).isEqualTo("unknown");
      assertThat(v2.get("source").get("type").textValue()).isEqualTo("manual");
      assertThat(v2.get("source").get("meta").get("session_id")).isEqualTo(old.get("session_id"));
      assertThat(v2.has("id")).isFalse();
      assertThat(v2.has("data")).isFalse();
      assertThat(v2.has("correlation_id")).isFalse();
      assertThat(v2.has("session_id")).isFalse();

      // and the v2 form decodes to the same envelope
      assertThat(CODEC.decode(CODEC.encode(e))).isEqualTo(e);
    }

    @Test
    void legacyV1WithOnlyTheRequiredFields() {
      byte[] doc =
          utf8(
              "{\"id\":\""
                  + EventFixtures.V1_ID
                  + "\",\"event_type\":\"a.b\",\"timestamp\":\"2025-10-01T08:30:00\"}");
      EventEnvelope<JsonNode> e = CODEC.decode(doc);
      assertThat(e.eventId()).isEqualTo(EventFixtures.V1_ID);
      assertThat(e.payload()).isEqualTo(JSON.createObjectNode());
      assertThat(e.correlationIds()).isEmpty();
      assertThat(e.source().app()).isNull();
      assertThat(e.source().meta()).doesNotContainKey("session_id");
    }
  }

  @Nested
  class Syntax {
    @Test
    void truncatedDocumentNamesLineAndColumn() {
      MalformedEventException e = malformed(() -> CODEC.decode(utf8("{\"event_id\": \"x\"")));
      assertAtLocation(e, Kind.SYNTAX, 1, 17);
      assertThat(e.getMessage()).startsWith("malformed JSON: ").contains("end-of-input");
    }

    @Test
    void truncatedMultiLineDocumentNamesTheLastLine() {
      byte[] doc = utf8("{\n  \"event_id\": \"x\",\n  \"payload\": {\"a\": [1, 2");
      assertAtLocation(malformed(() -> CODEC.decode(doc)), Kind.SYNTAX, 3, 25);
    }

    @Test
    void strayCommaNamesLineAndColumn() {
      MalformedEventException e = malformed(() -> CODEC.decode(utf8("{\n\"a\": 1,,\n}")));
      assertAtLocation(e, Kind.SYNTAX, 2, 8);
      assertThat(e.getMessage()).contains("','");
    }

    @Test
    void trailingCommaBeforeTheClosingBraceIsRejected() {
      assertAtLocation(malformed(() -> CODEC.decode(utf8("{\"a\": 1,}"))), Kind.SYNTAX, 1, 9);
    }

    @Test
    void trailingGarbageAfterTheObjectIsRejected() {
      String valid = EventFixtures.validV2Tree().toString();
      assertThat(CODEC.decode(utf8(valid + "\n"))).isNotNull();
      MalformedEventException e = malformed(() -> CODEC.decode(utf8(valid + "\n x")));
      assertAtLocation(e, Kind.SYNTAX, 2, 2);
      assertThat(e.getMessage()).contains("'x'");
    }

    @Test
    void aSecondValueAfterTheObjectIsRejected() {
      String valid = EventFixtures.validV2Tree().toString();
      MalformedEventException e = malformed(() -> CODEC.decode(utf8(valid + "\n{}")));
      assertThat(e.kind()).isEqualTo(Kind.SYNTAX);
      assertThat(e.line()).isEqualTo(2);
      assertThat(e.getMessage()).contains("Trailing token").contains("line 2");
    }

    @Test
    void rawControlCharacterInAStringIsRejected() {
      MalformedEventException e = malformed(() -> CODEC.decode(utf8("{\"a\":\"x\ny\"}")));
      assertAtLocation(e, Kind.SYNTAX, 1, 8);
      assertThat(e.getMessage()).doesNotContain("\n");
    }

    @ParameterizedTest(name = "[{index}] \"{0}\"")
    @ValueSource(strings = {"", " ", "  \n\t\r\n "})
    void anEmptyDocumentIsASyntaxError(String doc) {
      MalformedEventException e = malformed(() -> CODEC.decode(utf8(doc)));
      assertThat(e.kind()).as(e.getMessage()).isEqualTo(Kind.SYNTAX);
      assertThat(e.getMessage()).contains("empty");
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"[1,2]", "[{\"event_id\":\"x\"}]", "\"event\"", "42", "null", "true"})
    void aRootThatIsNotAnObjectIsRejected(String doc) {
      MalformedEventException e = malformed(() -> CODEC.decode(utf8(doc)));
      assertAtPointer(e, Kind.WRONG_TYPE, "");
      assertThat(e.getMessage()).contains("must be a JSON object");
    }
  }

  @Nested
  class Fields {
    static Arguments bad(String name, Consumer<ObjectNode> change, Kind kind, String pointer) {
      return Arguments.of(name, change, kind, pointer);
    }

    static Stream<Arguments> wrongTypes() {
      return Stream.of(
          bad("event_id as number", d -> d.put("event_id", 5), Kind.WRONG_TYPE, "/event_id"),
          bad("event_type as number", d -> d.put("event_type", 5), Kind.WRONG_TYPE, "/event_type"),
          bad(
              "timestamp as epoch number",
              d -> d.put("timestamp", 1769508000),
              Kind.WRONG_TYPE,
              "/timestamp"),
          bad("version as number", d -> d.put("version", 2), Kind.WRONG_TYPE, "/version"),
          bad("source as string (v2)", d -> d.put("source", "app"), Kind.WRONG_TYPE, "/source"),
          bad("source as array", d -> d.putArray("source"), Kind.WRONG_TYPE, "/source"),
          bad(
              "source.host as number",
              d -> obj(d, "source").put("host", 5),
              Kind.WRONG_TYPE,
              "/source/host"),
          bad(
              "source.type as boolean",
              d -> obj(d, "source").put("type", true),
              Kind.WRONG_TYPE,
              "/source/type"),
          bad(
              "source.app as boolean",
              d -> obj(d, "source").put("app", true),
              Kind.WRONG_TYPE,
              "/source/app"),
          bad(
              "source.meta as array",
              d -> obj(d, "source").putArray("meta"),
              Kind.WRONG_TYPE,
              "/source/meta"),
          bad(
              "correlation_ids as string",
              d -> d.put("correlation_ids", EventFixtures.MINIMAL_ID.toString()),
              Kind.WRONG_TYPE,
              "/correlation_ids"),
          bad(
              "correlation_ids item as number",
              d -> d.putArray("correlation_ids").add(EventFixtures.MINIMAL_ID.toString()).add(7),
              Kind.WRONG_TYPE,
              "/correlation_ids/1"),
          bad(
              "agent_context as string",
              d -> d.put("agent_context", "claude-code"),
              Kind.WRONG_TYPE,
              "/agent_context"),
          bad(
              "agent_context.type as number",
              d -> d.putObject("agent_context").put("type", 5),
              Kind.WRONG_TYPE,
              "/agent_context/type"),
          bad(
              "agent_context.name as object",
              d -> {
                ObjectNode a = d.putObject("agent_context").put("type", "agno");
                a.putObject("name");
              },
              Kind.WRONG_TYPE,
              "/agent_context/name"),
          bad(
              "agent_context.mcp_servers as string",
              d -> d.putObject("agent_context").put("type", "agno").put("mcp_servers", "bb"),
              Kind.WRONG_TYPE,
              "/agent_context/mcp_servers"),
          bad(
              "agent_context.file_references item as number",
              d ->
                  d.putObject("agent_context")
                      .put("type", "agno")
                      .putArray("file_references")
                      .add("a")
                      .add(1),
              Kind.WRONG_TYPE,
              "/agent_context/file_references/1"),
          bad(
              "code_state as array",
              d -> d.putObject("agent_context").put("type", "agno").putArray("code_state"),
              Kind.WRONG_TYPE,
              "/agent_context/code_state"),
          bad(
              "code_state.branch as number",
              d ->
                  d.putObject("agent_context")
                      .put("type", "agno")
                      .putObject("code_state")
                      .put("branch", 1),
              Kind.WRONG_TYPE,
              "/agent_context/code_state/branch"),
          bad(
              "code_state.dirty_files item as null",
              d ->
                  d.putObject("agent_context")
                      .put("type", "agno")
                      .putObject("code_state")
                      .putArray("dirty_files")
                      .addNull(),
              Kind.WRONG_TYPE,
              "/agent_context/code_state/dirty_files/0"));
    }

    static Stream<Arguments> missingFields() {
      return Stream.of(
          bad("event_id", d -> d.remove("event_id"), Kind.MISSING_FIELD, "/event_id"),
          bad("event_type", d -> d.remove("event_type"), Kind.MISSING_FIELD, "/event_type"),
          bad("event_type null", d -> d.putNull("event_type"), Kind.MISSING_FIELD, "/event_type"),
          bad("timestamp", d -> d.remove("timestamp"), Kind.MISSING_FIELD, "/timestamp"),
          bad("source", d -> d.remove("source"), Kind.MISSING_FIELD, "/source"),
          bad("payload", d -> d.remove("payload"), Kind.MISSING_FIELD, "/payload"),
          bad("payload null", d -> d.putNull("payload"), Kind.MISSING_FIELD, "/payload"),
          bad(
              "source.host",
              d -> obj(d, "source").remove("host"),
              Kind.MISSING_FIELD,
              "/source/host"),
          bad(
              "source.type",
              d -> obj(d, "source").remove("type"),
              Kind.MISSING_FIELD,
              "/source/type"),
          bad(
              "agent_context.type",
              d -> d.putObject("agent_context").put("name", "x"),
              Kind.MISSING_FIELD,
              "/agent_context/type"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource({"wrongTypes", "missingFields"})
    void isRejectedWithThePointerOfTheField(
        String name, Consumer<ObjectNode> change, Kind kind, String pointer) {
      byte[] doc = mutated(change);
      MalformedEventException e = malformed(() -> CODEC.decode(doc));
      assertAtPointer(e, kind, pointer);
      if (kind == Kind.WRONG_TYPE) {
        assertThat(e.getMessage()).contains("expected ").contains(", was ");
      } else {
        String field = pointer.substring(pointer.lastIndexOf('/') + 1);
        assertThat(e.getMessage()).contains("required field '" + field + "'");
      }
    }

    @Test
    void aNullRequiredFieldIsToldApartFromAMissingOne() {
      assertThat(malformed(() -> CODEC.decode(mutated(d -> d.putNull("payload")))).getMessage())
          .isEqualTo("/payload: required field 'payload' is null");
      assertThat(malformed(() -> CODEC.decode(mutated(d -> d.remove("payload")))).getMessage())
          .isEqualTo("/payload: required field 'payload' is missing");
    }

    static Stream<Arguments> invalidValues() {
      return Stream.of(
          Arguments.of("event_id not a UUID", set("event_id", "nope"), "/event_id", "'nope'"),
          Arguments.of(
              "event_id with a non-hex digit",
              set("event_id", "0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1g"),
              "/event_id",
              "'0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1g' is not a UUID"),
          Arguments.of(
              "event_id of 37 characters",
              set("event_id", "0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b0"),
              "/event_id",
              "is not a UUID"),
          Arguments.of(
              "correlation id not a UUID",
              (Consumer<ObjectNode>)
                  d ->
                      d.putArray("correlation_ids")
                          .add(EventFixtures.MINIMAL_ID.toString())
                          .add("bad"),
              "/correlation_ids/1",
              "'bad' is not a UUID"),
          Arguments.of(
              "timestamp not a date",
              set("timestamp", "yesterday"),
              "/timestamp",
              "'yesterday' is not an ISO-8601 date-time"),
          Arguments.of(
              "timestamp month 13",
              set("timestamp", "2026-13-01T00:00:00Z"),
              "/timestamp",
              "'2026-13-01T00:00:00Z'"),
          Arguments.of(
              "timestamp date only", set("timestamp", "2026-01-27"), "/timestamp", "'2026-01-27'"),
          Arguments.of("event_type with #", set("event_type", "a.#"), "/event_type", "'a.#'"),
          Arguments.of(
              "event_type with *",
              set("event_type", "fireflies.*"),
              "/event_type",
              "'fireflies.*'"),
          Arguments.of("event_type empty word", set("event_type", "a..b"), "/event_type", "'a..b'"),
          Arguments.of("event_type trailing dot", set("event_type", "a."), "/event_type", "'a.'"),
          Arguments.of("event_type space", set("event_type", "a b"), "/event_type", "'a b'"),
          Arguments.of("event_type non-ASCII", set("event_type", "é.b"), "/event_type", "'é.b'"),
          Arguments.of("event_type empty", set("event_type", ""), "/event_type", "''"),
          Arguments.of(
              "event_type of 256 bytes",
              set("event_type", "a".repeat(256)),
              "/event_type",
              "event type is 256 bytes, over the AMQP routing key limit of 255 bytes"),
          Arguments.of(
              "blank source.type",
              (Consumer<ObjectNode>) d -> obj(d, "source").put("type", "  "),
              "/source/type",
              "must not be blank"),
          Arguments.of(
              "blank agent type",
              (Consumer<ObjectNode>) d -> d.putObject("agent_context").put("type", ""),
              "/agent_context/type",
              "must not be blank"));
    }

    static Consumer<ObjectNode> set(String field, String value) {
      return d -> d.put(field, value);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidValues")
    void anInvalidValueIsRejectedNamingPointerAndValue(
        String name, Consumer<ObjectNode> change, String pointer, String named) {
      byte[] doc = mutated(change);
      MalformedEventException e = malformed(() -> CODEC.decode(doc));
      assertAtPointer(e, Kind.INVALID_VALUE, pointer);
      assertThat(e.getMessage()).contains(named);
    }

    @Test
    void anEventTypeOf255BytesIsAccepted() {
      String longest = "a".repeat(127) + "." + "b".repeat(127);
      assertThat(CODEC.decode(mutated(d -> d.put("event_type", longest))).eventType())
          .isEqualTo(longest);
    }

    @Test
    void uuidsWithoutDashesOrInUpperCaseAreReadAsPythonReadsThem() {
      UUID id = EventFixtures.MINIMAL_ID;
      assertThat(
              CODEC
                  .decode(mutated(d -> d.put("event_id", id.toString().replace("-", ""))))
                  .eventId())
          .isEqualTo(id);
      assertThat(
              CODEC
                  .decode(
                      mutated(
                          d -> d.put("event_id", id.toString().toUpperCase(java.util.Locale.ROOT))))
                  .eventId())
          .isEqualTo(id);
    }

    /**
     * Java's lenient {@code UUID.fromString} reads a 36-character string with misplaced dashes as
     * five hex numbers, silently dropping high digits; Python's {@code uuid.UUID} strips the dashes
     * and reads 32 hex digits. The codec must reject such a string or read it as Python does, never
     * as a third id.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
      "0d8b3a521-f0e-4c36-9a2d-5b7c8e9f0a1b, 0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b",
      "1200000000-1f0e-4c36-9a2d-5b7c8e9f0a, 12000000-001f-0e4c-369a-2d5b7c8e9f0a",
      "0-0-0-0-0000000000000000000000000001, 00000000-0000-0000-0000-000000000001"
    })
    void aUuidWithMisplacedDashesIsRejectedOrReadAsPythonReadsIt(String wire, UUID python) {
      byte[] doc = mutated(d -> d.put("event_id", wire));
      AtomicReference<UUID> decoded = new AtomicReference<>();
      Throwable t = catchThrowable(() -> decoded.set(CODEC.decode(doc).eventId()));
      if (t == null) {
        assertThat(decoded.get()).as("Python reads '%s' as %s", wire, python).isEqualTo(python);
      } else {
        assertThat(t).isInstanceOf(MalformedEventException.class);
        assertAtPointer((MalformedEventException) t, Kind.INVALID_VALUE, "/event_id");
        assertThat(t.getMessage()).contains("'" + wire + "' is not a UUID");
      }
    }

    @Test
    void legacyV1FieldsAreNamedByTheirV1Pointers() {
      String head = "{\"event_type\":\"a.b\",\"timestamp\":\"2025-10-01T08:30:00\",";
      assertAtPointer(
          malformed(() -> CODEC.decode(utf8(head + "\"id\":\"nope\"}"))),
          Kind.INVALID_VALUE,
          "/id");
      String id = "\"id\":\"" + EventFixtures.V1_ID + "\"";
      assertAtPointer(
          malformed(() -> CODEC.decode(utf8(head + id + ",\"source\":5}"))),
          Kind.WRONG_TYPE,
          "/source");
      assertAtPointer(
          malformed(() -> CODEC.decode(utf8(head + id + ",\"correlation_id\":\"x\"}"))),
          Kind.INVALID_VALUE,
          "/correlation_id");
      assertAtPointer(
          malformed(() -> CODEC.decode(utf8(head + id + ",\"session_id\":[]}"))),
          Kind.WRONG_TYPE,
          "/session_id");
      assertAtPointer(
          malformed(() -> CODEC.decode(utf8("{\"event_type\":\"a.b\"," + id + "}"))),
          Kind.MISSING_FIELD,
          "/timestamp");
    }
  }

  @Nested
  class Encoding {
    static Stream<Arguments> invalidUtf8() {
      return Stream.of(
          Arguments.of("C3 28: bad continuation byte", new byte[] {(byte) 0xC3, 0x28}, "0x28"),
          Arguments.of("lone FF", new byte[] {(byte) 0xFF}, "0xff"),
          Arguments.of("lone continuation byte", new byte[] {(byte) 0x80}, "0x80"),
          Arguments.of("truncated 3-byte sequence", new byte[] {(byte) 0xE2, (byte) 0x82}, "UTF-8"),
          Arguments.of(
              "encoded UTF-16 surrogate",
              new byte[] {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
              "UTF-8"),
          Arguments.of("overlong 2-byte '/'", new byte[] {(byte) 0xC0, (byte) 0xAF}, "UTF-8"),
          Arguments.of(
              "overlong 3-byte '/'", new byte[] {(byte) 0xE0, (byte) 0x80, (byte) 0xAF}, "UTF-8"),
          Arguments.of(
              "above U+10FFFF",
              new byte[] {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
              "UTF-8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidUtf8")
    void invalidUtf8InAStringIsRejected(String name, byte[] raw, String named) {
      byte[] doc = withRawBytesInString(raw);
      AtomicReference<String> decoded = new AtomicReference<>();
      Throwable t =
          catchThrowable(() -> decoded.set(CODEC.decode(doc).payload().get("t").textValue()));
      assertThat(t)
          .as("decoded without error as the UTF-16 units %s", units(decoded.get()))
          .isInstanceOf(MalformedEventException.class);
      MalformedEventException e = (MalformedEventException) t;
      assertThat(e.kind()).as(e.getMessage()).isEqualTo(Kind.INVALID_ENCODING);
      assertThat(e.getMessage()).contains("UTF-8").contains(named);
    }

    static List<String> units(String s) {
      List<String> out = new ArrayList<>();
      if (s != null) {
        s.chars().forEach(c -> out.add(String.format("U+%04X", c)));
      }
      return out;
    }

    @Test
    void validMultiByteUtf8IsAccepted() {
      byte[] doc = withRawBytesInString(utf8("é✓😀"));
      assertThat(CODEC.decode(doc).payload().get("t").textValue()).isEqualTo("é✓😀");
    }

    @Test
    void aLoneFfOutsideAStringIsRejectedWithItsPosition() {
      MalformedEventException e =
          malformed(() -> CODEC.decode(new byte[] {'{', '}', ' ', (byte) 0xFF}));
      assertThat(e.kind()).isEqualTo(Kind.INVALID_ENCODING);
      assertThat(e.getMessage()).contains("0xff").contains("line 1, column");
    }

    @Test
    void duplicateTopLevelKeyIsRejectedNamingTheKey() {
      String valid = EventFixtures.validV2Tree().toString();
      byte[] doc = utf8(valid.substring(0, valid.length() - 1) + ",\n\"payload\":{}}");
      MalformedEventException e = malformed(() -> CODEC.decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.DUPLICATE_KEY);
      assertThat(e.getMessage()).contains("'payload'").contains("line 2, column");
      assertThat(e.line()).isEqualTo(2);
    }

    @Test
    void duplicateKeysAreRejectedAtAnyDepth() {
      byte[] inSource =
          utf8(
              EventFixtures.validV2Tree()
                  .toString()
                  .replace("\"host\":\"h\"", "\"host\":\"h\",\"host\":\"evil\""));
      byte[] inPayload =
          utf8(
              EventFixtures.validV2Tree()
                  .toString()
                  .replace("\"text\":\"hi\"", "\"text\":\"hi\",\"deep\":{\"k\":1,\"k\":2}"));
      MalformedEventException e1 = malformed(() -> CODEC.decode(inSource));
      assertThat(e1.kind()).isEqualTo(Kind.DUPLICATE_KEY);
      assertThat(e1.getMessage()).contains("'host'");
      MalformedEventException e2 = malformed(() -> CODEC.decode(inPayload));
      assertThat(e2.kind()).isEqualTo(Kind.DUPLICATE_KEY);
      assertThat(e2.getMessage()).contains("'k'");
    }

    @Test
    void sameKeyInSiblingObjectsIsNotADuplicate() {
      byte[] doc =
          mutated(
              d ->
                  d.putObject("payload")
                      .<ObjectNode>set("a", json("{\"k\":1}"))
                      .set("b", json("{\"k\":2}")));
      assertThat(CODEC.decode(doc).payload().at("/b/k").intValue()).isEqualTo(2);
    }
  }

  /** A class whose construction would prove that input chose a class to instantiate. */
  public static final class Canary {
    static final AtomicInteger CREATED = new AtomicInteger();

    public Canary() {
      CREATED.incrementAndGet();
    }
  }

  record Holder(@JsonProperty("value") Object value, @JsonProperty("text") String text) {}

  @Nested
  class Security {
    @Test
    void aClassFieldInThePayloadIsPlainData() {
      byte[] doc =
          mutated(
              d ->
                  d.putObject("payload")
                      .put("@class", "java.lang.Runtime")
                      .put("text", "hi")
                      .put("session_id", EventFixtures.MINIMAL_ID.toString())
                      .put("confidence", 0.5));
      EventEnvelope<JsonNode> raw = CODEC.decode(doc);
      assertThat(raw.payload().get("@class").textValue()).isEqualTo("java.lang.Runtime");

      EventEnvelope<TranscriptionPayload> typed = CODEC.decode(doc, TranscriptionPayload.class);
      assertThat(typed.payload())
          .isEqualTo(
              new TranscriptionPayload("hi", EventFixtures.MINIMAL_ID, 0.5, null, List.of()));

      // Object.class would return the JsonNode as it is; Map.class makes the mapper build values
      Object untyped = CODEC.decode(doc, Map.class).payload();
      assertThat(untyped)
          .isNotInstanceOf(Runtime.class)
          .asInstanceOf(InstanceOfAssertFactories.map(String.class, Object.class))
          .containsEntry("@class", "java.lang.Runtime");
    }

    @Test
    void typeHintsNeverInstantiateAClass() {
      Canary.CREATED.set(0);
      String canary = Canary.class.getName();
      byte[] asProperty =
          mutated(
              d -> {
                ObjectNode p = d.putObject("payload").put("text", "x");
                p.putObject("value").put("@class", canary);
              });
      byte[] asWrapperArray =
          mutated(
              d -> {
                ObjectNode p = d.putObject("payload").put("text", "x");
                p.putArray("value").add(canary).addObject();
              });

      Holder h1 = CODEC.decode(asProperty, Holder.class).payload();
      Holder h2 = CODEC.decode(asWrapperArray, Holder.class).payload();

      assertThat(h1.value()).isInstanceOf(Map.class);
      assertThat(h2.value()).isInstanceOf(List.class);
      assertThat(Canary.CREATED).hasValue(0);
      // and the meta map, decoded as plain values too
      byte[] inMeta =
          mutated(d -> obj(d, "source").putObject("meta").putObject("x").put("@class", canary));
      assertThat(CODEC.decode(inMeta).source().meta().get("x")).isInstanceOf(Map.class);
      assertThat(Canary.CREATED).hasValue(0);
    }
  }

  @Nested
  class TypedPayload {
    static byte[] withPayload(String payloadJson) {
      return mutated(d -> d.set("payload", json(payloadJson)));
    }

    @Test
    void aStringWhereADoubleBelongsNamesThePayloadPointer() {
      byte[] doc = withPayload("{\"text\":\"x\",\"confidence\":\"abc\"}");
      MalformedEventException e = malformed(() -> CODEC.decode(doc, TranscriptionPayload.class));
      assertAtPointer(e, Kind.INVALID_VALUE, "/payload/confidence");
      assertThat(e.getMessage()).contains("TranscriptionPayload").contains("\"abc\"");
    }

    @Test
    void aBadUuidInThePayloadNamesItsSnakeCaseField() {
      byte[] doc = withPayload("{\"session_id\":\"not-a-uuid\"}");
      assertAtPointer(
          malformed(() -> CODEC.decode(doc, TranscriptionPayload.class)),
          Kind.INVALID_VALUE,
          "/payload/session_id");
    }

    @Test
    void aFaultInANestedListNamesTheIndex() {
      byte[] doc =
          withPayload(
              "{\"segments\":[{\"start_seconds\":0},{\"start_seconds\":\"late\",\"speaker\":\"a\"}]}");
      assertAtPointer(
          malformed(() -> CODEC.decode(doc, TranscriptionPayload.class)),
          Kind.INVALID_VALUE,
          "/payload/segments/1/start_seconds");
    }

    @Test
    void anArrayWhereAnObjectBelongsIsAWrongType() {
      byte[] doc = withPayload("[1,2]");
      MalformedEventException e = malformed(() -> CODEC.decode(doc, TranscriptionPayload.class));
      assertAtPointer(e, Kind.WRONG_TYPE, "/payload");
    }

    record Odd(@JsonProperty("a/b~c") double value) {}

    @Test
    void pointerTokensAreEscapedAsRfc6901Says() {
      byte[] doc = withPayload("{\"a/b~c\":\"abc\"}");
      assertThat(malformed(() -> CODEC.decode(doc, Odd.class)).pointer())
          .isEqualTo("/payload/a~1b~0c");
    }

    @Test
    void typedDecodeEqualsConvertingTheUntypedOne() {
      byte[] bytes = CODEC.encode(EventFixtures.transcription());
      EventEnvelope<JsonNode> untyped = CODEC.decode(bytes);
      assertThat(untyped.payload()).isEqualTo(json(EventFixtures.TRANSCRIPTION_PAYLOAD_JSON));
      assertThat(CODEC.convertPayload(untyped, TranscriptionPayload.class))
          .isEqualTo(CODEC.decode(bytes, TranscriptionPayload.class))
          .isEqualTo(EventFixtures.transcription());
      assertThat(CODEC.decode(bytes, JsonNode.class)).isEqualTo(untyped);
    }

    @Test
    void typedPayloadsAreWrittenWithTheirJsonPropertyNames() {
      String out = new String(CODEC.encode(EventFixtures.transcription()), StandardCharsets.UTF_8);
      assertThat(out).endsWith(",\"payload\":" + EventFixtures.TRANSCRIPTION_PAYLOAD_JSON + "}");
    }
  }

  @Nested
  class MessageSafety {
    static Stream<Arguments> faultsWithControlCharacters() {
      return Stream.of(
          Arguments.of("uuid", mutated(d -> d.put("event_id", "a\nb"))),
          Arguments.of("timestamp", mutated(d -> d.put("timestamp", "x\r\ny"))),
          Arguments.of("event type", mutated(d -> d.put("event_type", "a\u2028b\u0007"))),
          Arguments.of("v1 id", utf8("{\"id\":\"a\\nb\",\"event_type\":\"a.b\"}")),
          Arguments.of(
              "duplicate key",
              utf8(
                  EventFixtures.validV2Tree()
                      .toString()
                      .replace("\"text\":\"hi\"", "\"k\\nk\":1,\"k\\nk\":2"))),
          Arguments.of(
              "typed payload", mutated(d -> d.putObject("payload").put("session_id", "x\ny"))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("faultsWithControlCharacters")
    void controlCharactersOfTheBadValueAreEscapedInTheMessage(String name, byte[] doc) {
      MalformedEventException e = malformed(() -> CODEC.decode(doc, TranscriptionPayload.class));
      assertThat(e.getMessage())
          .doesNotContain("\n")
          .doesNotContain("\r")
          .doesNotContain("\u2028")
          .doesNotContain("\u0007")
          .containsAnyOf("\\n", "\\r", "\\u2028");
    }

    @Test
    void aHugeBadValueIsCutShortInTheMessage() {
      String huge = "x".repeat(100_000);
      MalformedEventException e =
          malformed(() -> CODEC.decode(mutated(d -> d.put("event_id", huge))));
      assertThat(e.pointer()).isEqualTo("/event_id");
      assertThat(e.getMessage()).hasSizeLessThan(400).contains("100000 chars");
    }
  }

  @Nested
  class RoundTrip {
    @ParameterizedTest(name = "{0}")
    @MethodSource("dev.bloodbank.EventFixtures#envelopes")
    void encodeThenDecodeGivesTheOriginal(EventEnvelope<?> original, Class<?> payloadType) {
      byte[] bytes = CODEC.encode(original);
      EventEnvelope<?> back = CODEC.decode(bytes, payloadType);
      assertThat(back).isEqualTo(original).hasSameHashCodeAs(original);
      assertThat(back.payload()).isInstanceOf(payloadType);
      assertThat(CODEC.encode(back)).isEqualTo(bytes);
    }

    @ParameterizedTest
    @MethodSource("dev.bloodbank.EventFixtures#allEnvelopes")
    void everyFieldIsWrittenInThePythonOrder(EventEnvelope<?> original) {
      JsonNode tree = json(CODEC.encode(original));
      assertThat(fieldNames(tree))
          .containsExactly(
              "event_id",
              "event_type",
              "timestamp",
              "version",
              "source",
              "correlation_ids",
              "agent_context",
              "payload");
      assertThat(fieldNames(tree.get("source"))).containsExactly("host", "type", "app", "meta");
      assertThat(tree.get("timestamp").textValue()).endsWith("Z");
      if (original.agentContext() != null) {
        assertThat(fieldNames(tree.get("agent_context")))
            .containsExactly(
                "type",
                "name",
                "system_prompt",
                "instance_id",
                "mcp_servers",
                "file_references",
                "url_references",
                "code_state",
                "checkpoint_id");
      }
    }

    @Test
    void unknownEnumValuesArePreservedOnTheWire() {
      EventEnvelope<JsonNode> back = CODEC.decode(CODEC.encode(EventFixtures.unknownEnumValues()));
      assertThat(back.source().type().value()).isEqualTo("webhook-relay");
      assertThat(back.source().type().isKnown()).isFalse();
      assertThat(back.agentContext().type().value()).isEqualTo("smolagent");
      assertThat(back.agentContext().type().isKnown()).isFalse();
    }

    @Test
    void nanosecondsAreTruncatedToMicroseconds() {
      Instant nanos = Instant.parse("2026-01-27T10:00:00.123456789Z");
      EventEnvelope<JsonNode> e = EventFixtures.minimal().toBuilder().withTimestamp(nanos).build();
      assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00.123456Z"));
      JsonNode tree = json(CODEC.encode(e));
      assertThat(tree.get("timestamp").textValue()).isEqualTo("2026-01-27T10:00:00.123456Z");
      assertThat(CODEC.decode(CODEC.encode(e))).isEqualTo(e);
    }

    @Test
    void decodedNanosecondsAreTruncatedNotRounded() {
      byte[] doc = mutated(d -> d.put("timestamp", "2026-01-27T23:59:59.999999999Z"));
      assertThat(CODEC.decode(doc).timestamp())
          .isEqualTo(Instant.parse("2026-01-27T23:59:59.999999Z"));
    }

    static Stream<Arguments> timestamps() {
      return Stream.of(
          Arguments.of("2026-01-27T10:00:00Z", "2026-01-27T10:00:00Z"),
          Arguments.of("2026-01-27T10:00:00.123456Z", "2026-01-27T10:00:00.123456Z"),
          Arguments.of("2026-01-27T10:00:00.123456+00:00", "2026-01-27T10:00:00.123456Z"),
          Arguments.of("2026-01-27T12:00:00+02:00", "2026-01-27T10:00:00Z"),
          Arguments.of("2026-01-27T04:30:00.000001-05:30", "2026-01-27T10:00:00.000001Z"),
          Arguments.of("2026-01-28T00:30:00+14:00", "2026-01-27T10:30:00Z"),
          // Python's datetime.utcnow().isoformat(): no offset, meaning UTC
          Arguments.of("2026-01-27T10:00:00.123456", "2026-01-27T10:00:00.123456Z"),
          Arguments.of("2026-01-27T10:00:00", "2026-01-27T10:00:00Z"));
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @MethodSource("timestamps")
    void timestampsDecodeToTheRightInstantAndEncodeInUtc(String wire, String expected) {
      EventEnvelope<JsonNode> e = CODEC.decode(mutated(d -> d.put("timestamp", wire)));
      assertThat(e.timestamp()).isEqualTo(Instant.parse(expected));
      assertThat(json(CODEC.encode(e)).get("timestamp").textValue()).isEqualTo(expected);
    }

    @Test
    void aNowTimestampSurvivesTheRoundTrip() {
      EventEnvelope<JsonNode> e = EventEnvelope.<JsonNode>builder("a.b", json("{}")).build();
      assertThat(e.timestamp()).isEqualTo(e.timestamp().truncatedTo(ChronoUnit.MICROS));
      assertThat(CODEC.decode(CODEC.encode(e))).isEqualTo(e);
    }

    @Test
    void aTypedPayloadFromANewMapperStillRoundTrips() {
      EventCodec custom =
          EventCodec.create(DecodeLimits.defaults(), EventCodec.defaultObjectMapper());
      EventEnvelope<TranscriptionPayload> e = EventFixtures.transcription();
      assertThat(custom.decode(CODEC.encode(e), TranscriptionPayload.class)).isEqualTo(e);
      assertThat(custom.encode(e)).isEqualTo(CODEC.encode(e));
    }

    @Test
    void theTypedFixtureHasTheExpectedPayload() {
      TranscriptionPayload p = EventFixtures.transcription().payload();
      assertThat(p.segments())
          .containsExactly(new Segment(0.0, 1.25, "Zoë"), new Segment(1.25, 4.5, "Ōta"));
    }
  }

  static List<String> fieldNames(JsonNode n) {
    List<String> names = new ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
