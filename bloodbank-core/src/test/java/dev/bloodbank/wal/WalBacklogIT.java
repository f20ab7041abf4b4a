package dev.bloodbank.wal;

import static org.assertj.core.api.Assertions.assertThat;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A large backlog, recovered and drained by a process with a 256 MB heap (issue #16): it completes,
 * the heap after GC stays under 64 MB, and the broker receives every event exactly once.
 *
 * <p>CI runs it with a 64 MiB backlog; the {@code wal-large} profile with the 2 GiB of the issue:
 * {@code ./mvnw -B -pl bloodbank-core -am -Pwal-large verify -Dspotless.check.skip}. The size is
 * {@code -Dbloodbank.wal.backlogBytes}.
 */
@ExtendWith(BrokerExtension.class)
class WalBacklogIT {
  private static final long HEAP_LIMIT = 64L << 20;
  // Event ids carry their index in the low bits, so that the consumer can tick them off.
  private static final long ID_HIGH = 0xB10DBA4C00004000L;
  private static final long ID_LOW = 0x8000000000000000L;

  @TempDir Path dir;

  @Test
  @Scenario(30)
  void aLargeBacklogIsRecoveredAndDrainedInFlatMemoryWithEveryEventSentOnce(
      BrokerExtension.Broker broker) throws Exception {
    long bytes = Long.getLong("bloodbank.wal.backlogBytes", 64L << 20);
    Path log = dir.resolve("backlog.wal");
    int events = writeBacklog(log, bytes);

    String queue = broker.queueName("backlog");
    BitSet seen = new BitSet(events);
    AtomicLong duplicates = new AtomicLong();
    AtomicLong received = new AtomicLong();
    Connection consumer = broker.newConnection("backlog-consumer");
    try {
      Channel ch = consumer.createChannel();
      // Not durable: the broker need not write gigabytes to its disk to pass them on.
      ch.queueDeclare(queue, false, false, false, Map.of("x-queue-type", "classic"));
      ch.queueBind(queue, broker.exchange(), "backlog.#");
      ch.basicQos(2000);
      ch.basicConsume(
          queue,
          true,
          new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(
                String tag, Envelope env, AMQP.BasicProperties props, byte[] body) {
              UUID id = UUID.fromString(props.getMessageId());
              int i = (int) (id.getLeastSignificantBits() & ~ID_LOW);
              synchronized (seen) {
                if (seen.get(i)) {
                  duplicates.incrementAndGet();
                }
                seen.set(i);
              }
              received.incrementAndGet();
            }
          });

      long timeoutSeconds = Math.max(300, events / 500);
      Path out = dir.resolve("child.out");
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  "-Xmx256m",
                  "-XX:+UseG1GC",
                  "-cp",
                  System.getProperty(
                      "surefire.test.class.path", System.getProperty("java.class.path")),
                  WalBacklogMain.class.getName(),
                  log.toString(),
                  broker.exchange(),
                  "5672",
                  Long.toString(timeoutSeconds)));
      Process p =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(out.toFile()).start();
      boolean exited = p.waitFor(timeoutSeconds + 120, TimeUnit.SECONDS);
      if (!exited) {
        p.destroyForcibly();
      }
      List<String> lines = Files.readAllLines(out);
      String result =
          lines.stream().filter(l -> l.startsWith("BACKLOG ")).findFirst().orElse("(none)");
      assertThat(exited && p.exitValue() == 0)
          .as("the draining process finished; its output ends with %s", tail(lines))
          .isTrue();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
      while (received.get() < events && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      Map<String, String> figures = parse(result);
      long peak = Long.parseLong(figures.get("peakHeapAfterGc"));
      System.out.printf(
          "WAL backlog: %d events, %d MiB; recovery %s s, drain %s s (%.0f events/s); peak heap"
              + " after GC %d MiB with -Xmx256m; received %d, duplicated %d%n",
          events,
          bytes >> 20,
          figures.get("recoverySeconds"),
          figures.get("drainSeconds"),
          events / Double.parseDouble(figures.get("drainSeconds")),
          peak >> 20,
          received.get(),
          duplicates.get());
      synchronized (seen) {
        ReliabilityReport.events(30, events, events - seen.cardinality(), duplicates.get());
      }
      assertThat(Integer.parseInt(figures.get("events"))).isEqualTo(events);
      assertThat(peak).as("heap after GC while recovering and draining").isLessThan(HEAP_LIMIT);
      synchronized (seen) {
        assertThat(seen.cardinality()).as("events the broker delivered").isEqualTo(events);
      }
      assertThat(duplicates.get()).as("events sent twice").isZero();
      ch.queueDelete(queue);
    } finally {
      consumer.close();
    }
    try (WriteAheadLog reopened = WriteAheadLog.open(WalOptions.of(log))) {
      assertThat(reopened.pendingCount()).isZero();
      assertThat(reopened.segments()).as("done segments are deleted").hasSizeLessThanOrEqualTo(1);
    }
  }

  /** Writes about {@code bytes} of 1 KB events and closes the log; returns how many. */
  private static int writeBacklog(Path log, long bytes) {
    EventCodec codec = EventCodec.create();
    String text = "x".repeat(900);
    WalOptions options =
        WalOptions.builder()
            .path(log)
            .fsync(FsyncPolicy.batched(Duration.ofMillis(5), 4096))
            .build();
    long written = 0;
    int n = 0;
    try (WriteAheadLog wal = WriteAheadLog.open(options)) {
      CompletableFuture<Long> last = null;
      while (written < bytes) {
        UUID id = new UUID(ID_HIGH, ID_LOW | n);
        byte[] event =
            codec.encode(
                EventEnvelope.builder("backlog.event", Map.of("n", n, "text", text))
                    .withEventId(id)
                    .build());
        last = wal.appendAsync(id, "backlog.event", event);
        written += event.length + 120; // the record's own fields
        n++;
      }
      if (last != null) {
        last.join();
      }
    }
    return n;
  }

  private static Map<String, String> parse(String line) {
    Map<String, String> m = new java.util.HashMap<>();
    for (String part : line.split(" ")) {
      int eq = part.indexOf('=');
      if (eq > 0) {
        m.put(part.substring(0, eq), part.substring(eq + 1));
      }
    }
    return m;
  }

  private static String tail(List<String> lines) {
    return String.join("\n", lines.subList(Math.max(0, lines.size() - 20), lines.size()));
  }
}
