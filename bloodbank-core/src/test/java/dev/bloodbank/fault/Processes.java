package dev.bloodbank.fault;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** Runs helper commands (rabbitmqctl, openssl, redis-server) with a bounded wait. */
final class Processes {
  private Processes() {}

  /** The result of a command. */
  record Result(int exit, String output) {}

  static Result run(List<String> cmd, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    File out = File.createTempFile("bbfault-cmd", ".log");
    try {
      ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out);
      pb.environment().putAll(env);
      Process p = pb.start();
      if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
        p.destroyForcibly();
        throw new IOException(
            String.join(" ", cmd) + " did not finish within " + timeout + ": " + read(out));
      }
      return new Result(p.exitValue(), read(out));
    } finally {
      Files.deleteIfExists(out.toPath());
    }
  }

  static Result runOrFail(List<String> cmd, Map<String, String> env, Duration timeout)
      throws IOException, InterruptedException {
    Result r = run(cmd, env, timeout);
    if (r.exit() != 0) {
      throw new IOException(String.join(" ", cmd) + " exited with " + r.exit() + ": " + r.output());
    }
    return r;
  }

  private static String read(File f) throws IOException {
    return new String(Files.readAllBytes(f.toPath()), StandardCharsets.UTF_8);
  }

  /** Deletes a directory tree, best effort (a node's data, logs and certificates). */
  static void deleteTree(java.nio.file.Path root) {
    try (java.util.stream.Stream<java.nio.file.Path> all = Files.walk(root)) {
      all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException | RuntimeException e) {
      // left for the OS to clean
    }
  }

  /** A TCP port free on loopback right now. */
  static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return s.getLocalPort();
    }
  }

  /** The first of these executables that exists, else the bare name (looked up on PATH). */
  static String executable(String name, String... candidates) {
    for (String c : candidates) {
      if (new File(c).canExecute()) {
        return c;
      }
    }
    return name;
  }
}
