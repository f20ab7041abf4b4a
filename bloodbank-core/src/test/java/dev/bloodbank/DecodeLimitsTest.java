package dev.bloodbank;

import static dev.bloodbank.EventCodecTest.malformed;
import static dev.bloodbank.EventFixtures.utf8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.MalformedEventException.Kind;
import java.util.List;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The limits themselves, and the codec enforcing them on hostile documents. */
class DecodeLimitsTest {

  /** A valid document whose payload is the given JSON text. */
  static String withPayload(String payloadJson) {
    String valid = EventFixtures.validV2Tree().put("payload", "@@").toString();
    return valid.replace("\"@@\"", payloadJson);
  }

  static String nestedArrays(int depth) {
    return "[".repeat(depth) + "]".repeat(depth);
  }

  @Nested
  class Options {
    @Test
    void defaults() {
      DecodeLimits d = DecodeLimits.defaults();
      assertThat(d.maxDocumentBytes()).isEqualTo(8 * 1024 * 1024);
      assertThat(d.maxNestingDepth()).isEqualTo(64);
      assertThat(d.maxStringLength()).isEqualTo(4 * 1024 * 1024);
      assertThat(d.maxNumberLength()).isEqualTo(100);
      assertThat(d.maxNameLength()).isEqualTo(1024);
      assertThat(d.maxDocumentBytes()).isEqualTo(DecodeLimits.DEFAULT_MAX_DOCUMENT_BYTES);
      assertThat(d.maxNestingDepth()).isEqualTo(DecodeLimits.DEFAULT_MAX_NESTING_DEPTH);
      assertThat(d.maxStringLength()).isEqualTo(DecodeLimits.DEFAULT_MAX_STRING_LENGTH);
      assertThat(d.maxNumberLength()).isEqualTo(DecodeLimits.DEFAULT_MAX_NUMBER_LENGTH);
      assertThat(d.maxNameLength()).isEqualTo(DecodeLimits.DEFAULT_MAX_NAME_LENGTH);
      assertThat(EventCodec.create().limits()).isSameAs(d);
    }

    @Test
    void theBuilderStartsFromTheDefaultsAndChangesOnlyWhatIsSet() {
      DecodeLimits l = DecodeLimits.builder().maxNestingDepth(10).maxNameLength(20).build();
      assertThat(l.maxNestingDepth()).isEqualTo(10);
      assertThat(l.maxNameLength()).isEqualTo(20);
      assertThat(l.maxDocumentBytes()).isEqualTo(DecodeLimits.DEFAULT_MAX_DOCUMENT_BYTES);
      assertThat(l.maxStringLength()).isEqualTo(DecodeLimits.DEFAULT_MAX_STRING_LENGTH);
      assertThat(l.maxNumberLength()).isEqualTo(DecodeLimits.DEFAULT_MAX_NUMBER_LENGTH);
      assertThat(EventCodec.create(l).limits()).isSameAs(l);
    }

    static Stream<Arguments> badValues() {
      return Stream.of(
          bad(b -> b.maxDocumentBytes(0), "maxDocumentBytes must be at least 1, was 0"),
          bad(b -> b.maxDocumentBytes(-5), "maxDocumentBytes must be at least 1, was -5"),
          bad(b -> b.maxNestingDepth(0), "maxNestingDepth must be between 1 and 1000, was 0"),
          bad(b -> b.maxNestingDepth(1001), "maxNestingDepth must be between 1 and 1000, was 1001"),
          bad(
              b -> b.maxNestingDepth(Integer.MIN_VALUE),
              "maxNestingDepth must be between 1 and 1000, was -2147483648"),
          bad(b -> b.maxStringLength(0), "maxStringLength must be at least 1, was 0"),
          bad(b -> b.maxNumberLength(-1), "maxNumberLength must be at least 1, was -1"),
          bad(b -> b.maxNameLength(0), "maxNameLength must be at least 1, was 0"));
    }

    static Arguments bad(Consumer<DecodeLimits.Builder> set, String message) {
      return Arguments.of(message, set);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badValues")
    void rejectsABadValueShowingItAndTheRange(String message, Consumer<DecodeLimits.Builder> set) {
      DecodeLimits.Builder b = DecodeLimits.builder();
      assertThatThrownBy(() -> set.accept(b))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage(message);
      // the builder is still usable and kept the default
      assertThat(b.build().toString()).isEqualTo(DecodeLimits.defaults().toString());
    }

    @Test
    void acceptsTheEndsOfTheRanges() {
      DecodeLimits low =
          DecodeLimits.builder()
              .maxDocumentBytes(1)
              .maxNestingDepth(1)
              .maxStringLength(1)
              .maxNumberLength(1)
              .maxNameLength(1)
              .build();
      assertThat(low.maxDocumentBytes()).isEqualTo(1);
      assertThat(low.maxNestingDepth()).isEqualTo(1);
      DecodeLimits high =
          DecodeLimits.builder()
              .maxDocumentBytes(Integer.MAX_VALUE)
              .maxNestingDepth(1000)
              .maxStringLength(Integer.MAX_VALUE)
              .build();
      assertThat(high.maxNestingDepth()).isEqualTo(1000);
      assertThat(high.maxDocumentBytes()).isEqualTo(Integer.MAX_VALUE);
    }

    @Test
    void toStringShowsEveryLimit() {
      assertThat(DecodeLimits.builder().maxNumberLength(77).build().toString())
          .isEqualTo(
              "DecodeLimits{maxDocumentBytes=8388608, maxNestingDepth=64, maxStringLength=4194304,"
                  + " maxNumberLength=77, maxNameLength=1024}");
    }
  }

  @Nested
  class DocumentSize {
    @Test
    void aDocumentOverTheLimitNamesItsSizeAndTheLimit() {
      byte[] doc = utf8(withPayload("{\"text\":\"" + "x".repeat(500) + "\"}"));
      int size = doc.length;
      EventCodec exact = EventCodec.create(DecodeLimits.builder().maxDocumentBytes(size).build());
      assertThat(exact.decode(doc).payload().get("text").textValue()).hasSize(500);

      EventCodec small =
          EventCodec.create(DecodeLimits.builder().maxDocumentBytes(size - 1).build());
      MalformedEventException e = malformed(() -> small.decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage())
          .isEqualTo("document is " + size + " bytes, over the limit of " + (size - 1) + " bytes");
      assertThat(e.pointer()).isNull();
    }

    @Test
    void theSizeIsCheckedBeforeParsing() {
      byte[] garbage = new byte[2000];
      java.util.Arrays.fill(garbage, (byte) 0xFF);
      EventCodec small = EventCodec.create(DecodeLimits.builder().maxDocumentBytes(1024).build());
      MalformedEventException e = malformed(() -> small.decode(garbage));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("2000").contains("1024");
      assertThat(malformed(() -> small.parse(garbage)).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
    }

    @Test
    void theSizeIsCountedInBytesNotCharacters() {
      byte[] doc = utf8(withPayload("{\"text\":\"" + "é".repeat(300) + "\"}"));
      String text = new String(doc, java.nio.charset.StandardCharsets.UTF_8);
      assertThat(doc.length).isEqualTo(text.length() + 300);
      EventCodec byChars =
          EventCodec.create(DecodeLimits.builder().maxDocumentBytes(text.length()).build());
      assertThat(malformed(() -> byChars.decode(doc)).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
    }
  }

  @Nested
  class Nesting {
    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"arrays", "objects", "mixed"})
    void tenThousandLevelsAreRejectedWithoutOverflowingTheStack(String shape) {
      String deep =
          switch (shape) {
            case "arrays" -> "[".repeat(10_000);
            case "objects" -> "{\"a\":".repeat(10_000);
            default -> "[{\"a\":".repeat(5_000);
          };
      byte[] doc = utf8(withPayload(deep));
      MalformedEventException e = malformed(() -> EventCodec.create().decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("nesting depth (65)").contains("maximum allowed (64");
    }

    @Test
    void theHighestLimitStillStopsTenThousandLevels() {
      EventCodec deepest = EventCodec.create(DecodeLimits.builder().maxNestingDepth(1000).build());
      byte[] doc = utf8(withPayload(nestedArrays(10_000)));
      MalformedEventException e = malformed(() -> deepest.decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("(1001)").contains("(1000");
    }

    @Test
    void theLimitCountsEveryLevelFromTheRoot() {
      // root object = 1, payload arrays = 2..(k+1)
      EventCodec five = EventCodec.create(DecodeLimits.builder().maxNestingDepth(5).build());
      assertThat(five.decode(utf8(withPayload(nestedArrays(4)))).payload().toString())
          .isEqualTo("[[[[]]]]");
      MalformedEventException e = malformed(() -> five.decode(utf8(withPayload(nestedArrays(5)))));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("(6)").contains("(5");
    }

    @Test
    void aDocumentAtTheHighestLimitDecodesConvertsAndEncodes() {
      EventCodec deepest = EventCodec.create(DecodeLimits.builder().maxNestingDepth(1000).build());
      byte[] doc = utf8(withPayload(nestedArrays(999)));
      EventEnvelope<JsonNode> e = deepest.decode(doc);
      assertThat(e.payload().toString()).hasSize(2 * 999);

      Object untyped = deepest.decode(doc, List.class).payload();
      assertThat(untyped).isInstanceOf(List.class);

      assertThat(deepest.decode(deepest.encode(e))).isEqualTo(e);
      assertThat(malformed(() -> deepest.decode(utf8(withPayload(nestedArrays(1000))))).kind())
          .isEqualTo(Kind.LIMIT_EXCEEDED);
    }
  }

  @Nested
  class Lengths {
    final EventCodec strings =
        EventCodec.create(DecodeLimits.builder().maxStringLength(1000).build());

    @Test
    void aStringAtTheLimitIsAccepted() {
      byte[] doc = utf8(withPayload("{\"text\":\"" + "x".repeat(1000) + "\"}"));
      assertThat(strings.decode(doc).payload().get("text").textValue()).hasSize(1000);
    }

    @Test
    void aStringOneOverTheLimitNamesItsLengthAndTheLimit() {
      byte[] doc = utf8(withPayload("{\"text\":\"" + "x".repeat(1001) + "\"}"));
      MalformedEventException e = malformed(() -> strings.decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage())
          .contains("String value length (1001)")
          .contains("maximum allowed (1000");
    }

    @Test
    void aLongStringNamesTheLimitAndALengthOverIt() {
      byte[] doc = utf8(withPayload("{\"text\":\"" + "x".repeat(50_000) + "\"}"));
      MalformedEventException e = malformed(() -> strings.decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("maximum allowed (1000");
      // the parser stops at the first chunk over the limit, so the length it names is a lower bound
      Matcher m = Pattern.compile("String value length \\((\\d+)\\)").matcher(e.getMessage());
      assertThat(m.find()).as(e.getMessage()).isTrue();
      assertThat(Integer.parseInt(m.group(1))).isGreaterThan(1000).isLessThanOrEqualTo(50_000);
    }

    @Test
    void theStringLimitAppliesToEnvelopeFieldsToo() {
      byte[] doc =
          utf8(EventFixtures.validV2Tree().put("version", "1." + "0".repeat(2000)).toString());
      assertThat(malformed(() -> strings.decode(doc)).kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
    }

    @Test
    void aTwoThousandDigitNumberIsRejected() {
      byte[] doc = utf8(withPayload("{\"n\":" + "9".repeat(2000) + "}"));
      MalformedEventException e = malformed(() -> EventCodec.create().decode(doc));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage())
          .contains("Number value length (2000)")
          .contains("maximum allowed (100");
    }

    @Test
    void aTwoThousandDigitFractionIsRejected() {
      byte[] doc = utf8(withPayload("{\"n\":0." + "1".repeat(2000) + "}"));
      assertThat(malformed(() -> EventCodec.create().decode(doc)).kind())
          .isEqualTo(Kind.LIMIT_EXCEEDED);
    }

    @Test
    void aHundredDigitNumberIsAccepted() {
      String digits = "9".repeat(100);
      byte[] doc = utf8(withPayload("{\"n\":" + digits + "}"));
      assertThat(EventCodec.create().decode(doc).payload().get("n").bigIntegerValue())
          .hasToString(digits);
    }

    @Test
    void aKeyOverTheNameLimitNamesItsLengthAndTheLimit() {
      EventCodec names = EventCodec.create(DecodeLimits.builder().maxNameLength(10).build());
      assertThat(names.decode(utf8(withPayload("{\"" + "k".repeat(10) + "\":1}")))).isNotNull();
      MalformedEventException e =
          malformed(() -> names.decode(utf8(withPayload("{\"" + "k".repeat(11) + "\":1}"))));
      assertThat(e.kind()).isEqualTo(Kind.LIMIT_EXCEEDED);
      assertThat(e.getMessage()).contains("Name length (11)").contains("maximum allowed (10");
    }
  }
}
