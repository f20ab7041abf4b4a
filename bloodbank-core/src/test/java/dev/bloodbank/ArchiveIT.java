package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ArchiveStats;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The archive's stream queue on the real RabbitMQ: declaration, conflicts, statistics, retention.
 */
@ExtendWith(BrokerExtension.class)
class ArchiveIT {
  record Item(int n, String pad) {}

  static ArchiveOptions.Builder archiveOptions(BrokerExtension.Broker broker) {
    return ArchiveOptions.builder().queue(broker.queueName("archive"));
  }

  static void publish(Bloodbank bus, String key, int from, int to) throws Exception {
    Publisher p = bus.publisher();
    for (int i = from; i < to; i++) {
      p.publish(key, new Item(i, "")).get(10, TimeUnit.SECONDS);
    }
  }

  @Test
  void declaresADurableStreamWithItsRetentionOnceAndKeepsEveryEvent(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    ArchiveOptions options =
        archiveOptions(broker)
            .maxAge(Duration.ofHours(1))
            .maxLengthBytes(10_000_000)
            .maxSegmentSizeBytes(1_000_000)
            .build();
    Archive archive = bus.archive(options);
    assertThat(bus.archive(options).queueName()).isEqualTo(archive.queueName());

    BrokerExtension.Broker.QueueStats q = broker.listQueues().get(archive.queueName());
    assertThat(q.type()).isEqualTo("stream");
    assertThat(q.arguments())
        .containsEntry("x-queue-type", "stream")
        .containsEntry("x-max-age", "1h")
        .containsEntry("x-max-length-bytes", "10000000")
        .containsEntry("x-stream-max-segment-size-bytes", "1000000");
    assertThat(archive.stats().isEmpty()).isTrue();

    Instant before = Instant.now().minusSeconds(1);
    publish(bus, "archive.one", 0, 5);
    publish(bus, "other.two", 5, 8);
    ArchiveStats stats = archive.stats();
    assertThat(stats.queue()).isEqualTo(archive.queueName());
    assertThat(stats.firstOffset()).isZero();
    assertThat(stats.lastOffset()).isEqualTo(7);
    assertThat(stats.offsetSpan()).isEqualTo(8);
    assertThat(stats.firstTime()).hasValueSatisfying(t -> assertThat(t).isAfter(before));
    assertThat(stats.lastTime()).hasValueSatisfying(t -> assertThat(t).isAfter(before));
  }

  @Test
  void aQueueOfTheSameNameWithOtherArgumentsFailsNamingIt(BrokerExtension.Broker broker) {
    Bloodbank bus = broker.connect();
    ArchiveOptions week = archiveOptions(broker).build();
    bus.archive(week);
    Throwable e =
        catchThrowable(() -> bus.archive(week.mutate().maxAge(Duration.ofDays(1)).build()));
    assertThat(e)
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("'" + week.queue() + "'")
        .hasMessageContaining("PRECONDITION_FAILED")
        .hasMessageContaining("x-max-age");
    // The bus goes on: the failed declaration closed only its own channel.
    assertThat(bus.archive(week).stats().isEmpty()).isTrue();
  }

  @Test
  void aClassicQueueOfTheSameNameFailsNamingIt(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String name = broker.queueName("classic");
    broker.raw().queueDeclare(name, true, false, false, null);
    Throwable e = catchThrowable(() -> bus.archive(ArchiveOptions.builder().queue(name).build()));
    assertThat(e)
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("'" + name + "'")
        .hasMessageContaining("PRECONDITION_FAILED");
  }

  @Test
  void retentionDeletesWholeOldSegments(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    // Segments of 4 KB and at most 16 KB kept: about 200 events of 600 bytes fill ~30 segments.
    Archive archive =
        bus.archive(
            archiveOptions(broker).maxSegmentSizeBytes(4_000).maxLengthBytes(16_000).build());
    Publisher p = bus.publisher();
    String pad = "x".repeat(500);
    for (int i = 0; i < 200; i++) {
      p.publish("retention.item", new Item(i, pad)).get(10, TimeUnit.SECONDS);
    }
    Await.until(
        () -> archive.stats().firstOffset() > 0,
        Duration.ofSeconds(30),
        "the oldest segments deleted");
    ArchiveStats stats = archive.stats();
    // Offsets grow by more than one where a segment starts: the broker's own record takes one.
    assertThat(stats.lastOffset()).isGreaterThanOrEqualTo(199);
    assertThat(stats.lastOffset() - stats.firstOffset() + 1).isEqualTo(stats.offsetSpan());

    // A replay from the first starts at the first kept, and reads on to the last without a gap.
    List<Integer> seen = new CopyOnWriteArrayList<>();
    List<Long> offsets = new CopyOnWriteArrayList<>();
    ReplayResult r =
        bus.replayWithDelivery(
                ReplayOptions.builder().queue(archive.queueName()).build(),
                Item.class,
                (e, d) -> {
                  seen.add(e.payload().n());
                  offsets.add(d.offset().orElseThrow());
                })
            .completion()
            .get(30, TimeUnit.SECONDS);
    assertThat(offsets).first().isEqualTo(stats.firstOffset());
    assertThat(offsets).last().isEqualTo(stats.lastOffset());
    assertThat(offsets).isSorted();
    int oldest = seen.get(0);
    assertThat(oldest).as("events deleted by retention").isPositive();
    assertThat(seen).containsExactlyElementsOf(range(oldest, 200));
    assertThat(r.handled()).isEqualTo(seen.size());
    assertThat(r.lastOffset()).isEqualTo(stats.lastOffset());
  }

  static List<Integer> range(int from, int to) {
    return java.util.stream.IntStream.range(from, to).boxed().toList();
  }

  @Test
  void theEmbeddedTransportHasNoArchive() {
    try (Bloodbank bus =
        Bloodbank.connect(BloodbankOptions.builder().transport(Transport.embedded()).build())) {
      assertThat(catchThrowable(() -> bus.archive(ArchiveOptions.create())))
          .isInstanceOf(BloodbankException.class)
          .hasMessageContaining("stream");
    }
  }
}
