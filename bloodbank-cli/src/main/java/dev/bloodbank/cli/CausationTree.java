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
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;

/**
 * Draws the causation graph around one event as tree lines, for {@code bb trace} and {@code bb
 * tui}: each node with its event type, cycles marked, a cut-short graph said so.
 */
final class CausationTree {
  private static final long TIMEOUT_SECONDS = 10;

  private final CorrelationTracker tracker;
  private final UnaryOperator<String> dim;

  /**
   * @param dim styles the secondary text (event types, notes); identity for plain text
   */
  CausationTree(CorrelationTracker tracker, UnaryOperator<String> dim) {
    this.tracker = tracker;
    this.dim = dim;
  }

  /**
   * Returns the tree's lines: the event itself first, then what caused it ({@code ancestors}) or
   * what it caused, down to {@code depth} levels.
   *
   * @throws Bb.Unreachable when Redis cannot be read
   */
  List<String> lines(UUID eventId, boolean ancestors, int depth) throws Exception {
    CorrelationGraph g;
    try {
      g =
          (ancestors ? tracker.ancestors(eventId, depth) : tracker.descendants(eventId, depth))
              .get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw new Bb.Unreachable("cannot read the causation graph: " + e.getCause().getMessage());
    }
    Map<UUID, List<UUID>> next = new LinkedHashMap<>();
    for (CorrelationGraph.Edge e : g.edges()) {
      UUID from = ancestors ? e.child() : e.parent();
      UUID to = ancestors ? e.parent() : e.child();
      next.computeIfAbsent(from, k -> new ArrayList<>()).add(to);
    }
    List<String> out = new ArrayList<>();
    out.add(eventId + describe(eventId));
    draw(out, next, eventId, "", new HashSet<>(Set.of(eventId)));
    if (g.truncated()) {
      out.add(dim.apply("(cut short by the " + g.limitHit().name().toLowerCase() + " limit)"));
    }
    return out;
  }

  private void draw(
      List<String> out, Map<UUID, List<UUID>> next, UUID node, String indent, Set<UUID> path)
      throws Exception {
    List<UUID> kids = next.getOrDefault(node, List.of());
    for (int i = 0; i < kids.size(); i++) {
      UUID k = kids.get(i);
      boolean last = i == kids.size() - 1;
      boolean cycle = path.contains(k);
      out.add(
          indent
              + (last ? "└── " : "├── ")
              + k
              + describe(k)
              + (cycle ? dim.apply(" (cycle)") : ""));
      if (!cycle) {
        path.add(k);
        draw(out, next, k, indent + (last ? "    " : "│   "), path);
        path.remove(k);
      }
    }
  }

  private String describe(UUID id) throws Exception {
    DebugDump d = tracker.debugDump(id).get(TIMEOUT_SECONDS, TimeUnit.SECONDS);
    Object type = d.node().metadata().get("event_type");
    return type == null ? "" : "  " + dim.apply(String.valueOf(type));
  }
}
