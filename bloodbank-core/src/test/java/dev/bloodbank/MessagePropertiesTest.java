package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The AMQP properties each published event carries, and their size on the wire. */
class MessagePropertiesTest {
  /** Frame payload of a content header before its property flags: class, weight, body size. */
  private static final int HEADER_BEFORE_PROPERTIES = 2 + 2 + 8;

  private static EventEnvelope<Map<String, Object>> event(List<UUID> parents) {
    return EventEnvelope.<Map<String, Object>>builder("fireflies.transcript.upload", Map.of())
        .withSource(Source.local("svc"))
        .withCorrelationIds(parents)
        .build();
  }

  @Test
  void carryTheContractsPropertiesAndNothingThatRepeatsTheBody() {
    UUID parent = UUID.randomUUID();
    EventEnvelope<?> e = event(List.of(parent));
    AMQP.BasicProperties p = AmqpPublisher.properties(e);
    assertThat(p.getDeliveryMode()).isEqualTo(2);
    assertThat(p.getContentType()).isEqualTo("application/json");
    assertThat(p.getMessageId()).isEqualTo(e.eventId().toString());
    assertThat(p.getTimestamp().getTime() / 1000).isEqualTo(e.timestamp().getEpochSecond());
    assertThat(p.getHeaders()).containsOnlyKeys(AmqpPublisher.CORRELATION_IDS_HEADER);
    assertThat(p.getHeaders().get(AmqpPublisher.CORRELATION_IDS_HEADER))
        .isEqualTo(List.of(parent.toString()));
    assertThat(p.getType()).isNull();
    assertThat(p.getAppId()).isNull();
    assertThat(p.getContentEncoding()).isNull();
    assertThat(p.getCorrelationId()).isNull();
  }

  @Test
  void withoutParentsThereIsNoHeaderTableAndThePropertiesTake65Bytes() throws IOException {
    AMQP.BasicProperties p = AmqpPublisher.properties(event(List.of()));
    assertThat(p.getHeaders()).isNull();
    // flags 2 + content type 1+16 + delivery mode 1 + message id 1+36 + timestamp 8; one byte over
    // RabbitMQ's 64-byte heap binary limit, which the contract's properties cannot avoid.
    int properties = p.toFrame(1, 1024).getPayload().length - HEADER_BEFORE_PROPERTIES;
    assertThat(properties).isEqualTo(65);
  }
}
