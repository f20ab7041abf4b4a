package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.internal.Pacer;
import dev.bloodbank.validation.ValidationMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code bb replay}: read the archive and print or republish what it holds. */
@Command(
    name = "replay",
    description =
        "Replay the archive (a stream queue): print each event as a JSON line, or publish it again"
            + " with its event id unchanged so idempotent consumers drop repeats.",
    footer = {
      "",
      "Patterns are matched by the client: stream filtering needs RabbitMQ 3.13.",
      "Progress (events, rate; for a replay until now also percent and ETA) is drawn on",
      "stderr only when it is a terminal; a summary line always ends on stderr.",
      "Ctrl-C stops the replay and exits 130 after the summary.",
      "",
      "Examples:",
      "  bb replay --since 2h --print | jq .event_type",
      "  bb replay --first --pattern 'fireflies.#' --republish --rate 200",
      "  bb replay --from-offset 1200 --until 2026-12-04T12:00:00Z --republish --to-queue q --dry-run"
    })
final class ReplayCommand implements Callable<Integer> {
  /** How often the progress line is redrawn at most. */
  private static final long PROGRESS_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

  private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  @ParentCommand Bb bb;

  @Option(
      names = "--queue",
      paramLabel = "Q",
      description = "Stream queue read (default: " + ArchiveOptions.DEFAULT_QUEUE + ").")
  String queue = ArchiveOptions.DEFAULT_QUEUE;

  @ArgGroup(exclusive = true, multiplicity = "1")
  Start start;

  static final class Start {
    @Option(names = "--first", description = "From the oldest event kept.")
    boolean first;

    @Option(names = "--from-offset", paramLabel = "N", description = "From offset N.")
    @Nullable Long offset;

    @Option(
        names = "--since",
        paramLabel = "AGO",
        converter = Durations.class,
        description = "From this long ago: 30s, 15m, 2h, 7d.")
    @Nullable Duration since;

    @Option(
        names = "--from",
        paramLabel = "INSTANT",
        description = "From an ISO instant, e.g. 2026-12-04T12:00:00Z.")
    @Nullable Instant from;
  }

  @ArgGroup(exclusive = true)
  @Nullable End end;

  static final class End {
    @Option(
        names = "--until",
        paramLabel = "INSTANT",
        description = "Until an ISO instant (default: the last event present now).")
    @Nullable Instant until;

    @Option(names = "--follow", description = "Keep following new events until Ctrl-C.")
    boolean follow;
  }

  @Option(
      names = "--pattern",
      paramLabel = "P",
      description = "Only routing keys matching P (repeatable; default: #).")
  List<String> patterns = new ArrayList<>();

  @ArgGroup(exclusive = true, multiplicity = "1")
  Action action;

  static final class Action {
    @Option(names = "--print", description = "Write each event to stdout as one JSON line.")
    boolean print;

    @ArgGroup(exclusive = false)
    @Nullable Republish republish;
  }

  static final class Republish {
    @Option(
        names = "--republish",
        required = true,
        description = "Publish each event again, same event id, waiting for each confirm.")
    boolean republish;

    @Option(
        names = "--to-queue",
        paramLabel = "Q",
        description = "To queue Q through the default exchange instead of the bus's exchange.")
    @Nullable String toQueue;

    @Option(
        names = "--rate",
        paramLabel = "N/s",
        converter = Rate.class,
        description = "At most N events a second (default: as fast as confirms come).")
    @Nullable Double rate;

    @Option(names = "--dry-run", description = "Count what would be republished; publish nothing.")
    boolean dryRun;
  }

  @Override
  public Integer call() throws Exception {
    Republish rep = action.republish;
    double rate = rep == null || rep.rate == null ? 0 : rep.rate;
    ReplayOptions options = options();
    try (Bloodbank bus = bb.connect(ValidationMode.SKIP);
        Sink sink = sink(bus, rep, rate)) {
      // The end is known only for a replay until now; --until ends at an event time.
      Progress progress =
          new Progress(bb.terminal && end == null ? endOffset(bus.options(), queue) : -1);
      Replay replay =
          bus.replayWithDelivery(
              options,
              JsonNode.class,
              (event, delivery) -> {
                sink.accept(bus, event);
                progress.done(delivery.offset().orElse(-1));
              });
      progress.start(replay);
      // The main thread prints the summary; the exit code is 130 either way.
      StopOnSignal stop = new StopOnSignal("bb-replay-stop", replay::close);
      ReplayResult result;
      try {
        result = await(replay, progress);
      } finally {
        progress.finish();
        stop.close();
      }
      bb.out.flush();
      bb.err.println(
          "bb: replay of '"
              + result.queue()
              + "': "
              + (rep == null ? "printed " : rep.dryRun ? "would republish " : "republished ")
              + result.handled()
              + ", filtered "
              + result.filtered()
              + ", skipped "
              + result.skipped()
              + ", last offset "
              + result.lastOffset()
              + (result.endReached() ? "" : " (stopped)"));
      bb.err.flush();
      stop.summarized();
      return stop.stopped() ? StopOnSignal.EXIT : Bb.OK;
    }
  }

  private ReplayResult await(Replay replay, Progress progress) throws Exception {
    while (true) {
      try {
        return replay.completion().get(PROGRESS_NANOS, TimeUnit.NANOSECONDS);
      } catch (TimeoutException e) {
        progress.draw();
      } catch (ExecutionException | CompletionException e) {
        Throwable cause = e.getCause() == null ? e : e.getCause();
        if (cause instanceof Exception) {
          throw (Exception) cause;
        }
        throw e;
      }
    }
  }

  private ReplayOptions options() {
    ReplayOptions.Builder b = ReplayOptions.builder().queue(queue);
    if (start.offset != null) {
      b.fromOffset(start.offset);
    } else if (start.since != null) {
      b.since(start.since);
    } else if (start.from != null) {
      b.from(start.from);
    } else {
      b.fromFirst();
    }
    if (end != null && end.follow) {
      b.follow();
    } else if (end != null && end.until != null) {
      b.until(end.until);
    } else {
      b.untilNow();
    }
    for (String p : patterns) {
      b.pattern(p);
    }
    return b.build();
  }

  /** Parses {@code 200/s} or {@code 200}: events a second, above 0. */
  static final class Rate implements picocli.CommandLine.ITypeConverter<Double> {
    @Override
    public Double convert(String value) {
      String v = value.endsWith("/s") ? value.substring(0, value.length() - 2) : value;
      try {
        double r = Double.parseDouble(v);
        if (r > 0 && Double.isFinite(r)) {
          return r;
        }
      } catch (NumberFormatException e) {
        // reported below
      }
      throw new picocli.CommandLine.TypeConversionException(
          "'" + value + "' is not a positive rate like 200/s");
    }
  }

  private Sink sink(Bloodbank bus, @Nullable Republish rep, double rate) throws IOException {
    if (rep == null) {
      return (b, e) -> {
        bb.out.println(new String(b.codec().encode(e), StandardCharsets.UTF_8));
      };
    }
    Pacer pacer = new Pacer(rate);
    if (rep.dryRun) {
      return (b, e) -> pacer.pace();
    }
    if (rep.toQueue == null) {
      Publisher publisher =
          bus.publisher(
              PublisherOptions.builder()
                  .validation(ValidationMode.SKIP)
                  .confirmTimeout(CONFIRM_TIMEOUT)
                  .build());
      return new Sink() {
        @Override
        public void accept(Bloodbank b, EventEnvelope<JsonNode> e) throws Exception {
          pacer.pace();
          publisher.publish(e).get(CONFIRM_TIMEOUT.toSeconds() + 5, TimeUnit.SECONDS);
        }

        @Override
        public void close() {
          publisher.close();
        }
      };
    }
    return new QueueSink(bus.options(), rep.toQueue, pacer);
  }

  /** Where each replayed event goes. Runs on the replay's dispatch thread; may block. */
  interface Sink extends AutoCloseable {
    void accept(Bloodbank bus, EventEnvelope<JsonNode> event) throws Exception;

    @Override
    default void close() {}
  }

  /** A connection factory for the bus's broker, for what the bus's own connections do not do. */
  static ConnectionFactory factory(BloodbankOptions o) {
    ConnectionFactory f = new ConnectionFactory();
    f.setVirtualHost(o.virtualHost());
    f.setUsername(o.username());
    f.setPassword(o.password());
    f.setConnectionTimeout((int) o.connectionTimeout().toMillis());
    if (o.tls()) {
      try {
        f.useSslProtocol(
            o.sslContext() != null ? o.sslContext() : javax.net.ssl.SSLContext.getDefault());
      } catch (java.security.NoSuchAlgorithmException e) {
        throw new Bb.CliException("no TLS context: " + e.getMessage());
      }
    }
    return f;
  }

  static List<com.rabbitmq.client.Address> addresses(BloodbankOptions o) {
    return o.addresses().stream()
        .map(a -> new com.rabbitmq.client.Address(a.host(), a.port()))
        .toList();
  }

  /**
   * The offset of the stream's newest event now, for the progress line's percentage and ETA: its
   * last chunk, read on a connection of its own. Returns -1 when it cannot tell (an empty stream
   * delivers nothing).
   */
  static long endOffset(BloodbankOptions o, String queue) {
    try (Connection c = factory(o).newConnection(addresses(o), "bb replay progress")) {
      Channel ch = c.createChannel();
      ch.basicQos(1000);
      AtomicLong max = new AtomicLong(-1);
      CountDownLatch first = new CountDownLatch(1);
      ch.basicConsume(
          queue,
          false,
          Map.of("x-stream-offset", "last"),
          (tag, d) -> {
            Map<String, Object> h = d.getProperties().getHeaders();
            if (h != null && h.get("x-stream-offset") instanceof Number n) {
              max.accumulateAndGet(n.longValue(), Math::max);
            }
            first.countDown();
          },
          tag -> {});
      if (first.await(1, TimeUnit.SECONDS)) {
        // The rest of the last chunk follows at once.
        Thread.sleep(250);
      }
      return max.get();
    } catch (IOException | TimeoutException | RuntimeException e) {
      return -1;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return -1;
    }
  }

  /**
   * Publishes to a queue through the default exchange, which the bus's publisher does not address,
   * on a connection of its own with publisher confirms.
   */
  static final class QueueSink implements Sink {
    private final Connection connection;
    private final Channel channel;
    private final String queue;
    private final Pacer pacer;

    QueueSink(BloodbankOptions o, String queue, Pacer pacer) {
      this.queue = queue;
      this.pacer = pacer;
      ConnectionFactory f = factory(o);
      try {
        this.connection = f.newConnection(addresses(o), "bb replay --to-queue");
        this.channel = connection.createChannel();
        channel.confirmSelect();
        channel.queueDeclarePassive(queue);
      } catch (TimeoutException e) {
        throw new Bb.Unreachable("cannot connect to " + o.addresses() + ": " + e.getMessage());
      } catch (IOException e) {
        throw new Bb.CliException("cannot republish to queue '" + queue + "': " + rootMessage(e));
      }
    }

    @Override
    public void accept(Bloodbank bus, EventEnvelope<JsonNode> e) throws Exception {
      pacer.pace();
      AMQP.BasicProperties props =
          new AMQP.BasicProperties.Builder()
              .contentType("application/json")
              .deliveryMode(2)
              .messageId(e.eventId().toString())
              .type(e.eventType())
              .timestamp(java.util.Date.from(e.timestamp()))
              .headers(Map.of("x-bloodbank-replayed", true))
              .build();
      channel.basicPublish("", queue, true, props, bus.codec().encode(e));
      channel.waitForConfirmsOrDie(CONFIRM_TIMEOUT.toMillis());
    }

    @Override
    public void close() {
      try {
        connection.close(5000);
      } catch (IOException | RuntimeException e) {
        // closing after the replay: nothing to report
      }
    }

    private static String rootMessage(Throwable e) {
      Throwable t = e;
      while (t.getCause() != null && t.getCause() != t) {
        t = t.getCause();
      }
      return String.valueOf(t.getMessage());
    }
  }

  /**
   * The progress line on a terminal's stderr, drawn from the main thread: events done, rate, last
   * offset, and with a known end offset the percentage and ETA.
   */
  final class Progress {
    private final AtomicLong done = new AtomicLong();
    private final AtomicLong base = new AtomicLong(-1);
    private final long startNanos = System.nanoTime();
    private final long end;
    private volatile @Nullable Replay replay;
    private boolean drawn;

    Progress(long end) {
      this.end = end;
    }

    void start(Replay r) {
      replay = r;
    }

    void done(long at) {
      done.incrementAndGet();
      base.compareAndSet(-1, at);
    }

    void draw() {
      Replay r = replay;
      if (!bb.terminal || r == null) {
        return;
      }
      long n = done.get();
      long at = r.lastOffset();
      base.compareAndSet(-1, at);
      double secs = Math.max(1e-3, (System.nanoTime() - startNanos) / 1e9);
      double rate = n / secs;
      StringBuilder line =
          new StringBuilder(
              String.format(
                  java.util.Locale.ROOT, "\r%s %d events  %.0f/s  offset %d", queue, n, rate, at));
      long from = base.get();
      if (end >= 0 && from >= 0 && at >= from && end >= from) {
        ProgressText.appendPercentAndEta(
            line, (at - from + 1) / (double) (end - from + 1), end - at, (at - from + 1) / secs);
      }
      line.append("   ");
      bb.err.print(line);
      bb.err.flush();
      drawn = true;
    }

    void finish() {
      if (drawn) {
        draw();
        bb.err.println();
      }
    }
  }
}
