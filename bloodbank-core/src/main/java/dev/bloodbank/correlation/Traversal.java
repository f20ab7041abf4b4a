package dev.bloodbank.correlation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.jspecify.annotations.Nullable;

/**
 * Breadth-first traversal shared by the trackers: one fetch per level, whatever its width, so the
 * number of round trips is the depth of the graph, not its size. One instance per traversal; its
 * steps run one after the other, each fetch's completion ordering them.
 */
final class Traversal {
  /** Fetches the neighbours of a whole level at once. */
  @FunctionalInterface
  interface LevelFetcher {
    /**
     * Fetches the neighbours of every event of a level, in one round trip.
     *
     * @param level the events, each once
     * @return their neighbours; an event with none may be absent from the map
     */
    CompletableFuture<Map<UUID, List<UUID>>> fetch(List<UUID> level);
  }

  private final UUID root;
  private final CorrelationGraph.Direction direction;
  private final int maxDepth;
  private final int maxNodes;
  private final LevelFetcher fetcher;
  private final List<List<UUID>> levels = new ArrayList<>();
  private final Set<CorrelationGraph.Edge> edges = new LinkedHashSet<>();
  private final Set<UUID> seen = new HashSet<>();
  private int depth;
  private CorrelationGraph.@Nullable Limit limit;
  private final CompletableFuture<CorrelationGraph> result = new CompletableFuture<>();

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

  /**
   * Walks the graph from {@code root}.
   *
   * @param maxDepth levels of links to follow, 1 or more
   * @param maxNodes events in the result at most, the root included
   * @return the graph, or a future failed with {@link IllegalArgumentException} for a bad depth
   */
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
    t.walk(List.of(root));
    return t.result;
  }

  private void walk(List<UUID> start) {
    List<UUID> frontier = start;
    // Loops while fetches are complete by the time they are looked at (always, in memory), so a
    // long
    // chain cannot overflow the stack; hands over to the fetch's callback when one is not.
    while (true) {
      Map<UUID, List<UUID>> neighbours;
      try {
        CompletableFuture<Map<UUID, List<UUID>>> f = fetcher.fetch(frontier);
        if (!f.isDone()) {
          Handover h = new Handover();
          f.whenComplete(h::completed);
          if (h.leaveToCallback()) {
            return;
          }
          // The fetch completed while its callback was being attached: go on here.
          f = h.sync;
        }
        neighbours = f.join();
        frontier = advance(neighbours);
      } catch (RuntimeException e) {
        result.completeExceptionally(RedisCorrelationTracker.unwrap(e));
        return;
      }
      if (frontier.isEmpty()) {
        result.complete(graph());
        return;
      }
    }
  }

  /** Who goes on after a fetch: the loop that sent it, or the fetch's callback. */
  private final class Handover {
    private static final int ATTACHING = 0;
    private static final int LOOP = 1;
    private static final int CALLBACK = 2;
    private final AtomicInteger state = new AtomicInteger(ATTACHING);
    private volatile CompletableFuture<Map<UUID, List<UUID>>> sync = new CompletableFuture<>();

    void completed(@Nullable Map<UUID, List<UUID>> m, @Nullable Throwable t) {
      sync = t == null ? CompletableFuture.completedFuture(m) : CompletableFuture.failedFuture(t);
      if (state.compareAndSet(ATTACHING, LOOP)) {
        return;
      }
      try {
        List<UUID> next = advance(sync.join());
        if (next.isEmpty()) {
          result.complete(graph());
        } else {
          walk(next);
        }
      } catch (RuntimeException e) {
        result.completeExceptionally(RedisCorrelationTracker.unwrap(e));
      }
    }

    /**
     * Returns true when the callback has not run yet and will go on; false when it already ran, so
     * the loop goes on with {@link #sync}.
     */
    boolean leaveToCallback() {
      return state.compareAndSet(ATTACHING, CALLBACK);
    }
  }

  /** Takes in the neighbours of the last level; returns the next level, empty when done. */
  private List<UUID> advance(Map<UUID, List<UUID>> neighbours) {
    List<UUID> frontier = levels.get(levels.size() - 1);
    // The fetch of the deepest level only looks: it finds the links among the events already in
    // the graph and tells whether the depth limit hid anything.
    boolean lookOnly = depth == maxDepth;
    List<UUID> next = new ArrayList<>();
    for (UUID node : frontier) {
      List<UUID> ns = neighbours.get(node);
      if (ns == null) {
        continue;
      }
      for (UUID n : ns) {
        if (seen.contains(n)) {
          edges.add(edge(node, n));
        } else if (seen.size() >= maxNodes) {
          limit = CorrelationGraph.Limit.NODES;
        } else if (lookOnly) {
          if (limit == null) {
            limit = CorrelationGraph.Limit.DEPTH;
          }
        } else {
          seen.add(n);
          next.add(n);
          edges.add(edge(node, n));
        }
      }
    }
    if (!next.isEmpty()) {
      levels.add(next);
      depth++;
    }
    return limit == CorrelationGraph.Limit.NODES ? List.of() : next;
  }

  private CorrelationGraph.Edge edge(UUID from, UUID to) {
    return direction == CorrelationGraph.Direction.ANCESTORS
        ? new CorrelationGraph.Edge(to, from)
        : new CorrelationGraph.Edge(from, to);
  }

  private CorrelationGraph graph() {
    return new CorrelationGraph(root, direction, levels, new ArrayList<>(edges), limit);
  }
}
