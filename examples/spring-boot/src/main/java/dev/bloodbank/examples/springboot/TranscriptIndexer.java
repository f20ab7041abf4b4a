package dev.bloodbank.examples.springboot;

import dev.bloodbank.DeliveryInfo;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.BloodbankListener;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.springframework.stereotype.Component;

/** Indexes uploaded transcripts; an upload without a title fails and is dead-lettered. */
@Component
public class TranscriptIndexer {
  private final Map<UUID, String> index = new ConcurrentHashMap<>();
  private final List<String> attempts = new CopyOnWriteArrayList<>();

  // [spring-boot-listener]
  @BloodbankListener(
      patterns = "fireflies.transcript.upload",
      maxAttempts = 3,
      retryDelays = "${indexer.retry-delay:1s}")
  void onUpload(EventEnvelope<TranscriptUpload> event, DeliveryInfo delivery) {
    attempts.add(event.eventId() + "#" + delivery.attempt());
    String title = event.payload().getTitle();
    if (title == null || title.isBlank()) {
      // Thrown: retried after 1 s, 1 s, then moved to the dead-letter queue.
      throw new IllegalArgumentException("upload " + event.eventId() + " has no title");
    }
    index.put(event.eventId(), title);
  }

  // [spring-boot-listener]

  /**
   * Returns the indexed titles by event id.
   *
   * @return a snapshot
   */
  public Map<UUID, String> index() {
    return Map.copyOf(index);
  }

  /**
   * Returns each handled attempt as {@code eventId#attempt}, in order.
   *
   * @return a snapshot
   */
  public List<String> attempts() {
    return List.copyOf(attempts);
  }
}
