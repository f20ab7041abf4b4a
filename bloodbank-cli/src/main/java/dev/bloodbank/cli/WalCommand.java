package dev.bloodbank.cli;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.DurablePublisher;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb wal stats|replay|import}: inspect, drain and import write-ahead logs. */
@Command(
    name = "wal",
    description = "Inspect, replay or import a write-ahead log.",
    subcommands = {WalCommand.Stats.class, WalCommand.Replay.class, WalCommand.Import.class},
    footer = {
      "",
      "Examples:",
      "  bb wal stats raw_voice_ingest.wal",
      "  bb wal replay raw_voice_ingest.wal",
      "  bb wal import raw_voice_ingest.jsonl raw_voice_ingest.wal"
    })
final class WalCommand {
  @ParentCommand Bb bb;

  private static void requireLog(Path log) {
    if (!Files.exists(log)) {
      throw new Bb.CliException("no write-ahead log at " + log);
    }
  }

  @Command(
      name = "stats",
      description =
          "Count the events awaiting confirmation, by type. Reads only: the log is not changed.")
  static final class Stats implements Callable<Integer> {
    @ParentCommand WalCommand wal;

    @Parameters(paramLabel = "<log>", description = "The log's directory.")
    Path file;

    @Override
    public Integer call() throws Exception {
      Bb bb = wal.bb;
      requireLog(file);
      try (WriteAheadLog log = WriteAheadLog.openReadOnly(WalOptions.of(file))) {
        Map<String, Integer> byType = new TreeMap<>();
        int[] pending = {0};
        log.forEachPending(
            0,
            r -> {
              pending[0]++;
              byType.merge(r.eventType(), 1, Integer::sum);
              return true;
            });
        long bytes = 0;
        for (Path segment : log.segments()) {
          bytes += Files.size(segment);
        }
        bb.out.println(
            "log:      "
                + log.path()
                + " ("
                + log.segments().size()
                + " segment(s), "
                + bytes
                + " bytes)");
        bb.out.println("pending:  " + pending[0]);
        byType.forEach((t, n) -> bb.out.printf("  %-40s %d%n", t, n));
        for (String p : log.recoveryProblems()) {
          bb.out.println("problem:  " + p);
        }
      }
      return Bb.OK;
    }
  }

  @Command(name = "replay", description = "Publish every event not confirmed yet, keeping its id.")
  static final class Replay implements Callable<Integer> {
    @ParentCommand WalCommand wal;

    @Parameters(paramLabel = "<file>")
    Path file;

    @Option(
        names = "--timeout",
        paramLabel = "<seconds>",
        description = "How long to wait for the broker's answers (default: ${DEFAULT-VALUE}).",
        defaultValue = "60")
    long timeoutSeconds;

    @Override
    public Integer call() throws Exception {
      Bb bb = wal.bb;
      requireLog(file);
      if (timeoutSeconds < 1) {
        throw new Bb.CliException("--timeout must be at least 1 second, was " + timeoutSeconds);
      }
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP);
          DurablePublisher publisher =
              bus.durablePublisher(
                  PublisherOptions.builder().durable(WalOptions.of(file)).build())) {
        int total = publisher.pendingCount();
        // The publisher may send some by itself as it connects; count what left the log.
        publisher.replay(
            Duration.ofSeconds(timeoutSeconds), (done, sent) -> progress(bb, done, sent));
        if (bb.color) {
          bb.err.println();
        }
        int left = publisher.pendingCount();
        bb.out.println("replayed " + (total - left) + " of " + total + " event(s)");
        return left == 0 ? Bb.OK : Bb.UNREACHABLE;
      }
    }

    private static synchronized void progress(Bb bb, int done, int total) {
      if (!bb.color) {
        return;
      }
      int width = 30;
      int filled = total == 0 ? width : done * width / total;
      bb.err.print(
          "\r[" + "#".repeat(filled) + " ".repeat(width - filled) + "] " + done + "/" + total);
      bb.err.flush();
    }
  }

  @Command(
      name = "import",
      description =
          "Import a plain JSONL log (one event per line, as the Python services write one) into a"
              + " write-ahead log; each event becomes pending with its id. The file is not changed;"
              + " importing it twice imports nothing.")
  static final class Import implements Callable<Integer> {
    @ParentCommand WalCommand wal;

    @Parameters(index = "0", paramLabel = "<plain.jsonl>")
    Path plain;

    @Parameters(
        index = "1",
        paramLabel = "<log>",
        description = "The log's directory (default: ${DEFAULT-VALUE}).",
        defaultValue = WalOptions.DEFAULT_PATH)
    Path log;

    @Override
    public Integer call() throws Exception {
      Bb bb = wal.bb;
      if (!Files.isRegularFile(plain)) {
        throw new Bb.CliException("no plain log at " + plain);
      }
      WriteAheadLog.ImportResult r = WriteAheadLog.importPlain(plain, WalOptions.of(log));
      for (String s : r.skipped()) {
        bb.err.println("skipped: " + s);
      }
      bb.out.println(
          "imported "
              + r.imported()
              + " event(s) into "
              + log
              + (r.segment() == null ? "" : " (" + r.segment().getFileName() + ")"));
      return Bb.OK;
    }
  }
}
