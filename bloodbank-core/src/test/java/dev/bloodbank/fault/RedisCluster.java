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
 * A private Redis Cluster of three masters on free loopback ports, made with {@code redis-server
 * --cluster-enabled yes} and {@code redis-cli --cluster create}, so that tests see MOVED answers
 * and slots spread over nodes. No persistence; stopped by {@link #close()} and on JVM exit.
 */
public final class RedisCluster implements AutoCloseable {
  private final Path dir;
  private final List<Integer> ports = new ArrayList<>();
  private volatile boolean running;

  private RedisCluster() throws Exception {
    this.dir = Files.createTempDirectory("bbfault-cluster-");
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopQuietly, "bbfault-cluster-stop"));
    for (int i = 0; i < 3; i++) {
      int port = Processes.freePort();
      ports.add(port);
      Processes.runOrFail(
          RedisNode.serverCommand(
              port,
              dir,
              "redis-" + port,
              "--cluster-enabled",
              "yes",
              "--cluster-config-file",
              "nodes-" + port + ".conf"),
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
    create.addAll(List.of("--cluster-replicas", "0", "--cluster-yes"));
    Processes.runOrFail(create, Map.of(), Duration.ofSeconds(60));
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (!cli(ports.get(0), "cluster", "info").contains("cluster_state:ok")) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("the private Redis Cluster did not become ready in 30 s");
      }
      Thread.sleep(100);
    }
  }

  /** Starts a cluster; under {@code CI} a missing {@code redis-server} fails the test. */
  public static RedisCluster create() {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    try {
      return new RedisCluster();
    } catch (Exception e) {
      throw new AssertionError("cannot start a private Redis Cluster: " + e.getMessage(), e);
    }
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
    List<String> cmd = new ArrayList<>(List.of("redis-cli", "-c", "-p", Integer.toString(port)));
    cmd.addAll(List.of(args));
    return Processes.run(cmd, Map.of(), Duration.ofSeconds(10)).output();
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
    for (int port : ports) {
      try {
        cli(port, "shutdown", "nosave");
      } catch (Exception e) {
        // gone
      }
    }
  }

  @Override
  public void close() {
    stopQuietly();
    Processes.deleteTree(dir);
  }
}
