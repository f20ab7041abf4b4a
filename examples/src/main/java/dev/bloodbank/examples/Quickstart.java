package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.Publisher;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Publishes a few events and shows a subscriber on a wildcard pattern receiving them.
 *
 * <p>Run it with {@code ./mvnw -q -pl examples -am install -DskipTests && ./mvnw -q -pl examples
 * exec:java}; it connects as {@code RABBIT_URL} says, or to localhost:5672 as guest, and when no
 * broker answers there it runs on the embedded in-process broker instead. Its first line says
 * which.
 */
public final class Quickstart {
  private Quickstart() {}

  /**
   * Runs the quickstart.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted while waiting for the events
   */
  public static void main(String[] args) throws InterruptedException {
    run(BloodbankOptions.fromEnvironment().mutate().serviceName("quickstart").build());
  }

  /** Runs the quickstart on the broker of these options, or on the embedded one. */
  static void run(BloodbankOptions requested) throws InterruptedException {
    BloodbankOptions options = ExampleTransport.pick(requested);
    System.out.println(
        "Bloodbank quickstart: running on " + ExampleTransport.describe(requested, options));

    // [quickstart]
    try (Bloodbank bus = Bloodbank.connect(options)) {
      List<String> meetings = List.of("m-1", "m-2", "m-3");
      CountDownLatch received = new CountDownLatch(meetings.size());

      // A subscriber on a wildcard: every fireflies.transcript.* event. Temporary: the queue is
      // gone when the demo ends (services use durable queues, the default).
      SubscriberOptions wildcard =
          SubscriberOptions.builder("fireflies.transcript.*").temporary().build();
      try (Subscriber subscriber =
          bus.subscribe(
              wildcard,
              TranscriptUpload.class,
              event -> {
                System.out.printf(
                    "received %s %s: %s%n",
                    event.eventType(), event.eventId(), event.payload().getTitle());
                received.countDown();
              })) {

        Publisher publisher = bus.publisher();
        for (String meeting : meetings) {
          // Deterministic ids: publishing the same upload twice yields the same event id.
          EventEnvelope<TranscriptUpload> event =
              EventEnvelope.builder(
                      "fireflies.transcript.upload",
                      new TranscriptUpload()
                          .withMediaFile("https://files.example/" + meeting + ".mp3")
                          .withTitle("Weekly sync " + meeting)
                          .withMediaDurationSeconds(1800.0))
                  .withEventId(
                      EventIds.deterministic(
                          "fireflies.transcript.upload", Map.of("meeting_id", meeting)))
                  .build();
          // Validated against the catalog schema, then confirmed by the broker.
          publisher.publish(event).join();
          System.out.println("published " + event.eventId());
        }

        if (!received.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException(
              "subscriber did not receive all events: " + subscriber.health());
        }
      }
    }
    // [quickstart]
    System.out.println("done");
  }
}
