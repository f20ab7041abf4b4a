package dev.bloodbank.correlation;

import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/** Breadth-first traversal shared by the trackers: one fetch per level, whatever its width. */
final class Traversal {
  /** Fetches the neighbours of a whole level at once. */
  interface LevelFetcher {
    CompletableFuture<Map<UUID, List<UUID>>> fetch(Collection<UUID> level);
  }

  private final UUID root;
  private final CorrelationGraph.Direction direction;
  private final int maxDepth;
  private final int maxNodes;
  private final LevelFetcher fetcher;
  private final List<List<UUID>> levels = new ArrayList<>();
  private final List<CorrelationGraph.Edge> edges = new ArrayList<>();
  private final Set<UUID> seen = new HashSet<>();

  private Traversal(
      UUID root,
      CorrelationGraph.Direction direction,
      int maxDepth,
      int maxNodes,
      LevelFetcher fetcher) {
    this.root = root;
    this.direction = direction;
    this.maxDepth = maxDepth;
    this.maxNodes = maxNodes;
    this.fetcher = fetcher;
  }

  static CompletableFuture<CorrelationGraph> run(
      UUID root,
      CorrelationGraph.Direction direction,
      int maxDepth,
      int maxNodes,
      LevelFetcher fetcher) {
    if (maxDepth < 1) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("maxDepth must be at least 1, was " + maxDepth));
    }
    Traversal t = new Traversal(root, direction, maxDepth, maxNodes, fetcher);
    t.seen.add(root);
    t.levels.add(List.of(root));
    return t.step(List.of(root), 0);
  }

  private CompletableFuture<CorrelationGraph> step(List<UUID> frontier, int depth) {
    return fetcher
        .fetch(frontier)
        .thenCompose(
            neighbours -> {
              if (depth == maxDepth) {
                // One look past the last level tells whether the depth limit cut anything.
                boolean more = frontier.stream().anyMatch(n -> !get(neighbours, n).isEmpty());
                return done(more ? CorrelationGraph.Limit.DEPTH : null);
              }
              List<UUID> next = new ArrayList<>();
              for (UUID node : frontier) {
                for (UUID n : get(neighbours, node)) {
                  edges.add(
                      direction == CorrelationGraph.Direction.ANCESTORS
                          ? new CorrelationGraph.Edge(n, node)
                          : new CorrelationGraph.Edge(node, n));
                  if (seen.contains(n)) {
                    continue;
                  }
                  if (seen.size() >= maxNodes) {
                    if (!next.isEmpty()) {
                      levels.add(next);
                    }
                    return done(CorrelationGraph.Limit.NODES);
                  }
                  seen.add(n);
                  next.add(n);
                }
              }
              if (next.isEmpty()) {
                return done(null);
              }
              levels.add(next);
              return step(next, depth + 1);
            });
  }

  private static List<UUID> get(Map<UUID, List<UUID>> m, UUID id) {
    List<UUID> l = m.get(id);
    return l == null ? List.of() : l;
  }

  private CompletableFuture<CorrelationGraph> done(CorrelationGraph.@Nullable Limit limit) {
    return CompletableFuture.completedFuture(
        new CorrelationGraph(root, direction, levels, edges, limit));
  }
}
