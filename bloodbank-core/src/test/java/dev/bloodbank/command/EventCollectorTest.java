package dev.bloodbank.command;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.AgentContext;
import dev.bloodbank.AgentType;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class EventCollectorTest {
  private final UUID command = UUID.randomUUID();
  private final EventCollector events = new EventCollector(command, Source.local("processor"));

  @Test
  void anEnvelopeKeepsWhatTheCallerSetAndGetsTheDeterministicIdAndTheCommandAsParent() {
    UUID other = UUID.randomUUID();
    Source own = Source.local("agent");
    AgentContext agent = AgentContext.builder(AgentType.CLAUDE_CODE).withName("coder").build();
    events.add("first.event", Map.of("n", 0));
    EventEnvelope<Map<String, Integer>> given =
        EventEnvelope.builder("agent.thread.response", Map.of("n", 1))
            .withSource(own)
            .withAgentContext(agent)
            .withCorrelationId(other)
            .build();

    EventEnvelope<Map<String, Integer>> added = events.add(given);

    assertThat(added.eventId())
        .isEqualTo(EventCollector.sideEffectId(command, 1))
        .isNotEqualTo(given.eventId());
    assertThat(added.correlationIds()).containsExactly(command, other);
    assertThat(added.source()).isEqualTo(own);
    assertThat(added.agentContext()).isEqualTo(agent);
    assertThat(added.payload()).isEqualTo(Map.of("n", 1));
    assertThat(events.events()).hasSize(2).last().isEqualTo(added);
  }

  @Test
  void theCommandIsNotAddedTwiceAsParent() {
    EventEnvelope<String> given =
        EventEnvelope.builder("a.b", "x").withCorrelationId(command).build();
    assertThat(events.add(given).correlationIds()).containsExactly(command);
  }
}
