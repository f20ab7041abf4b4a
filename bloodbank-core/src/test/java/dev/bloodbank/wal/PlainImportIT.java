package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log and Python: a plain JSONL log written by Python as the Python services write {@code
 * raw_voice_ingest.jsonl} ({@code json.dumps} of each envelope, one per line) imports into a log
 * with every event kept and its id unchanged (a line that is no event is reported by number;
 * importing twice imports nothing), and the reader of {@code docs/wal-format.md}, in Python with
 * its standard library only, reads a log Java wrote.
 */
class PlainImportIT {
  @TempDir Path dir;

  /** What the Python side writes: v2 envelopes, a v1 one, a blank line and a broken one. */
  private static final String WRITER =
      String.join(
          "\n",
          "import json, sys, uuid",
          "from datetime import datetime, timezone",
          "path = sys.argv[1]",
          "with open(path, 'w') as out:",
          "    for i in range(50):",
          "        envelope = {",
          "            'event_id': str(uuid.uuid4()),",
          "            'event_type': 'transcription.voice.completed',",
          "            'timestamp': datetime.now(timezone.utc).isoformat(),",
          "            'version': '1.0.0',",
          "            'source': {'host': 'py', 'type': 'manual', 'app': 'whisperlive'},",
          "            'correlation_ids': [],",
          "            'payload': {'text': 'segment %d: caf\\u00e9 \\u2713' % i, 'n': i},",
          "        }",
          "        out.write(json.dumps(envelope) + '\\n')",
          "    out.write(json.dumps({'id': str(uuid.uuid4()), 'event_type': 'legacy.thing',",
          "                          'timestamp': datetime.now(timezone.utc).isoformat(),",
          "                          'data': {'x': 1}, 'source': 'py'}) + '\\n')",
          "    out.write('\\n')",
          "    out.write('{\"event_type\": \"no.id\"}\\n')",
          "    out.write('this is not json\\n')",
          "");

  @Test
  void aPythonWrittenLogImportsWithEveryEventKeptAndItsIdUnchanged() throws Exception {
    Path plain = dir.resolve("raw_voice_ingest.jsonl");
    Path script = dir.resolve("write_log.py");
    Files.writeString(script, WRITER);
    Process p =
        new ProcessBuilder("python3", script.toString(), plain.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    List<String> lines = Files.readAllLines(plain);
    List<UUID> written = new ArrayList<>();
    EventCodec codec = EventCodec.create();
    for (int i = 0; i < 51; i++) {
      written.add(codec.decode(lines.get(i).getBytes(StandardCharsets.UTF_8)).eventId());
    }

    Path log = dir.resolve("raw_voice_ingest.wal");
    WriteAheadLog.ImportResult first = WriteAheadLog.importPlain(plain, WalOptions.of(log));
    assertThat(first.imported()).isEqualTo(51);
    assertThat(first.skipped())
        .hasSize(2)
        .anySatisfy(s -> assertThat(s).contains("line 53").contains("no event_id"))
        .anySatisfy(s -> assertThat(s).contains("line 54").contains("not JSON"));
    assertThat(WriteAheadLog.importPlain(plain, WalOptions.of(log)).imported())
        .as("the same file again")
        .isZero();

    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(log))) {
      List<WalRecord> pending = wal.pending();
      assertThat(pending).extracting(WalRecord::eventId).containsExactlyElementsOf(written);
      for (int i = 0; i < 50; i++) {
        EventEnvelope<JsonNode> e = codec.decode(pending.get(i).event());
        assertThat(e.eventId()).isEqualTo(written.get(i));
        assertThat(e.payload().get("text").asText()).isEqualTo("segment " + i + ": café ✓");
      }
      assertThat(codec.decode(pending.get(50).event()).eventType()).isEqualTo("legacy.thing");
    }
    assertThat(Files.readAllLines(plain)).as("the source is not changed").isEqualTo(lines);
  }

  @Test
  void openingThePlainLogAsALogSaysHowToImportIt() throws IOException {
    Path plain = dir.resolve("raw_voice_ingest.jsonl");
    Files.writeString(
        plain,
        "{\"event_id\": \""
            + UUID.randomUUID()
            + "\", \"event_type\": \"a.b\", \"payload\": {}}\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () -> WriteAheadLog.open(WalOptions.of(plain)))
        .hasMessageContaining("bb wal import");
  }

  @Test
  void theDocumentedPythonReaderReadsWhatJavaWrote() throws Exception {
    Path log = dir.resolve("java.wal");
    List<String> expected = new ArrayList<>();
    WalOptions options =
        WalOptions.builder().path(log).fsync(FsyncPolicy.EACH_RECORD).segmentBytes(4096).build();
    try (WriteAheadLog wal = WriteAheadLog.open(options)) {
      for (int i = 0; i < 40; i++) {
        UUID id = UUID.randomUUID();
        long seq = wal.append(id, "docs.check", WriteAheadLogTest.event(id));
        if (i % 3 == 0) {
          wal.markDone(seq);
        } else {
          expected.add(seq + " " + id + " docs.check");
        }
      }
    }
    List<Path> segments;
    try (var files = Files.list(log)) {
      segments = files.filter(f -> f.toString().endsWith(".seg")).sorted().toList();
    }
    assertThat(segments).hasSizeGreaterThan(1);
    Files.write(
        segments.get(segments.size() - 1),
        "{\"crc32c\":\"12".getBytes(StandardCharsets.US_ASCII),
        java.nio.file.StandardOpenOption.APPEND);
    Path reader = Path.of("").toAbsolutePath().getParent().resolve("docs/wal_reader.py");
    Process p =
        new ProcessBuilder("python3", reader.toString(), log.toString())
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
    assertThat(out.lines().toList()).containsExactlyElementsOf(expected);
  }
}
