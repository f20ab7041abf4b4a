package dev.bloodbank.command;

import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.internal.RedisClaimStore;
import java.time.Clock;
import java.time.Duration;
import java.util.Objects;
import java.util.UUID;

/**
 * Remembers which commands completed and which are being executed right now, so that a command is
 * executed once even when it is delivered twice: to a second processor while the first still runs
 * it, or again after it completed.
 *
 * <p>A processor {@linkplain #claim claims} a command before executing it. A claim is a lease: it
 * lapses unless {@linkplain #renew renewed}, so a command whose processor died is run by the next
 * one after the lease. Success {@linkplain #complete completes} it (remembered for the store's time
 * to live); failure {@linkplain #release releases} it for the retry.
 *
 * <p>Available over consistent: when the store cannot answer (Redis down), the command runs, and
 * its side effects carry the same deterministic ids as the first time. Thread-safe.
 */
public interface ProcessedCommands extends AutoCloseable {
  /** Default time a completed command is remembered: 7 days. */
  Duration DEFAULT_TTL = Duration.ofDays(7);

  /**
   * Returns an in-memory store: claims are seen by the processors of this JVM only.
   *
   * @param maxCommands completed commands remembered; the oldest are forgotten first
   * @param ttl how long a completed command is remembered
   * @return the store
   */
  static ProcessedCommands inMemory(int maxCommands, Duration ttl) {
    return new InMemoryProcessedCommands(maxCommands, ttl, Clock.systemUTC());
  }

  /**
   * Returns a store in Redis, shared by every processor that uses the same Redis: keys {@code
   * bloodbank:command:{<id>}:completed} (with the time to live) and {@code
   * bloodbank:command:{<id>}:claim} (with the lease), in one hash slot per command so that it works
   * on Redis Cluster too ({@link RedisTrackerOptions#cluster()}).
   *
   * @param redis where Redis is (the same options as the causation tracker)
   * @param ttl how long a completed command is remembered
   * @return the store; it connects lazily and reconnects by itself
   */
  static ProcessedCommands redis(RedisTrackerOptions redis, Duration ttl) {
    return new RedisClaimStore(redis, ttl, RedisClaimStore.Keys.COMMANDS);
  }

  /**
   * What {@link #claim} found.
   *
   * @param commandId the command's event id
   * @param status whether the caller may run it
   * @param token identifies the holder of an {@link Status#ACQUIRED} claim; empty otherwise
   * @since 0.2.0
   */
  record Claim(UUID commandId, Status status, String token) {
    /** Checks the fields. */
    public Claim {
      Objects.requireNonNull(commandId, "commandId");
      Objects.requireNonNull(status, "status");
      Objects.requireNonNull(token, "token");
    }

    /** Whether the caller may execute the command. */
    public boolean mayRun() {
      return status == Status.ACQUIRED || status == Status.UNAVAILABLE;
    }

    /** The answers of {@link ProcessedCommands#claim}. */
    public enum Status {
      /** The caller holds the claim and runs the command. */
      ACQUIRED,
      /** The command completed before; it is not run again. */
      COMPLETED,
      /** Another processor holds an unexpired claim and is running it now. */
      HELD,
      /** The store could not answer in time; the command runs unguarded (logged). */
      UNAVAILABLE
    }
  }

  /**
   * Tries to take the right to execute a command for a while.
   *
   * @param commandId the command's event id
   * @param lease how long the claim holds without {@link #renew}
   * @return {@link Claim.Status#ACQUIRED} with a token, {@link Claim.Status#COMPLETED}, {@link
   *     Claim.Status#HELD}, or {@link Claim.Status#UNAVAILABLE} when the store cannot answer
   * @since 0.2.0
   */
  Claim claim(UUID commandId, Duration lease);

  /**
   * Extends a claim the caller holds.
   *
   * @param claim an {@link Claim.Status#ACQUIRED} claim
   * @param lease the new lease from now
   * @return false when the claim lapsed meanwhile (another processor may run the command now)
   * @since 0.2.0
   */
  boolean renew(Claim claim, Duration lease);

  /**
   * Gives up a claim the caller holds, so that a retry can run the command. Never throws.
   *
   * @param claim the claim; nothing happens unless it is {@link Claim.Status#ACQUIRED}
   * @since 0.2.0
   */
  void release(Claim claim);

  /**
   * Remembers that the command completed and gives up the claim, in one step. Never throws; a
   * failure is logged.
   *
   * @param claim the claim the command ran under
   * @since 0.2.0
   */
  void complete(Claim claim);

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
