package dev.bloodbank.correlation;

import dev.bloodbank.BloodbankException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;

/**
 * {@link CorrelationTracker} in memory, for tests and for running without Redis.
 *
 * <p>Behaves like the Redis tracker: parents merge, the parents and the children of an event expire
 * separately {@code ttl} after their last write. It holds at most {@code maxEvents} events
 * (children and parents alike); beyond that the least recently written is forgotten. An event
 * forgotten, or expired altogether, also leaves the children of its parents (in Redis it would stay
 * in their sets until those expire), so memory stays bounded by the events kept and their links.
 * Futures are already complete when returned. Thread-safe (one lock).
 */
final class InMemoryCorrelationTracker implements CorrelationTracker {
  private static final Comparator<UUID> BY_TEXT = Comparator.comparing(UUID::toString);

  /** One event: what its forward key and its reverse key would hold in Redis. */
  private static final class Node {
    final UUID id;
    Set<UUID> parents = new LinkedHashSet<>();
    @Nullable Instant recordedAt;
    Map<String, Object> metadata = Map.of();
    Instant forwardExpires = Instant.MIN;
    final Set<UUID> children = new LinkedHashSet<>();
    Instant reverseExpires = Instant.MIN;
    Instant lastWrite = Instant.MIN;

    Node(UUID id) {
      this.id = id;
    }
  }

  private final int maxEvents;
  private final Duration ttl;
  private final int maxNodes;
  private final int maxDepth;
  private final Clock clock;
  // In write order: the eldest entry is the least recently written, hence also the first to expire.
  private final LinkedHashMap<UUID, Node> nodes = new LinkedHashMap<>();
  private boolean closed;

  InMemoryCorrelationTracker(int maxEvents, Duration ttl, int maxNodes, int maxDepth, Clock clock) {
    if (maxEvents < 1 || maxEvents > 100_000_000) {
      throw new IllegalArgumentException(
          "maxEvents must be between 1 and 100000000, was " + maxEvents);
    }
    Objects.requireNonNull(ttl, "ttl");
    if (ttl.getSeconds() < 1) {
      throw new IllegalArgumentException("ttl must be at least 1 s, was " + ttl);
    }
    if (maxNodes < 1) {
      throw new IllegalArgumentException("maxNodes must be at least 1, was " + maxNodes);
    }
    if (maxDepth < 1) {
      throw new IllegalArgumentException("maxDepth must be at least 1, was " + maxDepth);
    }
    this.maxEvents = maxEvents;
    this.ttl = ttl;
    this.maxNodes = maxNodes;
    this.maxDepth = maxDepth;
    this.clock = Objects.requireNonNull(clock, "clock");
  }

  private synchronized <T> CompletableFuture<T> locked(Supplier<T> op) {
    if (closed) {
      return CompletableFuture.failedFuture(
          new BloodbankException("the correlation tracker is closed"));
    }
    purge(clock.instant());
    return CompletableFuture.completedFuture(op.get());
  }

  @Override
  public CompletableFuture<Void> addCorrelation(
      UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    try {
      LinkArguments.check(childId, parentIds, metadata);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    Map<String, Object> meta = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    return locked(
        () -> {
          Instant now = clock.instant();
          Instant expires = now.plus(ttl);
          Node child = touch(childId, now);
          if (!child.forwardExpires.isAfter(now)) {
            unlinkFromParents(child);
            child.parents = new LinkedHashSet<>();
          }
          child.parents.addAll(parentIds);
          child.recordedAt = now;
          child.metadata = meta;
          child.forwardExpires = expires;
          for (UUID p : parentIds) {
            Node parent = touch(p, now);
            if (!parent.reverseExpires.isAfter(now)) {
              parent.children.clear();
            }
            parent.children.add(childId);
            parent.reverseExpires = expires;
          }
          while (nodes.size() > maxEvents) {
            Iterator<Node> eldest = nodes.values().iterator();
            Node gone = eldest.next();
            eldest.remove();
            unlinkFromParents(gone);
          }
          return null;
        });
  }

  /** Returns the event's node, created if new, moved to the most recently written end. */
  private Node touch(UUID id, Instant now) {
    Node n = nodes.remove(id);
    if (n == null) {
      n = new Node(id);
    }
    n.lastWrite = now;
    nodes.put(id, n);
    return n;
  }

  private void unlinkFromParents(Node child) {
    for (UUID p : child.parents) {
      Node parent = nodes.get(p);
      if (parent != null) {
        parent.children.remove(child.id);
      }
    }
  }

  /** Drops the events whose every part has expired; they sit at the eldest end. */
  private void purge(Instant now) {
    Iterator<Node> it = nodes.values().iterator();
    while (it.hasNext()) {
      Node n = it.next();
      if (n.lastWrite.plus(ttl).isAfter(now)) {
        return;
      }
      it.remove();
      unlinkFromParents(n);
    }
  }

  private List<UUID> parentsOf(UUID id, Instant now) {
    Node n = nodes.get(id);
    return n == null || !n.forwardExpires.isAfter(now) ? List.of() : List.copyOf(n.parents);
  }

  private List<UUID> childrenOf(UUID id, Instant now) {
    Node n = nodes.get(id);
    if (n == null || !n.reverseExpires.isAfter(now)) {
      return List.of();
    }
    List<UUID> out = new ArrayList<>(n.children);
    out.sort(BY_TEXT);
    return out;
  }

  @Override
  public CompletableFuture<List<UUID>> parents(UUID id) {
    return locked(() -> parentsOf(id, clock.instant()));
  }

  @Override
  public CompletableFuture<Set<UUID>> children(UUID id) {
    return locked(() -> new LinkedHashSet<>(childrenOf(id, clock.instant())));
  }

  @Override
  public CompletableFuture<CorrelationGraph> ancestors(UUID id) {
    return ancestors(id, maxDepth);
  }

  @Override
  public CompletableFuture<CorrelationGraph> ancestors(UUID id, int depth) {
    return Traversal.run(
        id, CorrelationGraph.Direction.ANCESTORS, depth, maxNodes, level -> fetch(level, true));
  }

  @Override
  public CompletableFuture<CorrelationGraph> descendants(UUID id) {
    return descendants(id, maxDepth);
  }

  @Override
  public CompletableFuture<CorrelationGraph> descendants(UUID id, int depth) {
    return Traversal.run(
        id, CorrelationGraph.Direction.DESCENDANTS, depth, maxNodes, level -> fetch(level, false));
  }

  private CompletableFuture<Map<UUID, List<UUID>>> fetch(List<UUID> level, boolean up) {
    return locked(
        () -> {
          Instant now = clock.instant();
          Map<UUID, List<UUID>> out = new HashMap<>();
          for (UUID id : level) {
            out.put(id, up ? parentsOf(id, now) : childrenOf(id, now));
          }
          return out;
        });
  }

  @Override
  public CompletableFuture<DebugDump> debugDump(UUID id) {
    return locked(
        () -> {
          Instant now = clock.instant();
          DebugDump.NodeInfo node = info(id, now);
          List<DebugDump.NodeInfo> parents = new ArrayList<>();
          for (UUID p : node.parentIds()) {
            if (parents.size() == maxNodes) {
              break;
            }
            parents.add(info(p, now));
          }
          List<DebugDump.NodeInfo> children = new ArrayList<>();
          for (UUID c : childrenOf(id, now)) {
            if (children.size() == maxNodes) {
              break;
            }
            children.add(info(c, now));
          }
          return new DebugDump(node, parents, children);
        });
  }

  private DebugDump.NodeInfo info(UUID id, Instant now) {
    Node n = nodes.get(id);
    boolean forward = n != null && n.forwardExpires.isAfter(now);
    return new DebugDump.NodeInfo(
        id,
        parentsOf(id, now),
        new LinkedHashSet<>(childrenOf(id, now)),
        forward ? n.recordedAt : null,
        forward ? n.metadata : Map.of(),
        forward ? Duration.between(now, n.forwardExpires) : null);
  }

  /** Forgets everything; later calls fail. Idempotent. */
  @Override
  public synchronized void close() {
    closed = true;
    nodes.clear();
  }

  @Override
  public String toString() {
    return "InMemoryCorrelationTracker{maxEvents=" + maxEvents + ", ttl=" + ttl + "}";
  }
}
