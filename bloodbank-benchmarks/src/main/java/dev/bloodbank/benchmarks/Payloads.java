package dev.bloodbank.benchmarks;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.TriggerType;
import dev.bloodbank.schemas.voice.AudioMetadata;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.schemas.voice.TranscriptionContext;
import java.time.Instant;
import java.util.List;
import java.util.UUID;

/** The 1 KB event every benchmark sends: a transcription.voice.completed from the catalog. */
final class Payloads {
  static final String TYPE = "transcription.voice.completed";

  private Payloads() {}

  static TranscriptionCompleted transcription(long sentNanos) {
    return new TranscriptionCompleted()
        .withText("x".repeat(560))
        .withTimestamp(Instant.parse("2026-01-27T10:00:00Z"))
        .withSource("benchmark")
        .withTarget("nobody")
        .withSessionId(UUID.fromString("550e8400-e29b-41d4-a716-446655440000"))
        .withAudioMetadata(
            new AudioMetadata()
                .withDurationSeconds((double) sentNanos)
                .withSampleRate(16000)
                .withConfidence(0.95)
                .withLanguage("en")
                .withModel("base")
                .withSpeakerId("speaker_1"))
        .withContext(
            new TranscriptionContext()
                .withDeviceType("desktop")
                .withUserId("user123")
                .withTags(List.of("meeting", "notes")));
  }

  static EventEnvelope<TranscriptionCompleted> envelope(long sentNanos) {
    return EventEnvelope.builder(TYPE, transcription(sentNanos))
        .withSource(Source.of("bench-host", TriggerType.MANUAL, "benchmarks"))
        .build();
  }
}
