package dev.bloodbank;

import org.jspecify.annotations.Nullable;

/**
 * The broker could not be reached, refused the credentials, or the TLS handshake failed.
 *
 * <p>Messages name the broker address (never the password) and the reason.
 */
public final class ConnectionException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param message what failed, naming the address
   * @param cause the client's exception
   */
  public ConnectionException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
