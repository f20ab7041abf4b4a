package dev.bloodbank.mcp;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankOptions;
import io.modelcontextprotocol.server.McpServerFeatures.SyncToolSpecification;
import io.modelcontextprotocol.spec.McpSchema;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The tools that need no broker, called in-process: catalog, validation, dry runs, arguments. */
class BloodbankMcpTest {
  private static final ObjectMapper JSON = new ObjectMapper();

  // Connects lazily: nothing here needs the broker, and nothing connects.
  private final BloodbankMcp mcp =
      BloodbankMcp.builder().connect(BloodbankOptions.fromEnvironment(Map.of())).build();

  @AfterEach
  void close() {
    mcp.close();
  }

  private McpSchema.CallToolResult call(String tool, Map<String, Object> args) {
    SyncToolSpecification spec =
        mcp.tools().stream().filter(t -> t.tool().name().equals(tool)).findFirst().orElseThrow();
    return spec.callHandler().apply(null, new McpSchema.CallToolRequest(tool, args));
  }

  private static JsonNode json(McpSchema.CallToolResult r) {
    return JSON.valueToTree(r.structuredContent());
  }

  @Test
  void registersEveryToolAndASchemaResourcePerEventType() {
    assertThat(mcp.tools())
        .extracting(t -> t.tool().name())
        .containsExactly(
            "list_event_types",
            "show_schema",
            "publish_event",
            "publish_llm_prompt",
            "publish_llm_response",
            "publish_artifact",
            "trace_event",
            "recent_events",
            "dead_letters");
    assertThat(mcp.resources())
        .extracting(r -> r.resource().uri())
        .contains("bloodbank://schemas/llm.prompt", "bloodbank://schemas/artifact.created");
  }

  @Test
  void aDryRunValidatesAndShowsTheEnvelope() {
    McpSchema.CallToolResult r =
        call(
            "publish_llm_response",
            Map.of(
                "prompt_event_id", "0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b",
                "provider", "anthropic",
                "response", "hi",
                "dry_run", true));
    assertThat(r.isError()).isFalse();
    assertThat(json(r).at("/envelope/correlation_ids/0").asText())
        .isEqualTo("0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b");
    assertThat(json(r).at("/envelope/payload/prompt_id").asText())
        .isEqualTo("0d8b3a52-1f0e-4c36-9a2d-5b7c8e9f0a1b");
  }

  @Test
  void badArgumentsAreErrorResultsWithPointers() {
    JsonNode v =
        json(
            call(
                "publish_event",
                Map.of(
                    "event_type",
                    "artifact.created",
                    "payload",
                    Map.of("action", "deleted", "kind", "k"),
                    "dry_run",
                    true)));
    assertThat(v.get("error").asText()).isEqualTo("validation_failed");
    assertThat(v.get("violations").findValuesAsText("pointer")).contains("/action");
    assertThat(
            json(call(
                    "publish_event",
                    Map.of(
                        "event_type",
                        "llm.prompt",
                        "payload",
                        Map.of("provider", "p", "prompt", "x"),
                        "correlation_ids",
                        List.of("nope"),
                        "dry_run",
                        true)))
                .get("violations")
                .findValuesAsText("pointer"))
        .containsExactly("/correlation_ids/0");
    assertThat(json(call("show_schema", Map.of())).get("violations").findValuesAsText("pointer"))
        .containsExactly("/event_type");
    assertThat(json(call("trace_event", Map.of("event_id", "x"))).get("error").asText())
        .isEqualTo("invalid_arguments");
    assertThat(
            json(call("recent_events", Map.of("limit", 1000)))
                .get("violations")
                .findValuesAsText("message"))
        .containsExactly("must be between 1 and 200, was 1000");
  }

  @Test
  void durationsAndOptionsNameTheBadValue() {
    assertThat(Tools.duration("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Tools.duration("2h")).isEqualTo(Duration.ofHours(2));
    assertThat(Tools.duration("PT5M")).isEqualTo(Duration.ofMinutes(5));
    assertThatThrownBy(() -> Tools.duration("0s")).hasMessageContaining("'0s'");
    assertThatThrownBy(() -> BloodbankMcp.builder().liveWindow(Duration.ofMinutes(5)))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("PT5M");
    assertThatThrownBy(() -> BloodbankMcp.builder().build())
        .isInstanceOf(IllegalStateException.class);
  }
}
