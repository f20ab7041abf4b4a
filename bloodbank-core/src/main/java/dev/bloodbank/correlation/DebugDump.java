package dev.bloodbank.correlation;

import java.time.Duration;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * Everything known about one event and its direct neighbours, from {@link
 * CorrelationTracker#debugDump}. Immutable and thread-safe.
 *
 * @param node the event
 * @param parents what is known about each parent, in the order of {@code node.parentIds()}; at most
 *     the tracker's node limit of them, while {@code node.parentIds()} lists them all
 * @param children what is known about each child; at most the tracker's node limit of them, while
 *     {@code node.childIds()} lists them all
 */
public record DebugDump(NodeInfo node, List<NodeInfo> parents, List<NodeInfo> children) {
  /** Copies the lists. */
  public DebugDump {
    parents = List.copyOf(parents);
    children = List.copyOf(children);
  }

  /**
   * What the tracker holds for one event. Immutable.
   *
   * @param id the event
   * @param parentIds its recorded parents
   * @param childIds its recorded children
   * @param recordedAt when its parents were recorded, or null when it has no forward record
   * @param metadata the metadata recorded with its parents, as Jackson reads JSON; empty when none
   * @param ttl the remaining time to live of its forward record (whole seconds in Redis), or null
   *     when it has none or the record does not expire
   */
  public record NodeInfo(
      UUID id,
      List<UUID> parentIds,
      Set<UUID> childIds,
      @Nullable Instant recordedAt,
      Map<String, Object> metadata,
      @Nullable Duration ttl) {
    /** Copies the collections. */
    public NodeInfo {
      parentIds = List.copyOf(parentIds);
      childIds = Set.copyOf(childIds);
      metadata = Collections.unmodifiableMap(new LinkedHashMap<>(metadata));
    }
  }
}
