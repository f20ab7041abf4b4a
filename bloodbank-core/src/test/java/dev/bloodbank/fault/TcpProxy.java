package dev.bloodbank.fault;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.locks.LockSupport;

/**
 * A TCP proxy on loopback between a client and a real service (RabbitMQ, Redis), for network faults
 * that touch only the proxied connections, never the service's other clients.
 *
 * <ul>
 *   <li>{@link #cut()}: closes both sides of every connection (keeps listening: reconnects work).
 *   <li>{@link #blackhole()}: keeps every socket open but forwards nothing, like a dead host or a
 *       dropped route; new connections are accepted and hang too.
 *   <li>{@link #delay(Duration)}: forwards each chunk after a pause.
 *   <li>{@link #throttle(int)}: forwards at most this many bytes per second per direction.
 *   <li>{@link #forward()}: back to normal.
 *   <li>{@link #stop()} / {@link #start()}: no listener at all (connection refused), as a service
 *       that went down.
 * </ul>
 *
 * <p>Thread-safe; two daemon threads per connection.
 */
public final class TcpProxy implements AutoCloseable {
  /** What the proxy does with the bytes. */
  public enum Mode {
    /** Forward as they come. */
    FORWARD,
    /** Hold everything; sockets stay open. */
    BLACKHOLE,
    /** Forward each chunk after {@link #delay(Duration)}. */
    DELAY,
    /** Forward at most {@link #throttle(int)} bytes per second. */
    THROTTLE
  }

  private final int port;
  private final InetSocketAddress target;
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private volatile ServerSocket server;
  private volatile Mode mode = Mode.FORWARD;
  private volatile long delayNanos;
  private volatile int bytesPerSecond = Integer.MAX_VALUE;

  /**
   * A proxy to {@code targetPort} on loopback, on a free port, not yet listening.
   *
   * @param targetPort the service's port
   */
  public TcpProxy(int targetPort) throws IOException {
    try (ServerSocket probe = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) {
      this.port = probe.getLocalPort();
    }
    this.target = new InetSocketAddress(InetAddress.getLoopbackAddress(), targetPort);
  }

  /** A started proxy to {@code targetPort}. */
  public static TcpProxy started(int targetPort) throws IOException {
    TcpProxy p = new TcpProxy(targetPort);
    p.start();
    return p;
  }

  /** The port the proxy listens on (when started). */
  public int port() {
    return port;
  }

  /** The current mode. */
  public Mode mode() {
    return mode;
  }

  /** Starts listening and forwarding. */
  public synchronized void start() throws IOException {
    ServerSocket s = new ServerSocket();
    s.setReuseAddress(true);
    s.bind(new InetSocketAddress(InetAddress.getLoopbackAddress(), port));
    server = s;
    Thread accept = new Thread(() -> accept(s), "proxy-accept-" + port);
    accept.setDaemon(true);
    accept.start();
  }

  /** Forwards normally again; held bytes flow on. */
  public void forward() {
    mode = Mode.FORWARD;
  }

  /** Holds every byte in both directions, keeping the sockets open. */
  public void blackhole() {
    mode = Mode.BLACKHOLE;
  }

  /** Forwards each chunk after a pause. */
  public void delay(Duration d) {
    delayNanos = d.toNanos();
    mode = Mode.DELAY;
  }

  /** Forwards at most this many bytes per second in each direction of each connection. */
  public void throttle(int bytesPerSecond) {
    if (bytesPerSecond < 1) {
      throw new IllegalArgumentException("bytesPerSecond must be positive, was " + bytesPerSecond);
    }
    this.bytesPerSecond = bytesPerSecond;
    mode = Mode.THROTTLE;
  }

  /** Closes both sides of every current connection; new connections are still accepted. */
  public void cut() {
    for (Socket c : sockets) {
      closeQuietly(c);
    }
    sockets.clear();
  }

  /** How many sockets (client and upstream sides) are open through the proxy. */
  public int openSockets() {
    return (int) sockets.stream().filter(s -> !s.isClosed()).count();
  }

  private void accept(ServerSocket s) {
    while (!s.isClosed()) {
      try {
        Socket client = s.accept();
        Socket upstream = new Socket();
        upstream.connect(target, 2000);
        client.setTcpNoDelay(true);
        upstream.setTcpNoDelay(true);
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
                while ((n = in.read(buf, 0, chunk(buf.length))) >= 0) {
                  hold(from, to);
                  if (mode == Mode.DELAY) {
                    LockSupport.parkNanos(delayNanos);
                  } else if (mode == Mode.THROTTLE) {
                    LockSupport.parkNanos(1_000_000_000L * n / Math.max(1, bytesPerSecond));
                  }
                  hold(from, to);
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

  private int chunk(int max) {
    return mode == Mode.THROTTLE ? Math.max(1, Math.min(max, bytesPerSecond / 10)) : max;
  }

  /** While blackholed, neither reads on nor writes: the peer's data piles up in the kernel. */
  private void hold(Socket from, Socket to) {
    while (mode == Mode.BLACKHOLE && !from.isClosed() && !to.isClosed()) {
      LockSupport.parkNanos(5_000_000L);
    }
  }

  /** Stops listening and closes every connection, as a service that went down would. */
  public synchronized void stop() {
    ServerSocket s = server;
    if (s != null) {
      closeQuietly(s);
      server = null;
    }
    cut();
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
