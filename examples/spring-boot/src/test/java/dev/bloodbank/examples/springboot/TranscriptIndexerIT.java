package dev.bloodbank.examples.springboot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.actuate.health.HealthIndicator;
import org.springframework.boot.actuate.health.Status;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;

/**
 * The example application as deployed: on a private RabbitMQ node (so that the test may stop its
 * broker) and the shared Redis at localhost:6379.
 */
class TranscriptIndexerIT {

  @Test
  void receivesRetriesDeadLettersReportsHealthAndMetrics() throws Exception {
    RabbitNode node = RabbitNode.shared();
    String id = UUID.randomUUID().toString().substring(0, 8);
    String service = "indexer-it-" + id;
    String exchange = "bloodbank.spring-it." + id;
    try (ConfigurableApplicationContext app =
        new SpringApplicationBuilder(TranscriptIndexerApplication.class)
            .web(WebApplicationType.NONE)
            .properties(
                "bloodbank.use-environment-variables=false",
                "bloodbank.addresses=127.0.0.1:" + node.port(),
                "bloodbank.exchange=" + exchange,
                "bloodbank.service-name=" + service,
                "bloodbank.recovery-interval=500ms",
                "bloodbank.correlation.uri=redis://127.0.0.1:6379/0",
                "indexer.retry-delay=100ms")
            .run()) {
      TranscriptUploads uploads = app.getBean(TranscriptUploads.class);
      TranscriptIndexer indexer = app.getBean(TranscriptIndexer.class);
      HealthIndicator health = app.getBean("bloodbankHealthIndicator", HealthIndicator.class);
      assertThat(health.health().getStatus()).isEqualTo(Status.UP);
      assertThat(health.health().getDetails().get("redis").toString()).contains("ok=true");

      // Received.
      EventEnvelope<TranscriptUpload> good =
          uploads.upload("https://files.example/it.mp3", "IT sync").get(10, TimeUnit.SECONDS);
      await(Duration.ofSeconds(10)).until(() -> indexer.index().containsKey(good.eventId()));

      // Retried, then dead-lettered.
      EventEnvelope<TranscriptUpload> bad =
          uploads.upload("https://files.example/bad.mp3", " ").get(10, TimeUnit.SECONDS);
      String queue =
          SubscriberOptions.builder("fireflies.transcript.upload")
              .build()
              .queueNameFor(service, exchange);
      await(Duration.ofSeconds(15)).until(() -> node.readyMessages(queue + ".dlq") == 1);
      assertThat(indexer.attempts())
          .containsSubsequence(bad.eventId() + "#1", bad.eventId() + "#2", bad.eventId() + "#3");

      // Metrics in Actuator's registry.
      MeterRegistry meters = app.getBean(MeterRegistry.class);
      assertThat(meters.find(BloodbankObservability.CONSUME).meters()).isNotEmpty();
      assertThat(meters.find(BloodbankObservability.PUBLISH).meters()).isNotEmpty();

      // DOWN while a memory alarm blocks publishing, UP once it clears.
      node.memoryAlarm(true);
      try {
        await(Duration.ofSeconds(30)).until(() -> health.health().getStatus().equals(Status.DOWN));
        assertThat(health.health().getDetails().get("reasons").toString())
            .contains("broker blocks publishing");
      } finally {
        node.memoryAlarm(false);
      }
      await(Duration.ofSeconds(30)).until(() -> health.health().getStatus().equals(Status.UP));

      // DOWN while the broker is stopped, UP once it is back.
      node.stopApp();
      try {
        await(Duration.ofSeconds(30)).until(() -> health.health().getStatus().equals(Status.DOWN));
        assertThat(health.health().getDetails().get("reasons").toString())
            .contains("broker unreachable");
      } finally {
        node.startApp();
      }
      await(Duration.ofSeconds(60)).until(() -> health.health().getStatus().equals(Status.UP));
    }
  }

  private static org.awaitility.core.ConditionFactory await(Duration atMost) {
    return Awaitility.await().atMost(atMost).pollInterval(Duration.ofMillis(200));
  }
}
