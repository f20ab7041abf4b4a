package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TranscribeWav} end to end: a WAV file in, events on the real broker out. */
class VoiceExamplesIT {
  @TempDir Path dir;
  VoiceBroker broker;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @BeforeEach
  void start() throws Exception {
    broker = VoiceBroker.start();
  }

  @AfterEach
  void stop() throws Exception {
    if (broker != null) {
      broker.close();
    }
    System.out.print(out.toString(StandardCharsets.UTF_8));
    System.out.print(err.toString(StandardCharsets.UTF_8));
  }

  int transcribeWav(String... args) {
    return TranscribeWav.run(
        args,
        broker.options(),
        Map.of(),
        new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8));
  }

  @Test
  void transcribeWavPublishesOneEventPerUtterance() throws Exception {
    Path wav =
        SyntheticSpeech.writeWav(
            dir.resolve("two-utterances.wav"),
            SyntheticSpeech.twoUtterances(SyntheticSpeech.RATE),
            SyntheticSpeech.RATE);
    Path wal = dir.resolve("wal/voice.wal");
    Files.createDirectories(wal.getParent());

    int status =
        transcribeWav(
            SyntheticSpeech.MODEL_DIR.toString(),
            wav.toString(),
            "--kind",
            "zipformer2-ctc",
            "--endpoint-silence",
            SyntheticSpeech.ENDPOINT_SILENCE,
            "--wal",
            wal.toString());

    String printed = out.toString(StandardCharsets.UTF_8);
    assertThat(status).as("exit status; stderr: %s", err).isZero();
    Matcher session =
        Pattern.compile("(?m)^session (\\S+): 5\\.2 s of audio at 16000 Hz$").matcher(printed);
    assertThat(session.find()).as("session line in %s", printed).isTrue();
    List<String> printedIds =
        Pattern.compile("(?m)^segment \\d \\[[0-9.]+-[0-9.]+ s\\] \"hi\" event (\\S+)$")
            .matcher(printed)
            .results()
            .map(m -> m.group(1))
            .toList();
    assertThat(printedIds).hasSize(2);
    assertThat(printed).contains("published 2 event(s) to exchange " + broker.exchange());

    List<JsonNode> events = broker.drain(3, Duration.ofSeconds(5));
    assertThat(events).hasSize(2);
    assertThat(events)
        .allSatisfy(
            e -> {
              assertThat(e.get("event_type").asText()).isEqualTo("transcription.voice.completed");
              assertThat(e.at("/payload/text").asText()).isEqualTo("hi");
              assertThat(e.at("/payload/session_id").asText()).isEqualTo(session.group(1));
              assertThat(e.at("/payload/audio_metadata/sample_rate").asInt()).isEqualTo(16_000);
              assertThat(e.at("/payload/audio_metadata/model").asText()).isEqualTo("synthetic");
            });
    assertThat(events)
        .extracting(e -> e.get("event_id").asText())
        .containsExactlyInAnyOrderElementsOf(printedIds);
    // Every event went through the write-ahead log (its active segment is kept), and was
    // confirmed there.
    StringBuilder logged = new StringBuilder();
    try (var files = Files.list(wal)) {
      for (java.nio.file.Path f : files.filter(f -> f.toString().endsWith(".seg")).toList()) {
        logged.append(Files.readString(f));
      }
    }
    assertThat(printedIds).allSatisfy(id -> assertThat(logged).contains(id));
    try (WriteAheadLog log = WriteAheadLog.open(WalOptions.of(wal))) {
      assertThat(log.pendingCount()).isZero();
    }
  }

  @Test
  void eventsAnEarlierRunCouldNotPublishAreReplayedAtStart() throws Exception {
    // What a run killed before the broker's confirm leaves behind: an event logged, not done.
    Path wal = dir.resolve("voice.wal");
    EventEnvelope<TranscriptionCompleted> leftOver =
        EventEnvelope.builder(
                "transcription.voice.completed",
                new TranscriptionCompleted()
                    .withText("left over")
                    .withTimestamp(Instant.parse("2025-01-01T00:00:00Z"))
                    .withSource("transcribe-wav")
                    .withSessionId(UUID.randomUUID()))
            .build();
    try (WriteAheadLog log = WriteAheadLog.open(WalOptions.of(wal))) {
      log.append(leftOver.eventId(), leftOver.eventType(), EventCodec.create().encode(leftOver));
    }
    Path wav =
        SyntheticSpeech.writeWav(
            dir.resolve("one.wav"), SyntheticSpeech.pattern(16_000, 0.5, 0.6, 1.0), 16_000);

    int status =
        transcribeWav(
            SyntheticSpeech.MODEL_DIR.toString(),
            wav.toString(),
            "--kind=zipformer2-ctc",
            "--wal=" + wal);

    assertThat(status).as("exit status; stderr: %s", err).isZero();
    assertThat(out.toString(StandardCharsets.UTF_8))
        .contains("replayed 1 event(s) from " + wal)
        .contains("published 1 event(s)");
    List<JsonNode> events = broker.drain(3, Duration.ofSeconds(5));
    assertThat(events)
        .extracting(e -> e.at("/payload/text").asText())
        .containsExactlyInAnyOrder("left over", "hi");
    assertThat(events)
        .filteredOn(e -> e.at("/payload/text").asText().equals("left over"))
        .extracting(e -> e.get("event_id").asText())
        .containsExactly(leftOver.eventId().toString());
  }

  @Test
  void transcribeWavFailsClearlyWithoutABroker() throws Exception {
    Path wav =
        SyntheticSpeech.writeWav(
            dir.resolve("one.wav"), SyntheticSpeech.pattern(16_000, 0.5, 0.6, 1.0), 16_000);
    int status =
        TranscribeWav.run(
            new String[] {
              SyntheticSpeech.MODEL_DIR.toString(),
              wav.toString(),
              "--kind",
              "zipformer2-ctc",
              "--wal",
              dir.resolve("voice.wal").toString()
            },
            broker.options().mutate().address("127.0.0.1", 1).build(),
            Map.of(),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8));
    assertThat(status).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8))
        .startsWith("TranscribeWav: ")
        .contains("127.0.0.1");
  }
}
