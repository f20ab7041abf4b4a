package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.registry.UnknownEventTypeException;
import dev.bloodbank.schemas.agent.ThreadPrompt;
import dev.bloodbank.schemas.fireflies.TranscriptReady;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The catalog index the build writes, as the event registry reads it. */
class CatalogIndexTest {
  static final EventRegistry CATALOG = Examples.CATALOG;

  @Test
  void theIndexListsEveryEventSchemaFileOnce() {
    List<String> eventFiles =
        Examples.schemaFiles().stream()
            .filter(f -> !f.startsWith("common/"))
            .map(f -> Examples.RESOURCE_BASE + f)
            .toList();
    assertThat(CATALOG.all())
        .extracting(d -> d.schemaResource().orElseThrow())
        .containsExactlyInAnyOrderElementsOf(eventFiles);
    for (EventDefinition d : CATALOG.all()) {
      JsonNode schema = CATALOG.schema(d.eventType());
      assertThat(schema.path("x-bloodbank").path("event_type").asText()).isEqualTo(d.eventType());
      assertThat(d.payloadClassName()).isEqualTo(schema.path("javaType").asText());
      assertThat(d.command()).isEqualTo(schema.path("x-bloodbank").path("command").asBoolean());
      assertThat(d.title()).isEqualTo(schema.path("title").asText());
      assertThat(CATALOG.schemaUrl(d.eventType())).isPresent();
    }
  }

  @Test
  void catalogHasEveryEventOfTheIssues() {
    assertThat(CATALOG.all())
        .extracting(EventDefinition::eventType)
        .containsExactlyInAnyOrder(
            "transcription.voice.completed",
            "talkytonny.transcription.completed",
            "fireflies.transcript.upload",
            "fireflies.transcript.ready",
            "fireflies.transcript.processed",
            "fireflies.transcript.failed",
            "agent.thread.prompt",
            "agent.thread.response",
            "agent.thread.error",
            "artifact.created",
            "artifact.updated",
            "artifact.deleted",
            "artifact.ingestion.failed",
            "github.pr.created",
            "calendar.event.created",
            "theboard.meeting.created",
            "theboard.meeting.started",
            "theboard.meeting.round_completed",
            "theboard.meeting.comment_extracted",
            "theboard.meeting.converged",
            "theboard.meeting.completed",
            "theboard.meeting.failed",
            "theboard.meeting.human.input.needed",
            "theboard.meeting.paused",
            "theboard.meeting.resumed",
            "theboard.meeting.context.modified",
            "theboard.meeting.trigger",
            "theboard.service.registered",
            "theboard.service.health",
            "llm.prompt",
            "llm.response",
            "llm.error",
            "command.completed",
            "command.failed");
    assertThat(CATALOG.all()).allSatisfy(d -> assertThat(d.payloadClass()).isNotNull());
  }

  @Test
  void domainsAreTheFoldersWithNestedOnesDeclared() {
    assertThat(CATALOG.domains())
        .containsExactly(
            "agent",
            "agent.thread",
            "artifact",
            "calendar",
            "command",
            "fireflies",
            "github",
            "llm",
            "theboard",
            "voice");
    assertThat(CATALOG.require("transcription.voice.completed").domain()).isEqualTo("voice");
    assertThat(CATALOG.events("agent"))
        .extracting(EventDefinition::eventType)
        .containsExactly("agent.thread.error", "agent.thread.prompt", "agent.thread.response");
    assertThat(CATALOG.events("agent.thread")).isEqualTo(CATALOG.events("agent"));
    assertThat(CATALOG.events("fireflies")).hasSize(4);
    assertThat(CATALOG.events("agent.thr")).isEmpty();
  }

  @Test
  void commandsComeFromTheCatalog() {
    assertThat(CATALOG.commands())
        .extracting(EventDefinition::eventType)
        .containsExactly("agent.thread.prompt");
  }

  @Test
  void payloadClassesMapBackToTheirEventTypes() {
    assertThat(CATALOG.eventTypeOf(ThreadPrompt.class)).isEqualTo("agent.thread.prompt");
    assertThat(CATALOG.findByPayloadClass(TranscriptReady.class))
        .map(EventDefinition::eventType)
        .contains("fireflies.transcript.ready");
    for (EventDefinition d : CATALOG.all()) {
      assertThat(CATALOG.eventTypeOf(d.payloadClass())).isEqualTo(d.eventType());
    }
    assertThatThrownBy(() -> CATALOG.eventTypeOf(String.class))
        .isInstanceOf(UnknownEventTypeException.class)
        .hasMessageContaining("java.lang.String");
  }

  @Test
  void anUnknownTypeSuggestsCloseOnes() {
    assertThat(CATALOG.find("fireflies.transcript.redy")).isEmpty();
    assertThatThrownBy(() -> CATALOG.require("fireflies.transcript.redy"))
        .isInstanceOf(UnknownEventTypeException.class)
        .hasMessageContaining("'fireflies.transcript.redy'")
        .hasMessageContaining("did you mean fireflies.transcript.ready");
  }

  /**
   * Every error event requires an error message, and any common error field it carries has the
   * common type. Events Python defines keep Python's fields, so not all of them carry all of the
   * common ones (artifact.ingestion.failed and llm.error have no failed_stage;
   * theboard.meeting.failed has no retry fields).
   */
  @Test
  void errorEventsRequireAMessageAndTypeTheCommonErrorFieldsAlike() {
    JsonNode common = Examples.read(Examples.RESOURCE_BASE + "common/error.v1.schema.json");
    List<EventDefinition> errors =
        CATALOG.all().stream()
            .filter(d -> d.eventType().endsWith(".failed") || d.eventType().endsWith(".error"))
            .filter(d -> !d.domain().equals("command"))
            .toList();
    assertThat(errors)
        .extracting(EventDefinition::eventType)
        .contains(
            "agent.thread.error",
            "fireflies.transcript.failed",
            "artifact.ingestion.failed",
            "llm.error",
            "theboard.meeting.failed");
    for (EventDefinition d : errors) {
      JsonNode schema = CATALOG.schema(d.eventType());
      Set<String> required = new HashSet<>();
      schema.path("required").forEach(n -> required.add(n.asText()));
      assertThat(required).as("required of %s", d.eventType()).contains("error_message");
      for (Map.Entry<String, JsonNode> p : common.path("properties").properties()) {
        JsonNode mine = schema.path("properties").path(p.getKey());
        if (mine.isMissingNode()) {
          continue;
        }
        JsonNode expectedType = p.getValue().path("type");
        if (!required.contains(p.getKey()) && expectedType.isTextual()) {
          // An optional field also accepts null (the catalog's rule for optional properties).
          expectedType = Examples.MAPPER.createArrayNode().add(expectedType.asText()).add("null");
        }
        assertThat(mine.path("type"))
            .as("%s /%s", d.eventType(), p.getKey())
            .isEqualTo(expectedType);
        assertThat(mine.path("minimum")).isEqualTo(p.getValue().path("minimum"));
      }
    }
  }
}
