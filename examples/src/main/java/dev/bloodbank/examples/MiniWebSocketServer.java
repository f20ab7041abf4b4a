package dev.bloodbank.examples;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.ByteArrayOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketAddress;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A small WebSocket server (RFC 6455) on {@link ServerSocket}, because the JDK has none and the
 * examples take no extra dependency. <b>Example grade</b>: plain {@code ws://} only (put a TLS
 * proxy in front for anything else), no extensions (no compression), no subprotocols, one platform
 * thread per connection and a cap on connections. For production use a real server (Jetty, Netty,
 * Undertow...).
 *
 * <p>What it does handle: the opening handshake ({@code Sec-WebSocket-Accept}), masked client
 * frames, fragmented messages (continuation frames, with control frames in between), ping/pong, the
 * closing handshake, a limit on message size (close code 1009), invalid UTF-8 in text (1007) and
 * protocol errors (1002). Frames it sends are unmasked and unfragmented. A misbehaving client only
 * ends its own connection.
 *
 * <p>Each connection gets a {@link Handler}, called on that connection's thread: one message at a
 * time, then {@link Handler#onClose} exactly once. Thread-safe.
 */
final class MiniWebSocketServer implements AutoCloseable {
  /** The GUID of RFC 6455 section 1.3, appended to the client's key. */
  static final String ACCEPT_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

  /** Default limit on a message (all its fragments): 1 MiB. */
  static final int DEFAULT_MAX_MESSAGE_BYTES = 1 << 20;

  /** Default limit on open connections: 32; more are answered with HTTP 503. */
  static final int DEFAULT_MAX_CONNECTIONS = 32;

  /** Limit on the HTTP request head of the handshake: 8 KiB. */
  static final int MAX_HANDSHAKE_BYTES = 8 * 1024;

  /** How long a client has to send its handshake: 10 seconds. */
  static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(10);

  /** How long the server waits for the client's side of a close it started: 2 seconds. */
  static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(2);

  static final int NORMAL_CLOSURE = 1000;
  static final int GOING_AWAY = 1001;
  static final int PROTOCOL_ERROR = 1002;
  static final int UNSUPPORTED_DATA = 1003;
  static final int NO_STATUS = 1005;
  static final int ABNORMAL_CLOSURE = 1006;
  static final int INVALID_PAYLOAD = 1007;
  static final int MESSAGE_TOO_BIG = 1009;
  static final int INTERNAL_ERROR = 1011;

  static final int OP_CONTINUATION = 0x0;
  static final int OP_TEXT = 0x1;
  static final int OP_BINARY = 0x2;
  static final int OP_CLOSE = 0x8;
  static final int OP_PING = 0x9;
  static final int OP_PONG = 0xA;

  private static final Logger LOG = LoggerFactory.getLogger(MiniWebSocketServer.class);

  /** What one connection does with its messages. Called on the connection's own thread. */
  interface Handler {
    /** A complete text message arrived (valid UTF-8). */
    default void onText(Connection connection, String text) {}

    /** A complete binary message arrived; it may be empty. */
    default void onBinary(Connection connection, byte[] data) {}

    /**
     * The connection is ending: the client sent a close frame, the server is closing it ({@link
     * Connection#close}, a protocol error, a message over the limit, shutdown) or it broke. Called
     * once, before the server's close frame goes out, so the handler may still send its last
     * messages (unless the connection broke: code 1006).
     *
     * @param code the client's close code, or the one the server is about to send
     * @param reason the reason text, possibly empty
     */
    default void onClose(Connection connection, int code, String reason) {}
  }

  private final ServerSocket serverSocket;
  private final String path;
  private final int maxMessageBytes;
  private final int maxConnections;
  private final Function<Connection, Handler> handlers;
  private final Set<Connection> connections = ConcurrentHashMap.newKeySet();
  private final AtomicInteger connectionIds = new AtomicInteger();
  private final Thread acceptor;
  private volatile boolean closed;

  private MiniWebSocketServer(
      ServerSocket serverSocket,
      String path,
      int maxMessageBytes,
      int maxConnections,
      Function<Connection, Handler> handlers) {
    this.serverSocket = serverSocket;
    this.path = path;
    this.maxMessageBytes = maxMessageBytes;
    this.maxConnections = maxConnections;
    this.handlers = handlers;
    this.acceptor = new Thread(this::acceptLoop, "ws-accept-" + serverSocket.getLocalPort());
    acceptor.setDaemon(true);
  }

  /**
   * Binds and starts accepting connections.
   *
   * @param address where to listen; port 0 picks a free one (see {@link #port()})
   * @param path the only request path accepted, e.g. {@code /asr}; others get HTTP 404
   * @param maxMessageBytes limit on a message, at least 125
   * @param maxConnections limit on open connections, at least 1
   * @param handlers makes the handler of each new connection, after the handshake; a handler it
   *     cannot make (it throws) closes that connection with 1011
   * @return the running server
   * @throws IOException if the address cannot be bound
   */
  static MiniWebSocketServer start(
      InetSocketAddress address,
      String path,
      int maxMessageBytes,
      int maxConnections,
      Function<Connection, Handler> handlers)
      throws IOException {
    if (!path.startsWith("/")) {
      throw new IllegalArgumentException("path must start with '/', was '" + path + "'");
    }
    if (maxMessageBytes < 125) {
      throw new IllegalArgumentException("maxMessageBytes must be >= 125, was " + maxMessageBytes);
    }
    if (maxConnections < 1) {
      throw new IllegalArgumentException("maxConnections must be >= 1, was " + maxConnections);
    }
    ServerSocket ss = new ServerSocket();
    try {
      ss.setReuseAddress(true);
      ss.bind(address);
    } catch (IOException | RuntimeException e) {
      ss.close();
      throw e;
    }
    MiniWebSocketServer server =
        new MiniWebSocketServer(ss, path, maxMessageBytes, maxConnections, handlers);
    server.acceptor.start();
    return server;
  }

  /** The bound port. */
  int port() {
    return serverSocket.getLocalPort();
  }

  /** The bound address. */
  InetSocketAddress address() {
    return (InetSocketAddress) serverSocket.getLocalSocketAddress();
  }

  /** Open connections now. */
  int connectionCount() {
    return connections.size();
  }

  private void acceptLoop() {
    while (!closed) {
      Socket socket;
      try {
        socket = serverSocket.accept();
      } catch (IOException e) {
        if (!closed) {
          LOG.warn("WebSocket server on port {} stopped accepting: {}", port(), e.toString());
        }
        return;
      }
      if (connections.size() >= maxConnections) {
        refuse(socket);
        continue;
      }
      Connection c = new Connection(socket, connectionIds.incrementAndGet());
      connections.add(c);
      Thread t = new Thread(c::run, "ws-conn-" + c.id);
      t.setDaemon(true);
      c.thread = t;
      t.start();
    }
  }

  private static void refuse(Socket socket) {
    try (socket) {
      OutputStream out = socket.getOutputStream();
      out.write(
          ("HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
              .getBytes(StandardCharsets.US_ASCII));
      out.flush();
      // Briefly, since this blocks the accepting thread.
      lingeringClose(socket, socket.getInputStream(), Duration.ofMillis(200), 64 * 1024);
    } catch (IOException e) {
      // the client is gone; nothing to tell it
    }
  }

  /**
   * Ends output and reads (discarding) what the client still sends, until it closes, the time is up
   * or the budget is spent. Closing a socket with unread input resets the connection, which can
   * make the client lose the last thing it was sent (the close frame, an HTTP error).
   */
  private static void lingeringClose(Socket socket, InputStream in, Duration max, long budget) {
    try {
      socket.shutdownOutput();
      socket.setSoTimeout((int) Math.max(1, max.toMillis()));
      long deadline = System.nanoTime() + max.toNanos();
      byte[] sink = new byte[8192];
      while (budget > 0 && System.nanoTime() < deadline) {
        int n = in.read(sink);
        if (n < 0) {
          return;
        }
        budget -= n;
      }
    } catch (IOException e) {
      // timed out, reset or input shut down: the socket is closed next anyway
    }
  }

  /**
   * Stops accepting, closes every connection with 1001 (going away) after its handler's {@link
   * Handler#onClose}, and waits up to {@code timeout} for the connection threads to end.
   */
  void close(Duration timeout) {
    closed = true;
    try {
      serverSocket.close();
    } catch (IOException e) {
      // closing anyway
    }
    List<Connection> open = new ArrayList<>(connections);
    for (Connection c : open) {
      c.close(GOING_AWAY, "server shutting down");
    }
    long deadline = System.nanoTime() + timeout.toNanos();
    for (Connection c : open) {
      Thread t = c.thread;
      long left = deadline - System.nanoTime();
      if (t != null && left > 0) {
        try {
          t.join(Math.max(1, left / 1_000_000));
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
    try {
      acceptor.join(1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** {@link #close(Duration)} with 10 seconds for the handlers to finish. Idempotent. */
  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }

  /** A protocol violation by the client: close with this code. */
  private static final class ProtocolException extends Exception {
    private static final long serialVersionUID = 1L;
    final int code;

    ProtocolException(int code, String message) {
      super(message);
      this.code = code;
    }
  }

  private static final class Frame {
    final boolean fin;
    final int opcode;
    final byte[] payload;

    Frame(boolean fin, int opcode, byte[] payload) {
      this.fin = fin;
      this.opcode = opcode;
      this.payload = payload;
    }
  }

  private static final class CloseRequest {
    final int code;
    final String reason;

    CloseRequest(int code, String reason) {
      this.code = code;
      this.reason = reason;
    }
  }

  /** One client connection. Sending is thread-safe; the handler runs on the connection's thread. */
  final class Connection {
    private final Socket socket;
    private final int id;
    private final SocketAddress remote;
    private volatile Thread thread;
    private InputStream in;
    private OutputStream out;
    private Handler handler;
    private boolean handlerEnded;
    private boolean closeSent;
    private volatile CloseRequest closeRequest;

    private Connection(Socket socket, int id) {
      this.socket = socket;
      this.id = id;
      this.remote = socket.getRemoteSocketAddress();
    }

    /** The client's address. */
    SocketAddress remoteAddress() {
      return remote;
    }

    /**
     * Sends a text message.
     *
     * @return false if the connection is closing or broken (the text was not sent)
     */
    boolean sendText(String text) {
      return send(OP_TEXT, text.getBytes(StandardCharsets.UTF_8));
    }

    /**
     * Closes the connection with this code: the handler's {@link Handler#onClose} runs, then the
     * close frame goes out. From the handler's own thread this happens when the current callback
     * returns; from another thread, at once (the client's last frames are then not read).
     *
     * @param code a close code, e.g. 1000 or 1003
     * @param reason a short reason, at most 123 bytes of UTF-8 (longer is cut)
     */
    void close(int code, String reason) {
      if (closeRequest == null) {
        closeRequest = new CloseRequest(code, reason);
      }
      if (Thread.currentThread() != thread) {
        // Wakes the connection thread from its blocking read: it sees end of input and the request.
        try {
          socket.shutdownInput();
        } catch (IOException e) {
          // already closed
        }
      }
    }

    private void run() {
      try {
        socket.setTcpNoDelay(true);
        in = new BufferedInputStream(socket.getInputStream());
        out = new BufferedOutputStream(socket.getOutputStream());
        socket.setSoTimeout((int) HANDSHAKE_TIMEOUT.toMillis());
        if (!handshake()) {
          lingeringClose(socket, in, CLOSE_TIMEOUT, MAX_HANDSHAKE_BYTES);
          return;
        }
        socket.setSoTimeout(0);
        try {
          handler = handlers.apply(this);
        } catch (RuntimeException e) {
          LOG.error("WebSocket connection {} from {}: no handler", id, remote, e);
          handler = new Handler() {};
          closeFromServer(INTERNAL_ERROR, "internal error", true);
          return;
        }
        readLoop();
      } catch (IOException e) {
        LOG.debug("WebSocket connection {} from {} ended: {}", id, remote, e.toString());
      } finally {
        try {
          socket.close();
        } catch (IOException e) {
          // closed
        }
        connections.remove(this);
      }
    }

    // ---- opening handshake ---------------------------------------------------------------

    private boolean handshake() throws IOException {
      String head = readHead();
      if (head == null) {
        return false;
      }
      String[] lines = head.split("\r\n");
      String[] request = lines[0].split(" ");
      if (request.length != 3 || !request[2].startsWith("HTTP/1.")) {
        return httpError(400, "Bad Request", "");
      }
      Map<String, String> headers = new HashMap<>();
      for (int i = 1; i < lines.length; i++) {
        int colon = lines[i].indexOf(':');
        if (colon > 0) {
          String name = lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT);
          String value = lines[i].substring(colon + 1).trim();
          headers.merge(name, value, (a, b) -> a + ", " + b);
        }
      }
      if (!request[0].equals("GET")) {
        return httpError(405, "Method Not Allowed", "Allow: GET\r\n");
      }
      String target = request[1];
      int query = target.indexOf('?');
      if (!(query < 0 ? target : target.substring(0, query)).equals(path)) {
        return httpError(404, "Not Found", "");
      }
      if (!hasToken(headers.get("upgrade"), "websocket")
          || !hasToken(headers.get("connection"), "upgrade")) {
        return httpError(426, "Upgrade Required", "Upgrade: websocket\r\nConnection: Upgrade\r\n");
      }
      if (!"13".equals(headers.get("sec-websocket-version"))) {
        return httpError(426, "Upgrade Required", "Sec-WebSocket-Version: 13\r\n");
      }
      String key = headers.get("sec-websocket-key");
      if (!validKey(key)) {
        return httpError(400, "Bad Request", "");
      }
      String response =
          "HTTP/1.1 101 Switching Protocols\r\n"
              + "Upgrade: websocket\r\n"
              + "Connection: Upgrade\r\n"
              + "Sec-WebSocket-Accept: "
              + acceptKey(key)
              + "\r\n\r\n";
      out.write(response.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return true;
    }

    /** The request head up to the blank line, or null (after an HTTP error) when too long. */
    private String readHead() throws IOException {
      ByteArrayOutputStream head = new ByteArrayOutputStream();
      int matched = 0;
      byte[] end = {'\r', '\n', '\r', '\n'};
      while (matched < 4) {
        int b = in.read();
        if (b < 0) {
          throw new EOFException("connection closed during the handshake");
        }
        if (head.size() >= MAX_HANDSHAKE_BYTES) {
          httpError(431, "Request Header Fields Too Large", "");
          return null;
        }
        head.write(b);
        matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      }
      String s = head.toString(StandardCharsets.ISO_8859_1);
      return s.substring(0, s.length() - 4);
    }

    private boolean httpError(int status, String text, String extraHeaders) throws IOException {
      String response =
          "HTTP/1.1 "
              + status
              + " "
              + text
              + "\r\n"
              + extraHeaders
              + "Content-Length: 0\r\nConnection: close\r\n\r\n";
      out.write(response.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      return false;
    }

    // ---- frames ----------------------------------------------------------------------------

    private void readLoop() throws IOException {
      ByteArrayOutputStream message = null;
      int messageOpcode = 0;
      while (true) {
        CloseRequest requested = closeRequest;
        if (requested != null) {
          closeFromServer(requested.code, requested.reason, true);
          return;
        }
        Frame f;
        try {
          f = readFrame(message == null ? 0 : message.size());
        } catch (ProtocolException e) {
          // The stream is out of step (or the client misbehaves): close without waiting.
          closeFromServer(e.code, e.getMessage(), false);
          return;
        } catch (IOException e) {
          requested = closeRequest;
          if (requested != null) {
            // close() from another thread shut our input down.
            closeFromServer(requested.code, requested.reason, false);
          } else {
            endHandler(ABNORMAL_CLOSURE, "connection lost: " + e.getMessage());
          }
          return;
        }
        try {
          switch (f.opcode) {
            case OP_PING:
              send(OP_PONG, f.payload);
              break;
            case OP_PONG:
              break;
            case OP_CLOSE:
              onClientClose(f.payload);
              return;
            case OP_TEXT:
            case OP_BINARY:
              if (message != null) {
                throw new ProtocolException(
                    PROTOCOL_ERROR, "new message before the last one's final fragment");
              }
              if (f.fin) {
                deliver(f.opcode, f.payload);
              } else {
                message = new ByteArrayOutputStream();
                message.writeBytes(f.payload);
                messageOpcode = f.opcode;
              }
              break;
            case OP_CONTINUATION:
              if (message == null) {
                throw new ProtocolException(PROTOCOL_ERROR, "continuation frame without a message");
              }
              message.writeBytes(f.payload);
              if (f.fin) {
                byte[] whole = message.toByteArray();
                message = null;
                deliver(messageOpcode, whole);
              }
              break;
            default:
              throw new ProtocolException(
                  PROTOCOL_ERROR, "unknown opcode 0x" + Integer.toHexString(f.opcode));
          }
        } catch (ProtocolException e) {
          closeFromServer(e.code, e.getMessage(), false);
          return;
        }
      }
    }

    /**
     * Reads one frame, unmasked.
     *
     * @param messageSoFar bytes of the unfinished message, counted against the limit
     */
    private Frame readFrame(int messageSoFar) throws IOException, ProtocolException {
      int b0 = readByte();
      int b1 = readByte();
      boolean fin = (b0 & 0x80) != 0;
      int opcode = b0 & 0x0F;
      if ((b0 & 0x70) != 0) {
        throw new ProtocolException(PROTOCOL_ERROR, "reserved bits set (no extension agreed)");
      }
      if ((b1 & 0x80) == 0) {
        throw new ProtocolException(PROTOCOL_ERROR, "client frames must be masked");
      }
      long length = b1 & 0x7F;
      if (length == 126) {
        length = (readByte() << 8) | readByte();
      } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; i++) {
          length = (length << 8) | readByte();
        }
        if (length < 0) {
          throw new ProtocolException(PROTOCOL_ERROR, "frame length has its top bit set");
        }
      }
      boolean control = (opcode & 0x8) != 0;
      if (control && (!fin || length > 125)) {
        throw new ProtocolException(
            PROTOCOL_ERROR, "control frames must be unfragmented and at most 125 bytes");
      }
      // Checked before reading, so an oversized frame is never buffered.
      if (!control && length > maxMessageBytes - (long) messageSoFar) {
        throw new ProtocolException(
            MESSAGE_TOO_BIG,
            "message of at least " + (messageSoFar + length) + " bytes, limit " + maxMessageBytes);
      }
      byte[] mask = readExactly(4);
      byte[] payload = readExactly((int) length);
      for (int i = 0; i < payload.length; i++) {
        payload[i] ^= mask[i & 3];
      }
      return new Frame(fin, opcode, payload);
    }

    private int readByte() throws IOException {
      int b = in.read();
      if (b < 0) {
        throw new EOFException("end of stream");
      }
      return b;
    }

    private byte[] readExactly(int n) throws IOException {
      byte[] b = in.readNBytes(n);
      if (b.length < n) {
        throw new EOFException("end of stream inside a frame");
      }
      return b;
    }

    private void deliver(int opcode, byte[] payload) throws ProtocolException {
      try {
        if (opcode == OP_TEXT) {
          handler.onText(this, utf8(payload));
        } else {
          handler.onBinary(this, payload);
        }
      } catch (RuntimeException e) {
        LOG.error("WebSocket connection {} from {}: handler failed", id, remote, e);
        if (closeRequest == null) {
          closeRequest = new CloseRequest(INTERNAL_ERROR, "internal error");
        }
      }
    }

    private void onClientClose(byte[] payload) throws IOException {
      int code = NO_STATUS;
      String reason = "";
      int reply = NORMAL_CLOSURE;
      if (payload.length == 1) {
        code = reply = PROTOCOL_ERROR;
        reason = "close frame with a 1-byte payload";
      } else if (payload.length >= 2) {
        code = ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF);
        try {
          reason = utf8(ByteBuffer.wrap(payload, 2, payload.length - 2));
          reply = validCloseCode(code) ? code : PROTOCOL_ERROR;
        } catch (ProtocolException e) {
          reply = INVALID_PAYLOAD;
        }
      }
      endHandler(code, reason);
      // The client started the close: answer and close the TCP connection, as the server should.
      sendClose(reply, "");
    }

    /**
     * Ends the connection from this side: the handler's last word, the close frame, then (when the
     * stream is in step) up to {@link #CLOSE_TIMEOUT} for the client's close before the socket
     * goes.
     */
    private void closeFromServer(int code, String reason, boolean awaitReply) throws IOException {
      if (code != NORMAL_CLOSURE && code != GOING_AWAY) {
        LOG.info(
            "WebSocket connection {} from {}: closing with {} ({})",
            id,
            remote,
            code,
            reason.replace('\r', ' ').replace('\n', ' '));
      }
      endHandler(code, reason);
      sendClose(code, reason);
      lingeringClose(socket, in, CLOSE_TIMEOUT, awaitReply ? Long.MAX_VALUE : 2L * maxMessageBytes);
    }

    private void endHandler(int code, String reason) {
      if (handlerEnded || handler == null) {
        return;
      }
      handlerEnded = true;
      try {
        handler.onClose(this, code, reason);
      } catch (RuntimeException e) {
        LOG.error("WebSocket connection {} from {}: handler failed on close", id, remote, e);
      }
    }

    private void sendClose(int code, String reason) {
      byte[] r = reason.getBytes(StandardCharsets.UTF_8);
      int n = Math.min(r.length, 123);
      byte[] payload = new byte[2 + n];
      payload[0] = (byte) (code >> 8);
      payload[1] = (byte) code;
      System.arraycopy(r, 0, payload, 2, n);
      send(OP_CLOSE, payload);
    }

    private synchronized boolean send(int opcode, byte[] payload) {
      if (closeSent) {
        return false;
      }
      if (opcode == OP_CLOSE) {
        closeSent = true;
      }
      try {
        int len = payload.length;
        out.write(0x80 | opcode);
        if (len < 126) {
          out.write(len);
        } else if (len <= 0xFFFF) {
          out.write(126);
          out.write(len >>> 8);
          out.write(len);
        } else {
          out.write(127);
          for (int shift = 56; shift >= 0; shift -= 8) {
            out.write((int) ((long) len >>> shift));
          }
        }
        out.write(payload);
        out.flush();
        return true;
      } catch (IOException e) {
        closeSent = true;
        LOG.debug("WebSocket connection {} from {}: send failed: {}", id, remote, e.toString());
        return false;
      }
    }

    @Override
    public String toString() {
      return "ws-connection-" + id + "@" + remote;
    }
  }

  // ---- helpers shared with the tests ----------------------------------------------------------

  /** {@code Sec-WebSocket-Accept} for a client key: base64(SHA-1(key + GUID)). */
  static String acceptKey(String key) {
    try {
      byte[] sha1 =
          MessageDigest.getInstance("SHA-1")
              .digest((key + ACCEPT_GUID).getBytes(StandardCharsets.US_ASCII));
      return Base64.getEncoder().encodeToString(sha1);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-1", e);
    }
  }

  private static boolean validKey(String key) {
    if (key == null) {
      return false;
    }
    try {
      return Base64.getDecoder().decode(key).length == 16;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean hasToken(String header, String token) {
    if (header == null) {
      return false;
    }
    for (String t : header.split(",")) {
      if (t.trim().equalsIgnoreCase(token)) {
        return true;
      }
    }
    return false;
  }

  /** Close codes a client may send (RFC 6455 section 7.4 and the IANA registry). */
  private static boolean validCloseCode(int code) {
    return (code >= 1000 && code <= 1003)
        || (code >= 1007 && code <= 1014)
        || (code >= 3000 && code <= 4999);
  }

  private static String utf8(byte[] bytes) throws ProtocolException {
    return utf8(ByteBuffer.wrap(bytes));
  }

  private static String utf8(ByteBuffer bytes) throws ProtocolException {
    try {
      return StandardCharsets.UTF_8
          .newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(bytes)
          .toString();
    } catch (CharacterCodingException e) {
      throw new ProtocolException(INVALID_PAYLOAD, "text is not valid UTF-8");
    }
  }
}
