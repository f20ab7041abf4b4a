package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.Await;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.EndpointRules;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.SyntheticAudio;
import dev.bloodbank.voice.TranscriptionOptions;
import dev.bloodbank.wal.WalOptions;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code /asr} end to end: the JDK's WebSocket client streams 16 kHz PCM to a real server, text
 * comes back in the WhisperLiveKit protocol, and each final segment reaches the real RabbitMQ as a
 * {@code transcription.voice.completed} event under the id the client was told. Also every way a
 * session is refused or ended: text frames (1003), oversized frames (1009), too many sessions
 * (503), a foreign browser origin (403), a missing key (401) or one without the asr scope (403), an
 * idle client, and a server stop (the last segment is published before it is down).
 *
 * <p>The speech model is the project's synthetic one (see {@code
 * bloodbank-voice/src/test/resources/dev/bloodbank/voice/synthetic/README.md}): every loud burst is
 * heard as "hi", silence as nothing. Each test has its own exchange and write-ahead log.
 */
class AsrIT {
  private static final ObjectMapper JSON = new ObjectMapper();

  /** The synthetic zipformer2 CTC model, relative to this module (Maven's working directory). */
  private static final Path MODEL_DIR =
      Path.of("../bloodbank-voice/src/test/resources/dev/bloodbank/voice/synthetic")
          .toAbsolutePath()
          .normalize();

  /** With it, an endpoint comes about a second after each burst. */
  private static final double ENDPOINT_SILENCE = 0.8;

  private static final int RATE = 16_000;

  /** 100 ms of 16-bit PCM. */
  private static final int FRAME_BYTES = 3200;

  private static final Duration WAIT = Duration.ofSeconds(15);

  private static final String ASR_SECRET = "asr-it-voice-" + UUID.randomUUID();
  private static final String READ_SECRET = "asr-it-reader-" + UUID.randomUUID();

  @TempDir Path dir;
  private @Nullable AsrBroker broker;
  private @Nullable BloodbankServer server;
  private final HttpClient http =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

  @BeforeEach
  void broker() throws Exception {
    broker = AsrBroker.start();
  }

  @AfterEach
  void stop() throws Exception {
    List<Throwable> failures = new ArrayList<>();
    try {
      if (server != null) {
        server.close();
      }
    } catch (RuntimeException e) {
      failures.add(e);
    }
    try {
      if (broker != null) {
        broker.close();
      }
    } catch (Exception e) {
      failures.add(e);
    }
    if (!failures.isEmpty()) {
      AssertionError e = new AssertionError("clean-up failed");
      failures.forEach(e::addSuppressed);
      throw e;
    }
  }

  /** Starts a server with /asr on this test's exchange, changed as the test needs. */
  private BloodbankServer start(UnaryOperator<ServerOptions.Builder> change) {
    EndpointRules d = EndpointRules.DEFAULT;
    RecognizerOptions recognizer =
        RecognizerOptions.builder(AsrModel.fromDirectory(MODEL_DIR, AsrModel.Kind.ZIPFORMER2_CTC))
            .endpoint(
                EndpointRules.of(
                    d.minTrailingSilenceNoSpeech(), ENDPOINT_SILENCE, d.maxUtterance()))
            .build();
    TranscriptionOptions transcription =
        TranscriptionOptions.builder().wal(WalOptions.of(dir.resolve("voice.wal"))).build();
    ServerOptions.Builder b =
        ServerOptions.builder()
            .host("127.0.0.1")
            .port(0)
            .bus(broker.options())
            .speech(recognizer, transcription)
            .shutdownTimeout(Duration.ofSeconds(10));
    server = BloodbankServer.start(change.apply(b).build());
    return server;
  }

  private BloodbankServer start() {
    return start(UnaryOperator.identity());
  }

  // ---- audio ----

  /** Silence and 440 Hz tone stretches (amplitude 0.5), alternating, starting with silence. */
  static float[] pattern(double... seconds) {
    return SyntheticAudio.pattern(RATE, seconds);
  }

  static byte[] pcm16(float[] samples) {
    return SyntheticAudio.toPcm16(samples);
  }

  static void sendPcm(WebSocket ws, byte[] pcm, int frameBytes) {
    for (int at = 0; at < pcm.length; at += frameBytes) {
      byte[] frame = Arrays.copyOfRange(pcm, at, Math.min(pcm.length, at + frameBytes));
      ws.sendBinary(ByteBuffer.wrap(frame), true).orTimeout(10, TimeUnit.SECONDS).join();
    }
  }

  // ---- the client ----

  /**
   * Collects what the server sends, in order; {@link #closed} completes with the close code, and
   * {@link #messagesAtClose} says how many messages had arrived by then.
   */
  static final class Client implements WebSocket.Listener {
    final List<JsonNode> messages = new CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
    volatile int messagesAtClose = -1;
    volatile String closeReason = "";
    private final StringBuilder text = new StringBuilder();

    @Override
    public CompletionStage<?> onText(WebSocket ws, CharSequence data, boolean last) {
      text.append(data);
      if (last) {
        try {
          messages.add(JSON.readTree(text.toString()));
        } catch (Exception e) {
          closed.completeExceptionally(e);
        }
        text.setLength(0);
      }
      ws.request(1);
      return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket ws, int statusCode, String reason) {
      messagesAtClose = messages.size();
      closeReason = reason;
      closed.complete(statusCode);
      return null;
    }

    @Override
    public void onError(WebSocket ws, Throwable error) {
      closed.completeExceptionally(error);
    }

    List<JsonNode> finals() {
      return messages.stream().filter(m -> m.path("is_final").asBoolean(false)).toList();
    }

    List<JsonNode> partials() {
      return messages.stream()
          .filter(m -> m.has("is_final") && !m.get("is_final").asBoolean())
          .toList();
    }

    int closeCode() throws Exception {
      return closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    /** Waits for session_info (sent once the server registered the session) and returns it. */
    JsonNode sessionInfo() throws Exception {
      Await.until(() -> !messages.isEmpty(), WAIT, "session_info");
      return messages.get(0);
    }
  }

  private URI asr(String query) {
    return URI.create(
        "ws://127.0.0.1:" + server.port() + "/asr" + (query.isEmpty() ? "" : "?" + query));
  }

  private CompletableFuture<WebSocket> open(
      Client client, String query, Map<String, String> headers) {
    WebSocket.Builder b = http.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
    headers.forEach(b::header);
    return b.buildAsync(asr(query), client).orTimeout(WAIT.toSeconds(), TimeUnit.SECONDS);
  }

  private WebSocket connect(Client client) {
    return connect(client, "", Map.of());
  }

  private WebSocket connect(Client client, String query, Map<String, String> headers) {
    return open(client, query, headers).join();
  }

  /** The HTTP status of a refused upgrade; fails when the upgrade succeeds. */
  private int refusedStatus(String query, Map<String, String> headers) {
    try {
      WebSocket ws = open(new Client(), query, headers).join();
      ws.abort();
      throw new AssertionError("the upgrade with " + headers + " was accepted");
    } catch (CompletionException e) {
      assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
      return ((WebSocketHandshakeException) e.getCause()).getResponse().statusCode();
    }
  }

  /** Checks the finals against the events on the broker: same ids, text "hi", same session. */
  private void assertPublished(Client client, int count) throws Exception {
    String sessionId = client.messages.get(0).get("session_id").asText();
    List<JsonNode> finals = client.finals();
    assertThat(finals).hasSize(count);
    List<JsonNode> events = broker.drain(count + 1, Duration.ofSeconds(5));
    assertThat(events).as("events on the broker").hasSize(count);
    assertThat(events)
        .extracting(e -> e.get("event_id").asText())
        .containsExactlyElementsOf(finals.stream().map(f -> f.get("event_id").asText()).toList());
    assertThat(events)
        .allSatisfy(
            e -> {
              assertThat(e.get("event_type").asText()).isEqualTo("transcription.voice.completed");
              assertThat(e.at("/payload/text").asText()).isEqualTo("hi");
              assertThat(e.at("/payload/session_id").asText()).isEqualTo(sessionId);
            });
  }

  // ---- tests ----

  @Test
  void streamsPartialsThenFinalsWhoseEventsReachTheBrokerAndAnEmptyFrameEndsWith1000()
      throws Exception {
    start();
    Client client = new Client();
    WebSocket ws = connect(client);
    // Two bursts with silence between; the second runs to the end of the audio, so its final
    // only comes out when the empty frame ends it. Odd frames split samples across frames.
    sendPcm(ws, pcm16(pattern(1.0, 0.6, 1.5, 0.6)), FRAME_BYTES + 1);
    ws.sendBinary(ByteBuffer.allocate(0), true).orTimeout(10, TimeUnit.SECONDS).join();

    assertThat(client.closeCode()).isEqualTo(1000);
    List<JsonNode> m = client.messages;
    JsonNode info = m.get(0);
    assertThat(info.get("type").asText()).isEqualTo("session_info");
    assertThat(UUID.fromString(info.get("session_id").asText()).version()).isEqualTo(4);

    List<JsonNode> partials = client.partials();
    List<JsonNode> finals = client.finals();
    assertThat(partials).isNotEmpty();
    assertThat(partials)
        .allSatisfy(
            p -> {
              assertThat(p.get("type").asText()).isEqualTo("partial");
              assertThat(p.has("timestamp")).isTrue();
            });
    assertThat(m.indexOf(partials.get(0)))
        .as("a partial comes before the first final")
        .isLessThan(m.indexOf(finals.get(0)));
    assertThat(finals).extracting(f -> f.get("text").asText()).containsExactly("hi", "hi");
    assertThat(finals)
        .allSatisfy(
            f -> {
              assertThat(f.get("type").asText()).isEqualTo("final");
              assertThat(UUID.fromString(f.get("event_id").asText())).isNotNull();
              assertThat(f.get("timestamp").asText()).endsWith("Z");
              assertThat(f.get("end").asDouble()).isGreaterThan(f.get("start").asDouble());
            });
    assertThat(finals).extracting(f -> f.get("segment").asInt()).containsExactly(0, 1);
    assertThat(m.get(m.size() - 1))
        .as("the last message is the last final")
        .isEqualTo(finals.get(1));
    assertThat(client.messagesAtClose)
        .as("the close came after the last final")
        .isEqualTo(m.size());
    assertPublished(client, 2);
  }

  @Test
  void theClientClosingFinishesTheSessionAndPublishesEveryFinal() throws Exception {
    start();
    Client client = new Client();
    WebSocket ws = connect(client);
    sendPcm(ws, pcm16(pattern(1.0, 0.6, 1.5, 0.6, 1.5)), FRAME_BYTES);
    Await.until(() -> client.finals().size() == 2, WAIT, "two finals");
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").orTimeout(10, TimeUnit.SECONDS).join();

    assertThat(client.closeCode()).isEqualTo(1000);
    assertThat(client.finals()).extracting(f -> f.get("text").asText()).containsExactly("hi", "hi");
    assertPublished(client, 2);
  }

  @Test
  void aTextFrameIsRefusedWith1003AndTheServerGoesOn() throws Exception {
    start();
    Client bad = new Client();
    WebSocket ws = connect(bad);
    ws.sendText("{\"type\":\"config\"}", true).join();
    assertThat(bad.closeCode()).isEqualTo(1003);
    assertThat(bad.messages.get(0).get("type").asText()).isEqualTo("session_info");

    Client good = new Client();
    WebSocket ws2 = connect(good);
    sendPcm(ws2, pcm16(pattern(1.0, 0.6, 1.5)), FRAME_BYTES);
    ws2.sendBinary(ByteBuffer.allocate(0), true).join();
    assertThat(good.closeCode()).isEqualTo(1000);
    assertThat(good.finals()).extracting(f -> f.get("text").asText()).containsExactly("hi");
    assertPublished(good, 1);
  }

  @Test
  void aFrameOverMaxFrameBytesIsRefusedWith1009() throws Exception {
    start(b -> b.maxFrameBytes(4096));
    Client client = new Client();
    WebSocket ws = connect(client);
    client.sessionInfo();
    sendPcm(ws, pcm16(pattern(0.5)), 4096); // at the limit: accepted
    ws.sendBinary(ByteBuffer.wrap(new byte[8192]), true).join();

    assertThat(client.closeCode()).isEqualTo(1009);
    assertThat(client.finals()).isEmpty();
  }

  @Test
  void aSecondSessionOverMaxAsrSessionsIsRefusedWith503UntilTheFirstEnds() throws Exception {
    start(b -> b.maxAsrSessions(1));
    Client first = new Client();
    WebSocket ws = connect(first);
    first.sessionInfo();

    assertThat(refusedStatus("", Map.of())).isEqualTo(503);

    ws.sendBinary(ByteBuffer.allocate(0), true).join();
    assertThat(first.closeCode()).isEqualTo(1000);
    // The slot is free again once the server has ended the first session.
    Client second = new Client();
    Await.until(
        () -> {
          try {
            connect(second);
            return true;
          } catch (CompletionException e) {
            return false;
          }
        },
        WAIT,
        "a new session after the first ended");
    assertThat(second.sessionInfo().get("type").asText()).isEqualTo("session_info");
  }

  /** The limit holds when upgrades arrive together, not only one after another. */
  @Test
  void concurrentUpgradesNeverGetMoreThanMaxAsrSessions() throws Exception {
    start(b -> b.maxAsrSessions(1));
    for (int round = 0; round < 5; round++) {
      List<Client> clients = new ArrayList<>();
      List<CompletableFuture<WebSocket>> upgrades = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        Client c = new Client();
        clients.add(c);
        upgrades.add(open(c, "", Map.of()));
      }
      List<WebSocket> upgraded = new ArrayList<>();
      List<Client> upgradedClients = new ArrayList<>();
      List<Integer> refused = new ArrayList<>();
      for (int i = 0; i < upgrades.size(); i++) {
        try {
          upgraded.add(upgrades.get(i).join());
          upgradedClients.add(clients.get(i));
        } catch (CompletionException e) {
          assertThat(e.getCause()).isInstanceOf(WebSocketHandshakeException.class);
          refused.add(((WebSocketHandshakeException) e.getCause()).getResponse().statusCode());
        }
      }
      // Upgrades that arrive together may all pass the early check; the limit holds where a
      // session starts: the extra ones are closed with 1013 (try again later) before any message.
      Await.until(
          () -> upgradedClients.stream().allMatch(c -> !c.messages.isEmpty() || c.closed.isDone()),
          WAIT,
          "every upgraded client started or was turned away");
      List<Client> started = upgradedClients.stream().filter(c -> !c.messages.isEmpty()).toList();
      for (Client c : upgradedClients) {
        if (c.messages.isEmpty()) {
          assertThat(c.closed.join()).as("a session over the limit").isEqualTo(1013);
        }
      }
      for (int i = 0; i < upgraded.size(); i++) {
        if (!upgradedClients.get(i).messages.isEmpty()) {
          upgraded
              .get(i)
              .sendBinary(ByteBuffer.allocate(0), true)
              .orTimeout(10, TimeUnit.SECONDS)
              .join();
          upgradedClients.get(i).closeCode();
        }
      }
      assertThat(started).as("sessions started at once in round %d", round).hasSizeLessThan(2);
      assertThat(refused)
          .as("refusals in round %d", round)
          .allSatisfy(st -> assertThat(st).isEqualTo(503));
      Await.until(
          () -> {
            try {
              Client probe = new Client();
              connect(probe).sendBinary(ByteBuffer.allocate(0), true).join();
              probe.closeCode();
              return true;
            } catch (CompletionException e) {
              return false;
            }
          },
          WAIT,
          "a free session slot after round " + round);
    }
  }

  @Test
  void aBrowserFromAnotherOriginIsRefusedWith403AndTheServersOwnOriginConnects() throws Exception {
    start();
    assertThat(refusedStatus("", Map.of("Origin", "http://evil.example"))).isEqualTo(403);

    Client own = new Client();
    connect(own, "", Map.of("Origin", "http://127.0.0.1:" + server.port()));
    assertThat(own.sessionInfo().get("type").asText()).isEqualTo("session_info");
  }

  @Test
  void anAllowedOriginConnectsAndOthersAreRefusedWith403() throws Exception {
    start(b -> b.webSocketOrigins(List.of("http://app.example")));
    assertThat(refusedStatus("", Map.of("Origin", "http://evil.example"))).isEqualTo(403);
    assertThat(refusedStatus("", Map.of("Origin", "http://app.example.evil.example")))
        .isEqualTo(403);

    Client app = new Client();
    WebSocket ws = connect(app, "", Map.of("Origin", "http://app.example"));
    sendPcm(ws, pcm16(pattern(1.0, 0.6, 1.5)), FRAME_BYTES);
    ws.sendBinary(ByteBuffer.allocate(0), true).join();
    assertThat(app.closeCode()).isEqualTo(1000);
    assertPublished(app, 1);
  }

  @Test
  void withApiKeysNoKeyIs401AKeyWithoutTheAsrScopeIs403AndTheAsrKeyConnects() throws Exception {
    start(
        b ->
            b.apiKeys(
                ApiKeys.parse("voice asr " + ASR_SECRET + "\nreader read " + READ_SECRET, "test")));

    assertThat(refusedStatus("", Map.of())).as("no key").isEqualTo(401);
    assertThat(refusedStatus("", Map.of("Authorization", "Bearer not-a-key-of-this-server")))
        .as("unknown key")
        .isEqualTo(401);
    assertThat(refusedStatus("", Map.of("Authorization", "Bearer " + READ_SECRET)))
        .as("a key without the asr scope")
        .isEqualTo(403);
    assertThat(refusedStatus("access_token=" + READ_SECRET, Map.of()))
        .as("a key without the asr scope, in the query")
        .isEqualTo(403);

    Client header = new Client();
    WebSocket ws = connect(header, "", Map.of("Authorization", "Bearer " + ASR_SECRET));
    sendPcm(ws, pcm16(pattern(1.0, 0.6, 1.5)), FRAME_BYTES);
    ws.sendBinary(ByteBuffer.allocate(0), true).join();
    assertThat(header.closeCode()).isEqualTo(1000);
    assertPublished(header, 1);

    // Browsers cannot send headers: the key may come as ?access_token=.
    Client query = new Client();
    connect(query, "access_token=" + ASR_SECRET, Map.of());
    assertThat(query.sessionInfo().get("type").asText()).isEqualTo("session_info");
  }

  @Test
  void anIdleSessionIsClosedByTheServer() throws Exception {
    start(b -> b.idleTimeout(Duration.ofSeconds(1)));
    Client client = new Client();
    connect(client);
    client.sessionInfo();
    long t0 = System.nanoTime();

    Integer code;
    try {
      code = client.closed.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    } catch (java.util.concurrent.ExecutionException e) {
      throw new AssertionError("the server dropped the idle session without a close frame", e);
    }
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(code).as("close code (reason '%s')", client.closeReason).isIn(1000, 1001);
    assertThat(took).isLessThan(Duration.ofSeconds(10));
  }

  @Test
  void stoppingTheServerFinishesAnOpenSessionAndPublishesItsLastSegmentFirst() throws Exception {
    start();
    Client client = new Client();
    WebSocket ws = connect(client);
    // A burst still going when the server stops: no endpoint yet, only a partial.
    sendPcm(ws, pcm16(pattern(1.0, 0.6)), FRAME_BYTES);
    Await.until(() -> !client.partials().isEmpty(), WAIT, "a partial 'hi' before the stop");
    assertThat(client.finals()).isEmpty();

    long t0 = System.nanoTime();
    server.close(); // as on SIGTERM
    Duration took = Duration.ofNanos(System.nanoTime() - t0);
    assertThat(took).as("close() within the shutdown timeout").isLessThan(Duration.ofSeconds(12));

    // Published before close() returned: the event is on the queue now.
    List<JsonNode> events = broker.drain(2, Duration.ofSeconds(2));
    assertThat(events).extracting(e -> e.at("/payload/text").asText()).containsExactly("hi");

    assertThat(client.closeCode()).isEqualTo(1001);
    assertThat(client.finals()).extracting(f -> f.get("text").asText()).containsExactly("hi");
    assertThat(events.get(0).get("event_id").asText())
        .isEqualTo(client.finals().get(0).get("event_id").asText());
  }
}
