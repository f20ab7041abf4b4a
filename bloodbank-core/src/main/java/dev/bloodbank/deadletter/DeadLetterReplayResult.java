package dev.bloodbank.deadletter;

import java.util.List;

/**
 * What a {@linkplain DeadLetters#replay dead-letter replay} did. Immutable and thread-safe.
 *
 * @param queue the dead-letter queue
 * @param moved messages republished, confirmed and removed (for a dry run: those that would be)
 * @param skipped messages the patterns left where they were
 * @param unmovable messages left because no target queue was known or it did not exist
 * @param remaining messages the dead-letter queue holds after the call
 * @param interrupted whether the calling thread's interrupt stopped it before the end
 * @param problems why messages were unmovable, one line per distinct cause
 * @since 0.2.0
 */
public record DeadLetterReplayResult(
    String queue,
    long moved,
    long skipped,
    long unmovable,
    long remaining,
    boolean interrupted,
    List<String> problems) {

  /**
   * Creates a result.
   *
   * @throws NullPointerException when the queue or problems are null
   */
  public DeadLetterReplayResult {
    java.util.Objects.requireNonNull(queue, "queue");
    problems = List.copyOf(problems);
  }
}
