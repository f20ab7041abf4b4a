package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * What a Java service needs to slot in beside the Python services (issue #17): their configuration
 * variables, their envelope shapes and timestamps, their queue names.
 */
class PythonCompatibilityTest {
  private static final EventCodec CODEC = EventCodec.create();
  private static final ObjectMapper JSON = new ObjectMapper();

  // ---- configuration ------------------------------------------------------------------------

  @Test
  void brokerFromPartsWhenNoUrlIsSet() {
    BloodbankOptions o =
        BloodbankOptions.fromEnvironment(
            Map.of(
                "RABBIT_HOST", "mq.internal",
                "RABBIT_PORT", "5673",
                "RABBIT_USER", "svc",
                "RABBIT_PASSWORD", " p@ss ",
                "SERVICE_NAME", "transcriber",
                "ENVIRONMENT", "staging"));
    assertThat(o.addresses()).containsExactly(new BloodbankOptions.Address("mq.internal", 5673));
    assertThat(o.username()).isEqualTo("svc");
    assertThat(o.password()).isEqualTo(" p@ss ");
    assertThat(o.serviceName()).isEqualTo("transcriber");
    assertThat(o.environment()).isEqualTo("staging");
  }

  @Test
  void theRabbitmqSpellingsAndDefaultsForMissingParts() {
    BloodbankOptions o =
        BloodbankOptions.fromEnvironment(
            Map.of("RABBITMQ_USER", "delorenj", "RABBITMQ_PASS", "x", "RABBITMQ_VHOST", "bus"));
    assertThat(o.addresses()).containsExactly(new BloodbankOptions.Address("localhost", 5672));
    assertThat(o.username()).isEqualTo("delorenj");
    assertThat(o.password()).isEqualTo("x");
    assertThat(o.virtualHost()).isEqualTo("bus");
  }

  @Test
  void javaNamesAndUrlsWinOverPythonOnes() {
    Map<String, String> env = new HashMap<>();
    env.put("RABBIT_URL", "amqp://u:p@url-host:5999/");
    env.put("RABBIT_HOST", "part-host");
    env.put("RABBIT_USER", "part-user");
    env.put("BLOODBANK_SERVICE_NAME", "java-name");
    env.put("SERVICE_NAME", "python-name");
    env.put("BLOODBANK_ENVIRONMENT", "prod");
    env.put("ENVIRONMENT", "dev");
    BloodbankOptions o = BloodbankOptions.fromEnvironment(env);
    assertThat(o.addresses()).containsExactly(new BloodbankOptions.Address("url-host", 5999));
    assertThat(o.username()).isEqualTo("u");
    assertThat(o.serviceName()).isEqualTo("java-name");
    assertThat(o.environment()).isEqualTo("prod");
    assertThat(BloodbankOptions.fromEnvironment(Map.of()).environment()).isNull();
  }

  @Test
  void aBadPortNamesTheVariableAndTheLimit() {
    assertThatThrownBy(() -> BloodbankOptions.fromEnvironment(Map.of("RABBIT_PORT", "70000")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("RABBIT_PORT must be a port number from 1 to 65535, was '70000'");
    assertThatThrownBy(() -> BloodbankOptions.fromEnvironment(Map.of("RABBITMQ_PORT", "amqp")))
        .hasMessageStartingWith("RABBITMQ_PORT must be a port number");
  }

  @Test
  void bindingKeyGivesTheSubscriptionsPatterns() {
    SubscriberOptions o =
        SubscriberOptions.fromEnvironment(Map.of("BINDING_KEY", "llm.*, artifact.#")).build();
    assertThat(o.patterns()).containsExactly("llm.*", "artifact.#");
    assertThatThrownBy(() -> SubscriberOptions.fromEnvironment(Map.of()))
        .hasMessageStartingWith("BINDING_KEY is not set");
    assertThatThrownBy(() -> SubscriberOptions.fromEnvironment(Map.of("BINDING_KEY", "a..b")))
        .hasMessageStartingWith("BINDING_KEY: routing-key pattern 'a..b'");
  }

  // ---- queues -------------------------------------------------------------------------------

  @Test
  void thePythonConsumersQueueName() {
    SubscriberOptions o =
        SubscriberOptions.builder("agent.thread.prompt")
            .queueNaming(QueueNaming.EXCHANGE_AND_SERVICE)
            .build();
    assertThat(o.queueNameFor("command_processor", "bloodbank.events.v1"))
        .isEqualTo("bloodbank.events.v1.command_processor");
    assertThat(o.queueNameFor("svc")).isEqualTo("bloodbank.events.v1.svc");
    assertThat(SubscriberOptions.builder("fireflies.#").build().queueNameFor("svc", "x"))
        .isEqualTo("svc_fireflies.all_queue");
  }

  @Test
  void queueArgumentsNamingADeadLetterExchangeRouteDeadLettersThere() {
    SubscriberOptions o =
        SubscriberOptions.builder("llm.*")
            .queueArguments(Map.of("x-dead-letter-exchange", "dlx", "x-message-ttl", 300000))
            .build();
    assertThat(o.deadLetterExchange()).isEqualTo("dlx");
    assertThat(o.deadLetterRoutingKey()).isNull();
    SubscriberOptions own =
        SubscriberOptions.builder("llm.*")
            .queueArguments(
                Map.of("x-dead-letter-exchange", "", "x-dead-letter-routing-key", "svc.dlq"))
            .build();
    assertThat(own.deadLetterExchange()).isEmpty();
    assertThat(own.deadLetterRoutingKey()).isEqualTo("svc.dlq");
    // mutate() keeps following the arguments, not a copy of what they implied
    SubscriberOptions changed = o.mutate().queueArguments(Map.of("x-message-ttl", 1000)).build();
    assertThat(changed.deadLetterExchange()).isNull();
    assertThat(SubscriberOptions.builder("a").build().deadLetterExchange()).isNull();
  }

  @Test
  void existingQueueNeedsNoPatternButCannotTakeArguments() {
    SubscriberOptions o =
        SubscriberOptions.builder()
            .queueName("services.fireflies.processor")
            .existingQueue()
            .build();
    assertThat(o.existingQueue()).isTrue();
    assertThat(o.patterns()).isEmpty();
    assertThatThrownBy(
            () ->
                SubscriberOptions.builder("a")
                    .queueName("q")
                    .existingQueue()
                    .queueArguments(Map.of())
                    .build())
        .hasMessageContaining("existingQueue declares nothing");
    assertThatThrownBy(() -> SubscriberOptions.builder().build())
        .hasMessageContaining("at least one routing-key pattern");
    assertThatThrownBy(
            () ->
                SubscriberOptions.builder("a")
                    .temporary()
                    .idempotent(ProcessedEvents.inMemory(10, ProcessedEvents.DEFAULT_TTL))
                    .build())
        .hasMessageContaining("temporary queue");
  }

  // ---- envelopes ----------------------------------------------------------------------------

  @Test
  void pythonTimestampShapesAreRead() throws Exception {
    UUID id = UUID.randomUUID();
    for (String[] shape :
        new String[][] {
          {"2026-01-27T10:00:00Z", "2026-01-27T10:00:00Z"},
          {"2026-01-27T10:00:00.123456+00:00", "2026-01-27T10:00:00.123456Z"},
          {"2026-01-27T10:30:15.234567", "2026-01-27T10:30:15.234567Z"},
          {"2026-01-27 10:00:00.123456+00:00", "2026-01-27T10:00:00.123456Z"},
          {"2026-01-27 12:00:00+02:00", "2026-01-27T10:00:00Z"},
          {"2026-01-27 10:00:00", "2026-01-27T10:00:00Z"},
        }) {
      String json =
          "{\"event_id\":\""
              + id
              + "\",\"event_type\":\"a.b\",\"timestamp\":\""
              + shape[0]
              + "\",\"source\":{\"host\":\"h\",\"type\":\"manual\"},\"payload\":{}}";
      assertThat(CODEC.decode(json.getBytes(StandardCharsets.UTF_8)).timestamp())
          .as(shape[0])
          .isEqualTo(Instant.parse(shape[1]));
    }
    String bad =
        "{\"event_id\":\""
            + id
            + "\",\"event_type\":\"a.b\",\"timestamp\":\"2026-01-27 25:00:00\","
            + "\"source\":{\"host\":\"h\",\"type\":\"manual\"},\"payload\":{}}";
    assertThatThrownBy(() -> CODEC.decode(bad.getBytes(StandardCharsets.UTF_8)))
        .isInstanceOf(MalformedEventException.class)
        .hasMessageContaining("/timestamp");
  }

  @Test
  void theV1ModelOfThePythonLibraryIsRead() {
    UUID id = UUID.randomUUID();
    UUID parent = UUID.randomUUID();
    String v1 =
        "{\"id\":\""
            + id
            + "\",\"ts\":\"2025-10-06T12:00:00.5+00:00\",\"event_type\":\"llm.prompt\","
            + "\"source\":\"http/127.0.0.1\",\"project\":\"bloodbank\",\"working_dir\":null,"
            + "\"domain\":null,\"correlation_id\":\""
            + parent
            + "\",\"tags\":[\"a\"],\"data\":{\"provider\":\"openai\",\"prompt\":\"hi\"}}";
    EventEnvelope<JsonNode> e = CODEC.decode(v1.getBytes(StandardCharsets.UTF_8));
    assertThat(e.eventId()).isEqualTo(id);
    assertThat(e.timestamp()).isEqualTo(Instant.parse("2025-10-06T12:00:00.5Z"));
    assertThat(e.source().app()).isEqualTo("http");
    assertThat(e.source().host()).isEqualTo("127.0.0.1");
    assertThat(e.source().meta())
        .containsEntry("project", "bloodbank")
        .containsEntry("tags", List.of("a"))
        .doesNotContainKey("working_dir");
    assertThat(e.correlationIds()).containsExactly(parent);
    assertThat(e.payload().get("prompt").asText()).isEqualTo("hi");
  }

  @Test
  void v1IsWrittenForV1ConsumersAndReadBackTheSame() throws Exception {
    UUID parent = UUID.randomUUID();
    EventEnvelope<Map<String, Object>> e =
        EventEnvelope.builder("transcription.voice.completed", Map.<String, Object>of("text", "hi"))
            .withTimestamp(Instant.parse("2026-01-27T10:00:00.25Z"))
            .withSource(
                new Source(
                    "ws-01", TriggerType.MANUAL, "whisperlivekit", Map.of("session_id", "s-1")))
            .withCorrelationId(parent)
            .withCorrelationId(UUID.randomUUID())
            .build();
    JsonNode v1 = JSON.readTree(CODEC.encode(e, EnvelopeVersion.V1));
    assertThat(v1.get("id").asText()).isEqualTo(e.eventId().toString());
    assertThat(v1.get("ts").asText()).isEqualTo("2026-01-27T10:00:00.250Z");
    assertThat(v1.get("timestamp").asText()).isEqualTo("2026-01-27T10:00:00.250Z");
    assertThat(v1.get("source").asText()).isEqualTo("whisperlivekit/ws-01");
    assertThat(v1.get("correlation_id").asText()).isEqualTo(parent.toString());
    assertThat(v1.get("session_id").asText()).isEqualTo("s-1");
    assertThat(v1.get("data").get("text").asText()).isEqualTo("hi");
    assertThat(v1.has("event_id")).isFalse();
    assertThat(v1.has("payload")).isFalse();

    EventEnvelope<JsonNode> back = CODEC.decode(CODEC.encode(e, EnvelopeVersion.V1));
    assertThat(back.eventId()).isEqualTo(e.eventId());
    assertThat(back.timestamp()).isEqualTo(e.timestamp());
    assertThat(back.source().host()).isEqualTo("ws-01");
    assertThat(back.source().app()).isEqualTo("whisperlivekit");
    assertThat(back.source().meta()).containsEntry("session_id", "s-1");
    assertThat(back.correlationIds()).containsExactly(parent);
    // v2 is still the default
    assertThat(JSON.readTree(CODEC.encode(e)).has("event_id")).isTrue();
  }

  @Test
  void aSourceWithoutAppOrHostIsStillOneString() throws Exception {
    EventEnvelope<Map<String, Object>> e =
        EventEnvelope.builder("a.b", Map.<String, Object>of())
            .withSource(new Source("unknown", TriggerType.MANUAL, "cli", Map.of()))
            .build();
    assertThat(JSON.readTree(CODEC.encode(e, EnvelopeVersion.V1)).get("source").asText())
        .isEqualTo("cli");
    assertThat(JSON.readTree(CODEC.encode(e, EnvelopeVersion.V1)).get("correlation_id").isNull())
        .isTrue();
  }
}
