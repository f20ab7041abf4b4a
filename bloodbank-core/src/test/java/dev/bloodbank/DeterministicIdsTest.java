package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Expected values were computed with Python's uuid.uuid5(uuid.NAMESPACE_OID, name). */
class DeterministicIdsTest {
  @Test
  void matchesThePythonServices() {
    assertThat(
            EventIds.deterministic("fireflies.transcript.upload", Map.of("meeting_id", "abc123")))
        .isEqualTo(UUID.fromString("70117275-3199-5e4c-a175-71646fb33ad7"));
    Map<String, Object> reversed = new LinkedHashMap<>();
    reversed.put("user_id", "user_456");
    reversed.put("meeting_id", "abc123");
    assertThat(EventIds.deterministic("fireflies.transcript.upload", reversed))
        .isEqualTo(UUID.fromString("dcbf406d-aaae-5a9a-8b36-38bb4f5ac1e7"));
    assertThat(EventIds.deterministic("a.b", Map.of("z", "é😀", "n", 42, "flag", true)))
        .isEqualTo(UUID.fromString("d5de6183-0e48-57a2-87c7-acf1bcf18ae0"));
  }

  @Test
  void uuid5MatchesTheRfcVector() {
    UUID dns = UUID.fromString("6ba7b810-9dad-11d1-80b4-00c04fd430c8");
    UUID id = EventIds.uuid5(dns, "python.org");
    assertThat(id).isEqualTo(UUID.fromString("886313e1-3b8a-5372-9b90-0c9aee199e5d"));
    assertThat(id.version()).isEqualTo(5);
    assertThat(id.variant()).isEqualTo(2);
  }

  @Test
  void rejectsEmptyOrNullKeyParts() {
    assertThatThrownBy(() -> EventIds.deterministic("a.b", Map.of()))
        .hasMessageContaining("at least one key part");
    Map<String, Object> withNull = new LinkedHashMap<>();
    withNull.put("meeting_id", null);
    assertThatThrownBy(() -> EventIds.deterministic("a.b", withNull))
        .hasMessageContaining("'meeting_id'");
  }
}
