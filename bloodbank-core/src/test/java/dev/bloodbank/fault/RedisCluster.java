package dev.bloodbank.fault;

import dev.bloodbank.BrokerExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * A private Redis Cluster on free loopback ports, made with {@code redis-server --cluster-enabled
 * yes} and {@code redis-cli --cluster create}, so that tests see MOVED answers and slots spread
 * over nodes: three masters ({@link #create()}), or three masters with a replica each ({@link
 * #withReplicas()}, issue #23) whose master can be killed ({@link #killMasterOf}) and replaced by
 * its replica ({@link #awaitFailover}); {@code cluster-node-timeout} is then 2 s, so a failover
 * takes about 3 to 5 s. No persistence; stopped by {@link #close()} and on JVM exit. Run it by hand
 * with {@link #main}. Thread-safe.
 */
public final class RedisCluster implements AutoCloseable {
  private final Path dir;
  private final List<Integer> ports = new ArrayList<>();
  private volatile boolean running;

  private RedisCluster(int replicas) throws Exception {
    this.dir = Files.createTempDirectory("bbfault-cluster-");
    Runtime.getRuntime().addShutdownHook(new Thread(this::close, "bbfault-cluster-stop"));
    for (int i = 0; i < 3 * (1 + replicas); i++) {
      int port = Processes.freePort();
      ports.add(port);
      List<String> extra =
          new ArrayList<>(
              List.of(
                  "--cluster-enabled", "yes", "--cluster-config-file", "nodes-" + port + ".conf"));
      if (replicas > 0) {
        extra.addAll(List.of("--cluster-node-timeout", "2000"));
      }
      Processes.runOrFail(
          RedisNode.serverCommand(port, dir, "redis-" + port, extra.toArray(new String[0])),
          Map.of(),
          Duration.ofSeconds(30));
    }
    running = true;
    for (int port : ports) {
      awaitPing(port);
    }
    List<String> create = new ArrayList<>(List.of("redis-cli", "--cluster", "create"));
    for (int port : ports) {
      create.add("127.0.0.1:" + port);
    }
    create.addAll(List.of("--cluster-replicas", Integer.toString(replicas), "--cluster-yes"));
    Processes.runOrFail(create, Map.of(), Duration.ofSeconds(60));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!ready(replicas)) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the private Redis Cluster did not become ready in 30 s");
      }
      Thread.sleep(100);
    }
  }

  /** Every node says the cluster is ok, and every replica is in sync with its master. */
  private boolean ready(int replicas) throws Exception {
    for (int port : ports) {
      if (!cli(port, "cluster", "info").contains("cluster_state:ok")) {
        return false;
      }
      if (replicas > 0) {
        String info = cli(port, "info", "replication");
        if (info.contains("role:slave") && !info.contains("master_link_status:up")) {
          return false;
        }
      }
    }
    return true;
  }

  /** Starts three masters; under {@code CI} a missing {@code redis-server} fails the test. */
  public static RedisCluster create() {
    return create(0);
  }

  /**
   * Starts three masters with one replica each (six nodes), for failovers; under {@code CI} a
   * missing {@code redis-server} fails the test.
   */
  public static RedisCluster withReplicas() {
    return create(1);
  }

  private static RedisCluster create(int replicas) {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    try {
      return new RedisCluster(replicas);
    } catch (Exception e) {
      throw new AssertionError("cannot start a private Redis Cluster: " + e.getMessage(), e);
    }
  }

  /** Every node's port, masters and replicas. */
  public List<Integer> ports() {
    return List.copyOf(ports);
  }

  /** The port of the master that serves a key now, after {@code CLUSTER NODES} of a live node. */
  public int masterOf(String key) throws Exception {
    for (int port : ports) {
      try {
        int slot = Integer.parseInt(cli(port, "cluster", "keyslot", key).trim());
        for (String line : cli(port, "cluster", "nodes").split("\n")) {
          String[] f = line.trim().split(" ");
          if (f.length < 9 || !f[2].contains("master") || f[2].contains("fail")) {
            continue;
          }
          for (int i = 8; i < f.length; i++) {
            String[] range = f[i].split("-");
            if (range[0].startsWith("[")) {
              continue;
            }
            int lo = Integer.parseInt(range[0]);
            int hi = range.length > 1 ? Integer.parseInt(range[1]) : lo;
            if (slot >= lo && slot <= hi) {
              return Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1).split("@")[0]);
            }
          }
        }
      } catch (RuntimeException e) {
        // this node is down or its answer is partial; ask the next
      }
    }
    throw new IllegalStateException("no master serves key '" + key + "'");
  }

  /**
   * Kills the master that serves a key (SIGKILL of its process, as a crash would), and returns its
   * port.
   */
  public int killMasterOf(String key) throws Exception {
    int port = masterOf(key);
    String pid = Files.readString(dir.resolve("redis-" + port + ".pid")).trim();
    Processes.runOrFail(List.of("kill", "-KILL", pid), Map.of(), Duration.ofSeconds(10));
    return port;
  }

  /**
   * Waits until a live node other than {@code deadPort} serves the key as master and the cluster is
   * ok again.
   *
   * @return how long it took
   */
  public Duration awaitFailover(String key, int deadPort, Duration max) throws Exception {
    long start = System.nanoTime();
    long deadline = start + max.toNanos();
    while (System.nanoTime() < deadline) {
      try {
        int now = masterOf(key);
        if (now != deadPort && cli(now, "cluster", "info").contains("cluster_state:ok")) {
          return Duration.ofNanos(System.nanoTime() - start);
        }
      } catch (RuntimeException e) {
        // not yet
      }
      Thread.sleep(100);
    }
    throw new IllegalStateException("no failover from the master on " + deadPort + " in " + max);
  }

  /** A seed list for {@code RedisTrackerOptions.builder().cluster(true).uri(...)}. */
  public String uri() {
    return "redis://" + ports.stream().map(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
  }

  /** Runs {@code redis-cli -c -p port args...} (following redirections) and returns its output. */
  public String cli(String... args) throws Exception {
    return cli(ports.get(0), args);
  }

  private static String cli(int port, String... args) throws Exception {
    return RedisNode.cli(port, args);
  }

  private static void awaitPing(int port) throws Exception {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (!cli(port, "ping").contains("PONG")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("redis-server on " + port + " does not answer");
      }
      Thread.sleep(50);
    }
  }

  private synchronized void stopQuietly() {
    if (!running) {
      return;
    }
    running = false;
    RedisNode.shutdownAll(ports);
  }

  @Override
  public void close() {
    stopQuietly();
    Processes.deleteTree(dir);
  }

  /**
   * Starts three masters with a replica each, prints the seed list for {@code REDIS_URL} (with
   * {@code REDIS_CLUSTER=true}) and stops them on Enter: {@code java -cp <test classpath>
   * dev.bloodbank.fault.RedisCluster}.
   */
  public static void main(String[] args) throws Exception {
    try (RedisCluster c = new RedisCluster(1)) {
      System.out.println("REDIS_CLUSTER=true REDIS_URL=" + c.uri());
      System.out.println("press Enter to stop");
      System.in.read();
    }
  }
}
