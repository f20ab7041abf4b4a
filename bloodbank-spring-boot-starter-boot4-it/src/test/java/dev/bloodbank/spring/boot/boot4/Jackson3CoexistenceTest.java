package dev.bloodbank.spring.boot.boot4;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.BloodbankAutoConfiguration;
import dev.bloodbank.spring.boot.BloodbankListener;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.autoconfigure.AutoConfigurations;
import org.springframework.boot.jackson.autoconfigure.JacksonAutoConfiguration;
import org.springframework.boot.test.context.runner.ApplicationContextRunner;
import tools.jackson.databind.json.JsonMapper;

/**
 * Boot 4's JSON is Jackson 3 ({@code tools.jackson}); the SDK's codec is Jackson 2 ({@code
 * com.fasterxml.jackson}). Both on one class path, in one context: neither sees the other.
 */
class Jackson3CoexistenceTest {

  static class Listener {
    final List<EventEnvelope<TranscriptUpload>> received = new CopyOnWriteArrayList<>();

    @BloodbankListener(patterns = "fireflies.transcript.upload", queue = "jackson3")
    void on(EventEnvelope<TranscriptUpload> event) {
      received.add(event);
    }
  }

  @Test
  void bootsJackson3MapperAndTheSdksJackson2CodecWorkSideBySide() {
    new ApplicationContextRunner()
        .withPropertyValues(
            "bloodbank.transport=embedded", "bloodbank.use-environment-variables=false")
        .withConfiguration(
            AutoConfigurations.of(JacksonAutoConfiguration.class, BloodbankAutoConfiguration.class))
        .withBean(Listener.class)
        .run(
            ctx -> {
              assertThat(ctx).hasNotFailed();
              JsonMapper bootMapper = ctx.getBean(JsonMapper.class);
              Bloodbank bus = ctx.getBean(Bloodbank.class);
              assertThat(bus.codec().objectMapper().getClass().getName())
                  .startsWith("com.fasterxml.jackson");

              TranscriptUpload upload =
                  new TranscriptUpload().withMediaFile("https://f.example/x.mp3").withTitle("x");
              ctx.getBean(Publisher.class).publish("fireflies.transcript.upload", upload).join();
              Listener listener = ctx.getBean(Listener.class);
              Awaitility.await()
                  .atMost(5, TimeUnit.SECONDS)
                  .until(() -> listener.received.size() == 1);

              // The generated payload class carries Jackson 2 annotations (snake_case names);
              // Boot's Jackson 3 mapper reads those too, as Jackson 3 still honours
              // com.fasterxml.jackson.annotation.
              String byBoot = bootMapper.writeValueAsString(listener.received.get(0).payload());
              assertThat(byBoot).contains("\"media_file\"");
            });
  }
}
