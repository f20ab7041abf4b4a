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
 *     event appears once, at its shortest distance, so a cycle ends the walk instead of looping
 * @param edges every parent → child link found between events of the graph, in the order found,
 *     including links back into events already seen (a cycle shows as such a link); links to events
 *     left out by a limit are not listed
 * @param limitHit which limit stopped the traversal while there was more to see, or null when it
 *     saw everything
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

  /** A limit that cut a traversal short; {@link #NODES} wins when both apply. */
  public enum Limit {
    /** The maximum depth was reached while links went on to events not yet seen. */
    DEPTH,
    /** The maximum node count was reached while there were events left to add. */
    NODES
  }

  /**
   * A causal link. Immutable.
   *
   * @param parent the cause
   * @param child the effect
   */
  public record Edge(UUID parent, UUID child) {}

  /**
   * Returns every event reached other than the root, nearest first.
   *
   * @return the events, a new set on each call
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
