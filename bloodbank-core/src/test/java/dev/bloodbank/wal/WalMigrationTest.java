package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A log in the single-file format of 0.1 (one file of checksummed lines, done marks inline) is
 * migrated into a directory of segments at the same path, keeping its pending events and their
 * sequence numbers, and a migration a crash cut short is finished or started again.
 */
class WalMigrationTest {
  @TempDir Path dir;
  Path file;
  final List<UUID> pending = new ArrayList<>();

  /** Writes a 0.1 log: events 1..6, of which 2, 4 and 6 are done; a torn tail at the end. */
  @BeforeEach
  void oldLog() throws IOException {
    file = dir.resolve("raw_voice_ingest.jsonl");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (long seq = 1; seq <= 6; seq++) {
      UUID id = UUID.randomUUID();
      out.write(WalFormat.eventLine(seq, id, "a.b", WriteAheadLogTest.event(id)));
      if (seq % 2 == 0) {
        out.write(WalFormat.doneLine(seq));
      } else {
        pending.add(id);
      }
    }
    out.write("{\"crc32c\":\"0123".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
    Files.write(file, out.toByteArray());
    Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
  }

  private void assertMigrated() {
    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
      assertThat(wal.pending()).extracting(WalRecord::eventId).containsExactlyElementsOf(pending);
      assertThat(wal.pending()).extracting(WalRecord::seq).containsExactly(1L, 3L, 5L);
      // Numbers go on after the last pending event (done ones left with the old file).
      assertThat(wal.append(UUID.randomUUID(), "a.b", WriteAheadLogTest.event(UUID.randomUUID())))
          .isEqualTo(6);
    }
    assertThat(Files.isDirectory(file)).isTrue();
    assertThat(dir.resolve("raw_voice_ingest.jsonl.v0")).doesNotExist();
    assertThat(dir.resolve("raw_voice_ingest.jsonl.migrating")).doesNotExist();
  }

  @Test
  void aSingleFileLogIsMigratedKeepingItsPendingEventsAndNumbers() {
    assertMigrated();
  }

  @Test
  void aReadOnlyOpenOfASingleFileLogSaysToOpenItForWritingFirst() throws IOException {
    byte[] before = Files.readAllBytes(file);
    assertThatThrownBy(() -> WriteAheadLog.openReadOnly(WalOptions.of(file)))
        .isInstanceOf(WalException.class)
        .hasMessageContaining("single-file format");
    assertThat(Files.readAllBytes(file)).isEqualTo(before);
  }

  @Test
  void aMigrationCutShortBeforeTheRenamesStartsAgain() throws IOException {
    Path migrating = dir.resolve("raw_voice_ingest.jsonl.migrating");
    Files.createDirectory(migrating);
    Files.writeString(migrating.resolve(WalFormat.segmentName(1)), "half a segme");
    assertMigrated();
  }

  @Test
  void aMigrationCutShortBetweenTheRenamesIsFinished() throws IOException {
    // Migrate a copy, then put things back as they were between the two renames.
    Path copy = dir.resolve("copy");
    Files.createDirectory(copy);
    Path copied = copy.resolve("raw_voice_ingest.jsonl");
    Files.copy(file, copied);
    WriteAheadLog.open(WalOptions.of(copied)).close();
    Files.move(file, dir.resolve("raw_voice_ingest.jsonl.v0"));
    Files.move(copied, dir.resolve("raw_voice_ingest.jsonl.migrating"));
    assertMigrated();
  }
}
