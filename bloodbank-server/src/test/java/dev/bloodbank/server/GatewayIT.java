package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventIds;
import dev.bloodbank.correlation.RedisTrackerOptions;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The gateway end to end on the real RabbitMQ (and Redis for causation), through the JDK's HTTP
 * client: every route, every error status, keys and scopes, limits, and live-tail clients that
 * read, stall or vanish.
 */
@ExtendWith(BrokerExtension.class)
class GatewayIT {
  static final ObjectMapper JSON = new ObjectMapper();
  static final String PROMPT =
      "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}";
  static final String ADMIN = "admin-secret-0123456789";
  static final String READER = "reader-secret-0123456789";
  static final String PUBLISHER = "publisher-secret-0123456789";

  final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  final List<BloodbankServer> servers = new ArrayList<>();

  @AfterEach
  void stop() {
    servers.forEach(BloodbankServer::close);
  }

  BloodbankServer start(
      BrokerExtension.Broker broker, UnaryOperator<ServerOptions.Builder> change) {
    BloodbankServer s =
        BloodbankServer.start(
            change
                .apply(
                    ServerOptions.builder().host("127.0.0.1").port(0).bus(broker.options().build()))
                .build());
    servers.add(s);
    return s;
  }

  record Answer(int status, JsonNode body, HttpResponse<String> raw) {}

  Answer call(BloodbankServer s, String method, String path, String body, String... headers)
      throws Exception {
    HttpRequest.Builder b =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + path))
            .timeout(Duration.ofSeconds(20))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (body != null) {
      b.header("Content-Type", "application/json");
    }
    for (int i = 0; i < headers.length; i += 2) {
      b.setHeader(headers[i], headers[i + 1]);
    }
    HttpResponse<String> r = http.send(b.build(), HttpResponse.BodyHandlers.ofString());
    JsonNode n;
    try {
      n = r.body().isEmpty() ? JSON.createObjectNode() : JSON.readTree(r.body());
    } catch (Exception e) {
      n = JSON.createObjectNode().put("_text", r.body());
    }
    assertThat(r.headers().firstValue("X-Request-Id")).as(path).isPresent();
    return new Answer(r.statusCode(), n, r);
  }

  static void await(BooleanSupplier condition, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    while (!condition.getAsBoolean()) {
      assertThat(System.nanoTime()).as("condition not met in " + max).isLessThan(deadline);
      Thread.sleep(20);
    }
  }

  @Test
  void healthCatalogAndSchemaAnswerUnderBothPrefixes(BrokerExtension.Broker broker)
      throws Exception {
    BloodbankServer s = start(broker, b -> b);
    for (String prefix : List.of("", "/v1")) {
      assertThat(call(s, "GET", prefix + "/health", null).body().get("status").asText())
          .isEqualTo("alive");
      Answer ready = call(s, "GET", prefix + "/healthz", null);
      assertThat(ready.status()).as(ready.body().toString()).isEqualTo(200);
      assertThat(ready.body().get("ready").asBoolean()).isTrue();
      assertThat(ready.body().at("/broker/connected").asBoolean()).isTrue();
      Answer catalog = call(s, "GET", prefix + "/events", null);
      assertThat(catalog.body().get("count").asInt()).isGreaterThan(20);
      assertThat(catalog.body().findValuesAsText("event_type")).contains("llm.prompt");
      Answer schema = call(s, "GET", prefix + "/events/llm.prompt/schema", null);
      assertThat(schema.status()).isEqualTo(200);
      assertThat(schema.body().at("/properties/prompt").isObject()).isTrue();
    }
    Answer unknown = call(s, "GET", "/events/no.such.event/schema", null);
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().get("error").asText()).isEqualTo("unknown_event_type");
    Answer noRoute = call(s, "GET", "/nothing/here", null);
    assertThat(noRoute.status()).isEqualTo(404);
    assertThat(noRoute.body().get("error").asText()).isEqualTo("not_found");
    Answer echoed = call(s, "GET", "/health", null, "X-Request-Id", "abc-123");
    assertThat(echoed.raw().headers().firstValue("X-Request-Id")).hasValue("abc-123");
  }

  @Test
  void publishAnswers202AfterTheConfirmAndTheEventIsOnTheBroker(BrokerExtension.Broker broker)
      throws Exception {
    BloodbankServer s = start(broker, b -> b);
    String q = broker.rawQueue("#");
    Answer plain = call(s, "POST", "/events/llm.prompt", PROMPT);
    assertThat(plain.status()).as(plain.body().toString()).isEqualTo(202);
    String id = plain.body().get("event_id").asText();

    UUID parent = UUID.randomUUID();
    String wrapper =
        "{\"payload\":"
            + PROMPT
            + ",\"correlation_ids\":[\""
            + parent
            + "\"],\"deterministic_id_keys\":{\"meeting_id\":\"abc123\"},"
            + "\"agent_context\":{\"type\":\"claude-code\",\"name\":\"tester\"}}";
    Answer wrapped = call(s, "POST", "/v1/events/llm.prompt", wrapper);
    assertThat(wrapped.status()).as(wrapped.body().toString()).isEqualTo(202);
    assertThat(wrapped.body().get("event_id").asText())
        .isEqualTo(EventIds.deterministic("llm.prompt", Map.of("meeting_id", "abc123")).toString());
    assertThat(wrapped.body().get("correlation_ids").get(0).asText()).isEqualTo(parent.toString());

    String custom =
        "{\"event_type\":\"llm.prompt\",\"payload\":"
            + PROMPT
            + ",\"source\":{\"host\":\"h\","
            + "\"type\":\"manual\",\"app\":\"curl\"}}";
    Answer c = call(s, "POST", "/events/custom", custom);
    assertThat(c.status()).as(c.body().toString()).isEqualTo(202);

    List<GetResponse> got = broker.drain(q, 3, Duration.ofSeconds(5));
    assertThat(got)
        .extracting(g -> g.getProps().getMessageId())
        .containsExactly(
            id, wrapped.body().get("event_id").asText(), c.body().get("event_id").asText());
    JsonNode second = JSON.readTree(got.get(1).getBody());
    assertThat(second.at("/agent_context/name").asText()).isEqualTo("tester");
    assertThat(second.at("/payload/prompt").asText()).isEqualTo("hi");
    JsonNode third = JSON.readTree(got.get(2).getBody());
    assertThat(third.at("/source/app").asText()).isEqualTo("curl");
    JsonNode first = JSON.readTree(got.get(0).getBody());
    assertThat(first.at("/source/app").asText()).isEqualTo("bloodbank-server");
  }

  @Test
  void badRequestsGetAnErrorThatNamesWhatIsWrong(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b.maxBodyBytes(2048));
    Answer malformed = call(s, "POST", "/events/llm.prompt", "{\"provider\": \n oops}");
    assertThat(malformed.status()).isEqualTo(400);
    assertThat(malformed.body().get("message").asText()).contains("line 2");
    assertThat(malformed.body().get("request_id").asText()).isNotEmpty();

    // A key given twice could mean one thing to the gateway and another to a consumer.
    Answer twice =
        call(s, "POST", "/events/llm.prompt", "{\"provider\": \"a\", \"provider\": \"b\"}");
    assertThat(twice.status()).isEqualTo(400);
    assertThat(twice.body().get("message").asText()).contains("provider").contains("line 1");

    Answer notObject = call(s, "POST", "/events/llm.prompt", "[1,2]");
    assertThat(notObject.status()).isEqualTo(400);
    assertThat(call(s, "POST", "/events/llm.prompt", "").status()).isEqualTo(400);

    Answer invalid =
        call(s, "POST", "/events/llm.prompt", "{\"provider\":\"anthropic\",\"model\":5}");
    assertThat(invalid.status()).isEqualTo(422);
    assertThat(invalid.body().get("error").asText()).isEqualTo("schema_violation");
    assertThat(invalid.body().get("violations").findValuesAsText("pointer"))
        .contains("/payload/model", "/payload/prompt");

    Answer unknown = call(s, "POST", "/events/no.such.event", "{}");
    assertThat(unknown.status()).isEqualTo(404);
    assertThat(unknown.body().get("error").asText()).isEqualTo("unknown_event_type");

    Answer badType = call(s, "POST", "/events/custom", "{\"payload\":{}}");
    assertThat(badType.status()).isEqualTo(400);
    assertThat(badType.body().get("message").asText()).contains("/event_type");

    String big = "{\"provider\":\"a\",\"model\":\"m\",\"prompt\":\"" + "x".repeat(4000) + "\"}";
    Answer tooLarge = call(s, "POST", "/events/llm.prompt", big);
    assertThat(tooLarge.status()).isEqualTo(413);
    assertThat(tooLarge.body().get("message").asText()).contains("2048");

    Answer badId = call(s, "GET", "/correlation/not-a-uuid", null);
    assertThat(badId.status()).isIn(400, 503);
  }

  @Test
  void keysAndScopesAreEnforcedAndHealthStaysOpen(BrokerExtension.Broker broker) throws Exception {
    ApiKeys keys =
        ApiKeys.parse(
            "admin publish,read,asr "
                + ADMIN
                + "\nreader read "
                + READER
                + "\n# a comment\npublisher publish "
                + PUBLISHER,
            "keys.txt");
    BloodbankServer s = start(broker, b -> b.apiKeys(keys));
    assertThat(call(s, "GET", "/health", null).status()).isEqualTo(200);
    assertThat(call(s, "GET", "/healthz", null).status()).isEqualTo(200);
    Answer none = call(s, "GET", "/events", null);
    assertThat(none.status()).isEqualTo(401);
    assertThat(none.raw().headers().firstValue("WWW-Authenticate")).isPresent();
    assertThat(
            call(s, "GET", "/events", null, "Authorization", "Bearer wrong-key-0123456789")
                .status())
        .isEqualTo(401);
    assertThat(call(s, "GET", "/events", null, "Authorization", "Basic abc").status())
        .isEqualTo(401);
    assertThat(call(s, "GET", "/events", null, "Authorization", "Bearer " + READER).status())
        .isEqualTo(200);
    Answer forbidden =
        call(s, "POST", "/events/llm.prompt", PROMPT, "Authorization", "Bearer " + READER);
    assertThat(forbidden.status()).isEqualTo(403);
    assertThat(forbidden.body().get("message").asText()).contains("reader").contains("publish");
    assertThat(call(s, "GET", "/events", null, "Authorization", "Bearer " + PUBLISHER).status())
        .isEqualTo(403);
    assertThat(
            call(s, "POST", "/events/llm.prompt", PROMPT, "Authorization", "Bearer " + PUBLISHER)
                .status())
        .isEqualTo(202);
    // A key in the query string is for browsers' EventSource and WebSocket only, never a POST.
    assertThat(call(s, "POST", "/events/llm.prompt?access_token=" + ADMIN, PROMPT).status())
        .isEqualTo(401);
    assertThat(call(s, "GET", "/events?access_token=" + READER, null).status()).isEqualTo(401);
    try (RawSse sse = new RawSse(s.port(), "/events/stream?access_token=" + READER, 1 << 16)) {
      assertThat(sse.readUntil("event: ready", Duration.ofSeconds(5))).contains("event: ready");
    }
    try (RawSse sse = new RawSse(s.port(), "/events/stream?pattern=a..b", 1 << 16)) {
      assertThat(sse.readUntil("\r\n\r\n", Duration.ofSeconds(5))).startsWith("HTTP/1.1 401");
    }
    assertThat(keys.toString()).doesNotContain(ADMIN).contains("admin");
  }

  @Test
  void aClientOverItsRateGets429WithRetryAfter(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b.rateLimit(2));
    List<Integer> statuses = new ArrayList<>();
    Answer last = null;
    for (int i = 0; i < 6; i++) {
      last = call(s, "GET", "/events", null);
      statuses.add(last.status());
    }
    assertThat(statuses).contains(429).startsWith(200);
    Answer limited = call(s, "GET", "/events", null);
    assertThat(limited.status()).isEqualTo(429);
    assertThat(limited.raw().headers().firstValue("Retry-After")).isPresent();
    assertThat(call(s, "GET", "/health", null).status()).isEqualTo(200);
  }

  @Test
  void causationRoutesReadTheRedisGraph(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s =
        start(
            broker,
            b ->
                b.bus(
                    broker
                        .options()
                        .correlation(
                            RedisTrackerOptions.builder()
                                .uri("redis://127.0.0.1:6379")
                                .ttl(Duration.ofMinutes(10))
                                .build())
                        .build()));
    Answer parent = call(s, "POST", "/events/llm.prompt", PROMPT);
    String p = parent.body().get("event_id").asText();
    Answer child =
        call(
            s,
            "POST",
            "/events/llm.prompt",
            "{\"payload\":" + PROMPT + ",\"correlation_ids\":[\"" + p + "\"]}");
    String c = child.body().get("event_id").asText();
    await(
        () -> {
          try {
            return call(s, "GET", "/correlation/" + c, null).status() == 200
                && call(s, "GET", "/correlation/" + c, null).body().at("/ancestors/edges").size()
                    == 1;
          } catch (Exception e) {
            return false;
          }
        },
        Duration.ofSeconds(10));
    Answer graph = call(s, "GET", "/correlation/" + c + "?depth=3", null);
    assertThat(graph.body().at("/ancestors/edges/0/parent").asText()).isEqualTo(p);
    Answer down = call(s, "GET", "/correlation/" + p, null);
    assertThat(down.body().at("/descendants/levels/1/0").asText()).isEqualTo(c);
    Answer chain = call(s, "GET", "/debug/correlation/" + c + "/chain", null);
    assertThat(chain.body().get("chain").get(0).asText()).isEqualTo(p);
    assertThat(chain.body().get("count").asInt()).isEqualTo(1);
    Answer descendants =
        call(s, "GET", "/debug/correlation/" + p + "/chain?direction=descendants", null);
    assertThat(descendants.body().get("chain").get(0).asText()).isEqualTo(c);
    assertThat(call(s, "GET", "/debug/correlation/" + p + "/chain?direction=up", null).status())
        .isEqualTo(400);
    Answer dump = call(s, "GET", "/debug/correlation/" + c + "/dump", null);
    assertThat(dump.status()).as(dump.body().toString()).isEqualTo(200);
    assertThat(dump.body().at("/node/parent_ids/0").asText()).isEqualTo(p);
    assertThat(call(s, "GET", "/correlation/" + c + "?depth=0", null).status()).isEqualTo(400);
    assertThat(call(s, "GET", "/correlation/nope", null).status()).isEqualTo(400);
    String stranger = UUID.randomUUID().toString();
    assertThat(call(s, "GET", "/debug/correlation/" + stranger + "/chain", null).status())
        .isEqualTo(404);
    assertThat(call(s, "GET", "/debug/correlation/" + stranger + "/dump", null).status())
        .isEqualTo(404);
  }

  @Test
  void causationWithoutATrackerIs503(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b);
    Answer a = call(s, "GET", "/correlation/" + UUID.randomUUID(), null);
    assertThat(a.status()).isEqualTo(503);
    assertThat(a.body().get("error").asText()).isEqualTo("tracking_disabled");
    Answer h = call(s, "GET", "/healthz", null);
    assertThat(h.body().at("/redis/configured").asBoolean()).isFalse();
  }

  /** An SSE client on a raw socket: it reads only when asked to. */
  static final class RawSse implements AutoCloseable {
    final Socket socket;
    final InputStream in;

    RawSse(int port, String pathAndQuery, int receiveBuffer) throws Exception {
      socket = new Socket();
      socket.setReceiveBufferSize(receiveBuffer);
      socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 2000);
      OutputStream out = socket.getOutputStream();
      out.write(
          ("GET "
                  + pathAndQuery
                  + " HTTP/1.1\r\nHost: 127.0.0.1:"
                  + port
                  + "\r\nAccept: text/event-stream\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      in = socket.getInputStream();
    }

    /** Reads until the text appears or the stream ends; returns what was read. */
    String readUntil(String text, Duration max) throws Exception {
      socket.setSoTimeout((int) max.toMillis());
      StringBuilder sb = new StringBuilder();
      byte[] buf = new byte[65536];
      long deadline = System.nanoTime() + max.toNanos();
      while (System.nanoTime() < deadline && sb.indexOf(text) < 0) {
        int n;
        try {
          n = in.read(buf);
        } catch (java.net.SocketTimeoutException e) {
          break;
        }
        if (n < 0) {
          break;
        }
        sb.append(new String(buf, 0, n, StandardCharsets.UTF_8));
        if (sb.length() > 64 << 20) {
          sb.delete(0, sb.length() - (1 << 20));
        }
      }
      return sb.toString();
    }

    @Override
    public void close() throws Exception {
      socket.close();
    }
  }

  @Test
  void sseTailsAPatternAndDropsAStalledClientWithoutSlowingOthers(BrokerExtension.Broker broker)
      throws Exception {
    BloodbankServer s = start(broker, b -> b.tailBuffer(256).rateLimit(0));
    try (RawSse fast = new RawSse(s.port(), "/events/stream?pattern=llm.%23", 1 << 16);
        RawSse stalled = new RawSse(s.port(), "/events/stream?pattern=llm.%23", 4096)) {
      assertThat(fast.readUntil("event: ready", Duration.ofSeconds(5)))
          .contains("text/event-stream");
      await(() -> s.tailClients() == 2, Duration.ofSeconds(5));
      // Not in the pattern: never reaches the tail.
      call(s, "POST", "/events/custom", "{\"event_type\":\"artifact.created\",\"payload\":{}}");
      String big = "{\"provider\":\"a\",\"model\":\"m\",\"prompt\":\"" + "x".repeat(8000) + "\"}";
      // 12 MB: more than the stalled client's socket buffers and its 256 events of room.
      int n = 1500;
      CompletableFuture<String> reading =
          CompletableFuture.supplyAsync(
              () -> {
                try {
                  return readEvents(fast, n, Duration.ofSeconds(60));
                } catch (Exception e) {
                  throw new java.util.concurrent.CompletionException(e);
                }
              });
      List<CompletableFuture<HttpResponse<String>>> sent = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        sent.add(
            http.sendAsync(
                HttpRequest.newBuilder(
                        URI.create("http://127.0.0.1:" + s.port() + "/events/llm.prompt"))
                    .POST(HttpRequest.BodyPublishers.ofString(big))
                    .build(),
                HttpResponse.BodyHandlers.ofString()));
        if (sent.size() >= 32) {
          assertThat(sent.remove(0).get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
        }
      }
      for (var f : sent) {
        assertThat(f.get(20, TimeUnit.SECONDS).statusCode()).isEqualTo(202);
      }
      // The reading client gets every event; the stalled one is dropped meanwhile.
      String all = reading.get(60, TimeUnit.SECONDS);
      assertThat(all).contains("llm.prompt").doesNotContain("artifact.created");
      await(() -> s.tailClients() == 1, Duration.ofSeconds(15));
      String rest = stalled.readUntil("event: dropped", Duration.ofSeconds(15));
      assertThat(rest).contains("event: dropped").contains("behind");
    }
    // The reader hung up: the next write finds out.
    for (int i = 0; i < 40 && s.tailClients() > 0; i++) {
      call(s, "POST", "/events/llm.prompt", PROMPT);
      Thread.sleep(50);
    }
    await(() -> s.tailClients() == 0, Duration.ofSeconds(10));
  }

  /**
   * Reads until {@code n} events arrived; returns the event types seen (one line each) and any
   * notice. Counts as it goes, keeping only a little text, so the reader is never the slow one.
   */
  private static String readEvents(RawSse sse, int n, Duration max) throws Exception {
    sse.socket.setSoTimeout(5000);
    StringBuilder seen = new StringBuilder();
    StringBuilder line = new StringBuilder();
    byte[] buf = new byte[1 << 16];
    long deadline = System.nanoTime() + max.toNanos();
    int count = 0;
    boolean dropped = false;
    while (count < n && System.nanoTime() < deadline) {
      int r;
      try {
        r = sse.in.read(buf);
      } catch (java.net.SocketTimeoutException e) {
        break;
      }
      if (r < 0) {
        break;
      }
      for (int i = 0; i < r; i++) {
        char c = (char) (buf[i] & 0xff);
        if (c != '\n') {
          if (line.length() < 160) {
            line.append(c);
          }
          continue;
        }
        String l = line.toString();
        line.setLength(0);
        if (l.equals("event: event")) {
          count++;
        } else if (l.equals("event: dropped")) {
          dropped = true;
        }
        if (l.startsWith("data: {") && l.contains("event_type")) {
          seen.append(l).append('\n');
        }
      }
    }
    assertThat(count)
        .as(
            "events received by the reading client (%s)",
            dropped ? "it was dropped" : "not dropped")
        .isEqualTo(n);
    return seen.toString();
  }

  @Test
  void aVanishedSseClientIsNoticedAndItsQueueGoes(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b);
    RawSse gone = new RawSse(s.port(), "/events/stream", 1 << 16);
    gone.readUntil("event: ready", Duration.ofSeconds(5));
    await(() -> s.tailClients() == 1, Duration.ofSeconds(5));
    gone.close();
    for (int i = 0; i < 20 && s.tailClients() > 0; i++) {
      call(s, "POST", "/events/llm.prompt", PROMPT);
      Thread.sleep(50);
    }
    await(() -> s.tailClients() == 0, Duration.ofSeconds(10));
    assertThat(call(s, "GET", "/events/stream?pattern=a..b", null).status()).isEqualTo(400);
  }

  @Test
  void webSocketTailDeliversEnvelopesAndRefusesForeignOrigins(BrokerExtension.Broker broker)
      throws Exception {
    BloodbankServer s = start(broker, b -> b);
    List<String> got = new CopyOnWriteArrayList<>();
    WebSocket ws =
        http.newWebSocketBuilder()
            .buildAsync(
                URI.create("ws://127.0.0.1:" + s.port() + "/events/ws?pattern=llm.prompt"),
                new WebSocket.Listener() {
                  final StringBuilder text = new StringBuilder();

                  @Override
                  public CompletionStage<?> onText(WebSocket w, CharSequence data, boolean last) {
                    text.append(data);
                    if (last) {
                      got.add(text.toString());
                      text.setLength(0);
                    }
                    w.request(1);
                    return null;
                  }
                })
            .get(5, TimeUnit.SECONDS);
    await(() -> s.tailClients() == 1, Duration.ofSeconds(5));
    String id = call(s, "POST", "/events/llm.prompt", PROMPT).body().get("event_id").asText();
    await(() -> !got.isEmpty(), Duration.ofSeconds(10));
    assertThat(JSON.readTree(got.get(0)).get("event_id").asText()).isEqualTo(id);
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "bye").get(5, TimeUnit.SECONDS);
    await(() -> s.tailClients() == 0, Duration.ofSeconds(10));

    CompletableFuture<WebSocket> foreign =
        http.newWebSocketBuilder()
            .header("Origin", "http://evil.example")
            .buildAsync(
                URI.create("ws://127.0.0.1:" + s.port() + "/events/ws"),
                new WebSocket.Listener() {});
    assertThat(foreign).failsWithin(Duration.ofSeconds(5));
  }

  @Test
  void webPagesCannotPublishToAnOpenServer(BrokerExtension.Broker broker) throws Exception {
    BloodbankServer s = start(broker, b -> b);
    // A form or no-cors fetch from another site: a "simple" request, no preflight.
    Answer form =
        call(s, "POST", "/events/llm.prompt", PROMPT, "Content-Type", "text/plain;charset=UTF-8");
    assertThat(form.status()).isEqualTo(415);
    Answer foreign = call(s, "POST", "/events/llm.prompt", PROMPT, "Origin", "http://evil.example");
    assertThat(foreign.status()).isEqualTo(403);
    assertThat(foreign.body().get("error").asText()).isEqualTo("origin_not_allowed");
    Answer own =
        call(s, "POST", "/events/llm.prompt", PROMPT, "Origin", "http://127.0.0.1:" + s.port());
    assertThat(own.status()).isEqualTo(202);
    // DNS rebinding: a page whose name now points at 127.0.0.1 sends its own name as Host.
    HttpURLConnectionProbe rebound =
        new HttpURLConnectionProbe(s.port(), "attacker.example:" + s.port());
    assertThat(rebound.status("/events")).isEqualTo(403);
    assertThat(call(s, "GET", "/events/stream?pattern=x%0AFAKE", null).status()).isEqualTo(400);
  }

  /** A raw request with a chosen Host header, which the JDK's HTTP client will not send. */
  record HttpURLConnectionProbe(int port, String host) {
    int status(String path) throws Exception {
      try (Socket socket = new Socket("127.0.0.1", port)) {
        socket
            .getOutputStream()
            .write(
                ("GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.US_ASCII));
        String head = new String(socket.getInputStream().readNBytes(12), StandardCharsets.US_ASCII);
        return Integer.parseInt(head.substring(9, 12));
      }
    }
  }

  @Test
  void badConfigurationNamesTheVariableAndNeverASecret(@org.junit.jupiter.api.io.TempDir Path dir)
      throws Exception {
    org.assertj.core.api.Assertions.assertThatThrownBy(
            () ->
                ServerOptions.fromEnvironment(
                    Map.of("BLOODBANK_SERVER_MAX_BODY_BYTES", "10"), null))
        .hasMessageContaining("BLOODBANK_SERVER_MAX_BODY_BYTES")
        .hasMessageContaining("1024");
    Path keys = dir.resolve("keys");
    java.nio.file.Files.writeString(keys, "# comment\n" + ADMIN + " publish n8n\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ApiKeys.read(keys))
        .hasMessageContaining(keys + ":2")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(ADMIN));
    java.nio.file.Files.writeString(keys, "n8n " + ADMIN + " publish\n");
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> ApiKeys.read(keys))
        .hasMessageContaining(keys + ":1")
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain(ADMIN));
  }

  @Test
  void corsIsOffByDefaultAndAllowsOnlyTheConfiguredOrigins(BrokerExtension.Broker broker)
      throws Exception {
    BloodbankServer closed = start(broker, b -> b);
    Answer none = call(closed, "GET", "/events", null, "Origin", "http://app.example");
    assertThat(none.raw().headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
    BloodbankServer open = start(broker, b -> b.corsOrigins(List.of("http://app.example")));
    Answer allowed = call(open, "GET", "/events", null, "Origin", "http://app.example");
    assertThat(allowed.raw().headers().firstValue("Access-Control-Allow-Origin"))
        .hasValue("http://app.example");
    Answer other = call(open, "GET", "/events", null, "Origin", "http://evil.example");
    assertThat(other.raw().headers().firstValue("Access-Control-Allow-Origin")).isEmpty();
  }

  @Test
  void servesHttpsFromAKeystore(
      BrokerExtension.Broker broker, @org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
    Path store = dir.resolve("server.p12");
    String keytool = Path.of(System.getProperty("java.home"), "bin", "keytool").toString();
    Process kt =
        new ProcessBuilder(
                keytool,
                "-genkeypair",
                "-alias",
                "server",
                "-keyalg",
                "RSA",
                "-keysize",
                "2048",
                "-dname",
                "CN=localhost",
                "-ext",
                "SAN=ip:127.0.0.1,dns:localhost",
                "-validity",
                "2",
                "-storetype",
                "PKCS12",
                "-keystore",
                store.toString(),
                "-storepass",
                "changeit",
                "-keypass",
                "changeit")
            .redirectErrorStream(true)
            .start();
    assertThat(kt.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(kt.exitValue()).as(new String(kt.getInputStream().readAllBytes())).isZero();
    BloodbankServer s = start(broker, b -> b.tls(store, "changeit".toCharArray()));
    java.security.KeyStore ks = java.security.KeyStore.getInstance("PKCS12");
    try (InputStream in = java.nio.file.Files.newInputStream(store)) {
      ks.load(in, "changeit".toCharArray());
    }
    javax.net.ssl.TrustManagerFactory tmf =
        javax.net.ssl.TrustManagerFactory.getInstance(
            javax.net.ssl.TrustManagerFactory.getDefaultAlgorithm());
    tmf.init(ks);
    javax.net.ssl.SSLContext ssl = javax.net.ssl.SSLContext.getInstance("TLS");
    ssl.init(null, tmf.getTrustManagers(), null);
    HttpClient https = HttpClient.newBuilder().sslContext(ssl).build();
    HttpResponse<String> r =
        https.send(
            HttpRequest.newBuilder(
                    URI.create("https://127.0.0.1:" + s.port() + "/events/llm.prompt"))
                .POST(HttpRequest.BodyPublishers.ofString(PROMPT))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(r.statusCode()).as(r.body()).isEqualTo(202);
    // Plain HTTP on the TLS port is not served.
    org.assertj.core.api.Assertions.assertThatThrownBy(() -> call(s, "GET", "/health", null))
        .isInstanceOf(Exception.class);
  }

  @Test
  void nonLoopbackWithoutKeysIsRefusedUnlessAllowed() {
    var b = ServerOptions.builder().host("0.0.0.0").bus(dev.bloodbank.BloodbankOptions.defaults());
    org.assertj.core.api.Assertions.assertThatThrownBy(b::build)
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("no API keys");
    assertThat(b.allowAnonymous(true).build().allowAnonymous()).isTrue();
    assertThat(
            b.allowAnonymous(false)
                .apiKeys(ApiKeys.of("k", ADMIN, EnumSet.of(Scope.READ)))
                .build()
                .apiKeys()
                .names())
        .containsExactly("k");
  }

  @Test
  void sigtermStopsTheProcessInOrderAndItExitsZero(BrokerExtension.Broker broker) throws Exception {
    ProcessBuilder pb =
        new ProcessBuilder(
                ProcessHandle.current().info().command().orElse("java"),
                "-cp",
                System.getProperty("java.class.path"),
                ServerMain.class.getName())
            .redirectErrorStream(true);
    pb.environment().put("BLOODBANK_SERVER_PORT", "0");
    pb.environment().put("BLOODBANK_EXCHANGE", broker.exchange());
    pb.environment().put("BLOODBANK_SERVICE_NAME", broker.serviceName());
    Process p = pb.start();
    List<String> lines = new CopyOnWriteArrayList<>();
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader out =
                  new BufferedReader(
                      new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = out.readLine()) != null; ) {
                  lines.add(line);
                }
              } catch (java.io.IOException e) {
                lines.add("(read failed: " + e + ")");
              }
            });
    reader.start();
    try {
      var started = java.util.regex.Pattern.compile("bloodbank-server on http://127.0.0.1:(\\d+)");
      await(() -> lines.stream().anyMatch(l -> started.matcher(l).find()), Duration.ofSeconds(30));
      var m =
          started.matcher(lines.stream().filter(l -> started.matcher(l).find()).findFirst().get());
      assertThat(m.find()).isTrue();
      String port = m.group(1);
      HttpResponse<String> r =
          http.send(
              HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/healthz")).build(),
              HttpResponse.BodyHandlers.ofString());
      assertThat(r.statusCode()).isEqualTo(200);
      Process kill = new ProcessBuilder("kill", "-TERM", String.valueOf(p.pid())).start();
      assertThat(kill.waitFor(10, TimeUnit.SECONDS)).isTrue();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as(String.join("\n", lines)).isTrue();
      assertThat(p.exitValue()).as(String.join("\n", lines)).isZero();
      reader.join(5000);
      assertThat(lines).last().asString().isEqualTo("bloodbank-server stopped");
    } finally {
      p.destroyForcibly();
    }
  }

  /** Starts a server in this JVM, makes one request, closes it and returns from main. */
  static final class EmbeddedThenClosed {
    public static void main(String[] args) throws Exception {
      try (BloodbankServer s =
          BloodbankServer.start(
              ServerOptions.builder()
                  .host("127.0.0.1")
                  .port(0)
                  .bus(
                      dev.bloodbank.BloodbankOptions.builder()
                          .exchange(args[0])
                          .serviceName(args[1])
                          .build())
                  .build())) {
        HttpResponse<String> r =
            HttpClient.newHttpClient()
                .send(
                    HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/healthz"))
                        .build(),
                    HttpResponse.BodyHandlers.ofString());
        System.out.println("healthz " + r.statusCode());
      }
      System.out.println("closed");
    }
  }

  @Test
  void anEmbeddingJvmExitsAfterTheServerCloses(BrokerExtension.Broker broker) throws Exception {
    // A thread the server leaves behind (the MCP SDK's session sweeper did) keeps main's JVM alive.
    String java = ProcessHandle.current().info().command().orElse("java");
    Process p =
        new ProcessBuilder(
                java,
                "-cp",
                System.getProperty("java.class.path"),
                EmbeddedThenClosed.class.getName(),
                broker.exchange(),
                broker.serviceName())
            .redirectErrorStream(true)
            .start();
    try {
      boolean exited = p.waitFor(60, TimeUnit.SECONDS);
      String threads = "";
      if (!exited) {
        Process dump =
            new ProcessBuilder(
                    Path.of(java).resolveSibling("jcmd").toString(),
                    String.valueOf(p.pid()),
                    "Thread.print")
                .start();
        threads = new String(dump.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      }
      String out =
          exited ? new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8) : "";
      assertThat(exited).as("the JVM did not exit after close; threads:\n" + threads).isTrue();
      assertThat(out).contains("healthz 200", "closed");
      assertThat(p.exitValue()).as(out).isZero();
    } finally {
      p.destroyForcibly();
    }
  }
}
