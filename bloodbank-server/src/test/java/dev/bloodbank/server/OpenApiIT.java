package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.BrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Checks {@code GET /openapi.json} against the server that serves it: the document lists exactly
 * the routes the server registers, every route answers under {@code /v1} as it does unprefixed, and
 * the document's references resolve.
 *
 * <p>The server runs without a speech model, so it does not register {@code /asr}; the document
 * describes {@code /asr} all the same (it is there whenever speech is on), so {@code ws /asr} is
 * the one documented route this server is allowed to lack.
 *
 * <p>Each test has its own exchange ({@code bloodbank.test.openapi-<8 hex>}) on the real RabbitMQ
 * at 127.0.0.1:5672 (guest/guest), deleted afterwards. Without the broker the tests fail when
 * {@code CI} is set and are skipped otherwise.
 */
class OpenApiIT {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final Duration TIMEOUT = Duration.ofSeconds(10);
  private static final Set<String> HTTP_METHODS =
      Set.of("get", "put", "post", "delete", "options", "head", "patch", "trace");

  /** Registered only when the server runs with a speech model. */
  private static final String ASR = "ws /asr";

  private static final Pattern PATH_PARAMETER = Pattern.compile("\\{([^}]+)}");

  /** Values for path parameters: ones the server can look up without side effects. */
  private static final Map<String, String> PATH_VALUES =
      Map.of("event_type", "llm.prompt", "event_id", UUID.randomUUID().toString());

  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private final String exchange = "bloodbank.test.openapi-" + id;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(TIMEOUT).build();
  private @Nullable BloodbankServer server;

  @BeforeEach
  void start() {
    BrokerExtension.requireService("RabbitMQ", "127.0.0.1", 5672);
    server =
        BloodbankServer.start(
            ServerOptions.builder()
                .host("127.0.0.1")
                .port(0)
                .bus(
                    BloodbankOptions.builder()
                        .address("127.0.0.1", 5672)
                        .credentials("guest", "guest")
                        .exchange(exchange)
                        .serviceName("test-openapi")
                        .build())
                .build());
  }

  @AfterEach
  void stop() throws Exception {
    if (server == null) {
      return;
    }
    try {
      server.close();
    } finally {
      deleteExchange();
    }
  }

  @Test
  void documentsExactlyTheRoutesTheServerRegisters() throws Exception {
    JsonNode doc = document("/openapi.json");

    assertThat(doc.path("openapi").asText()).startsWith("3.1.");
    assertThat(doc.path("info").path("description").asText()).contains("/v1");
    List<String> registered = server.routes();
    assertThat(registered).doesNotHaveDuplicates().doesNotContain(ASR);
    Set<String> expected = new TreeSet<>(registered);
    expected.add(ASR);
    assertThat(operations(doc)).containsExactlyInAnyOrderElementsOf(expected);
  }

  @Test
  void theDocumentIsTheSameUnderV1() throws Exception {
    assertThat(document("/v1/openapi.json")).isEqualTo(document("/openapi.json"));
  }

  @Test
  void everyDocumentedRouteAnswersUnderV1AsItDoesUnprefixed() throws Exception {
    // Sanity: a path nobody registered is recognised as such, so the check below means something.
    assertThat(noRoute(call("get", "/v1/no-such-route-" + id))).isTrue();

    for (String operation : operations(document("/openapi.json"))) {
      if (operation.equals(ASR)) {
        continue;
      }
      String method = operation.substring(0, operation.indexOf(' '));
      String path = fill(operation.substring(operation.indexOf(' ') + 1));
      if (method.equals("ws")) {
        assertWebSocketOpens(path);
        assertWebSocketOpens("/v1" + path);
        continue;
      }
      Answer plain = call(method, path);
      Answer v1 = call(method, "/v1" + path);
      assertThat(noRoute(plain)).as("%s %s: %s", method, path, plain).isFalse();
      assertThat(noRoute(v1)).as("%s /v1%s: %s", method, path, v1).isFalse();
      assertThat(v1.status()).as("%s /v1%s: %s", method, path, v1).isEqualTo(plain.status());
    }
  }

  @Test
  void everyReferenceResolvesAndEveryGuardedOperationDocumentsTheGuardsAnswers() throws Exception {
    JsonNode doc = document("/openapi.json");

    List<String> refs = new ArrayList<>();
    collectRefs(doc, refs);
    assertThat(refs).isNotEmpty();
    for (String ref : refs) {
      assertThat(ref).startsWith("#/");
      assertThat(doc.at(ref.substring(1)).isMissingNode()).as("unresolved %s", ref).isFalse();
    }

    for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
        paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
        Map.Entry<String, JsonNode> op = ops.next();
        if (!HTTP_METHODS.contains(op.getKey())) {
          continue;
        }
        String name = op.getKey() + " " + path.getKey();
        JsonNode o = op.getValue();
        assertThat(o.path("responses").size()).as(name).isPositive();
        JsonNode security = o.has("security") ? o.get("security") : doc.path("security");
        boolean guarded = security.size() > 0 && security.get(0).size() > 0;
        if (guarded) {
          assertThat(o.path("responses").fieldNames())
              .toIterable()
              .as(name)
              .contains("401", "403", "429", "503");
        }
        assertThat(o.path("parameters").toString()).as(name).contains("RequestId");
      }
    }
  }

  /** The documented operations as {@code method path}, WebSocket ones as {@code ws path}. */
  private static Set<String> operations(JsonNode doc) {
    Set<String> out = new TreeSet<>();
    for (Iterator<Map.Entry<String, JsonNode>> paths = doc.path("paths").fields();
        paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
        Map.Entry<String, JsonNode> op = ops.next();
        String method = op.getKey().toLowerCase(Locale.ROOT);
        if (!HTTP_METHODS.contains(method)) {
          continue; // parameters, summary, x-...
        }
        boolean ws = op.getValue().path("x-websocket").asBoolean(false);
        if (ws) {
          assertThat(method).as("x-websocket on %s %s", method, path.getKey()).isEqualTo("get");
        }
        out.add((ws ? "ws" : method) + " " + path.getKey());
      }
    }
    return out;
  }

  private static String fill(String template) {
    Matcher m = PATH_PARAMETER.matcher(template);
    StringBuilder out = new StringBuilder();
    while (m.find()) {
      String value = PATH_VALUES.get(m.group(1));
      assertThat(value).as("a test value for the path parameter {%s}", m.group(1)).isNotNull();
      m.appendReplacement(out, Matcher.quoteReplacement(value));
    }
    m.appendTail(out);
    return out.toString();
  }

  private static void collectRefs(JsonNode node, List<String> out) {
    if (node.isObject()) {
      JsonNode ref = node.get("$ref");
      if (ref != null && ref.isTextual()) {
        out.add(ref.asText());
      }
      node.elements().forEachRemaining(child -> collectRefs(child, out));
    } else if (node.isArray()) {
      node.elements().forEachRemaining(child -> collectRefs(child, out));
    }
  }

  private JsonNode document(String path) throws Exception {
    HttpResponse<String> r =
        http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as("GET %s: %s", path, r.body()).isEqualTo(200);
    assertThat(r.headers().firstValue("Content-Type")).get().asString().contains("json");
    assertThat(r.headers().firstValue("X-Request-Id")).isPresent();
    return JSON.readTree(r.body());
  }

  /** One answer; for a stream only its status and headers, read before the body is closed. */
  private record Answer(int status, String contentType, String body) {}

  private Answer call(String method, String path) throws Exception {
    HttpRequest.Builder b = request(path);
    if (method.equals("post")) {
      // {} is refused (400 or 422) by both publish routes, so nothing reaches the bus.
      b.header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString("{}"));
    } else {
      b.header("Accept", "application/json, text/event-stream")
          .method(method.toUpperCase(Locale.ROOT), HttpRequest.BodyPublishers.noBody());
    }
    HttpResponse<InputStream> r = http.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
    String type = r.headers().firstValue("Content-Type").orElse("");
    String body;
    try (InputStream in = r.body()) {
      // An event stream does not end; its status and headers are the answer.
      body =
          type.startsWith("text/event-stream")
              ? ""
              : new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    return new Answer(r.statusCode(), type, body);
  }

  /**
   * Whether the server has no route for the request: a 404 that is not one of the routes' own
   * (their 404s are JSON errors with codes such as {@code unknown_event_type}).
   */
  private static boolean noRoute(Answer a) {
    if (a.status() != 404) {
      return false;
    }
    if (!a.contentType().startsWith("application/json")) {
      return true;
    }
    try {
      String code = JSON.readTree(a.body()).path("error").asText("not_found");
      return code.equals("not_found");
    } catch (IOException e) {
      return true;
    }
  }

  private void assertWebSocketOpens(String path) throws Exception {
    URI uri = URI.create("ws://127.0.0.1:" + server.port() + path);
    WebSocket ws;
    try {
      ws =
          http.newWebSocketBuilder()
              .connectTimeout(TIMEOUT)
              .buildAsync(uri, new WebSocket.Listener() {})
              .get(TIMEOUT.toSeconds(), TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new AssertionError("the WebSocket " + uri + " did not open: " + e.getCause(), e);
    }
    ws.abort();
  }

  private HttpRequest.Builder request(String path) {
    return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
        .timeout(TIMEOUT);
  }

  private void deleteExchange() throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(5672);
    f.setUsername("guest");
    f.setPassword("guest");
    try (Connection c = f.newConnection("test-cleanup-openapi-" + id);
        Channel ch = c.createChannel()) {
      ch.exchangeDelete(exchange);
    }
  }
}
