package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.fault.Scenario;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two processes on one log: while a writer process appends, rolls segments and deletes done ones,
 * every attempt of this process to open the log for writing is refused with a clear error, at any
 * moment of that maintenance; reading it alongside works and changes nothing (issue #16).
 */
class WalLockIT {
  @TempDir Path dir;

  @Test
  @Scenario(16)
  void aSecondWriterIsRefusedAtEveryMomentIncludingMidMaintenance() throws Exception {
    Path log = dir.resolve("shared.wal");
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    Process writer =
        new ProcessBuilder(
                List.of(
                    java,
                    "-XX:TieredStopAtLevel=1",
                    "-cp",
                    System.getProperty("java.class.path"),
                    WalWriterMain.class.getName(),
                    log.toString(),
                    "batched",
                    "-1",
                    "roll"))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    try {
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(writer.getInputStream(), StandardCharsets.UTF_8));
      assertThat(out.readLine()).isEqualTo("READY");
      Thread drain =
          new Thread(
              () -> {
                try {
                  while (out.readLine() != null) {
                    // keep the writer's pipe flowing
                  }
                } catch (java.io.IOException e) {
                  // the writer ended
                }
              });
      drain.setDaemon(true);
      drain.start();
      int refused = 0;
      long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (System.nanoTime() < until) {
        assertThatThrownBy(() -> WriteAheadLog.open(WalOptions.of(log)))
            .isInstanceOf(WalException.class)
            .hasMessageContaining("held by another process");
        refused++;
        if (refused % 20 == 0) {
          try (WriteAheadLog reader = WriteAheadLog.openReadOnly(WalOptions.of(log))) {
            reader.forEachPending(0, r -> true);
          } catch (WalException e) {
            // a segment deleted between listing and reading: fine for a reader alongside
            assertThat(e.getMessage()).doesNotContain("held by");
          }
        }
      }
      System.out.printf(
          "WAL lock: %d opens refused while the writer rolled and deleted%n", refused);
      assertThat(refused).isGreaterThan(50);
      assertThat(writer.isAlive()).as("the writer went on all along").isTrue();
    } finally {
      writer.destroyForcibly();
      writer.waitFor(10, TimeUnit.SECONDS);
    }
    // Once the writer is gone, the log opens.
    WriteAheadLog.open(WalOptions.of(log)).close();
  }
}
