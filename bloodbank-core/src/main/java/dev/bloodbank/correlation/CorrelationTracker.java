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
 * <p>An event may have several parents, so the links form a graph, not a chain. Traversals are
 * breadth-first, one round trip per level whatever its width, cycle-safe, and bounded in depth and
 * in node count; a {@link CorrelationGraph} says which limit, if any, cut it short.
 *
 * <p>Every method returns a future that always completes: with the answer, or exceptionally with
 * {@link IllegalArgumentException} for a bad argument, {@link dev.bloodbank.ConnectionException}
 * when Redis cannot be reached, or another {@link dev.bloodbank.BloodbankException} (e.g. a command
 * timed out), the client's exception kept as the cause. Nothing waits longer than the command
 * timeout per round trip.
 *
 * <p>Implementations are thread-safe. Publishers should not call {@link #addCorrelation} directly
 * but go through a {@link CorrelationRecorder}, which never blocks nor fails them.
 */
public interface CorrelationTracker extends AutoCloseable {
  /** Default depth of {@link #ancestors(UUID)} and {@link #descendants(UUID)}: {@value} levels. */
  int DEFAULT_MAX_DEPTH = 10;

  /** Default number of events an {@link #inMemory()} tracker holds: {@value}. */
  int DEFAULT_IN_MEMORY_EVENTS = 100_000;

  /**
   * Returns a tracker over Redis, reading and writing the key layout of the Python services (see
   * the {@linkplain dev.bloodbank.correlation package description}).
   *
   * <p>It connects in the background and never throws for an unreachable Redis: calls fail fast
   * until Redis is back, and Lettuce reconnects by itself.
   *
   * @param options where Redis is, how long links live, the limits
   * @return the tracker; close it to release its connections and threads
   * @throws IllegalArgumentException when the options cannot describe a Redis connection
   */
  static CorrelationTracker redis(RedisTrackerOptions options) {
    return new RedisCorrelationTracker(options);
  }

  /**
   * Returns an in-memory tracker holding at most {@value #DEFAULT_IN_MEMORY_EVENTS} events for 30
   * days, for tests and for running without Redis.
   *
   * @return the tracker
   */
  static CorrelationTracker inMemory() {
    return inMemory(DEFAULT_IN_MEMORY_EVENTS, RedisTrackerOptions.DEFAULT_TTL);
  }

  /**
   * Returns an in-memory tracker, for tests and for running without Redis.
   *
   * <p>It counts every event it knows, as a child or as a parent; beyond {@code maxEvents} the
   * least recently written event is forgotten, with its links. Links expire {@code ttl} after their
   * last write, like the Redis keys. Traversals return at most {@value
   * RedisTrackerOptions#DEFAULT_MAX_NODES} events.
   *
   * @param maxEvents events kept, 1 to 100,000,000
   * @param ttl how long a link lives after its last write, 1 s or more
   * @return the tracker
   */
  static CorrelationTracker inMemory(int maxEvents, Duration ttl) {
    return new InMemoryCorrelationTracker(
        maxEvents,
        ttl,
        RedisTrackerOptions.DEFAULT_MAX_NODES,
        RedisTrackerOptions.DEFAULT_MAX_DEPTH,
        Clock.systemUTC());
  }

  /**
   * Records that {@code childId} was caused by each of {@code parentIds}.
   *
   * <p>Recording the same child again adds the new parents to the ones it has (first-seen order, no
   * duplicates), so an event recorded twice keeps all its causes; the timestamp and metadata are
   * those of the latest write. Every key written gets its time to live refreshed.
   *
   * @param childId the new event
   * @param parentIds the events that caused it; at least one
   * @param metadata JSON-mappable details about the link, e.g. {@code event_type}; may be empty
   * @return a future completed once recorded, or exceptionally (an empty {@code parentIds} or
   *     metadata Jackson cannot write: {@link IllegalArgumentException})
   * @throws NullPointerException when an id or the metadata is null
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
   * @return its children, in no particular order; empty when none are known
   */
  CompletableFuture<Set<UUID>> children(UUID id);

  /**
   * Returns everything that led to an event, up to the tracker's default depth ({@value
   * #DEFAULT_MAX_DEPTH} unless configured otherwise).
   *
   * @param id the event
   * @return the graph; see {@link #ancestors(UUID, int)}
   */
  default CompletableFuture<CorrelationGraph> ancestors(UUID id) {
    return ancestors(id, DEFAULT_MAX_DEPTH);
  }

  /**
   * Returns everything that led to an event, breadth-first, one round trip per level.
   *
   * @param id the event
   * @param maxDepth levels of links to follow, 1 or more
   * @return the graph, with {@link CorrelationGraph#limitHit()} set when a limit cut it short
   */
  CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth);

  /**
   * Returns everything an event led to, up to the tracker's default depth ({@value
   * #DEFAULT_MAX_DEPTH} unless configured otherwise).
   *
   * @param id the event
   * @return the graph; see {@link #descendants(UUID, int)}
   */
  default CompletableFuture<CorrelationGraph> descendants(UUID id) {
    return descendants(id, DEFAULT_MAX_DEPTH);
  }

  /**
   * Returns everything an event led to, breadth-first, one round trip per level.
   *
   * @param id the event
   * @param maxDepth levels of links to follow, 1 or more
   * @return the graph, with {@link CorrelationGraph#limitHit()} set when a limit cut it short
   */
  CompletableFuture<CorrelationGraph> descendants(UUID id, int maxDepth);

  /**
   * Returns everything known about an event and its direct neighbours, for debugging: parents,
   * children, timestamp, metadata and remaining time to live of each. Two round trips.
   *
   * @param id the event
   * @return the dump; an unknown event gives a dump with no links
   */
  CompletableFuture<DebugDump> debugDump(UUID id);

  /**
   * Releases connections and threads; calls made afterwards fail with a {@link
   * dev.bloodbank.BloodbankException}. Idempotent.
   */
  @Override
  void close();
}
