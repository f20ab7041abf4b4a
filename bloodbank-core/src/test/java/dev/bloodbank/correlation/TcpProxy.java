package dev.bloodbank.correlation;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of the shared Redis, so a test can make "Redis" vanish (stop: no listener,
 * every connection closed) and come back (start) without touching the server other suites use.
 * Thread-safe; two daemon threads per connection.
 */
final class TcpProxy implements AutoCloseable {
  private final int port;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;

  /** A proxy to {@code targetPort} on localhost, on a free port, not yet listening. */
  TcpProxy(int targetPort) throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      this.port = probe.getLocalPort();
    }
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
  }

  /** The port the proxy listens on (when started). */
  int port() {
    return port;
  }

  /** Starts listening and forwarding. */
  synchronized void start() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    server = s;
    Thread accept = new Thread(() -> accept(s), "proxy-accept-" + port);
    accept.setDaemon(true);
    accept.start();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket client = s.accept();
        Socket upstream = new Socket();
        upstream.connect(target, 2000);
        sockets.add(client);
        sockets.add(upstream);
        pump(client, upstream);
        pump(upstream, client);
      } catch (IOException e) {
        // closed by stop(), or the target refused: the client sees its connection drop
      }
    }
  }

  private void pump(Socket from, Socket to) {
    Thread t =
        new Thread(
            () -> {
              byte[] buf = new byte[16 * 1024];
              try (InputStream in = from.getInputStream();
                  OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                  out.write(buf, 0, n);
                  out.flush();
                }
              } catch (IOException e) {
                // one side went away
              } finally {
                closeQuietly(from);
                closeQuietly(to);
              }
            },
            "proxy-pump-" + port);
    t.setDaemon(true);
    t.start();
  }

  /** Stops listening and closes every connection, as a Redis that went down would. */
  synchronized void stop() {
    ServerSocket s = server;
    if (s != null) {
      closeQuietly(s);
      server = null;
    }
    for (Socket c : sockets) {
      closeQuietly(c);
    }
    sockets.clear();
  }

  private static void closeQuietly(AutoCloseable c) {
    try {
      c.close();
    } catch (Exception e) {
      // already closed
    }
  }

  @Override
  public void close() {
    stop();
  }
}
