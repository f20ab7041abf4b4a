package dev.bloodbank.spring.boot.test.app;

import static dev.bloodbank.test.BloodbankAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.test.BloodbankSliceTest;
import dev.bloodbank.test.TestBus;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.context.ApplicationContext;
import org.springframework.test.context.TestPropertySource;

@BloodbankSliceTest
@TestPropertySource(properties = "bloodbank.service-name=slice-app")
class BloodbankSliceAnnotationTest {
  @Autowired TestBus bus;
  @Autowired Bloodbank bloodbank;
  @Autowired Indexer indexer;
  @Autowired ApplicationContext context;

  @Test
  void runsListenersOnTheEmbeddedBrokerOfTheTestBus() {
    assertThat(bloodbank).isSameAs(bus.bloodbank());
    assertThat(bloodbank.options().transport().isEmbedded()).isTrue();
    assertThat(bloodbank.options().serviceName()).isEqualTo("slice-app");
    assertThat(context.getBeanNamesForType(NotMessaging.class)).isEmpty();

    EventEnvelope<TranscriptUpload> event =
        bus.publish(
            "fireflies.transcript.upload",
            new TranscriptUpload().withMediaFile("https://f.example/a.mp3").withTitle("a"));

    assertThat(bus.await(() -> indexer.indexed.contains(event.eventId()))).isTrue();
  }

  @Test
  void failuresEndInTheDeadLetterQueue() {
    bus.publish(
        "fireflies.transcript.upload",
        new TranscriptUpload().withMediaFile("https://f.example/p.mp3").withTitle("poison"));
    assertThat(bus).deadLettered("fireflies.transcript.upload", 1);
  }
}
