package dev.bloodbank;

import static dev.bloodbank.EventFixtures.json;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventFixtures.TranscriptionPayload;
import dev.bloodbank.internal.LogSafe;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/** The envelope model: builder rules, defaults, copies, equality, and the open enumerations. */
class EventEnvelopeTest {

  @Nested
  class Building {
    @Test
    void requiresAnEventType() {
      assertThatThrownBy(() -> EventEnvelope.<String>builder().withPayload("p").build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("event type is required");
    }

    @Test
    void requiresAPayloadNamingTheEventType() {
      assertThatThrownBy(() -> EventEnvelope.<String>builder().withEventType("a.b").build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("payload is required for event type a.b");
    }

    @Test
    void rejectsNullsInSetters() {
      EventEnvelope.Builder<String> b = EventEnvelope.builder("a.b", "p");
      assertThatThrownBy(() -> b.withPayload(null)).hasMessageContaining("payload");
      assertThatThrownBy(() -> b.withEventId(null)).hasMessageContaining("eventId");
      assertThatThrownBy(() -> b.withTimestamp(null)).hasMessageContaining("timestamp");
      assertThatThrownBy(() -> b.withSource(null)).hasMessageContaining("source");
      assertThatThrownBy(() -> b.withCorrelationId(null)).hasMessageContaining("parentId");
      assertThatThrownBy(
              () -> b.withCorrelationIds(java.util.Arrays.asList(UUID.randomUUID(), null)))
          .hasMessageContaining("correlation id");
    }

    @ParameterizedTest
    @ValueSource(
        strings = {"a.#", "fireflies.*", "a..b", ".a", "a.", "", "a b", "é.b", "a/b", "a\tb"})
    void rejectsABadEventTypeNamingTheValue(String type) {
      assertThatThrownBy(() -> EventEnvelope.builder(type, "p").build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageStartingWith("event type '" + LogSafe.escape(type) + "' is not")
          .hasMessageContaining("fireflies.transcript.ready");
    }

    @Test
    void controlCharactersInABadEventTypeAreEscaped() {
      assertThatThrownBy(() -> EventEnvelope.builder("a.b\nINFO forged", "p").build())
          .hasMessageContaining("a.b\\nINFO forged")
          .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
    }

    @Test
    void limitsTheEventTypeTo255Bytes() {
      String max = "a".repeat(100) + "." + "b".repeat(154);
      assertThat(max).hasSize(255);
      assertThat(EventEnvelope.builder(max, "p").build().eventType()).isEqualTo(max);
      assertThatThrownBy(() -> EventEnvelope.builder(max + "c", "p").build())
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("event type is 256 bytes, over the AMQP routing key limit of 255 bytes");
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "fireflies.transcript.ready", "A-1.b_2.C", "0.9"})
    void acceptsDotSeparatedWords(String type) {
      assertThat(EventEnvelope.checkEventType(type)).isSameAs(type);
    }

    @Test
    void defaults() {
      Instant before = Instant.now().truncatedTo(ChronoUnit.MICROS);
      EventEnvelope<String> e = EventEnvelope.builder("a.b", "p").build();
      Instant after = Instant.now();

      assertThat(e.eventId().version()).isEqualTo(4);
      assertThat(EventEnvelope.builder("a.b", "p").build().eventId()).isNotEqualTo(e.eventId());
      assertThat(e.version()).isEqualTo("1.0.0").isEqualTo(EventEnvelope.DEFAULT_VERSION);
      assertThat(e.timestamp()).isBetween(before, after);
      assertThat(e.timestamp().getNano() % 1000).isZero();
      assertThat(e.source()).isEqualTo(Source.local(null));
      assertThat(e.source().type()).isSameAs(TriggerType.MANUAL);
      assertThat(e.source().app()).isNull();
      assertThat(e.source().meta()).isEmpty();
      assertThat(e.correlationIds()).isEmpty();
      assertThat(e.agentContext()).isNull();
    }

    @Test
    void keepsTimestampsToTheMicrosecond() {
      EventEnvelope<String> e =
          EventEnvelope.builder("a.b", "p")
              .withTimestamp(Instant.parse("2026-01-27T10:00:00.123456789Z"))
              .build();
      assertThat(e.timestamp()).isEqualTo(Instant.parse("2026-01-27T10:00:00.123456Z"));
    }

    @Test
    void correlationIdsKeepTheirOrderAndCannotBeChanged() {
      UUID a = UUID.randomUUID();
      UUID b = UUID.randomUUID();
      UUID c = UUID.randomUUID();
      EventEnvelope<String> e =
          EventEnvelope.builder("a.b", "p")
              .withCorrelationId(a)
              .withCorrelationIds(List.of(c, b))
              .withCorrelationId(a)
              .build();
      assertThat(e.correlationIds()).containsExactly(c, b, a);
      assertThatThrownBy(() -> e.correlationIds().add(UUID.randomUUID()))
          .isInstanceOf(UnsupportedOperationException.class);
    }

    @Test
    void laterChangesToTheBuilderDoNotReachABuiltEnvelope() {
      EventEnvelope.Builder<String> b = EventEnvelope.builder("a.b", "p");
      EventEnvelope<String> first = b.build();
      b.withCorrelationId(UUID.randomUUID()).withPayload("q");
      assertThat(first.correlationIds()).isEmpty();
      assertThat(first.payload()).isEqualTo("p");
    }
  }

  @Nested
  class Copies {
    @Test
    void toBuilderKeepsEveryField() {
      EventEnvelope<JsonNode> full = EventFixtures.full();
      assertThat(full.toBuilder().build()).isEqualTo(full);
      EventEnvelope<JsonNode> renamed = full.toBuilder().withEventType("x.y").build();
      assertThat(renamed.eventType()).isEqualTo("x.y");
      assertThat(renamed.eventId()).isEqualTo(full.eventId());
      assertThat(renamed.timestamp()).isEqualTo(full.timestamp());
      assertThat(renamed.version()).isEqualTo(full.version());
      assertThat(renamed.source()).isEqualTo(full.source());
      assertThat(renamed.correlationIds()).isEqualTo(full.correlationIds());
      assertThat(renamed.agentContext()).isEqualTo(full.agentContext());
      assertThat(renamed.payload()).isSameAs(full.payload());
    }

    @ParameterizedTest
    @MethodSource("dev.bloodbank.EventFixtures#allEnvelopes")
    void withPayloadKeepsEveryOtherField(EventEnvelope<?> original) {
      EventEnvelope<String> copy = original.withPayload("other");
      assertThat(copy.payload()).isEqualTo("other");
      assertThat(copy.eventId()).isEqualTo(original.eventId());
      assertThat(copy.eventType()).isEqualTo(original.eventType());
      assertThat(copy.timestamp()).isEqualTo(original.timestamp());
      assertThat(copy.version()).isEqualTo(original.version());
      assertThat(copy.source()).isEqualTo(original.source());
      assertThat(copy.correlationIds()).isEqualTo(original.correlationIds());
      assertThat(copy.agentContext()).isEqualTo(original.agentContext());
      assertThat(copy).isNotEqualTo(original);
      assertThat(copy.withPayload(original.payload())).isEqualTo(original);
    }
  }

  @Nested
  class Equality {
    static Stream<Arguments> oneFieldChanged() {
      return Stream.<Function<EventEnvelope<JsonNode>, EventEnvelope<JsonNode>>>of(
              e -> e.toBuilder().withEventId(UUID.randomUUID()).build(),
              e -> e.toBuilder().withEventType("other.type").build(),
              e -> e.toBuilder().withTimestamp(e.timestamp().plusNanos(1000)).build(),
              e -> e.toBuilder().withVersion("2.0.0").build(),
              e -> e.toBuilder().withSource(e.source().withType(TriggerType.HOOK)).build(),
              e -> e.toBuilder().withSource(e.source().withMeta(Map.of("pid", 1))).build(),
              e -> e.toBuilder().withCorrelationIds(List.of()).build(),
              e ->
                  e.toBuilder()
                      .withCorrelationIds(
                          List.of(
                              e.correlationIds().get(1),
                              e.correlationIds().get(0),
                              e.correlationIds().get(2)))
                      .build(),
              e -> e.toBuilder().withAgentContext(null).build(),
              e -> e.withPayload(json("{\"other\":true}")))
          .map(Arguments::of);
    }

    @ParameterizedTest
    @MethodSource("oneFieldChanged")
    void differsWhenAnyFieldDiffers(
        Function<EventEnvelope<JsonNode>, EventEnvelope<JsonNode>> change) {
      EventEnvelope<JsonNode> a = EventFixtures.full();
      EventEnvelope<JsonNode> b = change.apply(EventFixtures.full());
      assertThat(b).isNotEqualTo(a);
      assertThat(a).isNotEqualTo(b);
    }

    @ParameterizedTest
    @MethodSource("dev.bloodbank.EventFixtures#allEnvelopes")
    void equalEnvelopesHaveEqualHashCodes(EventEnvelope<?> e) {
      EventEnvelope<?> same = e.toBuilder().build();
      assertThat(same).isNotSameAs(e).isEqualTo(e).hasSameHashCodeAs(e);
      assertThat(e).isNotEqualTo(null).isNotEqualTo("an envelope");
    }
  }

  @Test
  void toStringNamesTheEventButNotThePayload() {
    TranscriptionPayload secret =
        new TranscriptionPayload("my password is hunter2", UUID.randomUUID(), 1.0, null, List.of());
    EventEnvelope<TranscriptionPayload> e = EventFixtures.transcription().withPayload(secret);
    assertThat(e.toString())
        .contains(e.eventId().toString())
        .contains("transcription.voice.completed")
        .contains("TranscriptionPayload")
        .doesNotContain("hunter2")
        .doesNotContain(secret.sessionId().toString());
    assertThat(EventFixtures.full().toString()).doesNotContain("Réunion").doesNotContain("tr-1");
  }

  @Nested
  class OpenEnums {
    @Test
    void knownTriggerTypesAreTheConstants() {
      assertThat(TriggerType.of("manual")).isSameAs(TriggerType.MANUAL);
      assertThat(TriggerType.of("agent")).isSameAs(TriggerType.AGENT);
      assertThat(TriggerType.of("scheduled")).isSameAs(TriggerType.SCHEDULED);
      assertThat(TriggerType.of("file_watch")).isSameAs(TriggerType.FILE_WATCH);
      assertThat(TriggerType.of("hook")).isSameAs(TriggerType.HOOK);
      assertThat(TriggerType.of("MANUAL")).isSameAs(TriggerType.MANUAL);
      assertThat(TriggerType.MANUAL.isKnown()).isTrue();
      assertThat(TriggerType.FILE_WATCH.value()).isEqualTo("file_watch");
    }

    @Test
    void unknownTriggerTypesArePreserved() {
      TriggerType t = TriggerType.of("Webhook-Relay");
      assertThat(t.value()).isEqualTo("Webhook-Relay");
      assertThat(t.toString()).isEqualTo("Webhook-Relay");
      assertThat(t.isKnown()).isFalse();
      assertThat(t)
          .isEqualTo(TriggerType.of("Webhook-Relay"))
          .hasSameHashCodeAs(TriggerType.of("Webhook-Relay"));
      assertThat(t).isNotEqualTo(TriggerType.of("webhook-relay")).isNotEqualTo(TriggerType.HOOK);
    }

    @Test
    void knownAgentTypesAreTheConstants() {
      assertThat(AgentType.of("claude-code")).isSameAs(AgentType.CLAUDE_CODE);
      assertThat(AgentType.of("gemini")).isSameAs(AgentType.GEMINI);
      assertThat(AgentType.of("letta")).isSameAs(AgentType.LETTA);
      assertThat(AgentType.of("agno")).isSameAs(AgentType.AGNO);
      assertThat(AgentType.of("custom")).isSameAs(AgentType.CUSTOM);
      assertThat(AgentType.of("Claude-Code")).isSameAs(AgentType.CLAUDE_CODE);
      assertThat(AgentType.GEMINI.isKnown()).isTrue();
    }

    @Test
    void unknownAgentTypesArePreserved() {
      AgentType t = AgentType.of("smolagent");
      assertThat(t.value()).isEqualTo("smolagent");
      assertThat(t.isKnown()).isFalse();
      assertThat(t)
          .isEqualTo(AgentType.of("smolagent"))
          .hasSameHashCodeAs(AgentType.of("smolagent"));
      assertThat(t).isNotEqualTo(AgentType.CUSTOM);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "\t\n"})
    void blankValuesAreRejected(String blank) {
      assertThatThrownBy(() -> TriggerType.of(blank))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("trigger type must not be blank");
      assertThatThrownBy(() -> AgentType.of(blank))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessage("agent type must not be blank");
    }

    @Test
    void nullValuesAreRejected() {
      assertThatThrownBy(() -> TriggerType.of(null)).isInstanceOf(NullPointerException.class);
      assertThatThrownBy(() -> AgentType.of(null)).isInstanceOf(NullPointerException.class);
    }
  }

  @Nested
  class Parts {
    @Test
    void sourceCopiesItsMetaAndRejectsChanges() {
      Map<String, Object> meta = new java.util.HashMap<>(Map.of("a", 1));
      Source s = new Source("h", TriggerType.MANUAL, "app", meta);
      meta.put("b", 2);
      assertThat(s.meta()).containsOnlyKeys("a");
      assertThatThrownBy(() -> s.meta().put("c", 3))
          .isInstanceOf(UnsupportedOperationException.class);
      assertThat(s.withType(TriggerType.AGENT))
          .isEqualTo(new Source("h", TriggerType.AGENT, "app", Map.of("a", 1)));
    }

    @Test
    void agentContextListsAreCopiesAndNeverNull() {
      java.util.ArrayList<String> servers = new java.util.ArrayList<>(List.of("bb"));
      AgentContext a = AgentContext.builder(AgentType.CUSTOM).withMcpServers(servers).build();
      servers.add("gh");
      assertThat(a.mcpServers()).containsExactly("bb");
      assertThat(a.fileReferences()).isEmpty();
      assertThat(a.urlReferences()).isEmpty();
      assertThat(CodeState.of(null, "main", null).dirtyFiles()).isEmpty();
    }
  }
}
