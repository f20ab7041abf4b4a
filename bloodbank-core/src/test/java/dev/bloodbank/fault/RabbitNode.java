package dev.bloodbank.fault;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.validation.ValidationMode;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * A private RabbitMQ node for faults that hit a whole broker ({@code stop_app}, alarms, closing
 * every connection, a TLS listener), so the shared node on 5672 that other suites and people use
 * never sees them.
 *
 * <p>It runs the installed RabbitMQ ({@code /usr/lib/rabbitmq/bin} or {@code rabbitmq-server} on
 * the PATH) as the current user with its own node name ({@code bbfault-<random>@localhost}), AMQP,
 * TLS and distribution ports, data and log directories and Erlang cookie (a private {@code HOME}),
 * and no plugins. One node per JVM ({@link #shared()}); booting takes about 5 to 15 s. It is
 * stopped when the JVM exits. Thread-safe.
 */
public final class RabbitNode {
  private static RabbitNode shared;

  private final Path dir;
  private final String node;
  private final int port;
  private final int tlsPort;
  private final int distPort;
  private final Certificates certificates;
  private final Map<String, String> env = new HashMap<>();
  private final String ctl;
  private final Duration bootTime;
  private volatile boolean stopped;

  private RabbitNode() throws Exception {
    this.dir = Files.createTempDirectory("bbfault-rabbit-");
    String id = UUID.randomUUID().toString().substring(0, 8);
    this.node = "bbfault-" + id + "@localhost";
    this.port = Processes.freePort();
    this.tlsPort = Processes.freePort();
    this.distPort = Processes.freePort();
    this.certificates = Certificates.create(dir.resolve("tls"));
    Path home = Files.createDirectories(dir.resolve("home"));
    byte[] cookie = new byte[20];
    new SecureRandom().nextBytes(cookie);
    Path cookieFile = home.resolve(".erlang.cookie");
    Files.writeString(cookieFile, HexFormat.of().formatHex(cookie).toUpperCase());
    Files.setPosixFilePermissions(cookieFile, PosixFilePermissions.fromString("r--------"));
    Files.writeString(dir.resolve("enabled_plugins"), "[].\n");
    Files.writeString(dir.resolve("rabbitmq-env.conf"), "");
    Files.writeString(
        dir.resolve("rabbitmq.conf"),
        String.join(
            "\n",
            "listeners.tcp.default = 127.0.0.1:" + port,
            "listeners.ssl.default = 127.0.0.1:" + tlsPort,
            "ssl_options.cacertfile = " + certificates.caCert(),
            "ssl_options.certfile = " + certificates.serverCert(),
            "ssl_options.keyfile = " + certificates.serverKey(),
            "ssl_options.verify = verify_none",
            "ssl_options.fail_if_no_peer_cert = false",
            "loopback_users = none",
            "disk_free_limit.absolute = 1MB",
            "log.console = false",
            "log.file.level = warning",
            ""));
    env.put("HOME", home.toString());
    env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
    env.put("RABBITMQ_NODENAME", node);
    env.put("RABBITMQ_NODE_PORT", Integer.toString(port));
    env.put("RABBITMQ_DIST_PORT", Integer.toString(distPort));
    env.put("RABBITMQ_MNESIA_BASE", dir.resolve("mnesia").toString());
    env.put("RABBITMQ_LOG_BASE", dir.resolve("log").toString());
    env.put("RABBITMQ_PID_FILE", dir.resolve("rabbit.pid").toString());
    env.put("RABBITMQ_CONFIG_FILE", dir.resolve("rabbitmq.conf").toString());
    env.put("RABBITMQ_ENABLED_PLUGINS_FILE", dir.resolve("enabled_plugins").toString());
    env.put("RABBITMQ_ADVANCED_CONFIG_FILE", dir.resolve("advanced.config").toString());
    env.put("ERL_EPMD_ADDRESS", "127.0.0.1");
    env.put("RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS", "-kernel inet_dist_use_interface {127,0,0,1}");
    String server =
        Processes.executable("rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server");
    this.ctl = Processes.executable("rabbitmqctl", "/usr/lib/rabbitmq/bin/rabbitmqctl");
    long start = System.nanoTime();
    Processes.runOrFail(List.of(server, "-detached"), env, Duration.ofSeconds(60));
    Thread hook = new Thread(this::stopQuietly, "bbfault-rabbit-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      // -detached returns before the node registers; wait for its pid file, then for the app.
      awaitPidFile(dir.resolve("rabbit.pid"), Duration.ofSeconds(60));
      ctl("wait", dir.resolve("rabbit.pid").toString(), "--timeout", "120");
      ctl("await_startup", "--timeout", "120");
    } catch (IOException e) {
      stopQuietly();
      throw new IOException(e.getMessage() + "\nlogs in " + dir.resolve("log"), e);
    }
    this.bootTime = Duration.ofNanos(System.nanoTime() - start);
    System.out.printf(
        "private RabbitMQ node %s on 127.0.0.1:%d (TLS %d) booted in %.1f s%n",
        node, port, tlsPort, bootTime.toMillis() / 1000.0);
  }

  /**
   * Waits until the pid file holds a whole pid: {@code rabbitmqctl wait} refuses one read while it
   * is being written ({@code garbage_in_pid_file}).
   */
  private static void awaitPidFile(Path pidFile, Duration max)
      throws IOException, InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    String last = null;
    while (System.nanoTime() < deadline) {
      if (Files.exists(pidFile)) {
        String now = Files.readString(pidFile).trim();
        if (now.matches("\\d+") && now.equals(last)) {
          return;
        }
        last = now;
      }
      Thread.sleep(50);
    }
    throw new IOException("no pid in " + pidFile + " after " + max);
  }

  /**
   * The JVM's private node, booted on first use. Under {@code CI} a node that cannot boot fails the
   * test; otherwise the test is skipped.
   */
  public static synchronized RabbitNode shared() {
    if (shared == null || shared.stopped) {
      // Under CI this throws; elsewhere it skips when RabbitMQ is not installed or running.
      BrokerExtension.requireService("RabbitMQ", "127.0.0.1", 5672);
      try {
        shared = new RabbitNode();
      } catch (Exception e) {
        throw new AssertionError("cannot boot a private RabbitMQ node: " + e.getMessage(), e);
      }
    }
    return shared;
  }

  /** The node name. */
  public String nodeName() {
    return node;
  }

  /** The AMQP port. */
  public int port() {
    return port;
  }

  /** The AMQPS (TLS) port. */
  public int tlsPort() {
    return tlsPort;
  }

  /** The certificates the TLS listener uses. */
  public Certificates certificates() {
    return certificates;
  }

  /** How long the node took to boot. */
  public Duration bootTime() {
    return bootTime;
  }

  /** Bus options for this node with a test's own exchange and service name. */
  public BloodbankOptions.Builder options(String id) {
    return BloodbankOptions.builder()
        .address("127.0.0.1", port)
        .exchange("bloodbank.fault." + id)
        .serviceName("fault-" + id)
        .recoveryInterval(Duration.ofMillis(500))
        .validation(ValidationMode.PERMISSIVE);
  }

  /** A raw connection to this node, recovering automatically (the caller closes it). */
  public Connection rawConnection(String name) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(port);
    f.setAutomaticRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(500);
    return f.newConnection("fault-" + name);
  }

  /** Runs {@code rabbitmqctl -n <node> args...}, failing on a non-zero exit. */
  public String ctl(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of(ctl, "-q", "-n", node));
    cmd.addAll(List.of(args));
    return Processes.runOrFail(cmd, env, Duration.ofSeconds(150)).output();
  }

  /** Closes every client connection on this node. */
  public void closeAllConnections() throws Exception {
    ctl("close_all_connections", "closed by a Bloodbank fault test");
  }

  /** Stops the RabbitMQ application (the Erlang node stays up); clients lose their connections. */
  public void stopApp() throws Exception {
    ctl("stop_app");
  }

  /** Starts the application again and waits until it accepts connections. */
  public void startApp() throws Exception {
    ctl("start_app");
    ctl("await_startup", "--timeout", "60");
    awaitPort(Duration.ofSeconds(30));
  }

  /** Sets (true) or clears (false) a disk alarm: the node blocks every publishing connection. */
  public void diskAlarm(boolean on) throws Exception {
    ctl("set_disk_free_limit", on ? "100000GB" : "1MB");
  }

  /** Sets (true) or clears (false) a memory alarm. */
  public void memoryAlarm(boolean on) throws Exception {
    ctl("set_vm_memory_high_watermark", on ? "0.000001" : "0.4");
  }

  /** Messages ready in a queue, read with {@code rabbitmqctl list_queues}. */
  public long readyMessages(String queue) throws Exception {
    for (String line : ctl("list_queues", "name", "messages_ready").split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length == 2 && f[0].equals(queue)) {
        return Long.parseLong(f[1]);
      }
    }
    return -1;
  }

  private void awaitPort(Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 500);
        return;
      } catch (IOException e) {
        Thread.sleep(100);
      }
    }
  }

  /** Stops the node; also done on JVM exit. */
  public synchronized void stop() throws Exception {
    if (stopped) {
      return;
    }
    stopped = true;
    ctl("stop");
    Processes.deleteTree(dir);
  }

  private void stopQuietly() {
    try {
      stop();
    } catch (Exception e) {
      // Last resort: the pid file (written a moment after -detached returns).
      try {
        Path pidFile = dir.resolve("rabbit.pid");
        for (int i = 0; i < 100 && !Files.exists(pidFile); i++) {
          Thread.sleep(100);
        }
        String pid = Files.readString(pidFile).trim();
        new ProcessBuilder("kill", "-9", pid).start().waitFor();
      } catch (Exception ignored) {
        // gone already
      }
    }
  }
}
