package dev.bloodbank.correlation;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.jspecify.annotations.Nullable;

/**
 * {@link CorrelationTracker} in memory: bounded (least recently written dropped first) and with the
 * same time to live as Redis keys. For tests and for running without Redis.
 */
final class InMemoryCorrelationTracker implements CorrelationTracker {
  private record Forward(
      List<UUID> parents, Instant at, Map<String, Object> metadata, Instant expires) {}

  private record Reverse(Set<UUID> children, Instant expires) {}

  private final Duration ttl;
  private final int maxNodes;
  private final Clock clock;
  private final Map<UUID, Forward> forward;
  private final Map<UUID, Reverse> reverse;

  InMemoryCorrelationTracker(int maxEvents, Duration ttl, int maxNodes, Clock clock) {
    if (maxEvents < 1) {
      throw new IllegalArgumentException("maxEvents must be at least 1, was " + maxEvents);
    }
    this.ttl = Objects.requireNonNull(ttl, "ttl");
    this.maxNodes = maxNodes;
    this.clock = clock;
    this.forward = lru(maxEvents);
    this.reverse = lru(maxEvents);
  }

  private static <K, V> Map<K, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, false) {
      private static final long serialVersionUID = 1L;

      @Override
      protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
        return size() > max;
      }
    };
  }

  @Override
  public synchronized CompletableFuture<Void> addCorrelation(
      UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    if (parentIds.isEmpty()) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("at least one parent id is required for " + childId));
    }
    Instant now = clock.instant();
    Instant expires = now.plus(ttl);
    forward.remove(childId);
    forward.put(
        childId, new Forward(List.copyOf(parentIds), now, new LinkedHashMap<>(metadata), expires));
    for (UUID p : parentIds) {
      Reverse r = live(reverse.remove(p), now);
      Set<UUID> children = r == null ? new LinkedHashSet<>() : r.children();
      children.add(childId);
      reverse.put(p, new Reverse(children, expires));
    }
    return CompletableFuture.completedFuture(null);
  }

  private static <T> @Nullable T live(@Nullable T entry, Instant now) {
    if (entry instanceof Forward f && !f.expires().isAfter(now)) {
      return null;
    }
    if (entry instanceof Reverse r && !r.expires().isAfter(now)) {
      return null;
    }
    return entry;
  }

  private synchronized List<UUID> parentsNow(UUID id) {
    Forward f = live(forward.get(id), clock.instant());
    return f == null ? List.of() : f.parents();
  }

  private synchronized List<UUID> childrenNow(UUID id) {
    Reverse r = live(reverse.get(id), clock.instant());
    return r == null ? List.of() : List.copyOf(r.children());
  }

  @Override
  public CompletableFuture<List<UUID>> parents(UUID id) {
    return CompletableFuture.completedFuture(parentsNow(id));
  }

  @Override
  public CompletableFuture<Set<UUID>> children(UUID id) {
    return CompletableFuture.completedFuture(new LinkedHashSet<>(childrenNow(id)));
  }

  @Override
  public CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth) {
    return Traversal.run(
        id, CorrelationGraph.Direction.ANCESTORS, maxDepth, maxNodes, level -> fetch(level, true));
  }

  @Override
  public CompletableFuture<CorrelationGraph> descendants(UUID id, int maxDepth) {
    return Traversal.run(
        id,
        CorrelationGraph.Direction.DESCENDANTS,
        maxDepth,
        maxNodes,
        level -> fetch(level, false));
  }

  private CompletableFuture<Map<UUID, List<UUID>>> fetch(Collection<UUID> level, boolean up) {
    Map<UUID, List<UUID>> out = new HashMap<>();
    for (UUID id : level) {
      out.put(id, up ? parentsNow(id) : childrenNow(id));
    }
    return CompletableFuture.completedFuture(out);
  }

  @Override
  public CompletableFuture<DebugDump> debugDump(UUID id) {
    DebugDump.NodeInfo node = info(id);
    List<DebugDump.NodeInfo> parents = new ArrayList<>();
    for (UUID p : node.parentIds()) {
      parents.add(info(p));
    }
    List<DebugDump.NodeInfo> children = new ArrayList<>();
    for (UUID c : node.childIds()) {
      children.add(info(c));
    }
    return CompletableFuture.completedFuture(new DebugDump(node, parents, children));
  }

  private synchronized DebugDump.NodeInfo info(UUID id) {
    Instant now = clock.instant();
    Forward f = live(forward.get(id), now);
    return new DebugDump.NodeInfo(
        id,
        f == null ? List.of() : f.parents(),
        new LinkedHashSet<>(childrenNow(id)),
        f == null ? null : f.at(),
        f == null ? Map.of() : f.metadata(),
        f == null ? null : Duration.between(now, f.expires()));
  }

  @Override
  public void close() {}
}
