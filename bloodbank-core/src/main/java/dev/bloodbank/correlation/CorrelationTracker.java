package dev.bloodbank.correlation;

import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Records parent → child links between events and answers "what caused this?" and "what did this
 * cause?".
 *
 * <p>An event may have several parents, so the links form a graph; traversals are breadth-first,
 * cycle-safe and bounded in depth and node count. Every method returns a future that always
 * completes: with the answer, or exceptionally (e.g. with a {@link
 * dev.bloodbank.BloodbankException} when Redis is unreachable or the command timed out).
 * Thread-safe.
 */
public interface CorrelationTracker extends AutoCloseable {
  /** Default depth of {@link #ancestors} and {@link #descendants}: 10 levels. */
  int DEFAULT_MAX_DEPTH = 10;

  /**
   * Returns a tracker over Redis, in the key layout of the Python services.
   *
   * @param options where Redis is and how long links live
   * @return the tracker; it connects in the background and reconnects by itself
   */
  static CorrelationTracker redis(RedisTrackerOptions options) {
    return new RedisCorrelationTracker(options);
  }

  /**
   * Returns an in-memory tracker holding at most 100,000 events for 30 days.
   *
   * @return the tracker
   */
  static CorrelationTracker inMemory() {
    return new InMemoryCorrelationTracker(
        100_000,
        RedisTrackerOptions.DEFAULT_TTL,
        RedisTrackerOptions.DEFAULT_MAX_NODES,
        Clock.systemUTC());
  }

  /**
   * Returns an in-memory tracker.
   *
   * @param maxEvents events kept; the least recently written are dropped first
   * @param ttl how long a link lives after its last write
   * @return the tracker
   */
  static CorrelationTracker inMemory(int maxEvents, Duration ttl) {
    return new InMemoryCorrelationTracker(
        maxEvents, ttl, RedisTrackerOptions.DEFAULT_MAX_NODES, Clock.systemUTC());
  }

  /**
   * Records that {@code childId} was caused by each of {@code parentIds}. Recording the same child
   * again replaces its parent list and metadata, as the Python services do; the reverse links
   * accumulate. Every key written gets its time to live refreshed.
   *
   * @param childId the new event
   * @param parentIds the events that caused it; at least one
   * @param metadata JSON-mappable details about the link, e.g. the event type
   * @return a future completed once recorded
   */
  CompletableFuture<Void> addCorrelation(
      UUID childId, List<UUID> parentIds, Map<String, Object> metadata);

  /**
   * Returns the direct parents of an event.
   *
   * @param id the event
   * @return its parents in recorded order; empty when none are known
   */
  CompletableFuture<List<UUID>> parents(UUID id);

  /**
   * Returns the direct children of an event.
   *
   * @param id the event
   * @return its children; empty when none are known
   */
  CompletableFuture<Set<UUID>> children(UUID id);

  /**
   * Returns everything that led to an event, breadth-first, one round trip per level.
   *
   * @param id the event
   * @param maxDepth levels to follow, 1 or more
   * @return the graph, with {@link CorrelationGraph#limitHit()} set when a limit cut it short
   */
  CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth);

  /**
   * Returns everything an event led to, breadth-first, one round trip per level.
   *
   * @param id the event
   * @param maxDepth levels to follow, 1 or more
   * @return the graph, with {@link CorrelationGraph#limitHit()} set when a limit cut it short
   */
  CompletableFuture<CorrelationGraph> descendants(UUID id, int maxDepth);

  /**
   * Returns everything known about an event and its direct neighbours, for debugging.
   *
   * @param id the event
   * @return the dump
   */
  CompletableFuture<DebugDump> debugDump(UUID id);

  /** Releases connections. Idempotent. */
  @Override
  void close();
}
