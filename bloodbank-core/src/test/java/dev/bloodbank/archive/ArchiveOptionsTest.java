package dev.bloodbank.archive;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveOptionsTest {
  @Test
  void defaultsDeclareASevenDayStreamBoundToEverything() {
    ArchiveOptions o = ArchiveOptions.create();
    assertThat(o.queue()).isEqualTo("bloodbank.archive");
    assertThat(o.bindingPattern()).isEqualTo("#");
    assertThat(o.maxLengthBytes()).isEmpty();
    assertThat(o.queueArguments())
        .containsExactlyInAnyOrderEntriesOf(Map.of("x-queue-type", "stream", "x-max-age", "7D"));
  }

  @Test
  void maxAgeIsWrittenInTheLargestWholeUnit() {
    assertThat(ArchiveOptions.maxAgeArgument(Duration.ofDays(2))).isEqualTo("2D");
    assertThat(ArchiveOptions.maxAgeArgument(Duration.ofHours(36))).isEqualTo("36h");
    assertThat(ArchiveOptions.maxAgeArgument(Duration.ofMinutes(90))).isEqualTo("90m");
    assertThat(ArchiveOptions.maxAgeArgument(Duration.ofSeconds(3601))).isEqualTo("3601s");
  }

  @Test
  void sizesBecomeTheirArguments() {
    ArchiveOptions o =
        ArchiveOptions.builder().maxLengthBytes(1_000_000).maxSegmentSizeBytes(4096).build();
    assertThat(o.queueArguments())
        .containsEntry("x-max-length-bytes", 1_000_000L)
        .containsEntry("x-stream-max-segment-size-bytes", 4096L);
    assertThat(o.mutate().build().queueArguments()).isEqualTo(o.queueArguments());
  }

  @Test
  void badValuesAreRefusedNamingThem() {
    ArchiveOptions.Builder b = ArchiveOptions.builder();
    assertThatThrownBy(() -> b.maxAge(Duration.ofMillis(1500)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("maxAge")
        .hasMessageContaining("PT1.5S");
    assertThatThrownBy(() -> b.maxLengthBytes(0)).hasMessageContaining("was 0");
    assertThatThrownBy(() -> b.maxSegmentSizeBytes(4_000_000_000L))
        .hasMessageContaining("maxSegmentSizeBytes");
    assertThatThrownBy(() -> b.queue("amq.archive")).hasMessageContaining("amq.");
    assertThatThrownBy(() -> b.bindingPattern("a..b")).hasMessageContaining("'a..b'");
  }

  @Test
  void replayDefaultsAreFirstToNowWithACreditOf100() {
    ReplayOptions o = ReplayOptions.builder().build();
    assertThat(o.queue()).isEqualTo("bloodbank.archive");
    assertThat(o.start()).isEqualTo(ReplayOptions.Start.FIRST);
    assertThat(o.end()).isEqualTo(ReplayOptions.End.NOW);
    assertThat(o.prefetch()).isEqualTo(100);
    assertThat(o.patterns()).isEmpty();
    assertThat(o.offsetStore()).isEmpty();
  }

  @Test
  void theLastStartGivenWins() {
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    ReplayOptions o = ReplayOptions.builder().fromOffset(5).from(t).build();
    assertThat(o.start()).isEqualTo(ReplayOptions.Start.INSTANT);
    assertThat(o.startOffset()).isEqualTo(-1);
    assertThat(o.startInstant()).contains(t);
    assertThat(o.mutate().since(Duration.ofHours(2)).build().startAgo())
        .contains(Duration.ofHours(2));
  }

  @Test
  void replayRefusesAnEndBeforeItsStart() {
    Instant t = Instant.parse("2026-01-01T00:00:00Z");
    assertThatThrownBy(() -> ReplayOptions.builder().from(t).until(t.minusSeconds(1)).build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("until");
    assertThatThrownBy(() -> ReplayOptions.builder().prefetch(0))
        .hasMessageContaining("prefetch must be between 1 and 65535, was 0");
    assertThatThrownBy(() -> ReplayOptions.builder().fromOffset(-1)).hasMessageContaining("-1");
    assertThatThrownBy(() -> ReplayOptions.builder().since(Duration.ZERO))
        .hasMessageContaining("since");
  }

  @Test
  void fileStoreKeepsTheLastOffsetAndNoTemporaryFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("offset");
    OffsetStore s = OffsetStore.file(file);
    assertThat(s.load()).isEmpty();
    s.store(41);
    s.store(42);
    assertThat(OffsetStore.file(file).load()).hasValue(42);
    assertThat(Files.readString(file)).isEqualTo("42\n");
    try (var files = Files.list(dir)) {
      assertThat(files).containsExactly(file);
    }
  }

  @Test
  void fileStoreRefusesAFileThatHoldsNoOffset(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("offset");
    Files.writeString(file, "hello");
    assertThatThrownBy(() -> OffsetStore.file(file).load())
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining(file.toString())
        .hasMessageContaining("'hello'");
  }
}
