package dev.bloodbank.benchmarks;

import java.io.BufferedInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.Locale;

/**
 * The least an HTTP/1.1 client can do: one keep-alive socket, one pre-encoded request written
 * whole, the answer's status read and its body skipped. For comparison with the JDK's {@code
 * HttpClient} only: it shows how much of the shared CPU the load generator itself takes.
 *
 * <p>Not thread-safe: one per sending thread.
 */
final class KeepAliveClient implements AutoCloseable {
  private final InetSocketAddress server;
  private final byte[] request;
  private Socket socket;
  private OutputStream out;
  private InputStream in;
  private final StringBuilder line = new StringBuilder();

  /**
   * @param server where to connect
   * @param path e.g. {@code /events/llm.prompt}
   * @param body the JSON body sent with every request
   */
  KeepAliveClient(InetSocketAddress server, String path, byte[] body) {
    this.server = server;
    byte[] head =
        ("POST "
                + path
                + " HTTP/1.1\r\nHost: "
                + server.getHostString()
                + ":"
                + server.getPort()
                + "\r\nContent-Type: application/json\r\nContent-Length: "
                + body.length
                + "\r\n\r\n")
            .getBytes(StandardCharsets.US_ASCII);
    request = new byte[head.length + body.length];
    System.arraycopy(head, 0, request, 0, head.length);
    System.arraycopy(body, 0, request, head.length, body.length);
  }

  /** Sends the request and reads the whole answer; reconnects when the server closed. */
  int post() throws IOException {
    if (socket == null) {
      socket = new Socket();
      socket.setTcpNoDelay(true);
      socket.setSoTimeout(30_000);
      socket.connect(server, 10_000);
      out = socket.getOutputStream();
      in = new BufferedInputStream(socket.getInputStream(), 8192);
    }
    try {
      out.write(request);
      out.flush();
      String status = readLine();
      int code = Integer.parseInt(status.substring(9, 12));
      long length = -1;
      boolean chunked = false;
      boolean close = false;
      String h;
      while (!(h = readLine()).isEmpty()) {
        String lower = h.toLowerCase(Locale.ROOT);
        if (lower.startsWith("content-length:")) {
          length = Long.parseLong(lower.substring(15).strip());
        } else if (lower.startsWith("transfer-encoding:") && lower.contains("chunked")) {
          chunked = true;
        } else if (lower.startsWith("connection:") && lower.contains("close")) {
          close = true;
        }
      }
      if (chunked) {
        long size;
        while ((size = Long.parseLong(readLine().split(";")[0].strip(), 16)) > 0) {
          skip(size + 2);
        }
        readLine();
      } else if (length > 0) {
        skip(length);
      }
      if (close) {
        close();
      }
      return code;
    } catch (IOException | RuntimeException e) {
      close();
      throw e instanceof IOException io ? io : new IOException(e);
    }
  }

  private void skip(long n) throws IOException {
    while (n > 0) {
      long k = in.skip(n);
      if (k <= 0) {
        if (in.read() < 0) {
          throw new IOException("connection closed in a response body");
        }
        k = 1;
      }
      n -= k;
    }
  }

  private String readLine() throws IOException {
    line.setLength(0);
    int c;
    while ((c = in.read()) >= 0) {
      if (c == '\n') {
        int len = line.length();
        return len > 0 && line.charAt(len - 1) == '\r'
            ? line.substring(0, len - 1)
            : line.toString();
      }
      line.append((char) c);
    }
    throw new IOException("connection closed by the server");
  }

  @Override
  public void close() {
    if (socket != null) {
      try {
        socket.close();
      } catch (IOException e) {
        // gone anyway
      }
      socket = null;
    }
  }
}
