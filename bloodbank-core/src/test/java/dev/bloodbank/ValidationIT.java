package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The publisher validates before sending, the subscriber on receipt; on the real broker. */
@ExtendWith(BrokerExtension.class)
class ValidationIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final String TYPE = "test.reading.taken";

  record Reading(String sensor, double value) {}

  private static void registerReading(Bloodbank bus) throws Exception {
    JsonNode schema =
        JSON.readTree(
            """
            {"$schema": "https://json-schema.org/draft/2020-12/schema",
             "type": "object",
             "properties": {"sensor": {"type": "string", "minLength": 1},
                            "value": {"type": "number", "minimum": 0, "maximum": 1}},
             "required": ["sensor", "value"]}
            """);
    bus.registry().register(EventDefinition.of(TYPE, schema, Reading.class, false));
  }

  @Test
  void strictModeSendsNothingInvalidOrUnknown(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect(o -> o.validation(ValidationMode.STRICT));
    registerReading(bus);
    String all = broker.rawQueue("#");
    Publisher p = bus.publisher();

    assertThatThrownBy(() -> p.publish(TYPE, new Reading("s1", 1.5)).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class)
        .hasMessageContaining("/value")
        .satisfies(
            e ->
                assertThat(((SchemaValidationException) e).violations())
                    .extracting(v -> v.pointer())
                    .containsExactly("/value"));
    assertThatThrownBy(() -> p.publish(TYPE, Map.of("value", -1)).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class)
        .satisfies(
            e ->
                assertThat(((SchemaValidationException) e).violations())
                    .extracting(v -> v.pointer())
                    .containsExactlyInAnyOrder("/sensor", "/value"));
    assertThatThrownBy(() -> p.publish("test.unknown.type", Map.of()).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class)
        .hasMessageContaining("unknown event type 'test.unknown.type'");

    EventEnvelope<Reading> ok = p.publish(TYPE, new Reading("s1", 0.5)).get(5, TimeUnit.SECONDS);
    List<GetResponse> got = broker.drain(all, 5, Duration.ofSeconds(2));
    assertThat(got)
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(ok.eventId().toString());
  }

  @Test
  void permissiveModePublishesUnknownTypesButNotInvalidKnownOnes(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect(o -> o.validation(ValidationMode.PERMISSIVE));
    registerReading(bus);
    String all = broker.rawQueue("#");
    Publisher p = bus.publisher();
    EventEnvelope<Map<String, Integer>> unknown =
        p.publish("test.unknown.type", Map.of("x", 1)).get(5, TimeUnit.SECONDS);
    assertThatThrownBy(() -> p.publish(TYPE, new Reading("", 0.1)).get(5, TimeUnit.SECONDS))
        .cause()
        .isInstanceOf(SchemaValidationException.class);
    assertThat(broker.drain(all, 5, Duration.ofSeconds(2)))
        .extracting(r -> r.getProps().getMessageId())
        .containsExactly(unknown.eventId().toString());
  }

  @Test
  void skipModePublishesAnything(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect(o -> o.validation(ValidationMode.STRICT));
    registerReading(bus);
    String all = broker.rawQueue("#");
    Publisher p = bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build());
    p.publish(TYPE, new Reading("", 99)).get(5, TimeUnit.SECONDS);
    p.publish("test.unknown.type", Map.of()).get(5, TimeUnit.SECONDS);
    assertThat(broker.drain(all, 5, Duration.ofSeconds(2))).hasSize(2);
  }

  @Test
  void subscriberDeadLettersInvalidEventsWithTheViolations(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    registerReading(bus);
    List<EventEnvelope<Reading>> handled = new CopyOnWriteArrayList<>();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("test.#").build(), Reading.class, handled::add));
    Publisher unchecked =
        bus.publisher(PublisherOptions.builder().validation(ValidationMode.SKIP).build());
    EventEnvelope<Reading> bad =
        unchecked.publish(TYPE, new Reading("s", 7)).get(5, TimeUnit.SECONDS);
    EventEnvelope<Reading> good =
        unchecked.publish(TYPE, new Reading("s", 0.7)).get(5, TimeUnit.SECONDS);

    List<GetResponse> dead = broker.drain(s.deadLetterQueueName(), 1, Duration.ofSeconds(10));
    assertThat(dead).hasSize(1);
    Map<String, Object> h = dead.get(0).getProps().getHeaders();
    assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(bad.eventId().toString());
    assertThat(h.get(FailureHeaders.REASON).toString()).isEqualTo(FailureHeaders.REASON_INVALID);
    assertThat(h.get(FailureHeaders.ERROR_CLASS).toString())
        .isEqualTo(SchemaValidationException.class.getName());
    assertThat(h.get(FailureHeaders.VIOLATIONS).toString()).contains("/payload/value");
    Await.until(() -> handled.size() == 1);
    assertThat(handled.get(0).eventId()).isEqualTo(good.eventId());
  }
}
