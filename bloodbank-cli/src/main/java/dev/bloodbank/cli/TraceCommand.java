package dev.bloodbank.cli;

import dev.bloodbank.correlation.CorrelationTracker;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb trace}: the causation tree of an event, from Redis. */
@Command(
    name = "trace",
    description =
        "Draw what caused an event (--ancestors) or what it caused (--descendants, default).",
    footer = {
      "",
      "Examples:",
      "  bb trace 9f0c2d4e-8a1b-4c3d-9e5f-0a1b2c3d4e5f",
      "  bb trace <id> --ancestors --depth 5"
    })
final class TraceCommand implements Callable<Integer> {
  @ParentCommand Bb bb;

  @Parameters(paramLabel = "<event-id>")
  UUID eventId;

  @ArgGroup(exclusive = true)
  Direction direction = new Direction();

  static final class Direction {
    @Option(names = "--ancestors", description = "What caused the event.")
    boolean ancestors;

    @Option(names = "--descendants", description = "What the event caused (default).")
    boolean descendants;
  }

  @Option(names = "--depth", paramLabel = "N", description = "Levels to follow (default: 10).")
  int depth = CorrelationTracker.DEFAULT_MAX_DEPTH;

  @Override
  public Integer call() throws Exception {
    if (depth < 1) {
      throw new Bb.CliException("--depth must be at least 1, was " + depth);
    }
    try (CorrelationTracker tracker = CorrelationTracker.redis(bb.redis())) {
      List<String> lines =
          new CausationTree(tracker, bb::dim).lines(eventId, direction.ancestors, depth);
      bb.out.println(bb.bold(lines.get(0)));
      lines.subList(1, lines.size()).forEach(bb.out::println);
    }
    return Bb.OK;
  }
}
