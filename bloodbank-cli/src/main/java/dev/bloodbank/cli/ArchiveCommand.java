package dev.bloodbank.cli;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ArchiveStats;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.concurrent.Callable;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code bb archive init|stats}: the stream queue that keeps every event for replay. */
@Command(
    name = "archive",
    description = "Declare the archive stream queue or show what it holds.",
    subcommands = {ArchiveCommand.Init.class, ArchiveCommand.Stats.class},
    footer = {
      "",
      "Examples:",
      "  bb archive init --max-age 7d --max-bytes 20000000000",
      "  bb archive stats"
    })
final class ArchiveCommand {
  @ParentCommand Bb bb;

  /** The archive's name and retention, for init. */
  static final class Retention {
    @Option(
        names = "--queue",
        paramLabel = "Q",
        description = "Stream queue (default: " + ArchiveOptions.DEFAULT_QUEUE + ").")
    String queue = ArchiveOptions.DEFAULT_QUEUE;

    @Option(
        names = "--max-age",
        paramLabel = "AGE",
        converter = Durations.class,
        description = "Retention by age, per segment: 30s, 15m, 2h, 7d (default: 7d).")
    Duration maxAge = ArchiveOptions.DEFAULT_MAX_AGE;

    @Option(
        names = "--max-bytes",
        paramLabel = "N",
        description = "Retention by size: oldest segments go above N bytes (default: none).")
    @Nullable Long maxBytes;

    @Option(
        names = "--segment-bytes",
        paramLabel = "N",
        description = "Size of one segment file, the unit retention deletes (default: broker's).")
    @Nullable Long segmentBytes;

    ArchiveOptions options() {
      ArchiveOptions.Builder b = ArchiveOptions.builder().queue(queue).maxAge(maxAge);
      if (maxBytes != null) {
        b.maxLengthBytes(maxBytes);
      }
      if (segmentBytes != null) {
        b.maxSegmentSizeBytes(segmentBytes);
      }
      return b.build();
    }
  }

  @Command(
      name = "init",
      description =
          "Declare the archive (a stream queue) and bind it with # to the exchange. Idempotent;"
              + " an existing archive with other retention is an error.")
  static final class Init implements Callable<Integer> {
    @ParentCommand ArchiveCommand archive;

    @Mixin Retention retention = new Retention();

    @Override
    public Integer call() {
      Bb bb = archive.bb;
      ArchiveOptions options = retention.options();
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        Archive a = bus.archive(options);
        bb.out.println(
            "archive '"
                + a.queueName()
                + "' declared (stream, max age "
                + options.maxAge()
                + (options.maxLengthBytes().isPresent()
                    ? ", max " + options.maxLengthBytes().getAsLong() + " bytes"
                    : "")
                + (options.maxSegmentSizeBytes().isPresent()
                    ? ", segments of " + options.maxSegmentSizeBytes().getAsLong() + " bytes"
                    : "")
                + ") and bound with '"
                + options.bindingPattern()
                + "' to exchange '"
                + bus.options().exchange()
                + "'");
      }
      return Bb.OK;
    }
  }

  @Command(
      name = "stats",
      description =
          "Show the archive's first and last offsets and event times, without declaring it. Its"
              + " size on disk needs the management plugin (rabbitmqctl list_queues name messages"
              + " memory).")
  static final class Stats implements Callable<Integer> {
    @ParentCommand ArchiveCommand archive;

    @Option(
        names = "--queue",
        paramLabel = "Q",
        description = "Stream queue (default: " + ArchiveOptions.DEFAULT_QUEUE + ").")
    String queue = ArchiveOptions.DEFAULT_QUEUE;

    @Override
    public Integer call() {
      Bb bb = archive.bb;
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        ArchiveStats s = bus.archiveStats(queue);
        bb.out.println("queue:        " + s.queue());
        if (s.isEmpty()) {
          bb.out.println("events:       none");
          return Bb.OK;
        }
        bb.out.println(
            "first:        offset "
                + s.firstOffset()
                + s.firstTime().map(t -> "  " + t).orElse(""));
        bb.out.println(
            "last:         offset " + s.lastOffset() + s.lastTime().map(t -> "  " + t).orElse(""));
        bb.out.println("offset span:  " + s.offsetSpan());
      }
      return Bb.OK;
    }
  }
}
