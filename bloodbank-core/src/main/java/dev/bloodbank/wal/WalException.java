package dev.bloodbank.wal;

import dev.bloodbank.BloodbankException;
import org.jspecify.annotations.Nullable;

/**
 * The write-ahead log failed: an append that could not be made durable (disk full, fsync error), a
 * file with unsafe permissions, or a file another process holds. The message names the file.
 */
public final class WalException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  WalException(String message, @Nullable Throwable cause) {
    super(message, cause);
  }
}
