package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Deterministic and random event ids. Every expected UUID was computed with CPython 3: {@code
 * uuid.uuid5(uuid.NAMESPACE_OID, "bloodbank:" + event_type + ":" + "|".join(f"{k}={v}" for k, v in
 * sorted(parts.items())))}.
 */
class EventIdsTest {

  static Stream<Arguments> pythonValues() {
    return Stream.of(
        Arguments.of(
            "bloodbank:fireflies.transcript.upload:meeting_id=abc123",
            "fireflies.transcript.upload",
            Map.of("meeting_id", "abc123"),
            "70117275-3199-5e4c-a175-71646fb33ad7"),
        Arguments.of(
            "bloodbank:fireflies.transcript.upload:meeting_id=abc123|user_id=user_456",
            "fireflies.transcript.upload",
            Map.of("meeting_id", "abc123", "user_id", "user_456"),
            "dcbf406d-aaae-5a9a-8b36-38bb4f5ac1e7"),
        Arguments.of(
            "bloodbank:a.b:flag=True|n=42|z=\u00e9\uD83D\uDE00",
            "a.b",
            Map.of("z", "é😀", "n", 42, "flag", true),
            "d5de6183-0e48-57a2-87c7-acf1bcf18ae0"),
        Arguments.of(
            "bloodbank:a.b:flag=False",
            "a.b",
            Map.of("flag", false),
            "2b1920f0-3177-51bb-b4fe-74675b7c1d9b"),
        Arguments.of(
            "bloodbank:a.b:n=-7|x=9223372036854775807",
            "a.b",
            Map.of("x", Long.MAX_VALUE, "n", -7),
            "f78c4ba8-3312-5a54-9928-20658c8325aa"),
        Arguments.of(
            "bloodbank:a.b:amount=0.5",
            "a.b",
            Map.of("amount", 0.5),
            "a71189bd-30ac-506f-9807-9d891bc0a5ac"),
        // U+FF61 sorts before U+1F600 by code point, after it by UTF-16 unit
        Arguments.of(
            "bloodbank:a.b:\uFF61=1|\uD83D\uDE00=2",
            "a.b",
            Map.of("\uD83D\uDE00", "2", "\uFF61", "1"),
            "fb1b319f-0de1-5bed-8786-e7abeac170fb"));
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("pythonValues")
  void deterministicIdsEqualThePythonOnes(
      String pythonName, String eventType, Map<String, ?> parts, String expected) {
    UUID id = EventIds.deterministic(eventType, parts);
    assertThat(id).isEqualTo(UUID.fromString(expected));
    // the documented algorithm, spelled out: the same name in the OID namespace
    assertThat(EventIds.uuid5(EventIds.NAMESPACE_OID, pythonName)).isEqualTo(id);
  }

  @Test
  void keyPartOrderDoesNotMatter() {
    Map<String, Object> reversed = new LinkedHashMap<>();
    reversed.put("user_id", "user_456");
    reversed.put("meeting_id", "abc123");
    Map<String, Object> sorted = new TreeMap<>(reversed);
    UUID expected = UUID.fromString("dcbf406d-aaae-5a9a-8b36-38bb4f5ac1e7");
    assertThat(EventIds.deterministic("fireflies.transcript.upload", reversed)).isEqualTo(expected);
    assertThat(EventIds.deterministic("fireflies.transcript.upload", sorted)).isEqualTo(expected);
  }

  @Test
  void differentTypesOrPartsGiveDifferentIds() {
    UUID base = EventIds.deterministic("a.b", Map.of("k", "v"));
    assertThat(EventIds.deterministic("a.b", Map.of("k", "v"))).isEqualTo(base);
    assertThat(EventIds.deterministic("a.c", Map.of("k", "v"))).isNotEqualTo(base);
    assertThat(EventIds.deterministic("a.b", Map.of("k", "w"))).isNotEqualTo(base);
    assertThat(EventIds.deterministic("a.b", Map.of("j", "v"))).isNotEqualTo(base);
  }

  /**
   * Python writes a float with {@code repr}: {@code 12345678.9}, {@code 1e+20}; Java's {@code
   * Double.toString} writes {@code 1.23456789E7}, {@code 1.0E20}.
   */
  @Test
  void floatKeyPartsAreWrittenAsPythonWritesThem() {
    assertThat(EventIds.deterministic("a.b", Map.of("amount", 12345678.9)))
        .isEqualTo(UUID.fromString("f6c5e269-1e11-5881-ae86-6fa5be1d2ceb"));
  }

  @Test
  void everyDeterministicIdIsVersion5WithTheRfcVariant() {
    List<UUID> ids =
        IntStream.range(0, 200)
            .mapToObj(i -> EventIds.deterministic("t.e" + i, Map.of("k", i, "s", "x" + i * 31)))
            .toList();
    assertThat(ids)
        .allSatisfy(
            id -> {
              assertThat(id.version()).isEqualTo(5);
              assertThat(id.variant()).isEqualTo(2);
              // the nibble and the two bits, as they appear in the string form
              assertThat(id.toString().charAt(14)).isEqualTo('5');
              assertThat(id.toString().charAt(19)).isIn('8', '9', 'a', 'b');
            });
    assertThat(new HashSet<>(ids)).hasSize(ids.size());
  }

  @Test
  void uuid5MatchesPythonForTheDnsNamespace() {
    UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    assertThat(EventIds.uuid5(dns, "python.org"))
        .isEqualTo(UUID.fromString("886313e1-3b8a-5372-9b90-0c9aee199e5d"));
  }

  @Test
  void theOidNamespaceIsTheRfcOne() {
    assertThat(EventIds.NAMESPACE_OID)
        .isEqualTo(UUID.fromString("6ba7b812-9dad-11d1-80b4-00c04fd430c8"));
  }

  @Test
  void emptyKeyPartsAreRejectedNamingTheEventType() {
    assertThatThrownBy(() -> EventIds.deterministic("fireflies.transcript.upload", Map.of()))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'fireflies.transcript.upload'")
        .hasMessageContaining("at least one key part");
  }

  @Test
  void aNullValueIsRejectedNamingThePart() {
    Map<String, Object> parts = new LinkedHashMap<>();
    parts.put("user_id", "u1");
    parts.put("meeting_id", null);
    assertThatThrownBy(() -> EventIds.deterministic("a.b", parts))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("'meeting_id'")
        .hasMessageContaining("'a.b'")
        .hasMessageContaining("null");
  }

  @Test
  void randomIdsAreVersion4AndDistinct() {
    Set<UUID> ids = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      UUID id = EventIds.random();
      assertThat(id.version()).isEqualTo(4);
      assertThat(id.variant()).isEqualTo(2);
      ids.add(id);
    }
    assertThat(ids).hasSize(1000);
  }
}
