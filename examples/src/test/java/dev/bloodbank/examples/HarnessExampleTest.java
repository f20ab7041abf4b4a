package dev.bloodbank.examples;

import static dev.bloodbank.test.BloodbankAssertions.assertThat;
import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.FailureHeaders;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.command.CommandClient;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.schemas.agent.ThreadPrompt;
import dev.bloodbank.schemas.agent.ThreadResponse;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.test.BloodbankTest;
import dev.bloodbank.test.TestBus;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What a user's own tests look like with {@code bloodbank-test}: each test gets a bus on a fresh
 * embedded broker, no RabbitMQ needed, and asserts on what was published, consumed, dead-lettered
 * and caused.
 */
@BloodbankTest
class HarnessExampleTest {
  // [testing]
  @Test
  void theFakeProviderAnswersAndItsResponseIsCausedByTheCommand(TestBus bus) throws Exception {
    Bloodbank bloodbank = bus.bloodbank();
    bloodbank.registry().bind("agent.thread.prompt", CommandExample.FakeProviderPrompt.class);
    try (CommandProcessor processor =
            CommandProcessor.start(bloodbank, CommandProcessorOptions.defaults());
        CommandClient client = CommandClient.create(bloodbank)) {
      EventEnvelope<ThreadPrompt> command =
          EventEnvelope.builder(
                  "agent.thread.prompt",
                  new ThreadPrompt().withProvider("fake").withModel("fake-1").withPrompt("2+2?"))
              .build();

      String answer = client.send(command, String.class, Duration.ofSeconds(5)).get();

      assertThat(answer).contains("2+2?");
      assertThat(bus)
          .published("agent.thread.response", ThreadResponse.class)
          .singleElement()
          .satisfies(response -> assertThat(response.payload().getModel()).isEqualTo("fake-1"));
      assertThat(bus).consumed("agent.thread.prompt", 1);
      UUID response = bus.published("agent.thread.response").get(0).eventId();
      assertThat(bus).hasCausationLink(command.eventId(), response).hasNoDeadLetters();
    }
  }

  // [testing]

  @Test
  void anUploadTheHandlerCannotProcessEndsInTheDeadLetterQueue(TestBus bus) {
    bus.bloodbank()
        .subscribe(
            SubscriberOptions.builder("fireflies.transcript.upload").maxAttempts(1).build(),
            TranscriptUpload.class,
            event -> {
              if (event.payload().getMediaDurationSeconds() > 3600) {
                throw new IllegalArgumentException("uploads over an hour are not supported");
              }
            });

    bus.publish(
        "fireflies.transcript.upload",
        new TranscriptUpload()
            .withMediaFile("https://files.example/long.mp3")
            .withTitle("All-hands")
            .withMediaDurationSeconds(7200.0));

    assertThat(bus)
        .deadLettered("fireflies.transcript.upload", 1)
        .singleElement()
        .satisfies(
            dead -> {
              assertThat(dead.reason()).isEqualTo(FailureHeaders.REASON_HANDLER_FAILED);
              assertThat(dead.errorMessage()).contains("over an hour");
            });
    assertThat(bus.consumed()).isEmpty();
  }
}
