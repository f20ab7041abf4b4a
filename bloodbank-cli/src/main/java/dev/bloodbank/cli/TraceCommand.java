package dev.bloodbank.cli;

import dev.bloodbank.correlation.CorrelationGraph;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.DebugDump;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
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
      CorrelationGraph g;
      try {
        g =
            (direction.ancestors
                    ? tracker.ancestors(eventId, depth)
                    : tracker.descendants(eventId, depth))
                .get(10, TimeUnit.SECONDS);
      } catch (ExecutionException e) {
        throw new Bb.Unreachable("cannot read the causation graph: " + e.getCause().getMessage());
      }
      Map<UUID, List<UUID>> next = new LinkedHashMap<>();
      for (CorrelationGraph.Edge e : g.edges()) {
        UUID from = direction.ancestors ? e.child() : e.parent();
        UUID to = direction.ancestors ? e.parent() : e.child();
        next.computeIfAbsent(from, k -> new ArrayList<>()).add(to);
      }
      bb.out.println(bb.bold(eventId.toString()) + describe(tracker, eventId));
      draw(tracker, next, eventId, "", new HashSet<>(Set.of(eventId)));
      if (g.truncated()) {
        bb.out.println(
            bb.dim("(cut short by the " + g.limitHit().name().toLowerCase() + " limit)"));
      }
    }
    return Bb.OK;
  }

  private void draw(
      CorrelationTracker tracker,
      Map<UUID, List<UUID>> next,
      UUID node,
      String indent,
      Set<UUID> path)
      throws Exception {
    List<UUID> kids = next.getOrDefault(node, List.of());
    for (int i = 0; i < kids.size(); i++) {
      UUID k = kids.get(i);
      boolean last = i == kids.size() - 1;
      boolean cycle = path.contains(k);
      bb.out.println(
          indent
              + (last ? "└── " : "├── ")
              + k
              + describe(tracker, k)
              + (cycle ? bb.dim(" (cycle)") : ""));
      if (!cycle) {
        path.add(k);
        draw(tracker, next, k, indent + (last ? "    " : "│   "), path);
        path.remove(k);
      }
    }
  }

  private String describe(CorrelationTracker tracker, UUID id) throws Exception {
    DebugDump d = tracker.debugDump(id).get(10, TimeUnit.SECONDS);
    Object type = d.node().metadata().get("event_type");
    return type == null ? "" : "  " + bb.dim(String.valueOf(type));
  }
}
