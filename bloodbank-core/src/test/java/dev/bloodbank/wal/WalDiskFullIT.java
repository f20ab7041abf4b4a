package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * A full disk under the write-ahead log (issue #9, scenario 15): a writer process runs with a file
 * size limit ({@code ulimit -f}), so its writes fail as on a full disk (EFBIG; the JVM ignores
 * SIGXFSZ). The append that hits the limit fails loudly, naming the file, and is never reported as
 * success; every append that returned is in the log exactly once, and the log has no torn line.
 */
class WalDiskFullIT {
  @TempDir Path dir;

  @ParameterizedTest
  @ValueSource(strings = {"each", "batched"})
  @Scenario(15)
  void anAppendOnAFullDiskFailsLoudlyAndNothingAcknowledgedIsLost(String policy) throws Exception {
    Path file = dir.resolve("full-" + policy + ".wal");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    String cmd =
        "ulimit -f 128 && exec '"
            + java
            + "' -XX:-UsePerfData -XX:TieredStopAtLevel=1 -cp '"
            + System.getProperty("java.class.path")
            + "' "
            + WalDiskFullMain.class.getName()
            + " '"
            + file
            + "' "
            + policy;
    Process p =
        new ProcessBuilder("/bin/sh", "-c", cmd)
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    List<UUID> acked = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    try (BufferedReader out =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("ACK ")) {
          acked.add(UUID.fromString(line.substring(4)));
        } else if (line.startsWith("FAIL ")) {
          failures.add(line.substring(5));
        }
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(acked).as("appends before the disk was full").isNotEmpty();
    assertThat(failures).as("appends on the full disk failed").hasSize(2);
    assertThat(failures.get(0)).contains(file.toString()).containsIgnoringCase("too large");

    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
      Map<UUID, Integer> counts = new HashMap<>();
      for (WalRecord r : wal.pending()) {
        counts.merge(r.eventId(), 1, Integer::sum);
      }
      long lost = acked.stream().filter(id -> !counts.containsKey(id)).count();
      long dup = counts.values().stream().filter(n -> n > 1).count();
      ReliabilityReport.events(15, acked.size() + failures.size(), lost, dup);
      assertThat(lost).as("acknowledged appends lost").isZero();
      assertThat(dup).isZero();
      assertThat(wal.recoveryProblems()).as("no torn or corrupt line left behind").isEmpty();
    }
  }
}
