package dev.bloodbank.wal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * Child process of {@link WalCrashIT}: appends forever, printing each id once its append returned.
 * Arguments: the log file, {@code each} or {@code batched}, and optionally a number of appends
 * after which it exits normally (to dump a class-data archive for faster starts).
 */
public final class WalWriterMain {
  private WalWriterMain() {}

  public static void main(String[] args) {
    FsyncPolicy policy =
        args[1].equals("each")
            ? FsyncPolicy.EACH_RECORD
            : FsyncPolicy.batched(Duration.ofMillis(2), 32);
    try (WriteAheadLog wal =
        WriteAheadLog.open(WalOptions.builder().path(Path.of(args[0])).fsync(policy).build())) {
      System.out.println("READY");
      System.out.flush();
      long left = args.length > 2 ? Long.parseLong(args[2]) : Long.MAX_VALUE;
      while (left-- > 0) {
        UUID id = UUID.randomUUID();
        byte[] event =
            ("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"" + "x".repeat(200) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        wal.append(id, "crash.test", event);
        System.out.println("ACK " + id);
        System.out.flush();
      }
    }
  }
}
