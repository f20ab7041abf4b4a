package dev.bloodbank.archive;

import dev.bloodbank.BloodbankException;
import org.jspecify.annotations.Nullable;

/**
 * A replay stopped before its end: its handler threw, or its channel or stream went away. {@link
 * #offset()} says where to resume; a resumable replay's {@link OffsetStore} already holds the
 * offset before it.
 *
 * @since 0.2.0
 */
public class ReplayException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final String queue;
  private final long offset;

  /**
   * Creates the exception.
   *
   * @param queue the stream queue
   * @param offset the offset of the first event not done (the one whose handler failed), where a
   *     replay resumes; -1 when not known
   * @param message what went wrong, naming the queue and the offset
   * @param cause the handler's exception or the broker's shutdown signal
   */
  public ReplayException(String queue, long offset, String message, @Nullable Throwable cause) {
    super(message, cause);
    this.queue = queue;
    this.offset = offset;
  }

  /**
   * Returns the stream queue the replay read.
   *
   * @return the queue
   */
  public String queue() {
    return queue;
  }

  /**
   * Returns the offset of the first event not done, where a replay resumes with {@link
   * ReplayOptions.Builder#fromOffset(long)}.
   *
   * @return the offset, or -1 when not known
   */
  public long offset() {
    return offset;
  }
}
