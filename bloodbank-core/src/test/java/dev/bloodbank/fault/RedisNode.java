package dev.bloodbank.fault;

import dev.bloodbank.BrokerExtension;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A private {@code redis-server} on a free loopback port, so {@code SHUTDOWN}, {@code CLIENT PAUSE}
 * and {@code CLIENT KILL} never disturb the shared Redis on 6379. No persistence. Stopped on JVM
 * exit. Thread-safe.
 */
public final class RedisNode implements AutoCloseable {
  private final Path dir;
  private final int port;
  private volatile boolean running;

  private RedisNode() throws Exception {
    this.dir = Files.createTempDirectory("bbfault-redis-");
    this.port = Processes.freePort();
    Runtime.getRuntime().addShutdownHook(new Thread(this::shutdownQuietly, "bbfault-redis-stop"));
    start();
  }

  /** Starts a private Redis; under {@code CI} a missing {@code redis-server} fails the test. */
  public static RedisNode create() {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    try {
      return new RedisNode();
    } catch (Exception e) {
      throw new AssertionError("cannot start a private redis-server: " + e.getMessage(), e);
    }
  }

  /** The port. */
  public int port() {
    return port;
  }

  /** A {@code redis://} URI for this node. */
  public String uri() {
    return "redis://127.0.0.1:" + port;
  }

  /**
   * A daemonized {@code redis-server} on loopback that keeps nothing on disk, with its pid and log
   * files in {@code dir} named {@code <name>.pid} and {@code <name>.log}; {@code extra} arguments
   * come last.
   */
  static List<String> serverCommand(int port, Path dir, String name, String... extra) {
    List<String> cmd =
        new java.util.ArrayList<>(
            List.of(
                "redis-server",
                "--port",
                Integer.toString(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "yes",
                "--dir",
                dir.toString(),
                "--pidfile",
                dir.resolve(name + ".pid").toString(),
                "--logfile",
                dir.resolve(name + ".log").toString()));
    cmd.addAll(List.of(extra));
    return cmd;
  }

  /** (Re)starts the server on the same port and waits until it answers PING. */
  public synchronized void start() throws Exception {
    Processes.runOrFail(serverCommand(port, dir, "redis"), Map.of(), Duration.ofSeconds(30));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      try {
        if (command("PING").contains("PONG")) {
          break;
        }
      } catch (IOException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      Thread.sleep(50);
    }
    running = true;
  }

  /**
   * Runs {@code redis-cli -c -p port args...} against a private server (following cluster
   * redirections, harmless elsewhere) and returns its output.
   */
  static String cli(int port, String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-c", "-p", Integer.toString(port)));
    cmd.addAll(List.of(args));
    return Processes.run(cmd, Map.of(), Duration.ofSeconds(10)).output();
  }

  /** {@code SHUTDOWN NOSAVE} on each of a fixture's own servers; one already gone is skipped. */
  static void shutdownAll(List<Integer> ports) {
    for (int port : ports) {
      try {
        cli(port, "shutdown", "nosave");
      } catch (Exception e) {
        // gone
      }
    }
  }

  /** {@code SHUTDOWN NOSAVE}: the server exits, every client loses its connection. */
  public synchronized void shutdown() throws Exception {
    try {
      command("SHUTDOWN", "NOSAVE");
    } catch (IOException e) {
      // the server closes the connection instead of answering
    }
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        Thread.sleep(50);
      } catch (IOException e) {
        break;
      }
    }
    running = false;
  }

  /** {@code CLIENT PAUSE ms ALL}: the server answers nobody for that long. */
  public void pause(Duration d) throws Exception {
    command("CLIENT", "PAUSE", Long.toString(d.toMillis()), "ALL");
  }

  /** {@code CLIENT KILL TYPE normal}: closes every normal client connection but this one. */
  public void killClients() throws Exception {
    command("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes");
  }

  /** Sends one command in RESP and returns the raw first reply line. */
  public String command(String... args) throws IOException {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
      s.setSoTimeout(5000);
      StringBuilder req = new StringBuilder("*" + args.length + "\r\n");
      for (String a : args) {
        req.append('$').append(a.getBytes(StandardCharsets.UTF_8).length).append("\r\n");
        req.append(a).append("\r\n");
      }
      OutputStream out = s.getOutputStream();
      out.write(req.toString().getBytes(StandardCharsets.UTF_8));
      out.flush();
      InputStream in = s.getInputStream();
      StringBuilder line = new StringBuilder();
      int c;
      while ((c = in.read()) >= 0 && c != '\n') {
        line.append((char) c);
      }
      return line.toString().trim();
    }
  }

  private void shutdownQuietly() {
    if (running) {
      try {
        shutdown();
      } catch (Exception e) {
        // gone
      }
    }
  }

  @Override
  public void close() {
    shutdownQuietly();
    Processes.deleteTree(dir);
  }
}
