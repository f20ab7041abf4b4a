package dev.bloodbank.internal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoField;
import java.time.temporal.TemporalAccessor;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The fast date-time path against the formatters it stands in front of: whatever it accepts, they
 * accept with the same instant, so with the fallback nothing accepted or rejected changes.
 */
public class Rfc3339Test {
  private static final ObjectMapper JAVA_TIME =
      JsonMapper.builder().addModule(new JavaTimeModule()).build();

  /** The codec's parse before the fast path (EventCodec.instant). */
  private static Instant isoDateTime(String s) {
    TemporalAccessor t = DateTimeFormatter.ISO_DATE_TIME.parse(s);
    if (t.isSupported(ChronoField.OFFSET_SECONDS)) {
      return Instant.from(t);
    }
    return LocalDateTime.from(t).toInstant(ZoneOffset.UTC);
  }

  /** The JavaTimeModule's reading of a JSON string as an Instant. */
  private static Instant javaTime(String s) throws Exception {
    return JAVA_TIME.readValue(JAVA_TIME.writeValueAsString(s), Instant.class);
  }

  /** Edge cases of every component, then random mutations of the common shapes. */
  public static List<String> corpus() {
    Set<String> out = new LinkedHashSet<>();
    String[] years = {"0000", "0001", "1900", "1970", "2000", "2024", "2026", "2100", "9999"};
    String[] months = {"00", "01", "02", "04", "12", "13"};
    String[] days = {"00", "01", "28", "29", "30", "31", "32"};
    for (String y : years) {
      for (String m : months) {
        for (String d : days) {
          out.add(y + "-" + m + "-" + d + "T10:00:00Z");
        }
      }
    }
    String[] times = {
      "00:00:00",
      "23:59:59",
      "24:00:00",
      "23:60:00",
      "23:59:60",
      "23:59:61",
      "12:00",
      "1:00:00",
      "12:0:00",
      "12:00:0"
    };
    String[] fractions = {
      "",
      ".",
      ".0",
      ".1",
      ".12",
      ".123",
      ".1234",
      ".123456",
      ".12345678",
      ".123456789",
      ".1234567891",
      ".999999999",
      ".000000001",
      ".a",
      ".1a"
    };
    String[] zones = {
      "",
      "Z",
      "z",
      "+00:00",
      "-00:00",
      "+01:00",
      "-05:30",
      "+14:00",
      "+17:59",
      "+18:00",
      "-18:00",
      "+18:01",
      "+19:00",
      "+0100",
      "+01",
      "+01:00:00",
      "+01:60",
      "+1:00",
      "[UTC]",
      "Z[UTC]",
      "+01:00[Europe/Paris]",
      " ",
      "ZZ"
    };
    for (String t : times) {
      for (String f : fractions) {
        for (String z : zones) {
          out.add("2026-01-27T" + t + f + z);
        }
      }
    }
    for (String s :
        new String[] {
          "",
          "x",
          "2026-01-27",
          "2026-01-27T",
          "2026-01-27t10:00:00Z",
          "2026-01-27 10:00:00Z",
          " 2026-01-27T10:00:00Z",
          "2026-01-27T10:00:00Z ",
          "+2026-01-27T10:00:00Z",
          "-0001-01-01T00:00:00Z",
          "+10000-01-01T00:00:00Z",
          "20260-01-27T10:00:00Z",
          "2026-1-27T10:00:00Z",
          "2026/01/27T10:00:00Z",
          "2026-01-27T10-00-00Z",
          "２０２６-01-27T10:00:00Z",
          "2026-01-27T10:00:00,5Z",
          "0000-01-01T00:00:00+01:00",
          "9999-12-31T23:59:59.999999999-18:00",
          "2024-02-29T00:00:00Z",
          "2023-02-29T00:00:00Z",
          "1900-02-29T00:00:00Z",
          "2000-02-29T00:00:00Z",
          "2026-01-27T10:00:00.Z"
        }) {
      out.add(s);
    }
    Random random = new Random(8);
    List<String> seeds = new ArrayList<>(out);
    String alphabet = "0123456789-:+.TZtz ";
    for (int i = 0; i < 20_000; i++) {
      StringBuilder b = new StringBuilder(seeds.get(random.nextInt(seeds.size())));
      int edits = 1 + random.nextInt(2);
      for (int e = 0; e < edits && b.length() > 0; e++) {
        int at = random.nextInt(b.length());
        switch (random.nextInt(3)) {
          case 0 -> b.setCharAt(at, alphabet.charAt(random.nextInt(alphabet.length())));
          case 1 -> b.deleteCharAt(at);
          default -> b.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
        }
      }
      out.add(b.toString());
    }
    return new ArrayList<>(out);
  }

  @Test
  void whatTheFastPathAcceptsTheCodecsFormatterAcceptsAsTheSameInstant() {
    int fast = 0;
    for (String s : corpus()) {
      Instant mine = Rfc3339.parse(s, true);
      if (mine == null) {
        continue;
      }
      fast++;
      Instant reference;
      try {
        reference = isoDateTime(s);
      } catch (RuntimeException e) {
        throw new AssertionError("fast path accepts '" + s + "', ISO_DATE_TIME does not", e);
      }
      assertThat(mine).as(s).isEqualTo(reference);
    }
    assertThat(fast).isGreaterThan(400);
  }

  @Test
  void whatTheFastPathAcceptsWithoutLocalTimesTheJavaTimeModuleReadsAsTheSameInstant()
      throws Exception {
    int fast = 0;
    for (String s : corpus()) {
      Instant mine = Rfc3339.parse(s, false);
      if (mine == null) {
        continue;
      }
      fast++;
      Instant reference;
      try {
        reference = javaTime(s);
      } catch (Exception e) {
        throw new AssertionError("fast path accepts '" + s + "', InstantDeserializer does not", e);
      }
      assertThat(mine).as(s).isEqualTo(reference);
    }
    assertThat(fast).isGreaterThan(400);
  }

  static Stream<String> commonShapes() {
    return Stream.of(
        "2026-01-27T10:00:00Z",
        "2026-01-27T10:00:00.123456Z",
        "2026-01-27T10:00:00.123456+00:00",
        "2026-01-27T12:00:00+02:00",
        "2026-01-27T04:30:00.000001-05:30",
        "2026-01-28T00:30:00+14:00",
        "2024-02-29T23:59:59.999999999Z");
  }

  @ParameterizedTest
  @MethodSource("commonShapes")
  void theCommonShapesTakeTheFastPath(String s) {
    assertThat(Rfc3339.parse(s, true)).isEqualTo(isoDateTime(s));
    assertThat(Rfc3339.parse(s, false)).isEqualTo(isoDateTime(s));
  }

  @ParameterizedTest
  @ValueSource(strings = {"2026-01-27T10:00:00.123456", "2026-01-27T10:00:00"})
  void pythonsNaiveUtcTimesAreUtcForTheCodecOnly(String s) {
    assertThat(Rfc3339.parse(s, true)).isEqualTo(isoDateTime(s));
    assertThat(Rfc3339.parse(s, false)).isNull();
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "2026-01-27t10:00:00Z",
        "2026-01-27T24:00:00Z",
        "2026-01-27T23:59:60Z",
        "2026-01-27T10:00Z",
        "2026-01-27T10:00:00.Z",
        "+12026-01-27T10:00:00Z",
        "2026-01-27T10:00:00+18:30",
        "2026-01-27T10:00:00Z[UTC]",
        " 2026-01-27T10:00:00Z",
        "2026-02-30T10:00:00Z"
      })
  void unusualShapesAreLeftToTheFormatter(String s) {
    assertThat(Rfc3339.parse(s, true)).isNull();
    assertThat(Rfc3339.parse(s, false)).isNull();
  }

  @Test
  void formatWritesWhatIsoInstantWrites() {
    List<Instant> instants =
        new ArrayList<>(
            List.of(
                Instant.EPOCH,
                Instant.parse("0000-01-01T00:00:00Z"),
                Instant.parse("9999-12-31T23:59:59.999999999Z"),
                Instant.parse("-0001-12-31T23:59:59Z"),
                Instant.parse("+10000-01-01T00:00:00Z"),
                Instant.parse("2026-01-27T10:00:00.250Z"),
                Instant.parse("2026-01-27T10:00:00.123456Z"),
                Instant.parse("2026-01-27T10:00:00.000001Z"),
                Instant.parse("2026-01-27T10:00:00.100000001Z"),
                Instant.parse("1969-12-31T23:59:59.999Z"),
                Instant.parse("2024-02-29T12:00:00Z")));
    Random random = new Random(3339);
    long min = Instant.parse("0000-01-01T00:00:00Z").getEpochSecond();
    long max = Instant.parse("9999-12-31T23:59:59Z").getEpochSecond();
    for (int i = 0; i < 100_000; i++) {
      long second = min + (long) (random.nextDouble() * (max - min));
      int nanos =
          switch (random.nextInt(4)) {
            case 0 -> 0;
            case 1 -> random.nextInt(1000) * 1_000_000;
            case 2 -> random.nextInt(1_000_000) * 1000;
            default -> random.nextInt(1_000_000_000);
          };
      instants.add(Instant.ofEpochSecond(second, nanos));
    }
    for (Instant t : instants) {
      assertThat(Rfc3339.format(t)).isEqualTo(DateTimeFormatter.ISO_INSTANT.format(t));
    }
  }
}
