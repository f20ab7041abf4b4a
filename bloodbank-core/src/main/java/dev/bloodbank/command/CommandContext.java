package dev.bloodbank.command;

import dev.bloodbank.AgentContext;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * What a command knows about its own execution.
 *
 * @param commandId the command's event id; the correlation id of every side effect
 * @param commandType the command's event type
 * @param sourceApp the application that sent the command, or null
 * @param agentContext the agent that sent it, or null
 * @param timestamp when the command was sent
 * @param deadline when the sender stops waiting; check {@link #remaining()} in long work
 * @param attempt 1 for the first attempt, 2 for the first retry, ...
 */
public record CommandContext(
    UUID commandId,
    String commandType,
    @Nullable String sourceApp,
    @Nullable AgentContext agentContext,
    Instant timestamp,
    Instant deadline,
    int attempt) {

  /**
   * Returns the time left until the deadline.
   *
   * @return the remaining time, negative once past
   */
  public Duration remaining() {
    return Duration.between(Instant.now(), deadline);
  }

  /**
   * Returns whether the deadline has passed.
   *
   * @return true once past
   */
  public boolean isExpired() {
    return !Instant.now().isBefore(deadline);
  }
}
