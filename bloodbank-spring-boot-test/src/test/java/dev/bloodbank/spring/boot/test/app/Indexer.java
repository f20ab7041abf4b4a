package dev.bloodbank.spring.boot.test.app;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.BloodbankListener;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.stereotype.Component;

/** Kept by the slice: it has a listener method. */
@Component
public class Indexer {
  final List<UUID> indexed = new CopyOnWriteArrayList<>();

  @BloodbankListener(
      patterns = "fireflies.transcript.upload",
      maxAttempts = 2,
      retryDelays = "10ms")
  void on(EventEnvelope<TranscriptUpload> event) {
    if ("poison".equals(event.payload().getTitle())) {
      throw new IllegalArgumentException("poison");
    }
    indexed.add(event.eventId());
  }
}
