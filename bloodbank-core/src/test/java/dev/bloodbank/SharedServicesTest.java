package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.fault.Scenario;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No test disturbs the RabbitMQ on 5672 or the Redis on 6379, which are the user's own (issue #15):
 * commands that stop, pause, flush or cut off a whole server appear only in the fixtures that start
 * private nodes ({@code RabbitNode}, {@code RedisNode}, and the clusters of issue #23) or that
 * refuse to run them anywhere else ({@code RedisExtension.pauseWrites}). Reads every test source of
 * every module.
 */
class SharedServicesTest {
  /** What would hurt everyone on a shared server, lower-cased. */
  private static final List<String> DESTRUCTIVE =
      List.of(
          "close_all_connections",
          "close_connection",
          "stop_app",
          "\"shutdown\"",
          "shutdown nosave",
          "flushall",
          "flushdb",
          "clientpause",
          "\"pause\"",
          "set_vm_memory_high_watermark",
          "set_disk_free_limit",
          "debug sleep");

  /** The files allowed to hold them: the private-node fixtures, and this list. */
  private static final Set<String> ALLOWED =
      Set.of(
          "fault/RabbitNode.java",
          "fault/RedisNode.java",
          "fault/RedisCluster.java",
          "fault/RabbitCluster.java",
          "fault/RedisSentinel.java",
          "fault/ReliabilityReport.java",
          "correlation/RedisExtension.java",
          "SharedServicesTest.java");

  @Test
  @Scenario(29)
  void destructiveCommandsAppearOnlyInThePrivateNodeFixtures() throws IOException {
    Path root = Path.of("").toAbsolutePath().getParent();
    List<Path> sources = new ArrayList<>();
    try (Stream<Path> modules = Files.list(root)) {
      for (Path module : modules.toList()) {
        Path tests = module.resolve("src/test");
        if (Files.isDirectory(tests)) {
          try (Stream<Path> all = Files.walk(tests)) {
            all.filter(Files::isRegularFile)
                .filter(p -> p.toString().matches(".*\\.(java|py|sh)$"))
                .forEach(sources::add);
          }
        }
      }
    }
    assertThat(sources).as("test sources found under %s", root).hasSizeGreaterThan(50);
    List<String> found = new ArrayList<>();
    for (Path p : sources) {
      String path = p.toString().replace('\\', '/');
      if (ALLOWED.stream().anyMatch(path::endsWith)) {
        continue;
      }
      List<String> lines = Files.readAllLines(p, StandardCharsets.UTF_8);
      for (int i = 0; i < lines.size(); i++) {
        String line = lines.get(i).toLowerCase(Locale.ROOT);
        for (String bad : DESTRUCTIVE) {
          if (line.contains(bad)) {
            found.add(root.relativize(p) + ":" + (i + 1) + ": " + lines.get(i).trim());
          }
        }
      }
    }
    assertThat(found).as("destructive commands outside the private-node fixtures").isEmpty();
  }
}
