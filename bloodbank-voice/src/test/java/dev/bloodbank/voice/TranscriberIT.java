package dev.bloodbank.voice;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.wal.WalOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Speech to events on the real broker, through the write-ahead log. */
@ExtendWith(BrokerExtension.class)
class TranscriberIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  SpeechRecognizer recognizer;

  @BeforeEach
  void open() {
    recognizer =
        SpeechRecognizer.create(
            RecognizerOptions.builder(SpeechRecognizerTest.synthetic())
                .endpoint(SpeechRecognizerTest.QUICK)
                .language("en")
                .build());
  }

  @AfterEach
  void close() {
    recognizer.close();
  }

  TranscriptionOptions.Builder options() {
    return TranscriptionOptions.builder().wal(WalOptions.of(dir.resolve("voice.wal")));
  }

  static List<Segment> speak(Transcriber t) {
    List<Segment> segments = new CopyOnWriteArrayList<>();
    try (RecognitionStream stream = t.openStream(segments::add)) {
      SyntheticAudio.feed(stream, SyntheticAudio.twoUtterances(16_000), 16_000);
      stream.finish();
    }
    return segments;
  }

  @Test
  void finalSegmentsArePublishedAsValidatedEvents(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("transcription.voice.completed");
    List<Segment> segments;
    java.util.Map<String, Segment> byEventId = new java.util.HashMap<>();
    Path wal = dir.resolve("voice.wal");
    try (Transcriber t =
        Transcriber.create(
            bus,
            recognizer,
            options()
                .target("agent-smith")
                .deviceType("desktop")
                .userId("u-1")
                .tags(List.of("meeting"))
                .build())) {
      segments = speak(t);
      assertThat(t.awaitPublished(Duration.ofSeconds(10))).isTrue();
      assertThat(t.pendingInWal()).isZero();
      for (Segment seg : segments) {
        byEventId.put(t.toEvent(seg).eventId().toString(), seg);
      }
    }
    assertThat(Files.getPosixFilePermissions(wal))
        .isEqualTo(PosixFilePermissions.fromString("rwx------"));
    try (var files = Files.list(wal)) {
      files
          .filter(f -> f.getFileName().toString().endsWith(".seg"))
          .forEach(
              f -> {
                try {
                  assertThat(Files.getPosixFilePermissions(f))
                      .isEqualTo(PosixFilePermissions.fromString("rw-------"));
                } catch (java.io.IOException e) {
                  throw new java.io.UncheckedIOException(e);
                }
              });
    }

    List<GetResponse> got = broker.drain(q, 3, Duration.ofSeconds(5));
    assertThat(got).hasSize(2);
    for (int i = 0; i < 2; i++) {
      JsonNode event = JSON.readTree(got.get(i).getBody());
      JsonNode p = event.get("payload");
      // One publisher channel: the session's events arrive in order.
      Segment segment = byEventId.get(event.get("event_id").asText());
      assertThat(segment).isSameAs(segments.get(i));
      assertThat(event.get("event_type").asText()).isEqualTo("transcription.voice.completed");
      assertThat(got.get(i).getProps().getMessageId()).isEqualTo(event.get("event_id").asText());
      assertThat(p.get("text").asText()).isEqualTo("hi");
      assertThat(p.get("source").asText()).isEqualTo(broker.serviceName());
      assertThat(p.get("target").asText()).isEqualTo("agent-smith");
      assertThat(p.get("session_id").asText()).isEqualTo(segment.sessionId().toString());
      JsonNode audio = p.get("audio_metadata");
      assertThat(audio.get("sample_rate").asInt()).isEqualTo(16_000);
      assertThat(audio.get("language").asText()).isEqualTo("en");
      assertThat(audio.get("model").asText()).isEqualTo("bloodbank-synthetic");
      assertThat(audio.get("duration_seconds").asDouble()).isEqualTo(segment.durationSeconds());
      assertThat(p.get("context").get("device_type").asText()).isEqualTo("desktop");
      assertThat(p.get("context").get("tags").get(0).asText()).isEqualTo("meeting");
    }
    assertThat(JSON.readTree(got.get(0).getBody()).get("event_id"))
        .isNotEqualTo(JSON.readTree(got.get(1).getBody()).get("event_id"));
  }

  /**
   * Nobody is bound yet: with mandatory on, the broker returns each event, so none is confirmed.
   */
  private TranscriptionOptions refused() {
    return options()
        .publisher(
            PublisherOptions.builder()
                .mandatory(true)
                .maxAttempts(1)
                .confirmTimeout(Duration.ofSeconds(2))
                .build())
        .build();
  }

  @Test
  void eventsTheBrokerReturnedStayInTheLogAndReplayWalSendsThemWithTheirIds(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    try (Transcriber t = Transcriber.create(bus, recognizer, refused())) {
      List<Segment> segments = speak(t);
      assertThat(segments).hasSize(2);
      assertThat(t.awaitPublished(Duration.ofSeconds(10))).isTrue();
      assertThat(t.pendingInWal()).isEqualTo(2);
      // Unroutable events are not sent again by themselves (recovery interval: 500 ms here).
      Thread.sleep(1500);
      assertThat(t.pendingInWal()).isEqualTo(2);

      String q = broker.rawQueue("transcription.#");
      assertThat(t.replayWal()).isEqualTo(2);
      assertThat(t.pendingInWal()).isZero();
      assertThat(t.replayWal()).isZero();
      List<GetResponse> got = broker.drain(q, 3, Duration.ofSeconds(5));
      assertThat(got)
          .extracting(r -> r.getProps().getMessageId())
          .containsExactly(
              t.toEvent(segments.get(0)).eventId().toString(),
              t.toEvent(segments.get(1)).eventId().toString());
    }
  }

  @Test
  void eventsLeftInTheLogAreSentByTheNextTranscriberWithTheirIds(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    List<Segment> segments;
    try (Transcriber t = Transcriber.create(bus, recognizer, refused())) {
      segments = speak(t);
      assertThat(t.awaitPublished(Duration.ofSeconds(10))).isTrue();
      assertThat(t.pendingInWal()).isEqualTo(2);
    }
    assertThat(segments).hasSize(2);

    String q = broker.rawQueue("transcription.#");
    try (Transcriber restarted = Transcriber.create(bus, recognizer, options().build())) {
      List<GetResponse> got = broker.drain(q, 2, Duration.ofSeconds(10));
      assertThat(got)
          .extracting(r -> r.getProps().getMessageId())
          .containsExactly(
              restarted.toEvent(segments.get(0)).eventId().toString(),
              restarted.toEvent(segments.get(1)).eventId().toString());
      long until = System.nanoTime() + Duration.ofSeconds(10).toNanos();
      while (restarted.pendingInWal() > 0 && System.nanoTime() < until) {
        Thread.sleep(20);
      }
      assertThat(restarted.pendingInWal()).isZero();
    }
  }
}
