package dev.bloodbank;

import dev.bloodbank.validation.ValidationMode;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A bus's whole round trip, run by {@link WithoutMicrometerTest} in a class loader that has no
 * Micrometer: connect, subscribe, publish (and a refused publish), consume, close. Uses nothing but
 * Bloodbank and the JDK, so that it can be loaded there.
 */
public final class WithoutMicrometerRun {
  private WithoutMicrometerRun() {}

  /**
   * Runs the round trip.
   *
   * @return "ok", or what went wrong
   */
  public static String run() throws Exception {
    BloodbankOptions options =
        BloodbankOptions.builder()
            .transport(Transport.embedded())
            .validation(ValidationMode.PERMISSIVE)
            .build();
    BlockingQueue<EventEnvelope<Map<String, Object>>> got = new LinkedBlockingQueue<>();
    try (Bloodbank bus = Bloodbank.connect(options)) {
      bus.subscribe(
          SubscriberOptions.builder("demo.#").temporary().build(),
          (EventEnvelope<com.fasterxml.jackson.databind.JsonNode> e) ->
              got.add(
                  EventEnvelope.builder(e.eventType(), Map.<String, Object>of())
                      .withEventId(e.eventId())
                      .build()));
      EventEnvelope<Map<String, Object>> sent =
          bus.publisher()
              .publish(EventEnvelope.builder("demo.hello", Map.<String, Object>of("n", 1)).build())
              .get(5, TimeUnit.SECONDS);
      EventEnvelope<Map<String, Object>> received = got.poll(5, TimeUnit.SECONDS);
      if (received == null) {
        return "nothing received";
      }
      if (!received.eventId().equals(sent.eventId())) {
        return "received " + received.eventId() + ", sent " + sent.eventId();
      }
      try {
        bus.publisher(PublisherOptions.builder().maxEventBytes(1024).build())
            .publish("demo.big", Map.of("pad", "x".repeat(4096)))
            .get(5, TimeUnit.SECONDS);
        return "an event too large was published";
      } catch (java.util.concurrent.ExecutionException e) {
        if (!(e.getCause() instanceof EventTooLargeException)) {
          return "a refused publish failed with " + e.getCause();
        }
      }
    }
    return "ok";
  }
}
