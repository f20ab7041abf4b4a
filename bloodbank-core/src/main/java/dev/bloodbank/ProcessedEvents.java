package dev.bloodbank;

import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.internal.RedisClaimStore;
import java.time.Duration;
import java.util.Objects;

/**
 * Which events were processed, for {@link SubscriberOptions.Builder#idempotent}: a subscriber
 * claims an event before its handler runs, records it as processed when the handler returned, and
 * acknowledges without running the handler an event that was processed before. Claims are leases,
 * so an event whose consumer died is handled by the next one after the lease.
 *
 * <p>The same claim store as the command processor's ({@link ProcessedCommands}), under the event's
 * id. Thread-safe.
 *
 * @since 0.2.0
 */
public final class ProcessedEvents implements AutoCloseable {
  /** Default time a processed event is remembered: 24 h, as in the Python services' guide. */
  public static final Duration DEFAULT_TTL = Duration.ofHours(24);

  private final ProcessedCommands store;

  private ProcessedEvents(ProcessedCommands store) {
    this.store = store;
  }

  /**
   * Returns a store in Redis with the Python services' keys: {@code processed:<event_id>} with
   * value {@code 1} for 24 h once an event was processed (what their guide's consumers check with
   * {@code EXISTS} and write with {@code SETEX}), and {@code processed:<event_id>:claim} while a
   * Java consumer handles it. Works on Redis Cluster.
   *
   * @param redis where Redis is (the same options as the causation tracker)
   * @return the store; it connects lazily and reconnects by itself
   */
  public static ProcessedEvents redis(RedisTrackerOptions redis) {
    return redis(redis, DEFAULT_TTL);
  }

  /**
   * Returns a store in Redis with the Python services' keys, remembering processed events for
   * {@code ttl}.
   *
   * @param redis where Redis is
   * @param ttl how long a processed event is remembered, at least 1 s
   * @return the store
   */
  public static ProcessedEvents redis(RedisTrackerOptions redis, Duration ttl) {
    Objects.requireNonNull(redis, "redis");
    Config.positive("ttl", ttl);
    return new ProcessedEvents(new RedisClaimStore(redis, ttl, RedisClaimStore.Keys.PYTHON_EVENTS));
  }

  /**
   * Returns a store in memory: seen by the subscribers of this JVM only; for tests and single
   * instances.
   *
   * @param maxEvents processed events remembered; the oldest are forgotten first
   * @param ttl how long a processed event is remembered
   * @return the store
   */
  public static ProcessedEvents inMemory(int maxEvents, Duration ttl) {
    return new ProcessedEvents(ProcessedCommands.inMemory(maxEvents, ttl));
  }

  /**
   * Returns the claim store underneath.
   *
   * @return the store
   */
  ProcessedCommands store() {
    return store;
  }

  /** Releases connections. */
  @Override
  public void close() {
    store.close();
  }
}
