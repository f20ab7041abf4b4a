package dev.bloodbank.command;

import dev.bloodbank.correlation.RedisTrackerOptions;
import java.time.Clock;
import java.time.Duration;
import java.util.UUID;

/**
 * Remembers which commands completed, so that a redelivered command is not executed again.
 *
 * <p>Best effort by design: when the store cannot answer, the command runs again, and its side
 * effects carry the same deterministic ids as the first time. Thread-safe.
 */
public interface ProcessedCommands extends AutoCloseable {
  /** Default time a completed command is remembered: 7 days. */
  Duration DEFAULT_TTL = Duration.ofDays(7);

  /**
   * Returns an in-memory store.
   *
   * @param maxCommands commands remembered; the oldest are forgotten first
   * @param ttl how long a completed command is remembered
   * @return the store
   */
  static ProcessedCommands inMemory(int maxCommands, Duration ttl) {
    return new InMemoryProcessedCommands(maxCommands, ttl, Clock.systemUTC());
  }

  /**
   * Returns a store in Redis: one key {@code bloodbank:command:completed:<id>} per command, with a
   * time to live.
   *
   * @param redis where Redis is (the same options as the causation tracker)
   * @param ttl how long a completed command is remembered
   * @return the store; it connects lazily and reconnects by itself
   */
  static ProcessedCommands redis(RedisTrackerOptions redis, Duration ttl) {
    return new RedisProcessedCommands(redis, ttl);
  }

  /**
   * Returns whether the command completed before.
   *
   * @param commandId the command's event id
   * @return true when it is known to have completed; false when not, or when the store cannot
   *     answer within its timeout
   */
  boolean isCompleted(UUID commandId);

  /**
   * Remembers that the command completed. Never throws; a failure is logged.
   *
   * @param commandId the command's event id
   */
  void markCompleted(UUID commandId);

  /** Releases connections. */
  @Override
  void close();
}
