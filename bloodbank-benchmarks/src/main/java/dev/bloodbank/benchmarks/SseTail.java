package dev.bloodbank.benchmarks;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * One live-tail client on a plain socket: {@code GET} a Server-Sent Events stream, then read it on
 * its own thread as fast as it arrives, counting {@code event: event} records and noticing {@code
 * event: dropped}. Decodes chunked transfer encoding and looks only at the first bytes of each
 * line, so the harness's side costs little of the CPU it shares with the server.
 *
 * <p>Counters are written by the reader thread only and safe to read from any thread.
 */
final class SseTail implements AutoCloseable {
  private static final int PREFIX = 256;

  private final Socket socket;
  private final String request;
  private final Thread reader;
  private final CountDownLatch ready = new CountDownLatch(1);
  private volatile long events;
  private volatile boolean dropped;
  private volatile @Nullable String dropReason;
  private volatile boolean ended;
  private volatile boolean closing;
  private volatile @Nullable String failure;

  // Reader thread only.
  private final byte[] line = new byte[PREFIX];
  private int lineLength;
  private boolean expectDropData;

  private SseTail(Socket socket, String request, String name) {
    this.socket = socket;
    this.request = request;
    this.reader = new Thread(this::run, name);
    reader.setDaemon(true);
  }

  /**
   * Connects and starts reading.
   *
   * @param server the server's address
   * @param pathAndQuery e.g. {@code /events/stream?pattern=%23}
   * @param name the reader thread's name
   */
  static SseTail open(InetSocketAddress server, String pathAndQuery, String name)
      throws IOException {
    Socket s = new Socket();
    s.setTcpNoDelay(true);
    s.connect(server, 10_000);
    String request =
        "GET "
            + pathAndQuery
            + " HTTP/1.1\r\nHost: "
            + server.getHostString()
            + ":"
            + server.getPort()
            + "\r\nAccept: text/event-stream\r\nCache-Control: no-cache\r\n\r\n";
    SseTail t = new SseTail(s, request, name);
    t.reader.start();
    return t;
  }

  /** Waits for the server's {@code ready} event (the tail's queue is bound then). */
  boolean awaitReady(long timeout, TimeUnit unit) throws InterruptedException {
    return ready.await(timeout, unit) && !ended;
  }

  /** {@code event: event} records read so far. */
  long events() {
    return events;
  }

  /** Whether the server sent {@code event: dropped}. */
  boolean dropped() {
    return dropped;
  }

  /** The reason in the drop notice, if one came. */
  @Nullable String dropReason() {
    return dropReason;
  }

  /** Whether the stream ended or failed before {@link #close()}. */
  boolean ended() {
    return ended && !closing;
  }

  /** What went wrong, if the stream could not be opened or read. */
  @Nullable String failure() {
    return failure;
  }

  @Override
  public void close() throws InterruptedException {
    closing = true;
    try {
      socket.close();
    } catch (IOException e) {
      // closing anyway
    }
    reader.join(5000);
  }

  private void run() {
    try {
      OutputStream out = socket.getOutputStream();
      out.write(request.getBytes(StandardCharsets.US_ASCII));
      out.flush();
      InputStream in = new BufferedInputStream(socket.getInputStream(), 1 << 16);
      String status = readLine(in);
      if (status == null || !status.startsWith("HTTP/1.1 200")) {
        failure = "status line: " + status;
        return;
      }
      boolean chunked = false;
      String h;
      while ((h = readLine(in)) != null && !h.isEmpty()) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        }
      }
      byte[] buf = new byte[1 << 16];
      if (chunked) {
        readChunked(in, buf);
      } else {
        int n;
        while ((n = in.read(buf)) > 0) {
          scan(buf, 0, n);
        }
      }
    } catch (IOException e) {
      if (!closing) {
        failure = e.toString();
      }
    } finally {
      ended = true;
      ready.countDown();
    }
  }

  private void readChunked(InputStream in, byte[] buf) throws IOException {
    while (true) {
      String size = readLine(in);
      if (size == null) {
        return;
      }
      int semi = size.indexOf(';');
      int left = Integer.parseInt((semi < 0 ? size : size.substring(0, semi)).strip(), 16);
      if (left == 0) {
        return;
      }
      while (left > 0) {
        int n = in.read(buf, 0, Math.min(buf.length, left));
        if (n < 0) {
          return;
        }
        scan(buf, 0, n);
        left -= n;
      }
      readLine(in); // the CRLF after the chunk
    }
  }

  /** Looks at each line's first {@value #PREFIX} bytes; the rest of a long data line is skipped. */
  private void scan(byte[] b, int from, int to) {
    for (int i = from; i < to; i++) {
      byte c = b[i];
      if (c == '\n') {
        endOfLine();
        lineLength = 0;
      } else if (lineLength < PREFIX) {
        line[lineLength++] = c;
      } else {
        int nl = i + 1;
        while (nl < to && b[nl] != '\n') {
          nl++;
        }
        i = nl - 1;
      }
    }
  }

  private void endOfLine() {
    int n = lineLength > 0 && line[lineLength - 1] == '\r' ? lineLength - 1 : lineLength;
    if (is("event: event", n)) {
      events++;
    } else if (is("event: dropped", n)) {
      dropped = true;
      expectDropData = true;
    } else if (is("event: ready", n)) {
      ready.countDown();
    } else if (expectDropData && n > 6 && line[0] == 'd' && line[4] == ':') {
      dropReason = new String(line, 6, n - 6, StandardCharsets.UTF_8);
      expectDropData = false;
    }
  }

  private boolean is(String s, int n) {
    if (n != s.length()) {
      return false;
    }
    for (int i = 0; i < n; i++) {
      if (line[i] != s.charAt(i)) {
        return false;
      }
    }
    return true;
  }

  private static @Nullable String readLine(InputStream in) throws IOException {
    StringBuilder sb = new StringBuilder();
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = sb.length();
        return len > 0 && sb.charAt(len - 1) == '\r' ? sb.substring(0, len - 1) : sb.toString();
      }
      sb.append((char) c);
    }
    return sb.length() == 0 ? null : sb.toString();
  }
}
