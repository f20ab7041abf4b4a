package dev.bloodbank.examples.springboot;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import java.util.concurrent.CompletableFuture;
import org.springframework.stereotype.Service;

/** Publishes uploads with the bus's shared publisher, injected like any other bean. */
@Service
public class TranscriptUploads {
  private final Publisher publisher;

  /**
   * Creates the service.
   *
   * @param publisher the auto-configured shared publisher
   */
  public TranscriptUploads(Publisher publisher) {
    this.publisher = publisher;
  }

  /**
   * Publishes an upload; the future completes once the broker confirmed it.
   *
   * @param mediaFile where the recording is
   * @param title the meeting's title, or null for an upload the indexer rejects
   * @return the published event
   */
  public CompletableFuture<EventEnvelope<TranscriptUpload>> upload(String mediaFile, String title) {
    EventEnvelope<TranscriptUpload> event =
        EventEnvelope.builder(
                "fireflies.transcript.upload",
                new TranscriptUpload().withMediaFile(mediaFile).withTitle(title))
            .build();
    return publisher.publish(event);
  }
}
