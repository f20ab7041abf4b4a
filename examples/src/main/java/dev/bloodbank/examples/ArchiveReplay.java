package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ArchiveStats;
import dev.bloodbank.archive.OffsetStore;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import java.nio.file.Path;
import java.time.Duration;

/**
 * Archives the bus in a stream queue and replays the last two hours of transcript uploads with a
 * resumable reader.
 *
 * <p>Needs RabbitMQ 3.9 or later (stream queues); it connects as {@code RABBIT_URL} says, or to
 * localhost:5672 as guest. Run it twice: the second run continues after the offset the first one
 * stored in {@code archive-reader.offset}.
 */
public final class ArchiveReplay {
  private ArchiveReplay() {}

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws Exception if the replay fails
   */
  public static void main(String[] args) throws Exception {
    run(BloodbankOptions.fromEnvironment().mutate().serviceName("archive-example").build());
  }

  static void run(BloodbankOptions options) throws Exception {
    // [archive-replay]
    try (Bloodbank bus = Bloodbank.connect(options)) {
      // Every event from now on, kept 7 days (retention per 100 MB segment) or up to 20 GB.
      Archive archive =
          bus.archive(
              ArchiveOptions.builder()
                  .maxAge(Duration.ofDays(7))
                  .maxLengthBytes(20_000_000_000L)
                  .maxSegmentSizeBytes(100_000_000)
                  .build());
      ArchiveStats stats = archive.stats();
      System.out.printf(
          "archive: offsets %d..%d, %s to %s%n",
          stats.firstOffset(), stats.lastOffset(), stats.firstTimestamp(), stats.lastTimestamp());

      // The last two hours of uploads up to now; a second run continues where this one stopped.
      ReplayOptions since2h =
          ReplayOptions.builder()
              .since(Duration.ofHours(2))
              .pattern("fireflies.transcript.*")
              .resumeFrom(OffsetStore.file(Path.of("archive-reader.offset")))
              .build();
      try (Replay replay =
          bus.replayWithDelivery(
              since2h,
              TranscriptUpload.class,
              (event, delivery) ->
                  System.out.printf(
                      "offset %d: %s %s%n",
                      delivery.offset().orElseThrow(),
                      event.eventType(),
                      event.payload().getTitle()))) {
        ReplayResult result = replay.completion().join();
        System.out.printf(
            "replayed %d events up to offset %d%n", result.handled(), result.lastOffset());
      }
    }
    // [archive-replay]
  }
}
