package dev.bloodbank;

import org.jspecify.annotations.Nullable;

/**
 * Root of every exception Bloodbank throws or completes a future with.
 *
 * <p>Subclasses exist only where a caller can act differently: {@link ConnectionException}, {@link
 * PublishException} (nack, timeout, lost connection), {@link UnroutableEventException}, {@link
 * EventTooLargeException} and {@link MalformedEventException}. Causes from the RabbitMQ client or
 * Jackson are kept as {@link #getCause()}.
 */
public class BloodbankException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates an exception with a message.
   *
   * @param message what went wrong, naming the thing at fault
   */
  public BloodbankException(String message) {
    super(message);
  }

  /**
   * Creates an exception with a message and a cause.
   *
   * @param message what went wrong, naming the thing at fault
   * @param cause the underlying exception
   */
  public BloodbankException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
