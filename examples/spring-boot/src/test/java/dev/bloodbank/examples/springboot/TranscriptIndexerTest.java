package dev.bloodbank.examples.springboot;

import static dev.bloodbank.test.BloodbankAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.test.BloodbankSliceTest;
import dev.bloodbank.test.TestBus;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.annotation.Import;
import org.springframework.test.context.TestPropertySource;

// [spring-boot-slice]
@BloodbankSliceTest
@Import(TranscriptUploads.class) // not a listener: the slice leaves it out unless imported
@TestPropertySource(properties = "indexer.retry-delay=10ms")
class TranscriptIndexerTest {
  @Autowired TestBus bus;
  @Autowired TranscriptIndexer indexer;
  @Autowired TranscriptUploads uploads;

  @Test
  void indexesUploads() throws Exception {
    EventEnvelope<TranscriptUpload> event =
        uploads.upload("https://files.example/m-1.mp3", "Weekly sync").get();

    assertThat(bus.await(() -> indexer.index().containsKey(event.eventId()))).isTrue();
    assertThat(indexer.index()).containsEntry(event.eventId(), "Weekly sync");
  }

  @Test
  void deadLettersAnUploadWithoutATitleAfterThreeAttempts() throws Exception {
    EventEnvelope<TranscriptUpload> event = uploads.upload("https://files.example/x.mp3", "").get();

    assertThat(bus)
        .deadLettered("fireflies.transcript.upload")
        .anySatisfy(dead -> assertThat(dead.event().eventId()).isEqualTo(event.eventId()));
    assertThat(indexer.attempts())
        .contains(event.eventId() + "#1", event.eventId() + "#2", event.eventId() + "#3");
  }
}
// [spring-boot-slice]
