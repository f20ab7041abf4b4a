package dev.bloodbank.spring.boot.boot4;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import dev.bloodbank.spring.boot.BloodbankListener;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.boot.health.contributor.HealthIndicator;
import org.springframework.boot.health.contributor.Status;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Configuration;
import org.springframework.context.annotation.Import;

/** A Boot 4 application with Actuator on the real RabbitMQ at localhost:5672. */
class Boot4RabbitIT {

  @Configuration(proxyBeanMethods = false)
  @EnableAutoConfiguration
  @Import(Listener.class)
  static class App {}

  static class Listener {
    final List<UUID> received = new CopyOnWriteArrayList<>();

    @BloodbankListener(patterns = "fireflies.transcript.upload", temporary = true)
    void on(EventEnvelope<TranscriptUpload> event) {
      received.add(event.eventId());
    }
  }

  @Test
  void listenerReceivesAndHealthIsUpOnBoot4() throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    String exchange = "bloodbank.boot4-it." + id;
    try (ConfigurableApplicationContext ctx =
        new SpringApplicationBuilder(App.class)
            .web(WebApplicationType.NONE)
            .properties(
                "bloodbank.uri=amqp://guest:guest@localhost:5672/",
                "bloodbank.exchange=" + exchange,
                "bloodbank.service-name=boot4-it-" + id,
                "bloodbank.use-environment-variables=false")
            .run()) {
      EventEnvelope<TranscriptUpload> event =
          EventEnvelope.builder(
                  "fireflies.transcript.upload",
                  new TranscriptUpload().withMediaFile("https://f.example/b4.mp3").withTitle("b4"))
              .build();
      ctx.getBean(Publisher.class).publish(event).join();
      Listener listener = ctx.getBean(Listener.class);
      Awaitility.await()
          .atMost(10, TimeUnit.SECONDS)
          .until(() -> listener.received.contains(event.eventId()));
      HealthIndicator health = ctx.getBean("bloodbankHealthIndicator", HealthIndicator.class);
      assertThat(health.health().getStatus()).isEqualTo(Status.UP);
    } finally {
      // The listener's queue is temporary; the exchange is the one thing left on the broker.
      ConnectionFactory factory = new ConnectionFactory();
      factory.setHost("localhost");
      try (Connection connection = factory.newConnection();
          Channel channel = connection.createChannel()) {
        channel.exchangeDelete(exchange);
      }
    }
  }
}
