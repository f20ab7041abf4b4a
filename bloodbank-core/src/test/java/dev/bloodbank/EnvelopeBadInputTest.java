package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Every kind of bad document gives a MalformedEventException that names the fault. */
class EnvelopeBadInputTest {
  private static final EventCodec CODEC =
      EventCodec.create(DecodeLimits.builder().maxDocumentBytes(64 * 1024).build());
  private static final String OK_HEAD =
      "{\"event_id\":\"0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b\",\"event_type\":\"a.b\","
          + "\"timestamp\":\"2026-01-27T10:00:00Z\",\"source\":{\"host\":\"h\",\"type\":\"manual\"},";

  private static byte[] utf8(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  static Stream<Arguments> badDocuments() {
    return Stream.of(
        Arguments.of(
            "truncated",
            utf8("{\"event_id\": \"x\""),
            MalformedEventException.Kind.SYNTAX,
            "line 1, column"),
        Arguments.of(
            "stray comma", utf8("{\n\"a\": 1,,\n}"), MalformedEventException.Kind.SYNTAX, "line 2"),
        Arguments.of(
            "trailing garbage",
            utf8(OK_HEAD + "\"payload\":{}} x"),
            MalformedEventException.Kind.SYNTAX,
            "column"),
        Arguments.of("empty", new byte[0], MalformedEventException.Kind.SYNTAX, "empty"),
        Arguments.of(
            "array root",
            utf8("[1,2]"),
            MalformedEventException.Kind.WRONG_TYPE,
            "must be a JSON object"),
        Arguments.of(
            "event_id number",
            utf8("{\"event_id\": 5}"),
            MalformedEventException.Kind.WRONG_TYPE,
            "/event_id"),
        Arguments.of(
            "bad uuid",
            utf8("{\"event_id\": \"nope\"}"),
            MalformedEventException.Kind.INVALID_VALUE,
            "/event_id"),
        Arguments.of(
            "missing type",
            utf8("{\"event_id\": \"0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b\"}"),
            MalformedEventException.Kind.MISSING_FIELD,
            "/event_type"),
        Arguments.of(
            "wildcard type",
            utf8(OK_HEAD.replace("a.b", "a.#") + "\"payload\":{}}"),
            MalformedEventException.Kind.INVALID_VALUE,
            "/event_type"),
        Arguments.of(
            "source string",
            utf8(
                OK_HEAD.replace("{\"host\":\"h\",\"type\":\"manual\"}", "\"app\"")
                    + "\"payload\":{}}"),
            MalformedEventException.Kind.WRONG_TYPE,
            "/source"),
        Arguments.of(
            "missing host",
            utf8(OK_HEAD.replace("\"host\":\"h\",", "") + "\"payload\":{}}"),
            MalformedEventException.Kind.MISSING_FIELD,
            "/source/host"),
        Arguments.of(
            "correlation not array",
            utf8(OK_HEAD + "\"correlation_ids\":\"x\",\"payload\":{}}"),
            MalformedEventException.Kind.WRONG_TYPE,
            "/correlation_ids"),
        Arguments.of(
            "bad timestamp",
            utf8(OK_HEAD.replace("2026-01-27T10:00:00Z", "yesterday\\nnoon") + "\"payload\":{}}"),
            MalformedEventException.Kind.INVALID_VALUE,
            "/timestamp"),
        Arguments.of(
            "missing payload",
            utf8(OK_HEAD + "\"version\":\"1\"}"),
            MalformedEventException.Kind.MISSING_FIELD,
            "/payload"),
        Arguments.of(
            "duplicate key",
            utf8(OK_HEAD + "\"payload\":{},\"payload\":{}}"),
            MalformedEventException.Kind.DUPLICATE_KEY,
            "payload"),
        Arguments.of(
            "invalid utf-8 in string",
            new byte[] {'{', '"', 'a', '"', ':', '"', (byte) 0xC3, 0x28, '"', '}'},
            MalformedEventException.Kind.INVALID_ENCODING,
            "UTF-8"),
        Arguments.of(
            "lone 0xFF",
            new byte[] {(byte) 0xFF, '{', '}'},
            MalformedEventException.Kind.INVALID_ENCODING,
            ""),
        Arguments.of(
            "10,000 deep",
            utf8(OK_HEAD + "\"payload\":" + "[".repeat(10_000)),
            MalformedEventException.Kind.LIMIT_EXCEEDED,
            "nesting depth"),
        Arguments.of(
            "2,000-digit number",
            utf8(OK_HEAD + "\"payload\":{\"n\":" + "9".repeat(2000) + "}}"),
            MalformedEventException.Kind.LIMIT_EXCEEDED,
            "Number value length"),
        Arguments.of(
            "oversize",
            utf8(OK_HEAD + "\"payload\":\"" + "x".repeat(70_000) + "\"}"),
            MalformedEventException.Kind.LIMIT_EXCEEDED,
            "over the limit of 65536 bytes"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("badDocuments")
  void isRejectedNamingTheFault(
      String name, byte[] doc, MalformedEventException.Kind kind, String named) {
    assertThatThrownBy(() -> CODEC.decode(doc))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining(named)
        .satisfies(e -> assertThat(((MalformedEventException) e).kind()).isEqualTo(kind))
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  @Test
  void aLongStringOverTheLimitIsRejected() {
    EventCodec small = EventCodec.create(DecodeLimits.builder().maxStringLength(1000).build());
    byte[] doc = utf8(OK_HEAD + "\"payload\":{\"text\":\"" + "x".repeat(5000) + "\"}}");
    assertThatThrownBy(() -> small.decode(doc))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("String value length")
        .hasMessageContaining("1000");
  }

  @Test
  void aClassFieldIsPlainDataNeverATypeHint() {
    record Payload(String text) {}
    byte[] doc =
        utf8(OK_HEAD + "\"payload\":{\"@class\":\"java.lang.ProcessBuilder\",\"text\":\"hi\"}}");
    EventEnvelope<JsonNode> raw = CODEC.decode(doc);
    assertThat(raw.payload().get("@class").asText()).isEqualTo("java.lang.ProcessBuilder");
    assertThat(CODEC.decode(doc, Payload.class).payload()).isEqualTo(new Payload("hi"));
  }

  @Test
  void aTypedPayloadMismatchNamesThePayloadPointer() {
    record Payload(double confidence) {}
    byte[] doc = utf8(OK_HEAD + "\"payload\":{\"confidence\":\"abc\"}}");
    assertThatThrownBy(() -> CODEC.decode(doc, Payload.class))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageStartingWith("/payload/confidence:")
        .satisfies(
            e ->
                assertThat(((MalformedEventException) e).pointer())
                    .isEqualTo("/payload/confidence"));
  }
}
