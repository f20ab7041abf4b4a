package dev.bloodbank.cli;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.DurablePublisher;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WalRecord;
import dev.bloodbank.wal.WriteAheadLog;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb wal stats|replay}: inspect and drain a write-ahead log. */
@Command(
    name = "wal",
    description = "Inspect or replay a write-ahead log.",
    subcommands = {WalCommand.Stats.class, WalCommand.Replay.class},
    footer = {
      "",
      "Examples:",
      "  bb wal stats raw_voice_ingest.jsonl",
      "  bb wal replay raw_voice_ingest.jsonl"
    })
final class WalCommand {
  @ParentCommand Bb bb;

  private static WriteAheadLog open(Path file) {
    if (!Files.exists(file)) {
      throw new Bb.CliException("no write-ahead log at " + file);
    }
    return WriteAheadLog.open(WalOptions.of(file));
  }

  @Command(name = "stats", description = "Count the events awaiting confirmation, by type.")
  static final class Stats implements Callable<Integer> {
    @ParentCommand WalCommand wal;

    @Parameters(paramLabel = "<file>")
    Path file;

    @Override
    public Integer call() throws Exception {
      Bb bb = wal.bb;
      try (WriteAheadLog log = open(file)) {
        List<WalRecord> pending = log.pending();
        Map<String, Integer> byType = new TreeMap<>();
        pending.forEach(r -> byType.merge(r.eventType(), 1, Integer::sum));
        bb.out.println("file:     " + log.path() + " (" + Files.size(log.path()) + " bytes)");
        bb.out.println("pending:  " + pending.size());
        byType.forEach((t, n) -> bb.out.printf("  %-40s %d%n", t, n));
        for (String p : log.recoveryProblems()) {
          bb.out.println("recovery: " + p);
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
      if (!Files.exists(file)) {
        throw new Bb.CliException("no write-ahead log at " + file);
      }
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
}
