package dev.bloodbank.fault;

import dev.bloodbank.BrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A private Redis Sentinel setup on free loopback ports (issue #23): a master, one replica and
 * three sentinels ({@code redis-server --sentinel}) that watch it as {@value #MASTER} with a quorum
 * of two and {@code down-after-milliseconds} 1000, so that {@link #killMaster()} is followed by a
 * failover in about 2 to 5 s ({@link #awaitFailover}). No persistence; stopped by {@link #close()}
 * and on JVM exit. Run it by hand with {@link #main}. Thread-safe.
 */
public final class RedisSentinel implements AutoCloseable {
  /** The name the sentinels know the master by. */
  public static final String MASTER = "bbmaster";

  private final Path dir;
  private final int masterPort;
  private final int replicaPort;
  private final List<Integer> sentinels = new ArrayList<>();
  private final List<Integer> all = new ArrayList<>();
  private volatile boolean running;

  private RedisSentinel() throws Exception {
    this.dir = Files.createTempDirectory("bbfault-sentinel-");
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "bbfault-sentinel-stop"));
    this.masterPort = Processes.freePort();
    this.replicaPort = Processes.freePort();
    running = true;
    server(masterPort);
    server(replicaPort, "--replicaof", "127.0.0.1", Integer.toString(masterPort));
    awaitReply(replicaPort, "info replication", "master_link_status:up");
    for (int i = 0; i < 3; i++) {
      int port = Processes.freePort();
      Path conf = dir.resolve("sentinel-" + port + ".conf");
      Files.writeString(
          conf,
          String.join(
              "\n",
              "port " + port,
              "bind 127.0.0.1",
              "daemonize yes",
              "dir " + dir,
              "pidfile " + dir.resolve("redis-" + port + ".pid"),
              "logfile " + dir.resolve("redis-" + port + ".log"),
              "sentinel monitor " + MASTER + " 127.0.0.1 " + masterPort + " 2",
              "sentinel down-after-milliseconds " + MASTER + " 1000",
              "sentinel failover-timeout " + MASTER + " 10000",
              "sentinel parallel-syncs " + MASTER + " 1",
              ""));
      Processes.runOrFail(
          List.of("redis-server", conf.toString(), "--sentinel"), Map.of(), Duration.ofSeconds(30));
      sentinels.add(port);
      all.add(port);
    }
    for (int port : sentinels) {
      // Each sentinel has found the replica and the two other sentinels.
      awaitReply(port, "sentinel master " + MASTER, "num-slaves\n1");
      awaitReply(port, "sentinel master " + MASTER, "num-other-sentinels\n2");
    }
  }

  private void server(int port, String... extra) throws Exception {
    Processes.runOrFail(
        RedisNode.serverCommand(port, dir, "redis-" + port, extra),
        Map.of(),
        Duration.ofSeconds(30));
    all.add(port);
    awaitReply(port, "ping", "PONG");
  }

  /** Starts the setup; under {@code CI} a missing {@code redis-server} fails the test. */
  public static RedisSentinel create() {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    try {
      return new RedisSentinel();
    } catch (Exception e) {
      throw new AssertionError("cannot start a private Redis Sentinel setup: " + e.getMessage(), e);
    }
  }

  /** A {@code redis-sentinel://} URI of the three sentinels and the master's name. */
  public String uri() {
    StringBuilder b = new StringBuilder("redis-sentinel://");
    for (int i = 0; i < sentinels.size(); i++) {
      b.append(i == 0 ? "" : ",").append("127.0.0.1:").append(sentinels.get(i));
    }
    return b.append("/0#").append(MASTER).toString();
  }

  /** The master's port as the sentinels report it now. */
  public int masterPort() throws Exception {
    for (int s : sentinels) {
      String[] lines = cli(s, "sentinel", "get-master-addr-by-name", MASTER).trim().split("\n");
      if (lines.length == 2 && lines[1].trim().matches("\\d+")) {
        return Integer.parseInt(lines[1].trim());
      }
    }
    throw new IllegalStateException("no sentinel knows master " + MASTER);
  }

  /** Runs {@code redis-cli -p port args...} and returns its output. */
  public String cli(int port, String... args) throws Exception {
    return RedisNode.cli(port, args);
  }

  /** Kills the current master (SIGKILL, as a crash would) and returns its port. */
  public int killMaster() throws Exception {
    int port = masterPort();
    String pid = Files.readString(dir.resolve("redis-" + port + ".pid")).trim();
    Processes.runOrFail(List.of("kill", "-KILL", pid), Map.of(), Duration.ofSeconds(10));
    return port;
  }

  /**
   * Waits until the sentinels name another master than {@code deadPort} and it answers as one.
   *
   * @return how long it took
   */
  public Duration awaitFailover(int deadPort, Duration max) throws Exception {
    long start = System.nanoTime();
    long deadline = start + max.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        int now = masterPort();
        if (now != deadPort && cli(now, "info", "replication").contains("role:master")) {
          return Duration.ofNanos(System.nanoTime() - start);
        }
      } catch (RuntimeException e) {
        // not yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no failover from the master on " + deadPort + " in " + max);
  }

  private void awaitReply(int port, String command, String expected) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    String last = "";
    while (System.nanoTime() < deadline) {
      last = cli(port, command.split(" "));
      if (last.replace("\r", "").contains(expected)) {
        return;
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException(
        "redis on " + port + " did not answer '" + command + "' with " + expected + ": " + last);
  }

  private synchronized void stopQuietly() {
    if (!running) {
      return;
    }
    running = false;
    RedisNode.shutdownAll(all);
  }

  @Override
  public void close() {
    stopQuietly();
    Processes.deleteTree(dir);
  }

  /**
   * Starts the setup, prints the URI for {@code REDIS_URL} and stops it on Enter: {@code java -cp
   * <test classpath> dev.bloodbank.fault.RedisSentinel}.
   */
  public static void main(String[] args) throws Exception {
    try (RedisSentinel s = new RedisSentinel()) {
      System.out.println("REDIS_URL=" + s.uri());
      System.out.println("press Enter to stop");
      System.in.read();
    }
  }
}
