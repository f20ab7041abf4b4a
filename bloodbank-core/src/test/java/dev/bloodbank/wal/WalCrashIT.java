package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A writer process killed with SIGKILL at random points, again and again: every append that
 * returned is in the log exactly once. {@code -Dbloodbank.walCrash.iterations=N} sets how many
 * kills (default 200, as issue #6 asks for hundreds; about a minute and a half).
 */
class WalCrashIT {
  @TempDir Path dir;

  @Test
  void everyAcknowledgedAppendSurvivesSigkill() throws Exception {
    int iterations = Integer.getInteger("bloodbank.walCrash.iterations", 200);
    Path file = dir.resolve("crash.jsonl");
    Set<UUID> acked = new HashSet<>();
    Random random = new Random(42);
    int torn = 0;
    for (int i = 0; i < iterations; i++) {
      String policy = i % 2 == 0 ? "each" : "batched";
      Process p =
          new ProcessBuilder(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xshare:auto",
                  "-XX:TieredStopAtLevel=1",
                  "-cp",
                  System.getProperty("java.class.path"),
                  WalWriterMain.class.getName(),
                  file.toString(),
                  policy)
              .redirectError(ProcessBuilder.Redirect.DISCARD)
              .start();
      BufferedReader out =
          new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
      String line = out.readLine();
      assertThat(line).as("writer %d started", i).isEqualTo("READY");
      // The kill comes at a random point after the first acknowledged append, so that every
      // kill lands while appends are in progress, however slow the machine is to start a JVM.
      line = out.readLine();
      assertThat(line).as("writer %d appended", i).startsWith("ACK ");
      acked.add(UUID.fromString(line.substring(4)));
      long killAt = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(random.nextInt(40));
      while (System.nanoTime() < killAt && (line = out.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(UUID.fromString(line.substring(4)));
        }
      }
      // SIGKILL; acknowledgements the parent has not read yet are simply not counted
      p.destroyForcibly();
      p.waitFor(10, TimeUnit.SECONDS);

      try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
        torn += wal.recoveryProblems().size();
        Map<UUID, Integer> counts = new HashMap<>();
        for (WalRecord r : wal.pending()) {
          counts.merge(r.eventId(), 1, Integer::sum);
        }
        List<UUID> missing = new ArrayList<>();
        for (UUID id : acked) {
          if (counts.getOrDefault(id, 0) != 1) {
            missing.add(id);
          }
        }
        assertThat(missing)
            .as("acknowledged appends lost or duplicated after kill %d", i)
            .isEmpty();
        assertThat(wal.recoveryProblems()).allSatisfy(pr -> assertThat(pr).contains("torn"));
      }
    }
    assertThat(acked).hasSizeGreaterThanOrEqualTo(iterations);
    System.out.printf(
        "WAL crash test: %d kills, %d acknowledged appends, %d torn tails truncated%n",
        iterations, acked.size(), torn);
  }
}
