package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import io.modelcontextprotocol.client.McpClient;
import io.modelcontextprotocol.client.McpSyncClient;
import io.modelcontextprotocol.client.transport.HttpClientStreamableHttpTransport;
import io.modelcontextprotocol.json.jackson2.JacksonMcpJsonMapper;
import io.modelcontextprotocol.spec.McpSchema;
import io.modelcontextprotocol.spec.McpSchema.CallToolResult;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * {@code /mcp} (#22): the MCP server over Streamable HTTP, driven by the SDK's own client, with a
 * key that may publish, one that may only read, and none.
 */
@ExtendWith(BrokerExtension.class)
class McpHttpIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String ADMIN = "admin-secret-0123456789";
  static final String READER = "reader-secret-0123456789";
  static final String PUBLISHER = "publisher-secret-0123456789";

  BloodbankServer server;

  @BeforeEach
  void start(BrokerExtension.Broker broker) {
    ApiKeys keys =
        ApiKeys.parse(
            "admin publish,read "
                + ADMIN
                + "\nreader read "
                + READER
                + "\npublisher publish "
                + PUBLISHER,
            "keys.txt");
    server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(broker.options().build())
                .apiKeys(keys)
                .build());
  }

  @AfterEach
  void stop() {
    server.close();
  }

  McpSyncClient client(@Nullable String key) {
    HttpRequest.Builder request = HttpRequest.newBuilder();
    if (key != null) {
      request.header("Authorization", "Bearer " + key);
    }
    McpSyncClient c =
        McpClient.sync(
                HttpClientStreamableHttpTransport.builder("http://127.0.0.1:" + server.port())
                    .endpoint("/mcp")
                    .jsonMapper(new JacksonMcpJsonMapper(JSON))
                    .requestBuilder(request)
                    .build())
            .requestTimeout(Duration.ofSeconds(20))
            .build();
    return c;
  }

  static JsonNode result(CallToolResult r, boolean error) {
    assertThat(r.isError()).as("%s", r.content()).isEqualTo(error);
    return JSON.valueToTree(r.structuredContent());
  }

  @Test
  void aPublishingKeyUsesEveryKindOfTool(BrokerExtension.Broker broker) throws Exception {
    String raw = broker.rawQueue("#");
    McpSyncClient c = client(ADMIN);
    try {
      c.initialize();
      assertThat(c.listTools().tools()).hasSize(9);
      JsonNode types =
          result(c.callTool(new McpSchema.CallToolRequest("list_event_types", Map.of())), false);
      assertThat(types.get("count").asInt()).isPositive();
      McpSchema.ReadResourceResult schema =
          c.readResource(new McpSchema.ReadResourceRequest("bloodbank://schemas/llm.response"));
      assertThat(((McpSchema.TextResourceContents) schema.contents().get(0)).text())
          .contains("\"response\"");

      JsonNode prompt =
          result(
              c.callTool(
                  new McpSchema.CallToolRequest(
                      "publish_llm_prompt",
                      Map.of("provider", "anthropic", "prompt", "hi", "model", "claude"))),
              false);
      List<GetResponse> got = broker.drain(raw, 1, Duration.ofSeconds(10));
      assertThat(got).hasSize(1);
      JsonNode sent = JSON.readTree(new String(got.get(0).getBody(), StandardCharsets.UTF_8));
      assertThat(sent.get("event_id").asText()).isEqualTo(prompt.get("event_id").asText());
      assertThat(sent.at("/payload/model").asText()).isEqualTo("claude");

      JsonNode bad =
          result(
              c.callTool(
                  new McpSchema.CallToolRequest(
                      "publish_event",
                      Map.of("event_type", "llm.response", "payload", Map.of("provider", "p")))),
              true);
      assertThat(bad.get("violations").toString()).contains("/response");
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void aReadKeyCannotPublish(BrokerExtension.Broker broker) throws Exception {
    String raw = broker.rawQueue("#");
    McpSyncClient c = client(READER);
    try {
      c.initialize();
      result(
          c.callTool(
              new McpSchema.CallToolRequest("show_schema", Map.of("event_type", "llm.prompt"))),
          false);
      JsonNode refused =
          result(
              c.callTool(
                  new McpSchema.CallToolRequest(
                      "publish_llm_prompt", Map.of("provider", "anthropic", "prompt", "hi"))),
              true);
      assertThat(refused.get("error").asText()).isEqualTo("forbidden");
      result(
          c.callTool(
              new McpSchema.CallToolRequest(
                  "publish_llm_prompt",
                  Map.of("provider", "anthropic", "prompt", "hi", "dry_run", true))),
          false);
      assertThat(broker.drain(raw, 1, Duration.ofMillis(500))).isEmpty();
    } finally {
      c.closeGracefully();
    }
  }

  @Test
  void refusedRequestsGetTheGatewaysErrors() throws Exception {
    McpSyncClient c = client(null);
    try {
      assertThatThrownBy(c::initialize).isInstanceOf(RuntimeException.class);
    } finally {
      c.close();
    }
    HttpClient http = HttpClient.newHttpClient();
    String init =
        "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"initialize\",\"params\":{"
            + "\"protocolVersion\":\"2025-06-18\",\"capabilities\":{},"
            + "\"clientInfo\":{\"name\":\"t\",\"version\":\"1\"}}}";
    for (String authorization :
        new String[] {null, "Bearer wrong-secret-0123456789", "Bearer " + PUBLISHER}) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/mcp"))
              .header("Content-Type", "application/json")
              .header("Accept", "application/json, text/event-stream")
              .POST(HttpRequest.BodyPublishers.ofString(init));
      if (authorization != null) {
        b.header("Authorization", authorization);
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      if (authorization != null && authorization.endsWith(PUBLISHER)) {
        // Connecting needs 'read'; 'publish' alone is not enough.
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("forbidden");
        continue;
      }
      assertThat(r.statusCode()).isEqualTo(401);
      assertThat(r.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"bloodbank\"");
      assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo("unauthorized");
    }
    // A web page cannot reach it behind a user's back: JSON only, no foreign Origin.
    String[][] refused = {
      {"Content-Type", "text/plain", "415", "unsupported_media_type"},
      {"Origin", "http://evil.example", "403", "origin_not_allowed"}
    };
    for (String[] header : refused) {
      HttpRequest.Builder b =
          HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/mcp"))
              .header("Authorization", "Bearer " + ADMIN)
              .header("Accept", "application/json, text/event-stream")
              .POST(HttpRequest.BodyPublishers.ofString(init));
      b.header(header[0], header[1]);
      if (!header[0].equals("Content-Type")) {
        b.header("Content-Type", "application/json");
      }
      HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(Integer.parseInt(header[2]));
      assertThat(JSON.readTree(r.body()).get("error").asText()).isEqualTo(header[3]);
    }
  }
}
