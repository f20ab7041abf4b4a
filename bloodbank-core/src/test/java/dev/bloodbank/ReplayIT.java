package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.OffsetStore;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayException;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.correlation.RedisExtension;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Replays of the archive on the real RabbitMQ: every start and end, filters, credit, resuming. */
@ExtendWith(BrokerExtension.class)
class ReplayIT {
  private static final int WAIT_S = 30;

  record Item(int n, String pad) {}

  private static Archive archive(Bloodbank bus, BrokerExtension.Broker broker) {
    return bus.archive(ArchiveOptions.builder().queue(broker.queueName("archive")).build());
  }

  private static void publish(Bloodbank bus, String key, int from, int to) throws Exception {
    ArchiveIT.publish(bus, key, from, to);
  }

  /** Runs a replay to its end and returns the payloads' numbers handed to the handler. */
  private static List<Integer> replayAll(Bloodbank bus, ReplayOptions options) throws Exception {
    List<Integer> seen = new CopyOnWriteArrayList<>();
    bus.replay(options, Item.class, e -> seen.add(e.payload().n()))
        .completion()
        .get(WAIT_S, TimeUnit.SECONDS);
    return seen;
  }

  @Test
  void fromFirstHandsEveryEventInOrderAsReplayed(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 50);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    List<DeliveryInfo> infos = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replayWithDelivery(
            ReplayOptions.builder().queue(archive.queueName()).prefetch(7).build(),
            Item.class,
            (e, d) -> {
              seen.add(e.payload().n());
              infos.add(d);
            });
    ReplayResult r = replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 50));
    assertThat(infos).allSatisfy(d -> assertThat(d.replayed()).isTrue());
    assertThat(infos)
        .extracting(d -> d.offset().orElseThrow())
        .containsExactlyElementsOf(longs(0, 50));
    assertThat(infos.get(0).queue()).isEqualTo(archive.queueName());
    assertThat(r).isEqualTo(new ReplayResult(archive.queueName(), 50, 0, 0, 49, true));
    assertThat(replay.lastOffset()).isEqualTo(49);
  }

  @Test
  void aSubscribersDeliveryIsNotReplayedAndHasNoOffset() {
    DeliveryInfo d = new DeliveryInfo(1, 3, false, "q");
    assertThat(d.replayed()).isFalse();
    assertThat(d.offset()).isEmpty();
    assertThat(DeliveryInfo.forReplay("q", 7).offset()).hasValue(7);
  }

  @Test
  void fromAnOffsetStartsThere(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 20);
    assertThat(
            replayAll(
                bus, ReplayOptions.builder().queue(archive.queueName()).fromOffset(12).build()))
        .containsExactlyElementsOf(ArchiveIT.range(12, 20));
    // Past the last event: nothing, and it ends at once.
    assertThat(
            replayAll(
                bus, ReplayOptions.builder().queue(archive.queueName()).fromOffset(20).build()))
        .isEmpty();
  }

  @Test
  void fromAnInstantOrADurationAgoStartsWithTheEventsStoredSince(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 10);
    // Stream timestamps have whole seconds: leave more than one between the two batches.
    Thread.sleep(1100);
    Instant between = Instant.now();
    Thread.sleep(1100);
    publish(bus, "replay.item", 10, 20);
    assertThat(
            replayAll(
                bus, ReplayOptions.builder().queue(archive.queueName()).from(between).build()))
        .containsExactlyElementsOf(ArchiveIT.range(10, 20));
    Duration ago = Duration.between(between, Instant.now());
    assertThat(
            replayAll(bus, ReplayOptions.builder().queue(archive.queueName()).since(ago).build()))
        .containsExactlyElementsOf(ArchiveIT.range(10, 20));
    // An instant after the last event: nothing.
    assertThat(
            replayAll(
                bus,
                ReplayOptions.builder()
                    .queue(archive.queueName())
                    .from(Instant.now().plusSeconds(5))
                    .build()))
        .isEmpty();
  }

  @Test
  void untilNowStopsAtTheLastEventPresentAtTheStart(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 10);
    CountDownLatch published = new CountDownLatch(1);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replay(
            ReplayOptions.builder().queue(archive.queueName()).prefetch(2).build(),
            Item.class,
            e -> {
              published.await(WAIT_S, TimeUnit.SECONDS);
              seen.add(e.payload().n());
            });
    publish(bus, "replay.item", 10, 20);
    published.countDown();
    ReplayResult r = replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 10));
    assertThat(r.lastOffset()).isEqualTo(9);
    assertThat(r.endReached()).isTrue();
  }

  @Test
  void anEmptyArchiveEndsAtOnce(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    ReplayResult r =
        bus.replay(ReplayOptions.builder().queue(archive.queueName()).build(), Item.class, e -> {})
            .completion()
            .get(WAIT_S, TimeUnit.SECONDS);
    assertThat(r.handled()).isZero();
    assertThat(r.lastOffset()).isEqualTo(-1);
  }

  @Test
  void followingHandsNewEventsUntilClosed(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 3);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replay(
            ReplayOptions.builder().queue(archive.queueName()).follow().build(),
            Item.class,
            e -> seen.add(e.payload().n()));
    Await.until(() -> seen.size() == 3);
    publish(bus, "replay.item", 3, 8);
    Await.until(() -> seen.size() == 8);
    assertThat(replay.completion()).isNotDone();
    replay.close();
    ReplayResult r = replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 8));
    assertThat(r.endReached()).isFalse();
    assertThat(r.handled()).isEqualTo(8);
  }

  @Test
  void untilAFutureInstantFollowsThenEnds(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 3);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replay(
            ReplayOptions.builder()
                .queue(archive.queueName())
                .until(Instant.now().plusSeconds(2))
                .build(),
            Item.class,
            e -> seen.add(e.payload().n()));
    publish(bus, "replay.item", 3, 5);
    ReplayResult r = replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(r.endReached()).isTrue();
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 5));
  }

  @Test
  void patternsFilterInTheClientAsTheExchangeWould(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "fireflies.transcript.ready", 0, 2);
    publish(bus, "llm.prompt", 2, 4);
    publish(bus, "fireflies.upload", 4, 6);
    publish(bus, "artifact.created", 6, 7);
    ReplayResult[] result = new ReplayResult[1];
    List<Integer> seen = new CopyOnWriteArrayList<>();
    result[0] =
        bus.replay(
                ReplayOptions.builder()
                    .queue(archive.queueName())
                    .pattern("fireflies.#")
                    .pattern("*.created")
                    .build(),
                Item.class,
                e -> seen.add(e.payload().n()))
            .completion()
            .get(WAIT_S, TimeUnit.SECONDS);
    assertThat(seen).containsExactly(0, 1, 4, 5, 6);
    assertThat(result[0].filtered()).isEqualTo(2);
    assertThat(result[0].lastOffset()).isEqualTo(6);
  }

  @Test
  void aFailingHandlerStopsTheReplayNamingTheOffset(
      BrokerExtension.Broker broker, @TempDir Path dir) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 10);
    Path file = dir.resolve("offset");
    List<Integer> seen = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replay(
            ReplayOptions.builder()
                .queue(archive.queueName())
                .resumeFrom(OffsetStore.file(file))
                .build(),
            Item.class,
            e -> {
              if (e.payload().n() == 6) {
                throw new IllegalStateException("cannot handle six");
              }
              seen.add(e.payload().n());
            });
    Throwable t = catchThrowable(() -> replay.completion().get(WAIT_S, TimeUnit.SECONDS));
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause())
        .isInstanceOf(ReplayException.class)
        .hasMessageContaining("offset 6")
        .hasMessageContaining(archive.queueName())
        .hasMessageContaining("cannot handle six")
        .hasCauseInstanceOf(IllegalStateException.class);
    assertThat(((ReplayException) t.getCause()).offset()).isEqualTo(6);
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 6));
    // The store holds the last event done; resuming starts with the one that failed.
    assertThat(OffsetStore.file(file).load()).hasValue(5);
    assertThat(
            replayAll(
                bus,
                ReplayOptions.builder()
                    .queue(archive.queueName())
                    .resumeFrom(OffsetStore.file(file))
                    .build()))
        .containsExactlyElementsOf(ArchiveIT.range(6, 10));
    assertThat(OffsetStore.file(file).load()).hasValue(9);
  }

  @Test
  @ExtendWith(RedisExtension.class)
  void aReaderResumesFromAnOffsetKeptInRedis(
      BrokerExtension.Broker broker, RedisExtension.Redis redis) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 10);
    String key = "bloodbank:test:replay-offset:" + broker.serviceName();
    try (OffsetStore store = OffsetStore.redis(redis.options().build(), key)) {
      assertThat(store.load()).isEmpty();
      ReplayOptions resumable =
          ReplayOptions.builder().queue(archive.queueName()).resumeFrom(store).build();
      List<Integer> seen = new CopyOnWriteArrayList<>();
      Replay first =
          bus.replay(
              resumable,
              Item.class,
              e -> {
                seen.add(e.payload().n());
                if (e.payload().n() == 3) {
                  throw new IllegalStateException("stop at three");
                }
              });
      assertThat(catchThrowable(() -> first.completion().get(WAIT_S, TimeUnit.SECONDS)))
          .hasCauseInstanceOf(ReplayException.class);
      assertThat(redis.sync().get(key)).isEqualTo("2");
      publish(bus, "replay.item", 10, 12);
      assertThat(replayAll(bus, resumable)).containsExactlyElementsOf(ArchiveIT.range(3, 12));
      assertThat(store.load()).hasValue(11);
    } finally {
      redis.sync().del(key);
    }
  }

  @Test
  void aSlowHandlerHoldsBackTheStreamAtThePrefetch(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 300);
    CountDownLatch release = new CountDownLatch(1);
    List<Integer> seen = new CopyOnWriteArrayList<>();
    Replay replay =
        bus.replay(
            ReplayOptions.builder().queue(archive.queueName()).prefetch(5).build(),
            Item.class,
            e -> {
              release.await(WAIT_S, TimeUnit.SECONDS);
              seen.add(e.payload().n());
            });
    // The broker's view: delivered to this replay's channel and not yet acknowledged.
    // Events published one by one are stored one per chunk; the broker delivers whole chunks, so
    // with bigger chunks up to one chunk more than the prefetch is out.
    Await.until(() -> unacknowledged(broker, 5) > 0);
    Thread.sleep(500);
    assertThat(unacknowledged(broker, 5)).isBetween(1, 5);
    assertThat(seen).isEmpty();
    release.countDown();
    replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(seen).containsExactlyElementsOf(ArchiveIT.range(0, 300));
  }

  @Test
  void closingTheBusEndsAFollowingReplay(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 2);
    Replay replay =
        bus.replay(
            ReplayOptions.builder().queue(archive.queueName()).follow().build(),
            Item.class,
            e -> {});
    Await.until(() -> replay.handled() == 2);
    bus.close();
    assertThat(replay.completion().get(WAIT_S, TimeUnit.SECONDS).endReached()).isFalse();
  }

  @Test
  void closeReturnsByItsDeadlineWhenTheHandlerIsStuck(
      BrokerExtension.Broker broker, @TempDir Path dir) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    publish(bus, "replay.item", 0, 5);
    Path file = dir.resolve("offset");
    CountDownLatch never = new CountDownLatch(1);
    CountDownLatch interrupted = new CountDownLatch(1);
    Replay replay =
        bus.replay(
            ReplayOptions.builder()
                .queue(archive.queueName())
                .resumeFrom(OffsetStore.file(file))
                .shutdownTimeout(Duration.ofMillis(300))
                .build(),
            Item.class,
            e -> {
              if (e.payload().n() == 2) {
                try {
                  never.await();
                } catch (InterruptedException x) {
                  interrupted.countDown();
                  throw x;
                }
              }
            });
    Await.until(() -> replay.lastOffset() == 1);
    long start = System.nanoTime();
    replay.close();
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    assertThat(interrupted.await(5, TimeUnit.SECONDS)).as("stuck handler interrupted").isTrue();
    ReplayResult r = replay.completion().get(WAIT_S, TimeUnit.SECONDS);
    assertThat(r.endReached()).isFalse();
    assertThat(r.lastOffset()).isEqualTo(1);
    // The event in progress was not done: a resumed reader starts with it.
    assertThat(OffsetStore.file(file).load()).hasValue(1);
  }

  @Test
  void aMissingStreamFailsNamingIt(BrokerExtension.Broker broker) {
    Bloodbank bus = broker.connect();
    String name = broker.queueName("missing");
    assertThat(
            catchThrowable(
                () -> bus.replay(ReplayOptions.builder().queue(name).build(), Item.class, e -> {})))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("'" + name + "'")
        .hasMessageContaining("NOT_FOUND");
  }

  @Test
  void aClassicQueueIsRefusedAndKeepsItsMessages(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String classic = broker.rawQueue("classic.#");
    publish(bus, "classic.item", 0, 3);
    Await.until(() -> broker.messageCount(classic) == 3);
    assertThat(
            catchThrowable(
                () ->
                    bus.replay(
                        ReplayOptions.builder().queue(classic).build(), Item.class, e -> {})))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("'" + classic + "'")
        .hasMessageContaining("not a stream queue");
    Await.until(() -> broker.messageCount(classic) == 3);
  }

  @Test
  void aResumableReaderKilledMidwayContinuesAfterItsStoredOffset(
      BrokerExtension.Broker broker, @TempDir Path dir) throws Exception {
    Bloodbank bus = broker.connect();
    Archive archive = archive(bus, broker);
    int total = 400;
    publish(bus, "replay.item", 0, total);
    Path file = dir.resolve("reader.offset");

    // First run: killed with SIGKILL once it handled 150 events.
    List<Long> first = new ArrayList<>();
    Process p = reader(broker, archive, file, 3);
    try (BufferedReader out = lines(p)) {
      assertThat(out.readLine()).isEqualTo("READY");
      String line;
      while (first.size() < 150 && (line = out.readLine()) != null) {
        if (line.startsWith("H ")) {
          first.add(Long.parseLong(line.split(" ")[1]));
        }
      }
      p.destroyForcibly();
      assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
    }
    long stored = OffsetStore.file(file).load().orElseThrow();
    assertThat(stored).isBetween(0L, first.get(first.size() - 1) + 20);

    // Second run: starts right after the stored offset and reads to the end.
    List<Long> second = new ArrayList<>();
    p = reader(broker, archive, file, 0);
    try (BufferedReader out = lines(p)) {
      String line;
      boolean done = false;
      while ((line = out.readLine()) != null) {
        if (line.startsWith("H ")) {
          second.add(Long.parseLong(line.split(" ")[1]));
        } else if (line.equals("DONE")) {
          done = true;
        }
      }
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
      assertThat(done).as("second run reached the end").isTrue();
    }
    assertThat(second.get(0)).isEqualTo(stored + 1);
    assertThat(second).isSorted().doesNotHaveDuplicates();
    TreeSet<Long> all = new TreeSet<>(first);
    all.addAll(second);
    assertThat(all).containsExactlyElementsOf(longs(0, total));
    // At-least-once: only events after the stored offset are handed twice.
    List<Long> twice = new ArrayList<>(first);
    twice.retainAll(second);
    assertThat(twice).allSatisfy(o -> assertThat(o).isGreaterThan(stored));
    assertThat(OffsetStore.file(file).load()).hasValue((long) total - 1);
  }

  private static Process reader(
      BrokerExtension.Broker broker, Archive archive, Path file, long sleepMillis)
      throws Exception {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> cmd =
        List.of(
            java,
            "-XX:TieredStopAtLevel=1",
            "-XX:+UseSerialGC",
            "-Xmx128m",
            "-cp",
            System.getProperty("java.class.path"),
            ResumableReplayMain.class.getName(),
            broker.exchange(),
            broker.serviceName(),
            archive.queueName(),
            file.toString(),
            Long.toString(sleepMillis));
    return new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.DISCARD).start();
  }

  private static BufferedReader lines(Process p) {
    return new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8));
  }

  private static List<Long> longs(long from, long to) {
    return java.util.stream.LongStream.range(from, to).boxed().toList();
  }

  /**
   * Messages the broker delivered and not yet acknowledged on the test bus's channels with this
   * prefetch (the replay's; stream consumers are not listed by {@code list_consumers} on 3.10).
   */
  private static int unacknowledged(BrokerExtension.Broker broker, int prefetch) throws Exception {
    List<String> mine = new ArrayList<>();
    for (JsonNode c : broker.ctl("list_connections", "pid", "client_properties")) {
      // The connection name is among the client properties.
      if (c.path("client_properties").toString().contains("\"" + broker.serviceName() + "-")) {
        mine.add(c.get("pid").asText());
      }
    }
    int n = 0;
    for (JsonNode c :
        broker.ctl("list_channels", "connection", "prefetch_count", "messages_unacknowledged")) {
      if (mine.contains(c.get("connection").asText())
          && c.get("prefetch_count").asInt() == prefetch) {
        n += c.get("messages_unacknowledged").asInt();
      }
    }
    return n;
  }
}
