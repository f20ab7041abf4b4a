package dev.bloodbank.correlation;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The result of a traversal: the events reached, level by level, and the links followed.
 *
 * <p>Immutable and thread-safe.
 *
 * @param root the event the traversal started from
 * @param direction which way it went
 * @param levels level 0 is {@code [root]}, level n the events first reached after n links; each
 *     event appears once, at its shortest distance (cycles are cut)
 * @param edges every parent → child link followed, including links back into events already seen
 * @param limitHit which limit stopped the traversal before it ran out of links, or null
 */
public record CorrelationGraph(
    UUID root,
    Direction direction,
    List<List<UUID>> levels,
    List<Edge> edges,
    @Nullable Limit limitHit) {

  /** Copies the lists. */
  public CorrelationGraph {
    levels = levels.stream().map(List::copyOf).toList();
    edges = List.copyOf(edges);
  }

  /** Which way a traversal goes. */
  public enum Direction {
    /** From an event to its causes. */
    ANCESTORS,
    /** From an event to its effects. */
    DESCENDANTS
  }

  /** A limit that cut a traversal short. */
  public enum Limit {
    /** The maximum depth was reached while links went on. */
    DEPTH,
    /** The maximum node count was reached. */
    NODES
  }

  /**
   * A causal link.
   *
   * @param parent the cause
   * @param child the effect
   */
  public record Edge(UUID parent, UUID child) {}

  /**
   * Returns every event reached other than the root, nearest first.
   *
   * @return the events
   */
  public Set<UUID> nodes() {
    Set<UUID> out = new LinkedHashSet<>();
    for (int i = 1; i < levels.size(); i++) {
      out.addAll(levels.get(i));
    }
    return out;
  }

  /**
   * Returns whether a limit cut the traversal short.
   *
   * @return true when {@link #limitHit()} is set
   */
  public boolean truncated() {
    return limitHit != null;
  }
}
