package dev.bloodbank.wal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.UUID;

/**
 * Child process of {@link WalDiskFullIT}, run under a file size limit ({@code ulimit -f}): appends
 * until the disk "is full", printing {@code ACK <id>} for each append that returned and {@code FAIL
 * <message>} for the first two that threw.
 */
public final class WalDiskFullMain {
  private WalDiskFullMain() {}

  public static void main(String[] args) {
    FsyncPolicy policy =
        args[1].equals("each")
            ? FsyncPolicy.EACH_RECORD
            : FsyncPolicy.batched(java.time.Duration.ofMillis(2), 32);
    int failures = 0;
    try (WriteAheadLog wal =
        WriteAheadLog.open(WalOptions.builder().path(Path.of(args[0])).fsync(policy).build())) {
      while (failures < 2) {
        UUID id = UUID.randomUUID();
        byte[] event =
            ("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"" + "x".repeat(700) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        try {
          wal.append(id, "full.test", event);
          System.out.println("ACK " + id);
        } catch (WalException e) {
          failures++;
          System.out.println("FAIL " + e.getMessage().replace('\n', ' '));
        }
      }
    } catch (RuntimeException e) {
      System.out.println("CLOSE " + e);
    }
    System.out.flush();
  }
}
