package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.validation.ValidationMode;
import java.nio.charset.StandardCharsets;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb watch}: live events through a temporary exclusive queue. */
@Command(
    name = "watch",
    description = "Print events as they flow, one line each, until Ctrl-C or --count.",
    footer = {
      "",
      "Examples:",
      "  bb watch",
      "  bb watch 'fireflies.#' '*.thread.*' --count 5",
      "  bb watch --json | jq ."
    })
final class WatchCommand implements Callable<Integer> {
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss.SSS").withZone(ZoneId.systemDefault());

  @ParentCommand Bb bb;

  @Parameters(paramLabel = "<pattern>", description = "Routing-key patterns (default: #).")
  List<String> patterns = new ArrayList<>(List.of("#"));

  @Option(names = "--json", description = "One JSON document per line.")
  boolean json;

  @Option(names = "--count", paramLabel = "N", description = "Exit after N events.")
  int count;

  @Override
  public Integer call() throws Exception {
    if (patterns.isEmpty()) {
      patterns = List.of("#");
    }
    CountDownLatch done = new CountDownLatch(1);
    AtomicInteger seen = new AtomicInteger();
    Bloodbank bus = bb.connect(ValidationMode.SKIP);
    Thread hook =
        new Thread(
            () -> {
              bus.close();
              done.countDown();
            },
            "bb-watch-stop");
    Runtime.getRuntime().addShutdownHook(hook);
    try {
      bus.subscribe(
          SubscriberOptions.builder(patterns.toArray(new String[0]))
              .temporary()
              .prefetch(100)
              .build(),
          (EventEnvelope<JsonNode> e) -> {
            synchronized (this) {
              if (count > 0 && seen.get() >= count) {
                return;
              }
              bb.out.println(
                  json ? new String(bus.codec().encode(e), StandardCharsets.UTF_8) : line(e));
              bb.out.flush();
              if (count > 0 && seen.incrementAndGet() >= count) {
                done.countDown();
              }
            }
          });
      bb.err.println(
          bb.dim(
              "watching "
                  + String.join(" ", patterns)
                  + " on "
                  + bus.options().exchange()
                  + " (Ctrl-C to stop)"));
      done.await();
    } finally {
      try {
        Runtime.getRuntime().removeShutdownHook(hook);
      } catch (IllegalStateException e) {
        // shutting down already
      }
      bus.close();
    }
    return Bb.OK;
  }

  private String line(EventEnvelope<JsonNode> e) {
    String payload = e.payload().toString();
    if (payload.length() > 100) {
      payload = payload.substring(0, 97) + "...";
    }
    return TIME.format(e.timestamp())
        + "  "
        + bb.bold(e.eventType())
        + "  "
        + bb.dim(e.eventId().toString())
        + "  "
        + payload;
  }
}
