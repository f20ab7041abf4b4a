package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.archive.ArchiveOptions;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.ServerParameters;
import io.modelcontextprotocol.client.transport.StdioClientTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code bb mcp} in its own process, driven over stdio by the MCP SDK's own client: every tool with
 * good and bad arguments, a schema resource, and a broker that cannot be reached.
 */
@ExtendWith(BrokerExtension.class)
class McpStdioIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  private static McpSyncClient client(Map<String, String> env, String... bbArgs) {
    String cp =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> args =
        new java.util.ArrayList<>(List.of("-cp", cp, "dev.bloodbank.cli.Bb", "mcp"));
    args.addAll(List.of(bbArgs));
    ServerParameters params =
        ServerParameters.builder(Path.of(System.getProperty("java.home"), "bin", "java").toString())
            .args(args)
            .env(env)
            .build();
    McpSyncClient c =
        McpClient.sync(new StdioClientTransport(params, new JacksonMcpJsonMapper(JSON)))
            .requestTimeout(Duration.ofSeconds(30))
            .build();
    c.initialize();
    return c;
  }

  private static CallToolResult call(McpSyncClient c, String tool, Map<String, Object> args) {
    return c.callTool(new McpSchema.CallToolRequest(tool, args));
  }

  private static JsonNode structured(CallToolResult r) {
    return JSON.valueToTree(r.structuredContent());
  }

  private static JsonNode ok(CallToolResult r) {
    assertThat(r.isError()).as("%s", r.content()).isFalse();
    return structured(r);
  }

  private static JsonNode failed(CallToolResult r) {
    assertThat(r.isError()).as("%s", r.content()).isTrue();
    return structured(r);
  }

  private static Map<String, String> env(BrokerExtension.Broker broker) {
    Map<String, String> env = new HashMap<>();
    env.put("RABBIT_URL", "amqp://guest:guest@127.0.0.1:5672/");
    env.put("BLOODBANK_EXCHANGE", broker.exchange());
    env.put("REDIS_URL", "redis://127.0.0.1:6379/0");
    return env;
  }

  @Test
  void everyToolOnTheRealBroker(BrokerExtension.Broker broker) throws Exception {
    String raw = broker.rawQueue("#");
    String noArchive = "mcp-no-archive-" + UUID.randomUUID();
    McpSyncClient c = client(env(broker), "--archive-queue", noArchive);
    try {
      assertThat(c.listTools().tools())
          .extracting(McpSchema.Tool::name)
          .contains(
              "list_event_types",
              "show_schema",
              "publish_event",
              "publish_llm_prompt",
              "publish_llm_response",
              "publish_artifact",
              "trace_event",
              "recent_events",
              "dead_letters");

      // The catalog, as tools and as resources.
      JsonNode types = ok(call(c, "list_event_types", Map.of("domain", "llm")));
      assertThat(types.findValuesAsText("event_type")).contains("llm.prompt", "llm.response");
      JsonNode schema = ok(call(c, "show_schema", Map.of("event_type", "llm.prompt")));
      assertThat(schema.at("/schema/required").toString()).contains("provider", "prompt");
      assertThat(c.listResources().resources())
          .extracting(McpSchema.Resource::uri)
          .contains("bloodbank://schemas/llm.prompt");
      McpSchema.ReadResourceResult res =
          c.readResource(new McpSchema.ReadResourceRequest("bloodbank://schemas/llm.prompt"));
      assertThat(((McpSchema.TextResourceContents) res.contents().get(0)).text())
          .contains("\"provider\"");
      failed(call(c, "show_schema", Map.of("event_type", "no.such.type")));

      // A prompt and its response, correlated, as a consumer receives them.
      JsonNode prompt =
          ok(call(c, "publish_llm_prompt", Map.of("provider", "anthropic", "prompt", "hi")));
      String promptId = prompt.get("event_id").asText();
      JsonNode response =
          ok(
              call(
                  c,
                  "publish_llm_response",
                  Map.of(
                      "prompt_event_id",
                      promptId,
                      "provider",
                      "anthropic",
                      "response",
                      "hello",
                      "tokens_used",
                      3)));
      String responseId = response.get("event_id").asText();
      List<GetResponse> got = broker.drain(raw, 2, Duration.ofSeconds(10));
      assertThat(got).hasSize(2);
      JsonNode p = JSON.readTree(new String(got.get(0).getBody(), StandardCharsets.UTF_8));
      JsonNode r = JSON.readTree(new String(got.get(1).getBody(), StandardCharsets.UTF_8));
      assertThat(p.get("event_id").asText()).isEqualTo(promptId);
      assertThat(p.get("event_type").asText()).isEqualTo("llm.prompt");
      assertThat(p.at("/payload/prompt").asText()).isEqualTo("hi");
      assertThat(p.at("/payload/model").isNull()).isTrue();
      assertThat(r.get("event_id").asText()).isEqualTo(responseId);
      assertThat(r.get("correlation_ids").toString()).contains(promptId);
      assertThat(r.at("/payload/prompt_id").asText()).isEqualTo(promptId);
      assertThat(r.at("/payload/tokens_used").asInt()).isEqualTo(3);

      // The causation link the response recorded, from Redis (recorded after the confirm).
      JsonNode trace = null;
      for (int i = 0; i < 50; i++) {
        trace = ok(call(c, "trace_event", Map.of("event_id", promptId)));
        if (trace.get("edges").size() > 0) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(trace.get("edges").toString()).contains(responseId);

      // An artifact, and any catalog event (dry run publishes nothing).
      ok(call(c, "publish_artifact", Map.of("kind", "transcript", "uri", "s3://b/t.json")));
      JsonNode dry =
          ok(
              call(
                  c,
                  "publish_event",
                  Map.of(
                      "event_type",
                      "llm.prompt",
                      "payload",
                      Map.of("provider", "p", "prompt", "x"),
                      "dry_run",
                      true)));
      assertThat(dry.at("/envelope/event_type").asText()).isEqualTo("llm.prompt");
      JsonNode published =
          ok(
              call(
                  c,
                  "publish_event",
                  Map.of(
                      "event_type",
                      "llm.prompt",
                      "payload",
                      Map.of("provider", "p", "prompt", "y"),
                      "correlation_ids",
                      List.of(promptId))));
      got = broker.drain(raw, 3, Duration.ofSeconds(5));
      assertThat(got).hasSize(2);
      assertThat(new String(got.get(0).getBody(), StandardCharsets.UTF_8))
          .contains("artifact.created", "s3://b/t.json");
      assertThat(new String(got.get(1).getBody(), StandardCharsets.UTF_8))
          .contains(published.get("event_id").asText(), promptId);

      // Bad arguments: tool results with the violations' pointers, never protocol errors.
      JsonNode bad =
          failed(
              call(
                  c,
                  "publish_event",
                  Map.of("event_type", "llm.prompt", "payload", Map.of("provider", "p"))));
      assertThat(bad.get("error").asText()).isEqualTo("validation_failed");
      assertThat(bad.get("violations").toString()).contains("/prompt");
      assertThat(
              failed(call(c, "publish_event", Map.of("event_type", "nope.x", "payload", Map.of())))
                  .get("error")
                  .asText())
          .isEqualTo("unknown_event_type");
      assertThat(
              failed(
                      call(
                          c,
                          "publish_llm_response",
                          Map.of("prompt_event_id", "42", "provider", "p", "response", "r")))
                  .get("violations")
                  .toString())
          .contains("/prompt_event_id");
      assertThat(failed(call(c, "publish_llm_prompt", Map.of("provider", "p"))).toString())
          .contains("/prompt");
      failed(call(c, "recent_events", Map.of("since", "yesterday")));
      assertThat(broker.drain(raw, 1, Duration.ofMillis(300))).isEmpty();

      // recent_events without an archive: a live window, fed while it listens.
      CompletableFuture<CallToolResult> recent =
          CompletableFuture.supplyAsync(
              () -> call(c, "recent_events", Map.of("pattern", "artifact.#", "limit", 5)));
      try (Bloodbank bus = broker.connect()) {
        while (!recent.isDone()) {
          bus.publisher()
              .publish(
                  "artifact.created", Map.of("action", "created", "kind", "k", "uri", "u://live"))
              .join();
          Thread.sleep(200);
        }
      }
      JsonNode live = ok(recent.join());
      assertThat(live.get("source").asText()).isEqualTo("live");
      assertThat(live.get("events").toString()).contains("u://live");

      // dead_letters: a dead-letter queue with one event in it, and one that does not exist.
      String q = broker.queueName("mcp-orders");
      broker.raw().queueDeclare(q + ".dlq", true, false, false, null);
      broker.raw().basicPublish("", q + ".dlq", null, "{\"x\":1}".getBytes(StandardCharsets.UTF_8));
      JsonNode dl = null;
      for (int i = 0; i < 20; i++) {
        dl = ok(call(c, "dead_letters", Map.of("queue", q + ".dlq")));
        if (dl.get("messages").asLong() == 1) {
          break;
        }
        Thread.sleep(100);
      }
      assertThat(dl.get("messages").asLong()).isEqualTo(1);
      assertThat(dl.get("shown").toString()).contains("{\\\"x\\\":1}");
      failed(call(c, "dead_letters", Map.of("queue", q + ".missing.dlq")));
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void recentEventsReplaysTheArchive(BrokerExtension.Broker broker) throws Exception {
    String archive = broker.queueName("archive");
    Bloodbank bus = broker.connect();
    bus.archive(ArchiveOptions.builder().queue(archive).build());
    for (int i = 0; i < 3; i++) {
      bus.publisher()
          .publish("artifact.created", Map.of("action", "created", "kind", "k", "uri", "u://" + i))
          .join();
    }
    bus.publisher().publish("llm.prompt", Map.of("provider", "p", "prompt", "not me")).join();
    McpSyncClient c = client(env(broker), "--archive-queue", archive);
    try {
      JsonNode recent =
          ok(call(c, "recent_events", Map.of("pattern", "artifact.#", "since", "1h", "limit", 2)));
      assertThat(recent.get("source").asText()).isEqualTo("archive");
      assertThat(recent.get("count").asInt()).isEqualTo(2);
      // The newest two, oldest first.
      assertThat(recent.get("events").findValuesAsText("uri")).containsExactly("u://1", "u://2");
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void brokerOutageAnswersWithErrorResults(BrokerExtension.Broker broker) throws Exception {
    Map<String, String> env = env(broker);
    env.put("RABBIT_URL", "amqp://guest:guest@127.0.0.1:1/");
    McpSyncClient c = client(env);
    try {
      // The catalog needs no broker.
      ok(call(c, "list_event_types", Map.of()));
      JsonNode down =
          failed(call(c, "publish_llm_prompt", Map.of("provider", "anthropic", "prompt", "hi")));
      assertThat(down.get("error").asText()).isEqualTo("broker_unreachable");
      assertThat(down.get("message").asText()).contains("127.0.0.1:1");
      failed(call(c, "recent_events", Map.of()));
      failed(call(c, "dead_letters", Map.of("queue", "orders.dlq")));
      // A dry run checks without the broker; the server is still up.
      ok(
          call(
              c,
              "publish_llm_prompt",
              Map.of("provider", "anthropic", "prompt", "hi", "dry_run", true)));
      assertThat(c.listTools().tools()).hasSize(9);
    } finally {
      c.closeGracefully();
    }
  }
}
