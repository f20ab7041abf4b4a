package dev.bloodbank.wal;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.UUID;

/**
 * Child process of {@link WalCrashIT} and {@link WalLockIT}: appends forever, printing {@code ACK
 * <id>} once each append returned. Arguments: the log directory, {@code each} or {@code batched},
 * optionally a number of appends after which it exits normally (to dump a class-data archive for
 * faster starts, or {@code -1} for no end), and a mode:
 *
 * <ul>
 *   <li>{@code plain}: appends only;
 *   <li>{@code roll}: segments of 4 KiB, so they roll every few appends, and every other event is
 *       marked done right after its append (announced as {@code DONE <id>} instead of {@code ACK
 *       <id>}, once {@code markDone} returned), so done segments are deleted all along;
 *   <li>{@code import:<file>}: imports a plain JSONL log first ({@code IMPORTED <n>} once done),
 *       then as {@code roll}.
 * </ul>
 */
public final class WalWriterMain {
  private WalWriterMain() {}

  public static void main(String[] args) {
    FsyncPolicy policy =
        args[1].equals("each")
            ? FsyncPolicy.EACH_RECORD
            : FsyncPolicy.batched(Duration.ofMillis(2), 32);
    long left = args.length > 2 && !args[2].equals("-1") ? Long.parseLong(args[2]) : Long.MAX_VALUE;
    String mode = args.length > 3 ? args[3] : "plain";
    boolean roll = !mode.equals("plain");
    WalOptions.Builder options = WalOptions.builder().path(Path.of(args[0])).fsync(policy);
    if (roll) {
      options.segmentBytes(4096);
    }
    try (WriteAheadLog wal = WriteAheadLog.open(options.build())) {
      System.out.println("READY");
      System.out.flush();
      if (mode.startsWith("import:")) {
        WriteAheadLog.ImportResult r = wal.importPlain(Path.of(mode.substring(7)));
        System.out.println("IMPORTED " + r.imported());
        System.out.flush();
      }
      for (long n = 0; n < left; n++) {
        UUID id = UUID.randomUUID();
        byte[] event =
            ("{\"event_id\":\"" + id + "\",\"payload\":{\"text\":\"" + "x".repeat(200) + "\"}}")
                .getBytes(StandardCharsets.UTF_8);
        long seq = wal.append(id, "crash.test", event);
        // An event to be marked done is announced only once it is: announced as acknowledged
        // first, a kill between the two lines would leave the parent expecting an event that the
        // log rightly no longer holds.
        if (roll && n % 2 == 1) {
          wal.markDone(seq);
          System.out.println("DONE " + id);
        } else {
          System.out.println("ACK " + id);
        }
        System.out.flush();
      }
    }
  }
}
