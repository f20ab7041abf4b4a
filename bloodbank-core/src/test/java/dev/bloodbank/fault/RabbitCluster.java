package dev.bloodbank.fault;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.validation.ValidationMode;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

/**
 * A private RabbitMQ cluster of three nodes on loopback (issue #23), beside the shared broker on
 * 5672, which never sees any of its faults.
 *
 * <p>Each node runs the installed RabbitMQ as the current user, like {@link RabbitNode}: its own
 * node name ({@code bbclu<id>-<n>@localhost}), AMQP port (the first free ones from 5673 upward),
 * distribution port (AMQP + 20000), data and log directories and a private {@code HOME} holding the
 * Erlang cookie the three share. The nodes boot side by side, then the second and third join the
 * first with {@code rabbitmqctl join_cluster}. Quorum queues work out of the box; the {@code
 * rabbitmq_consistent_hash_exchange} plugin (shipped with the broker) is enabled on these nodes
 * only. {@code net_ticktime} is 10 s, so a paused node is declared down within about 10 to 15 s,
 * and {@code cluster_partition_handling} is {@code autoheal}: once a partitioned node is back, the
 * smaller side restarts by itself. ({@code pause_minority} left a resumed node running on its own
 * with the partition recorded, which needs an operator.)
 *
 * <p>Faults: {@link #kill} (SIGKILL of a node's Erlang VM), {@link #start} (boots it again; it
 * rejoins), {@link #stopApp}/{@link #startApp}, {@link #pause}/{@link #resume} (SIGSTOP/SIGCONT of
 * the VM: a partition as the other nodes see it) and {@link #leaderOf} (where a quorum queue's
 * leader runs). Stopped by {@link #close()} and at JVM exit. Booting takes about 30 to 60 s on two
 * cores. Run it by hand with {@link #main}. Thread-safe.
 */
public final class RabbitCluster implements AutoCloseable {
  /** One node of the cluster. */
  public final class Member {
    private final int index;
    private final String name;
    private final int port;
    private final int distPort;
    private final Path dir;
    private final Map<String, String> env = new HashMap<>();

    private Member(int index, String name, int port, Path dir, String cookie) throws IOException {
      this.index = index;
      this.name = name;
      this.port = port;
      this.distPort = port + 20000;
      this.dir = dir;
      Path home = Files.createDirectories(dir.resolve("home"));
      Path cookieFile = home.resolve(".erlang.cookie");
      Files.writeString(cookieFile, cookie);
      Files.setPosixFilePermissions(cookieFile, PosixFilePermissions.fromString("r--------"));
      Files.writeString(dir.resolve("enabled_plugins"), "[rabbitmq_consistent_hash_exchange].\n");
      Files.writeString(dir.resolve("rabbitmq-env.conf"), "");
      Files.writeString(
          dir.resolve("rabbitmq.conf"),
          String.join(
              "\n",
              "listeners.tcp.default = 127.0.0.1:" + port,
              "loopback_users = none",
              "disk_free_limit.absolute = 1MB",
              "cluster_partition_handling = autoheal",
              "log.console = false",
              "log.file.level = warning",
              ""));
      Files.writeString(dir.resolve("advanced.config"), "[{kernel, [{net_ticktime, 10}]}].\n");
      env.put("HOME", home.toString());
      env.put("RABBITMQ_CONF_ENV_FILE", dir.resolve("rabbitmq-env.conf").toString());
      env.put("RABBITMQ_NODENAME", name);
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
    }

    /** Its position, 0 to 2. */
    public int index() {
      return index;
    }

    /** The Erlang node name. */
    public String nodeName() {
      return name;
    }

    /** The AMQP port on 127.0.0.1. */
    public int port() {
      return port;
    }

    /** Runs {@code rabbitmqctl -n <node> args...} with this node's cookie; fails on non-zero. */
    public String ctl(String... args) throws IOException, InterruptedException {
      return Processes.runOrFail(ctlCommand(ctl, args), env, Duration.ofSeconds(150)).output();
    }

    /** Runs another CLI tool ({@code rabbitmq-queues}, {@code rabbitmq-diagnostics}) likewise. */
    public String tool(String tool, String... args) throws IOException, InterruptedException {
      String exe = Processes.executable(tool, "/usr/lib/rabbitmq/bin/" + tool);
      return Processes.runOrFail(ctlCommand(exe, args), env, Duration.ofSeconds(150)).output();
    }

    private List<String> ctlCommand(String exe, String... args) {
      List<String> cmd = new ArrayList<>(List.of(exe, "-q", "-n", name));
      cmd.addAll(List.of(args));
      return cmd;
    }

    private void boot() throws IOException, InterruptedException {
      Files.deleteIfExists(dir.resolve("rabbit.pid"));
      Processes.runOrFail(List.of(server, "-detached"), env, Duration.ofSeconds(60));
      try {
        awaitPidFile(dir.resolve("rabbit.pid"), Duration.ofSeconds(60));
        ctl("wait", dir.resolve("rabbit.pid").toString(), "--timeout", "120");
      } catch (IOException e) {
        throw new IOException(e.getMessage() + "\nlogs in " + dir.resolve("log"), e);
      }
    }

    private long pid() throws IOException {
      return Long.parseLong(Files.readString(dir.resolve("rabbit.pid")).trim());
    }

    private void signal(String sig) throws IOException, InterruptedException {
      Processes.runOrFail(
          List.of("kill", "-" + sig, Long.toString(pid())), Map.of(), Duration.ofSeconds(10));
    }

    @Override
    public String toString() {
      return name + " (127.0.0.1:" + port + ")";
    }
  }

  private final Path dir;
  private final String ctl;
  private final String server;
  private final List<Member> members = new ArrayList<>();
  private final Duration bootTime;
  private volatile boolean stopped;

  private RabbitCluster(int size) throws Exception {
    this.dir = Files.createTempDirectory("bbcluster-rabbit-");
    this.server = Processes.executable("rabbitmq-server", "/usr/lib/rabbitmq/bin/rabbitmq-server");
    this.ctl = Processes.executable("rabbitmqctl", "/usr/lib/rabbitmq/bin/rabbitmqctl");
    byte[] raw = new byte[20];
    new SecureRandom().nextBytes(raw);
    String cookie = HexFormat.of().formatHex(raw).toUpperCase();
    String id = UUID.randomUUID().toString().substring(0, 6);
    int next = 5673;
    for (int i = 0; i < size; i++) {
      next = freePortPair(next);
      members.add(
          new Member(
              i,
              "bbclu" + id + "-" + (i + 1) + "@localhost",
              next,
              dir.resolve("n" + (i + 1)),
              cookie));
      next++;
    }
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopQuietly, "bbcluster-rabbit-stop"));
    long start = System.nanoTime();
    try {
      // Side by side: on two cores three boots in parallel take little longer than one.
      List<CompletableFuture<Void>> boots = new ArrayList<>();
      for (Member m : members) {
        boots.add(CompletableFuture.runAsync(() -> unchecked(m::boot)));
      }
      join(boots);
      Member first = members.get(0);
      first.ctl("await_startup", "--timeout", "120");
      List<CompletableFuture<Void>> joins = new ArrayList<>();
      for (Member m : members.subList(1, members.size())) {
        m.ctl("await_startup", "--timeout", "120");
        m.ctl("stop_app");
        m.ctl("join_cluster", first.nodeName());
        joins.add(CompletableFuture.runAsync(() -> unchecked(() -> startApp(m))));
      }
      join(joins);
    } catch (Exception e) {
      stopQuietly();
      throw e;
    }
    this.bootTime = Duration.ofNanos(System.nanoTime() - start);
    System.out.printf(
        "private RabbitMQ cluster %s booted in %.1f s%n", members, bootTime.toMillis() / 1000.0);
  }

  /**
   * Boots a three-node cluster. Under {@code CI} a cluster that cannot boot fails the test;
   * elsewhere the test is skipped when RabbitMQ is not installed and running.
   */
  public static RabbitCluster start() {
    return start(3);
  }

  /** Boots a cluster of {@code size} nodes (1 to 5); see {@link #start()}. */
  public static RabbitCluster start(int size) {
    if (size < 1 || size > 5) {
      throw new IllegalArgumentException("size must be 1 to 5, was " + size);
    }
    BrokerExtension.requireService("RabbitMQ", "127.0.0.1", 5672);
    try {
      return new RabbitCluster(size);
    } catch (Exception e) {
      throw new AssertionError("cannot boot a private RabbitMQ cluster: " + e.getMessage(), e);
    }
  }

  /** The nodes, in the order they were started. */
  public List<Member> members() {
    return List.copyOf(members);
  }

  /** One node. */
  public Member member(int index) {
    return members.get(index);
  }

  /** How long booting and joining took. */
  public Duration bootTime() {
    return bootTime;
  }

  /** Every node's AMQP address, for {@code BloodbankOptions.addresses} or a raw client. */
  public List<BloodbankOptions.Address> addresses() {
    List<BloodbankOptions.Address> all = new ArrayList<>();
    for (Member m : members) {
      all.add(new BloodbankOptions.Address("127.0.0.1", m.port()));
    }
    return all;
  }

  /** An {@code amqp://} URI list of every node, as {@code RABBITMQ_URL} takes it. */
  public String uri() {
    StringBuilder b = new StringBuilder();
    for (Member m : members) {
      b.append(b.length() == 0 ? "" : ",").append("amqp://guest:guest@127.0.0.1:").append(m.port);
    }
    return b.toString();
  }

  /** Bus options for this cluster with a test's own exchange and service name. */
  public BloodbankOptions.Builder options(String id) {
    return BloodbankOptions.builder()
        .addresses(addresses())
        .exchange("bloodbank.cluster." + id)
        .serviceName("cluster-" + id)
        .recoveryInterval(Duration.ofMillis(500))
        .heartbeat(Duration.ofSeconds(2))
        .validation(ValidationMode.PERMISSIVE);
  }

  /** A raw connection to every node in turn, recovering automatically (the caller closes it). */
  public Connection rawConnection(String name) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setAutomaticRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(500);
    f.setRequestedHeartbeat(2);
    List<Address> all = new ArrayList<>();
    for (Member m : members) {
      all.add(new Address("127.0.0.1", m.port()));
    }
    return f.newConnection(all, "cluster-" + name);
  }

  /** Runs {@code rabbitmqctl} against the first node that answers. */
  public String ctl(String... args) throws IOException, InterruptedException {
    IOException last = null;
    for (Member m : members) {
      try {
        return m.ctl(args);
      } catch (IOException e) {
        last = e;
      }
    }
    throw last;
  }

  /**
   * The node that runs a quorum queue's leader, asked of every node in turn.
   *
   * @param queue the queue's name in vhost {@code /}
   * @return the member
   */
  public Member leaderOf(String queue) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (true) {
      try {
        for (String line : ctl("list_queues", "name", "leader").split("\n")) {
          String[] f = line.trim().split("\\s+");
          if (f.length == 2 && f[0].equals(queue)) {
            for (Member m : members) {
              if (m.nodeName().equals(f[1])) {
                return m;
              }
            }
          }
        }
      } catch (IOException e) {
        // a node is down; ask again
      }
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("no leader known for quorum queue '" + queue + "'");
      }
      Thread.sleep(200);
    }
  }

  /** SIGKILLs a node's Erlang VM: its clients lose their connections, its queues fail over. */
  public void kill(Member m) throws Exception {
    m.signal("KILL");
    awaitPortClosed(m.port(), Duration.ofSeconds(20));
  }

  /**
   * Boots a killed or stopped node again; it rejoins the cluster and its queue members catch up.
   */
  public void start(Member m) throws Exception {
    m.boot();
    startApp(m);
  }

  /** Stops a node gracefully ({@code rabbitmqctl stop}) and boots it again. */
  public void restart(Member m) throws Exception {
    m.ctl("stop");
    awaitPortClosed(m.port(), Duration.ofSeconds(30));
    start(m);
  }

  /** Stops the node's RabbitMQ application (the VM stays up); clients lose their connections. */
  public void stopApp(Member m) throws Exception {
    m.ctl("stop_app");
  }

  /** Starts the node's application again and waits until it accepts connections. */
  public void startApp(Member m) throws Exception {
    m.ctl("start_app");
    m.ctl("await_startup", "--timeout", "120");
    awaitPort(m.port(), Duration.ofSeconds(60));
  }

  /**
   * Pauses a node's VM (SIGSTOP): its peers lose it after {@code net_ticktime}, its clients after
   * their heartbeat, and when it comes back it finds itself partitioned away.
   */
  public void pause(Member m) throws Exception {
    m.signal("STOP");
  }

  /**
   * Resumes a paused node (SIGCONT) and waits until the cluster runs on every node again: {@code
   * autoheal} restarts the side that lost, the resumed node.
   */
  public void resume(Member m) throws Exception {
    m.signal("CONT");
    awaitRunning(Duration.ofSeconds(120));
  }

  /** Waits until every node runs its application and sees the others. */
  public void awaitRunning(Duration max) throws Exception {
    long deadline = System.nanoTime() + max.toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      try {
        boolean all = true;
        for (Member m : members) {
          String running = m.ctl("eval", "length(rabbit_nodes:all_running()).").trim();
          last = m + " sees " + running + " running";
          all &= running.equals(Integer.toString(members.size()));
        }
        if (all) {
          for (Member m : members) {
            awaitPort(m.port(), Duration.ofSeconds(30));
          }
          return;
        }
      } catch (IOException e) {
        last = e.getMessage();
      }
      Thread.sleep(500);
    }
    throw new IllegalStateException(
        "the cluster did not run on every node in " + max + ": " + last);
  }

  private static void awaitPort(int port, Duration wait) throws InterruptedException {
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

  private static void awaitPortClosed(int port, Duration wait) throws InterruptedException {
    long deadline = System.nanoTime() + wait.toNanos();
    while (System.nanoTime() < deadline) {
      try (Socket s = new Socket()) {
        s.connect(new InetSocketAddress("127.0.0.1", port), 200);
        Thread.sleep(50);
      } catch (IOException e) {
        return;
      }
    }
  }

  /** The first port from {@code from} that is free on loopback with its distribution port. */
  private static int freePortPair(int from) throws IOException {
    for (int p = from; p < from + 1000; p++) {
      if (free(p) && free(p + 20000) && free(p + 30000)) {
        return p;
      }
    }
    throw new IOException("no free AMQP port from " + from);
  }

  private static boolean free(int port) {
    try (ServerSocket s = new ServerSocket(port, 1, InetAddress.getLoopbackAddress())) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

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

  private interface Step {
    void run() throws Exception;
  }

  private static void unchecked(Step s) {
    try {
      s.run();
    } catch (Exception e) {
      throw new CompletionException(e);
    }
  }

  private static void join(List<CompletableFuture<Void>> all) throws Exception {
    try {
      CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).join();
    } catch (CompletionException e) {
      throw e.getCause() instanceof Exception x ? x : e;
    }
  }

  /** Stops every node and deletes their directories; also done at JVM exit. */
  @Override
  public void close() {
    stopQuietly();
  }

  private synchronized void stopQuietly() {
    if (stopped) {
      return;
    }
    stopped = true;
    // Killed outright: the data is thrown away, and a graceful stop of a cluster waits for peers.
    for (Member m : members) {
      try {
        m.signal("CONT");
        m.signal("KILL");
      } catch (Exception e) {
        // not running
      }
    }
    Processes.deleteTree(dir);
  }

  /**
   * Boots a cluster, prints its addresses and waits for Enter (or the end of standard input, or
   * Ctrl-C), then stops it: {@code java -cp <test classpath> dev.bloodbank.fault.RabbitCluster}.
   */
  public static void main(String[] args) throws Exception {
    try (RabbitCluster c = new RabbitCluster(args.length > 0 ? Integer.parseInt(args[0]) : 3)) {
      System.out.println("RABBITMQ_URL=" + c.uri());
      for (Member m : c.members()) {
        System.out.println(
            "  " + m.nodeName() + "  AMQP 127.0.0.1:" + m.port() + "  HOME=" + m.env.get("HOME"));
      }
      System.out.println("press Enter to stop");
      System.in.read();
    }
  }
}
