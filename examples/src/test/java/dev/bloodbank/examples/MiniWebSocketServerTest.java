package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.DataInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The WebSocket framing of {@link MiniWebSocketServer}, driven byte by byte over a raw socket. */
class MiniWebSocketServerTest {
  static final int LIMIT = 1024;

  MiniWebSocketServer server;
  final List<String> events = new CopyOnWriteArrayList<>();

  /** Echoes text, answers binary with its size, records everything. */
  final class Echo implements MiniWebSocketServer.Handler {
    @Override
    public void onText(MiniWebSocketServer.Connection c, String text) {
      events.add("text:" + text);
      if (text.equals("bye")) {
        c.close(MiniWebSocketServer.NORMAL_CLOSURE, "bye to you");
      } else {
        c.sendText("echo:" + text);
      }
    }

    @Override
    public void onBinary(MiniWebSocketServer.Connection c, byte[] data) {
      events.add("binary:" + data.length);
      c.sendText("binary:" + data.length);
    }

    @Override
    public void onClose(MiniWebSocketServer.Connection c, int code, String reason) {
      events.add("close:" + code);
      c.sendText("last words");
    }
  }

  @BeforeEach
  void start() throws IOException {
    server =
        MiniWebSocketServer.start(
            new InetSocketAddress("127.0.0.1", 0), "/asr", LIMIT, 4, c -> new Echo());
  }

  @AfterEach
  void stop() {
    server.close(Duration.ofSeconds(5));
  }

  record Frame(boolean fin, int opcode, byte[] payload) {
    String text() {
      return new String(payload, StandardCharsets.UTF_8);
    }

    int closeCode() {
      assertThat(opcode).isEqualTo(MiniWebSocketServer.OP_CLOSE);
      return ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
    }
  }

  /** A hand-rolled client: exact bytes out, frames in. */
  final class RawClient implements AutoCloseable {
    final Socket socket = new Socket();
    final OutputStream out;
    final DataInputStream in;

    RawClient() throws IOException {
      socket.connect(new InetSocketAddress("127.0.0.1", server.port()), 2000);
      socket.setSoTimeout(5000);
      out = socket.getOutputStream();
      in = new DataInputStream(socket.getInputStream());
    }

    /** Sends a request head; returns the response head. */
    String request(String head) throws IOException {
      out.write(head.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      StringBuilder s = new StringBuilder();
      while (!s.toString().endsWith("\r\n\r\n")) {
        int b = in.read();
        if (b < 0) {
          break;
        }
        s.append((char) b);
      }
      return s.toString();
    }

    RawClient open() throws IOException {
      String key = "dGhlIHNhbXBsZSBub25jZQ==";
      String response =
          request(
              "GET /asr HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\n"
                  + "Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: "
                  + key
                  + "\r\nSec-WebSocket-Version: 13\r\n\r\n");
      assertThat(response).startsWith("HTTP/1.1 101 ");
      // The worked example of RFC 6455 section 1.3.
      assertThat(response).contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n");
      return this;
    }

    void send(boolean fin, int opcode, byte[] payload) throws IOException {
      sendRaw(fin, opcode, payload, payload.length, true);
    }

    void send(int opcode, String text) throws IOException {
      send(true, opcode, text.getBytes(StandardCharsets.UTF_8));
    }

    /** A frame that claims {@code length} bytes, with only {@code payload} following. */
    void sendRaw(boolean fin, int opcode, byte[] payload, long length, boolean masked)
        throws IOException {
      out.write((fin ? 0x80 : 0) | opcode);
      int mask = masked ? 0x80 : 0;
      if (length < 126) {
        out.write(mask | (int) length);
      } else if (length <= 0xFFFF) {
        out.write(mask | 126);
        out.write((int) (length >> 8));
        out.write((int) length);
      } else {
        out.write(mask | 127);
        for (int shift = 56; shift >= 0; shift -= 8) {
          out.write((int) (length >>> shift));
        }
      }
      byte[] body = payload.clone();
      if (masked) {
        byte[] key = new byte[4];
        ThreadLocalRandom.current().nextBytes(key);
        out.write(key);
        for (int i = 0; i < body.length; i++) {
          body[i] ^= key[i & 3];
        }
      }
      out.write(body);
      out.flush();
    }

    Frame read() throws IOException {
      int b0 = in.readUnsignedByte();
      int b1 = in.readUnsignedByte();
      assertThat(b1 & 0x80).as("server frames are unmasked").isZero();
      assertThat(b0 & 0x70).as("no reserved bits").isZero();
      long len = b1 & 0x7F;
      if (len == 126) {
        len = in.readUnsignedShort();
      } else if (len == 127) {
        len = in.readLong();
      }
      byte[] p = new byte[(int) len];
      in.readFully(p);
      return new Frame((b0 & 0x80) != 0, b0 & 0x0F, p);
    }

    /** True if the server closed the TCP connection (end of stream or reset). */
    boolean atEnd() throws IOException {
      try {
        return in.read() < 0;
      } catch (IOException e) {
        return true;
      }
    }

    @Override
    public void close() throws IOException {
      socket.close();
    }
  }

  static byte[] closePayload(int code) {
    return new byte[] {(byte) (code >> 8), (byte) code};
  }

  @Test
  void acceptKeyIsTheRfcExample() {
    assertThat(MiniWebSocketServer.acceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
        .isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
  }

  @Test
  void maskedFramesAreUnmaskedAndRepliesAreUnmasked() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(MiniWebSocketServer.OP_TEXT, "héllo");
      Frame f = c.read();
      assertThat(f.opcode()).isEqualTo(MiniWebSocketServer.OP_TEXT);
      assertThat(f.fin()).isTrue();
      assertThat(f.text()).isEqualTo("echo:héllo");

      byte[] big = new byte[300]; // 16-bit length
      c.send(true, MiniWebSocketServer.OP_BINARY, big);
      assertThat(c.read().text()).isEqualTo("binary:300");
    }
  }

  @Test
  void fragmentsAreJoinedWithControlFramesInBetween() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(false, MiniWebSocketServer.OP_TEXT, "Hel".getBytes(StandardCharsets.UTF_8));
      c.send(true, MiniWebSocketServer.OP_PING, "p1".getBytes(StandardCharsets.UTF_8));
      c.send(false, MiniWebSocketServer.OP_CONTINUATION, "l".getBytes(StandardCharsets.UTF_8));
      c.send(true, MiniWebSocketServer.OP_CONTINUATION, "o".getBytes(StandardCharsets.UTF_8));

      Frame pong = c.read();
      assertThat(pong.opcode()).isEqualTo(MiniWebSocketServer.OP_PONG);
      assertThat(pong.text()).isEqualTo("p1");
      assertThat(c.read().text()).isEqualTo("echo:Hello");
      assertThat(events).containsExactly("text:Hello");
    }
  }

  @Test
  void pingIsAnsweredWithPongCarryingTheSamePayload() throws IOException {
    try (RawClient c = new RawClient().open()) {
      byte[] payload = {1, 2, 3, (byte) 0xFF};
      c.send(true, MiniWebSocketServer.OP_PING, payload);
      Frame pong = c.read();
      assertThat(pong.opcode()).isEqualTo(MiniWebSocketServer.OP_PONG);
      assertThat(pong.payload()).containsExactly(payload);
    }
  }

  @Test
  void anOversizedFrameIsClosedWith1009BeforeItsPayloadIsRead() throws IOException {
    try (RawClient c = new RawClient().open()) {
      // Claims 10 MB, sends 100 bytes: the header alone is enough to refuse it.
      c.sendRaw(true, MiniWebSocketServer.OP_BINARY, new byte[100], 10_000_000, true);
      assertThat(c.read().text()).isEqualTo("last words");
      Frame close = c.read();
      assertThat(close.closeCode()).isEqualTo(MiniWebSocketServer.MESSAGE_TOO_BIG);
      assertThat(new String(close.payload(), 2, close.payload().length - 2, StandardCharsets.UTF_8))
          .contains("limit " + LIMIT);
      assertThat(c.atEnd()).isTrue();
    }
    assertThat(events).containsExactly("close:1009");
  }

  @Test
  void anOversizedFragmentedMessageIsClosedWith1009() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(false, MiniWebSocketServer.OP_BINARY, new byte[600]);
      c.send(true, MiniWebSocketServer.OP_CONTINUATION, new byte[600]);
      // The handler's last words go out before the close frame.
      assertThat(c.read().text()).isEqualTo("last words");
      assertThat(c.read().closeCode()).isEqualTo(MiniWebSocketServer.MESSAGE_TOO_BIG);
    }
  }

  @Test
  void aMessageAtTheLimitIsAccepted() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(false, MiniWebSocketServer.OP_BINARY, new byte[LIMIT - 1]);
      c.send(true, MiniWebSocketServer.OP_CONTINUATION, new byte[1]);
      assertThat(c.read().text()).isEqualTo("binary:" + LIMIT);
    }
  }

  @Test
  void theClientsCloseIsAnsweredAndTheConnectionEnds() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(true, MiniWebSocketServer.OP_CLOSE, closePayload(1000));
      assertThat(c.read().text()).isEqualTo("last words");
      assertThat(c.read().closeCode()).isEqualTo(1000);
      assertThat(c.atEnd()).isTrue();
    }
    assertThat(events).containsExactly("close:1000");
  }

  @Test
  void theHandlerCanCloseAndTheServerWaitsForTheClientsClose() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(MiniWebSocketServer.OP_TEXT, "bye");
      assertThat(c.read().text()).isEqualTo("last words");
      Frame close = c.read();
      assertThat(close.closeCode()).isEqualTo(1000);
      c.send(true, MiniWebSocketServer.OP_CLOSE, closePayload(1000));
      assertThat(c.atEnd()).isTrue();
    }
  }

  @Test
  void protocolErrorsEndOnlyThatConnection() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.sendRaw(true, MiniWebSocketServer.OP_TEXT, "x".getBytes(StandardCharsets.UTF_8), 1, false);
      c.read(); // last words
      assertThat(c.read().closeCode()).as("unmasked").isEqualTo(1002);
    }
    try (RawClient c = new RawClient().open()) {
      c.send(true, MiniWebSocketServer.OP_CONTINUATION, new byte[1]);
      c.read();
      assertThat(c.read().closeCode()).as("continuation first").isEqualTo(1002);
    }
    try (RawClient c = new RawClient().open()) {
      c.send(true, 0x3, new byte[1]);
      c.read();
      assertThat(c.read().closeCode()).as("reserved opcode").isEqualTo(1002);
    }
    try (RawClient c = new RawClient().open()) {
      c.send(false, MiniWebSocketServer.OP_PING, new byte[1]);
      c.read();
      assertThat(c.read().closeCode()).as("fragmented ping").isEqualTo(1002);
    }
    try (RawClient c = new RawClient().open()) {
      c.send(true, MiniWebSocketServer.OP_TEXT, new byte[] {(byte) 0xC3, (byte) 0x28});
      c.read();
      assertThat(c.read().closeCode()).as("invalid UTF-8").isEqualTo(1007);
    }
    try (RawClient c = new RawClient().open()) {
      c.send(MiniWebSocketServer.OP_TEXT, "still here");
      assertThat(c.read().text()).isEqualTo("echo:still here");
    }
  }

  @Test
  void badHandshakesGetHttpErrors() throws IOException {
    String upgrade =
        "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + "Sec-WebSocket-Key: "
            + Base64.getEncoder().encodeToString(new byte[16])
            + "\r\n";
    try (RawClient c = new RawClient()) {
      assertThat(
              c.request("GET /other HTTP/1.1\r\n" + upgrade + "Sec-WebSocket-Version: 13\r\n\r\n"))
          .startsWith("HTTP/1.1 404 ");
    }
    try (RawClient c = new RawClient()) {
      assertThat(c.request("GET /asr HTTP/1.1\r\n" + upgrade + "Sec-WebSocket-Version: 8\r\n\r\n"))
          .startsWith("HTTP/1.1 426 ")
          .contains("Sec-WebSocket-Version: 13");
    }
    try (RawClient c = new RawClient()) {
      assertThat(c.request("GET /asr HTTP/1.1\r\nHost: x\r\n\r\n")).startsWith("HTTP/1.1 426 ");
    }
    try (RawClient c = new RawClient()) {
      String huge = "GET /asr HTTP/1.1\r\nX: " + "a".repeat(10_000) + "\r\n\r\n";
      assertThat(c.request(huge)).startsWith("HTTP/1.1 431 ");
    }
  }

  @Test
  void stoppingTheServerClosesConnectionsWith1001() throws IOException {
    try (RawClient c = new RawClient().open()) {
      c.send(MiniWebSocketServer.OP_TEXT, "hi");
      assertThat(c.read().text()).isEqualTo("echo:hi");
      server.close(Duration.ofSeconds(5));
      assertThat(c.read().text()).isEqualTo("last words");
      assertThat(c.read().closeCode()).isEqualTo(MiniWebSocketServer.GOING_AWAY);
      assertThat(c.atEnd()).isTrue();
    }
    assertThat(events).containsExactly("text:hi", "close:1001");
  }

  @Test
  void connectionsOverTheLimitGet503() throws IOException {
    RawClient[] open = new RawClient[4];
    try {
      for (int i = 0; i < open.length; i++) {
        open[i] = new RawClient().open();
      }
      try (RawClient c = new RawClient()) {
        String response = c.request("GET /asr HTTP/1.1\r\n\r\n");
        assertThat(response).startsWith("HTTP/1.1 503 ");
      }
    } finally {
      for (RawClient c : open) {
        if (c != null) {
          c.close();
        }
      }
    }
  }
}
