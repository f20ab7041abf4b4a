package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link TranscriptionServer} end to end: the JDK's WebSocket client streams PCM in, text comes
 * back, and the final segments reach the real broker as events.
 */
class TranscriptionServerIT {
  static final ObjectMapper JSON = new ObjectMapper();

  @TempDir Path dir;
  VoiceBroker broker;
  TranscriptionServer server;

  @BeforeEach
  void start() throws Exception {
    broker = VoiceBroker.start();
    VoiceCommandLine cl =
        VoiceCommandLine.parse(
            new String[] {
              SyntheticSpeech.MODEL_DIR.toString(),
              "--kind",
              "zipformer2-ctc",
              "--endpoint-silence",
              SyntheticSpeech.ENDPOINT_SILENCE,
              "--wal",
              dir.resolve("voice.wal").toString()
            },
            1,
            Set.of("port", "host"));
    server =
        TranscriptionServer.start(
            new InetSocketAddress("127.0.0.1", 0),
            cl.recognizerOptions(cl.model(Path.of(cl.positional(0)))),
            broker.options(),
            cl.transcriptionOptions(Map.of()));
  }

  @AfterEach
  void stop() throws Exception {
    if (server != null) {
      server.close();
    }
    if (broker != null) {
      broker.close();
    }
  }

  /** Collects what the server sends; {@link #closed} completes with its close code. */
  static final class Client implements WebSocket.Listener {
    final List<JsonNode> messages = new CopyOnWriteArrayList<>();
    final CompletableFuture<Integer> closed = new CompletableFuture<>();
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
  }

  WebSocket connect(Client client) {
    return HttpClient.newHttpClient()
        .newWebSocketBuilder()
        .connectTimeout(Duration.ofSeconds(5))
        .buildAsync(URI.create("ws://127.0.0.1:" + server.port() + "/asr"), client)
        .join();
  }

  static void sendPcm(WebSocket ws, byte[] pcm, int frameBytes) {
    for (int at = 0; at < pcm.length; at += frameBytes) {
      byte[] frame = Arrays.copyOfRange(pcm, at, Math.min(pcm.length, at + frameBytes));
      ws.sendBinary(ByteBuffer.wrap(frame), true).join();
    }
  }

  /** session_info first, then partials and two finals "hi", all with the events on the bus. */
  void assertTwoUtterances(Client client) throws Exception {
    JsonNode info = client.messages.get(0);
    assertThat(info.get("type").asText()).isEqualTo("session_info");
    String sessionId = info.get("session_id").asText();
    assertThat(UUID.fromString(sessionId).version()).isEqualTo(4);

    assertThat(client.partials()).isNotEmpty();
    assertThat(client.partials()).allSatisfy(p -> assertThat(p.has("timestamp")).isTrue());
    List<JsonNode> finals = client.finals();
    assertThat(finals).extracting(f -> f.get("text").asText()).containsExactly("hi", "hi");
    assertThat(finals).allSatisfy(f -> assertThat(f.get("timestamp").asText()).endsWith("Z"));

    List<JsonNode> events = broker.drain(3, Duration.ofSeconds(5));
    assertThat(events).hasSize(2);
    assertThat(events).allSatisfy(e -> assertThat(e.at("/payload/text").asText()).isEqualTo("hi"));
    assertThat(events)
        .allSatisfy(e -> assertThat(e.at("/payload/session_id").asText()).isEqualTo(sessionId));
    assertThat(events)
        .extracting(e -> e.get("event_id").asText())
        .containsExactlyInAnyOrder(
            finals.get(0).get("event_id").asText(), finals.get(1).get("event_id").asText());
  }

  @Test
  void streamsTextBackAndPublishesFinalSegmentsUntilTheClientCloses() throws Exception {
    Client client = new Client();
    WebSocket ws = connect(client);
    byte[] pcm = SyntheticSpeech.toPcm16(SyntheticSpeech.twoUtterances(16_000));
    sendPcm(ws, pcm, 3200); // 100 ms frames
    ws.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();

    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1000);
    assertTwoUtterances(client);
  }

  @Test
  void anEmptyFrameEndsTheAudioAndOddFramesKeepTheirLastByte() throws Exception {
    Client client = new Client();
    WebSocket ws = connect(client);
    // Speech right up to the end: the second "hi" only comes out when the audio ends.
    byte[] pcm = SyntheticSpeech.toPcm16(SyntheticSpeech.pattern(16_000, 1.0, 0.6, 1.5, 0.6));
    sendPcm(ws, pcm, 3201); // samples split across frames
    ws.sendBinary(ByteBuffer.allocate(0), true).join();

    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1000);
    assertTwoUtterances(client);
  }

  @Test
  void aTextFrameIsRefusedWith1003AndTheServerGoesOn() throws Exception {
    Client bad = new Client();
    WebSocket ws = connect(bad);
    ws.sendText("{\"type\":\"config\"}", true).join();
    assertThat(bad.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1003);
    assertThat(bad.messages.get(0).get("type").asText()).isEqualTo("session_info");

    Client good = new Client();
    WebSocket ws2 = connect(good);
    sendPcm(ws2, SyntheticSpeech.toPcm16(SyntheticSpeech.twoUtterances(16_000)), 3200);
    ws2.sendClose(WebSocket.NORMAL_CLOSURE, "done").join();
    assertThat(good.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1000);
    assertTwoUtterances(good);
  }

  @Test
  void stoppingTheServerFinishesOpenStreamsFirst() throws Exception {
    Client client = new Client();
    WebSocket ws = connect(client);
    sendPcm(ws, SyntheticSpeech.toPcm16(SyntheticSpeech.pattern(16_000, 1.0, 0.6)), 3200);
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (client.partials().isEmpty() && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(client.partials()).as("a partial 'hi' before the stop").isNotEmpty();

    server.close(); // as on Ctrl-C

    assertThat(client.closed.get(10, TimeUnit.SECONDS)).isEqualTo(1001);
    assertThat(client.finals()).extracting(f -> f.get("text").asText()).containsExactly("hi");
    List<JsonNode> events = broker.drain(2, Duration.ofSeconds(3));
    assertThat(events).extracting(e -> e.at("/payload/text").asText()).containsExactly("hi");
  }
}
