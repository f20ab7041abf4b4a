package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.deadletter.DeadLetter;
import dev.bloodbank.deadletter.DeadLetterQueueInfo;
import dev.bloodbank.deadletter.DeadLetterReplayOptions;
import dev.bloodbank.deadletter.DeadLetterReplayResult;
import dev.bloodbank.validation.ValidationMode;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb dlq list|show|replay|purge}: the events subscribers gave up on. */
@Command(
    name = "dlq",
    description = "Look into dead-letter queues, move their events back, or purge them.",
    subcommands = {
      DlqCommand.ListQueues.class,
      DlqCommand.Show.class,
      DlqCommand.Replay.class,
      DlqCommand.Purge.class
    },
    footer = {
      "",
      "A subscriber of queue Q dead-letters to Q.dlq, with headers saying why.",
      "",
      "Examples:",
      "  bb dlq list",
      "  bb dlq show orders.dlq -n 5",
      "  bb dlq replay orders.dlq --filter 'fireflies.#' --limit 100",
      "  bb dlq purge orders.dlq --yes"
    })
final class DlqCommand {
  private static final ObjectMapper JSON = new ObjectMapper();

  @ParentCommand Bb bb;

  @Command(
      name = "list",
      description =
          "Show dead-letter queues with their message and consumer counts. Without names, the"
              + " queues ending in .dlq are found with rabbitmqctl, which must run beside the"
              + " broker: AMQP cannot list queues.")
  static final class ListQueues implements Callable<Integer> {
    @ParentCommand DlqCommand dlq;

    @Parameters(paramLabel = "<queue>", description = "Queues to show (default: all *.dlq).")
    List<String> queues = new ArrayList<>();

    @Override
    public Integer call() {
      Bb bb = dlq.bb;
      BloodbankOptions options = bb.options(ValidationMode.SKIP);
      List<String> names = queues.isEmpty() ? discover(options) : queues;
      List<DeadLetterQueueInfo> infos = new ArrayList<>();
      try (Bloodbank bus = Bloodbank.connect(options)) {
        for (String q : names) {
          infos.add(bus.deadLetters().inspect(q));
        }
      }
      int width = "QUEUE".length();
      for (DeadLetterQueueInfo i : infos) {
        width = Math.max(width, i.queue().length());
      }
      String row = "%-" + width + "s  %10s  %9s%n";
      bb.out.printf(Locale.ROOT, row, "QUEUE", "MESSAGES", "CONSUMERS");
      for (DeadLetterQueueInfo i : infos) {
        bb.out.printf(Locale.ROOT, row, i.queue(), i.messages(), i.consumers());
      }
      if (infos.isEmpty()) {
        bb.err.println("bb: no dead-letter queues (no queue name ends in .dlq)");
      }
      return Bb.OK;
    }

    /** The {@code *.dlq} queues of the vhost, from rabbitmqctl on this machine. */
    private static List<String> discover(BloodbankOptions options) {
      String host = options.addresses().get(0).host();
      if (!List.of("localhost", "127.0.0.1", "::1").contains(host)) {
        throw new Bb.CliException(
            "cannot list the queues of "
                + host
                + ": AMQP has no way to, and rabbitmqctl reaches only a local broker; name them:"
                + " bb dlq list orders.dlq");
      }
      List<String> command =
          List.of(
              "rabbitmqctl",
              "-q",
              "list_queues",
              "-p",
              options.virtualHost(),
              "--no-table-headers",
              "name");
      List<String> names = new ArrayList<>();
      try {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        p.getOutputStream().close();
        List<String> lines = new ArrayList<>();
        try (BufferedReader r =
            new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
          for (String line = r.readLine(); line != null; line = r.readLine()) {
            lines.add(line);
          }
        }
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
          p.destroyForcibly();
          throw new Bb.CliException(
              "rabbitmqctl could not list the queues ("
                  + String.join(" ", lines).strip()
                  + "); name them: bb dlq list orders.dlq");
        }
        for (String line : lines) {
          String name = line.strip();
          if (name.endsWith(".dlq")) {
            names.add(name);
          }
        }
      } catch (IOException e) {
        throw new Bb.CliException(
            "cannot run rabbitmqctl to list the queues ("
                + e.getMessage()
                + "); name them: bb dlq list orders.dlq");
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new Bb.CliException("interrupted while listing the queues");
      }
      names.sort(null);
      return names;
    }
  }

  @Command(
      name = "show",
      description =
          "Show the first events of a dead-letter queue with why they failed, leaving them there"
              + " (they come back marked redelivered).")
  static final class Show implements Callable<Integer> {
    @ParentCommand DlqCommand dlq;

    @Parameters(paramLabel = "<queue>", description = "The dead-letter queue, e.g. orders.dlq.")
    String queue;

    @Option(
        names = {"-n", "--count"},
        paramLabel = "N",
        description = "How many, 1 to 10000 (default: 10).")
    int count = 10;

    @Option(names = "--json", description = "One JSON document per event and line.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      Bb bb = dlq.bb;
      List<DeadLetter> letters;
      long total;
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        letters = bus.deadLetters().peek(queue, count);
        total = bus.deadLetters().inspect(queue).messages();
      }
      int n = 0;
      for (DeadLetter d : letters) {
        n++;
        if (json) {
          bb.out.println(JSON.writeValueAsString(toJson(d)));
        } else {
          print(bb, n, d);
        }
      }
      if (!json) {
        bb.err.println("bb: showed " + letters.size() + " of " + total + " in '" + queue + "'");
      }
      return Bb.OK;
    }

    private static void print(Bb bb, int n, DeadLetter d) {
      bb.out.println(
          bb.bold("#" + n + " " + (d.eventType() == null ? "(no type)" : d.eventType()))
              + "  "
              + (d.eventId() == null ? "(no id)" : d.eventId()));
      bb.out.println(
          "  routing key "
              + d.routingKey()
              + " on "
              + (d.exchange() == null || d.exchange().isEmpty() ? "(default)" : d.exchange())
              + ", failed in "
              + d.failedQueue());
      bb.out.println(
          "  "
              + d.reason()
              + (d.attempts() > 0 ? " after " + d.attempts() + " attempt(s)" : "")
              + (d.firstFailure() != null ? ", first " + d.firstFailure() : "")
              + (d.lastFailure() != null && !d.lastFailure().equals(d.firstFailure())
                  ? ", last " + d.lastFailure()
                  : ""));
      if (d.errorClass() != null) {
        bb.out.println("  " + d.errorClass() + ": " + d.errorMessage());
      }
      for (String v : d.violations()) {
        bb.out.println("  violation " + v);
      }
      String body = d.bodyText().replace("\r", "\\r").replace("\n", "\\n");
      bb.out.println(bb.dim("  " + (body.length() > 2000 ? body.substring(0, 2000) + "…" : body)));
    }

    static ObjectNode toJson(DeadLetter d) {
      ObjectNode o = JSON.createObjectNode();
      o.put("queue", d.queue());
      o.put("event_id", d.eventId());
      o.put("event_type", d.eventType());
      o.put("exchange", d.exchange());
      o.put("routing_key", d.routingKey());
      o.put("failed_queue", d.failedQueue());
      o.put("reason", d.reason());
      o.put("error_class", d.errorClass());
      o.put("error_message", d.errorMessage());
      o.put("attempts", d.attempts());
      o.put("first_failure", d.firstFailure() == null ? null : d.firstFailure().toString());
      o.put("last_failure", d.lastFailure() == null ? null : d.lastFailure().toString());
      d.violations().forEach(o.putArray("violations")::add);
      ObjectNode headers = o.putObject("headers");
      d.headers().forEach((k, v) -> headers.set(k, JSON.valueToTree(jsonable(v))));
      try {
        o.set("body", JSON.readTree(d.body()));
      } catch (IOException e) {
        o.put("body", d.bodyText()); // not JSON: as text
      }
      return o;
    }

    private static @Nullable Object jsonable(@Nullable Object v) {
      if (v instanceof java.time.Instant || v instanceof java.math.BigDecimal) {
        return v.toString();
      }
      if (v instanceof List<?> list) {
        return list.stream().map(Show::jsonable).toList();
      }
      if (v instanceof java.util.Map<?, ?> map) {
        java.util.Map<String, Object> out = new java.util.LinkedHashMap<>();
        map.forEach((k, x) -> out.put(String.valueOf(k), jsonable(x)));
        return out;
      }
      return v;
    }
  }

  @Command(
      name = "replay",
      description =
          "Move dead letters back to the queue whose consumer failed, oldest first, each removed"
              + " only after the broker confirmed its copy; same event ids, failure headers"
              + " dropped.",
      footer = {
        "",
        "On a terminal a progress line (moved, left, rate, percent, ETA) is drawn; piped, each",
        "moved event is written to stdout as one line. A summary line always ends on stderr.",
        "Ctrl-C stops after the event in progress and exits 130: run it again to go on; nothing",
        "is lost or moved twice."
      })
  static final class Replay implements Callable<Integer> {
    private static final long PROGRESS_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    @ParentCommand DlqCommand dlq;

    @Parameters(paramLabel = "<queue>", description = "The dead-letter queue, e.g. orders.dlq.")
    String queue;

    @Option(
        names = {"--filter", "--pattern"},
        paramLabel = "P",
        description = "Only events first published with a routing key matching P (repeatable).")
    List<String> patterns = new ArrayList<>();

    @Option(names = "--limit", paramLabel = "N", description = "Move at most N events.")
    @Nullable Long limit;

    @Option(
        names = "--to-queue",
        paramLabel = "Q",
        description = "Move to queue Q instead of each event's failed queue.")
    @Nullable String toQueue;

    @Option(
        names = "--rate",
        paramLabel = "N/s",
        converter = ReplayCommand.Rate.class,
        description = "At most N events a second (default: as fast as confirms come).")
    @Nullable Double rate;

    @Option(names = "--dry-run", description = "Say what would be moved; move nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws Exception {
      Bb bb = dlq.bb;
      AtomicLong moved = new AtomicLong();
      AtomicLong left = new AtomicLong();
      DeadLetterReplayOptions.Builder b = DeadLetterReplayOptions.builder(queue).dryRun(dryRun);
      patterns.forEach(b::pattern);
      if (limit != null) {
        b.limit(limit);
      }
      if (toQueue != null) {
        b.toQueue(toQueue);
      }
      if (rate != null) {
        b.rate(rate);
      }
      long start = System.nanoTime();
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        long total = bus.deadLetters().inspect(queue).messages();
        long[] lastDraw = {System.nanoTime()};
        b.listener(
            new DeadLetterReplayOptions.DeadLetterListener() {
              @Override
              public void moved(DeadLetter letter, String target) {
                moved.incrementAndGet();
                if (bb.terminal) {
                  long now = System.nanoTime();
                  if (now - lastDraw[0] > PROGRESS_NANOS) {
                    lastDraw[0] = now;
                    draw(bb, moved.get(), left.get(), total, start);
                  }
                  return;
                }
                bb.out.println(
                    (dryRun ? "would move " : "moved ")
                        + letter.eventId()
                        + " "
                        + letter.routingKey()
                        + " -> "
                        + target);
              }

              @Override
              public void left(DeadLetter letter, String why) {
                left.incrementAndGet();
              }
            });
        DeadLetterReplayOptions options = b.build();
        Thread main = Thread.currentThread();
        // An interrupt stops the replay after the event in progress, confirmed and removed.
        StopOnSignal stop = new StopOnSignal("bb-dlq-replay-stop", main::interrupt);
        DeadLetterReplayResult r;
        try {
          r = bus.deadLetters().replay(options);
        } finally {
          Thread.interrupted(); // an interrupt is in the result; the bus must close cleanly
          stop.close();
        }
        if (bb.terminal) {
          draw(bb, moved.get(), left.get(), total, start);
          bb.err.println();
        }
        bb.out.flush();
        bb.err.println(
            "bb: dead-letter replay of '"
                + queue
                + "': "
                + (dryRun ? "would move " : "moved ")
                + r.moved()
                + ", skipped "
                + r.skipped()
                + ", unmovable "
                + r.unmovable()
                + ", "
                + r.remaining()
                + " remaining"
                + (r.interrupted() ? " (stopped)" : ""));
        for (String p : r.problems()) {
          bb.err.println("bb: " + p);
        }
        bb.err.flush();
        stop.summarized();
        if (r.interrupted() || stop.stopped()) {
          return StopOnSignal.EXIT;
        }
        return r.unmovable() > 0 ? Bb.INVALID : Bb.OK;
      }
    }

    private static void draw(Bb bb, long moved, long left, long total, long start) {
      double secs = Math.max(1e-3, (System.nanoTime() - start) / 1e9);
      double rate = moved / secs;
      long done = moved + left;
      StringBuilder line =
          new StringBuilder(
              String.format(Locale.ROOT, "\rmoved %d  left %d  %.0f/s", moved, left, rate));
      if (total > 0) {
        ProgressText.appendPercentAndEta(line, done / (double) total, total - done, done / secs);
      }
      line.append("   ");
      bb.err.print(line);
      bb.err.flush();
    }
  }

  @Command(
      name = "purge",
      description = "Delete every event of a dead-letter queue; asks first unless --yes.")
  static final class Purge implements Callable<Integer> {
    @ParentCommand DlqCommand dlq;

    @Parameters(paramLabel = "<queue>", description = "The dead-letter queue, e.g. orders.dlq.")
    String queue;

    @Option(names = "--yes", description = "Do not ask.")
    boolean yes;

    @Override
    public Integer call() throws IOException {
      Bb bb = dlq.bb;
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        long n = bus.deadLetters().inspect(queue).messages();
        if (!yes) {
          bb.err.print("bb: delete " + n + " event(s) from '" + queue + "' for good? [y/N] ");
          bb.err.flush();
          String answer =
              new BufferedReader(new InputStreamReader(bb.stdin, StandardCharsets.UTF_8))
                  .readLine();
          if (answer == null) {
            bb.err.println();
            throw new Bb.CliException("not purged: no answer (use --yes when not on a terminal)");
          }
          if (!List.of("y", "yes").contains(answer.strip().toLowerCase(Locale.ROOT))) {
            throw new Bb.CliException("not purged");
          }
        }
        long deleted = bus.deadLetters().purge(queue);
        bb.out.println("purged " + deleted + " event(s) from '" + queue + "'");
      }
      return Bb.OK;
    }
  }
}
