package dev.bloodbank.benchmarks;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** CI runs the harness for a few seconds to prove it still works; numbers are not checked. */
class LoadHarnessSmokeIT {
  @TempDir Path dir;

  /** Runs the harness in this JVM and returns what it printed (and prints it too). */
  private static String harness(String... args) throws Exception {
    PrintStream original = System.out;
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
    try {
      LoadHarness.main(args);
    } finally {
      System.setOut(original);
    }
    String printed = out.toString(StandardCharsets.UTF_8);
    System.out.print(printed);
    return printed;
  }

  @Test
  void smokeRunPrintsTheTableAndWritesJson() throws Exception {
    Path json = dir.resolve("results.json");
    String table = harness("--smoke", "--json", json.toString());
    assertThat(table)
        .contains("| publish, 1 KB persistent")
        .contains("| consume,")
        .contains("| gateway publish, confirms")
        .contains("| gateway latency p99")
        .contains("| live tail: ")
        .contains("| publish with metrics and tracing on vs off")
        .contains("| consume with metrics and tracing on vs off")
        .contains("| spans exported / events")
        .contains("RabbitMQ");
    assertThat(Files.readString(json))
        .contains("\"raw publish\"")
        .contains("\"bloodbank consume\"")
        .contains("\"gateway\"")
        .contains("\"live_tail\"")
        .contains("\"observability\"")
        .contains("\"spans_exported\"");
    // Not a figure but the code path: the traced bus made spans and the registry timed events.
    JsonNode observability =
        EventCodec.defaultObjectMapper().readTree(json.toFile()).path("observability");
    assertThat(observability.path("spans_exported").asLong()).isPositive();
    assertThat(observability.path("publish_timer_count").asLong()).isPositive();
    assertThat(observability.path("consume_timer_count").asLong()).isPositive();
  }

  @Test
  void scaleSmokeRunBootsAPrivateNodeAndPrintsItsRows() throws Exception {
    Path json = dir.resolve("scale.json");
    String table = harness("--only", "scale", "--smoke", "--json", json.toString());
    assertThat(table)
        .contains(
            "| publish to one quorum queue, 1 node, clients on the leader's node, amqp-client |")
        .contains(
            "| publish to one quorum queue, 1 node, clients on the leader's node, Bloodbank /")
        .contains("| partitioned consume, 1 node, 4 partition(s), 2 instances");
    JsonNode scale = EventCodec.defaultObjectMapper().readTree(json.toFile()).path("scale");
    for (int n : new int[] {1, 2, 4}) {
      assertThat(
              scale
                  .path("partitioned consume, 1 node, " + n + " partition(s), 2 instances")
                  .asDouble())
          .as("events/s with %d partitions", n)
          .isPositive();
    }
    assertThat(
            scale
                .path(
                    "publish to one quorum queue, 1 node, clients on the leader's node, Bloodbank /"
                        + " amqp-client")
                .asDouble())
        .isPositive();
  }
}
