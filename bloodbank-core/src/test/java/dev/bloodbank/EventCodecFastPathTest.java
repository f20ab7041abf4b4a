package dev.bloodbank;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The codec's fast parse (duplicates refused by the tree, any failure re-parsed strictly) and its
 * word-at-a-time UTF-8 check give exactly what the strict parse and the byte-wise check give.
 */
class EventCodecFastPathTest {
  private static final EventCodec CODEC = EventCodec.create();
  private static final EventCodec SMALL =
      EventCodec.create(
          DecodeLimits.builder()
              .maxDocumentBytes(4096)
              .maxNestingDepth(4)
              .maxStringLength(64)
              .maxNumberLength(8)
              .maxNameLength(16)
              .build());

  private static String outcome(Supplier<JsonNode> parse) {
    try {
      return "tree " + parse.get();
    } catch (MalformedEventException e) {
      return e.kind() + " " + e.line() + ":" + e.column() + " " + e.getMessage();
    }
  }

  static Stream<String> documents() {
    String valid = EventFixtures.validV2Tree().toString();
    return Stream.of(
        valid,
        "{\"a\":1,\"a\":2}",
        "{\"a\":{\"b\":1,\"b\":2}}",
        "{\"a\":[{\"b\":1},{\"b\":1,\"b\":{}}]}",
        // The duplicate comes before a syntax error inside its own value: still a duplicate.
        "{\"a\":1,\"a\":{\"x\":}",
        "{\"a\":1,\"a\":[1,2,,]}",
        "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"a\":5}",
        "{\"a\":1}{\"b\":2}",
        "{\"a\":1} x",
        "{\"a\":",
        "{'a':1}",
        "[1,2,3]",
        "\"just a string\"",
        "   ",
        "{\"a\":1,\n\"a\":2}",
        "{\"" + "n".repeat(40) + "\":1}",
        "{\"a\":\"" + "s".repeat(100) + "\"}",
        "{\"a\":123456789012}",
        "{\"a\":[[[[[1]]]]]}",
        "{\"a\":1,\"a\":[[[[[[1]]]]]]}",
        valid.substring(0, valid.length() - 1) + ",\n\"payload\":{}}",
        valid.replace("\"host\":\"h\"", "\"host\":\"h\",\"host\":\"evil\""));
  }

  @ParameterizedTest
  @MethodSource("documents")
  void theFastParseFailsAndSucceedsLikeTheStrictOne(String doc) {
    for (EventCodec codec : List.of(CODEC, SMALL)) {
      byte[] bytes = doc.getBytes(UTF_8);
      assertThat(outcome(() -> codec.parse(bytes)))
          .isEqualTo(outcome(() -> codec.parseStrictly(bytes)));
    }
  }

  @Test
  void badBytesAreFoundLikeTheStrictParseFindsThem() {
    Random random = new Random(8);
    byte[][] sequences = {
      {(byte) 0xC0, (byte) 0xAF},
      {(byte) 0xE0, (byte) 0x80, (byte) 0xAF},
      {(byte) 0xED, (byte) 0xA0, (byte) 0x80},
      {(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
      {(byte) 0xC3, (byte) 0xA9},
      {(byte) 0xE2, (byte) 0x82, (byte) 0xAC},
      {(byte) 0xF0, (byte) 0x9F, (byte) 0x98, (byte) 0x80},
      {(byte) 0xFF},
      {(byte) 0xC3}
    };
    for (int i = 0; i < 5000; i++) {
      StringBuilder prefix = new StringBuilder("{\"a\":\"");
      prefix.append("x".repeat(random.nextInt(24)));
      List<Byte> body = new ArrayList<>();
      for (byte b : prefix.toString().getBytes(UTF_8)) {
        body.add(b);
      }
      int pieces = random.nextInt(3);
      for (int p = 0; p < pieces; p++) {
        for (byte b : sequences[random.nextInt(sequences.length)]) {
          body.add(b);
        }
        for (int k = random.nextInt(12); k > 0; k--) {
          body.add((byte) 'y');
        }
      }
      for (byte b : "\"}".getBytes(UTF_8)) {
        body.add(b);
      }
      byte[] doc = new byte[body.size()];
      for (int k = 0; k < doc.length; k++) {
        doc[k] = body.get(k);
      }
      assertThat(EventCodec.invalidUtf8At(doc)).isEqualTo(bytewise(doc));
      assertThat(outcome(() -> CODEC.parse(doc)))
          .isEqualTo(outcome(() -> CODEC.parseStrictly(doc)));
    }
  }

  /** The check as it was, a byte at a time. */
  private static int bytewise(byte[] b) {
    int i = 0;
    int n = b.length;
    while (i < n) {
      int c = b[i] & 0xff;
      if (c < 0x80) {
        i++;
        continue;
      }
      int len;
      int cp;
      if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
        cp = c & 0x1F;
      } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        cp = c & 0x0F;
      } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        cp = c & 0x07;
      } else {
        return i;
      }
      if (i + len > n) {
        return i;
      }
      for (int k = 1; k < len; k++) {
        int cc = b[i + k] & 0xff;
        if ((cc & 0xC0) != 0x80) {
          return i;
        }
        cp = (cp << 6) | (cc & 0x3F);
      }
      if ((len == 3 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)))
          || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF))) {
        return i;
      }
      i += len;
    }
    return -1;
  }
}
