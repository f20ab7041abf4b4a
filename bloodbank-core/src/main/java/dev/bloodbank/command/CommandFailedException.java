package dev.bloodbank.command;

import dev.bloodbank.BloodbankException;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * A command's last attempt failed; carries what the processor reported in {@code command.failed}.
 */
public final class CommandFailedException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  private final UUID commandId;
  private final String errorClass;
  private final int attempts;

  CommandFailedException(
      UUID commandId,
      String commandType,
      String errorClass,
      @Nullable String message,
      int attempts) {
    super(
        "command "
            + commandId
            + " ("
            + commandType
            + ") failed after "
            + attempts
            + " attempt(s): "
            + errorClass
            + ": "
            + message);
    this.commandId = commandId;
    this.errorClass = errorClass;
    this.attempts = attempts;
  }

  /**
   * Returns the command's event id.
   *
   * @return the id
   */
  public UUID commandId() {
    return commandId;
  }

  /**
   * Returns the class name of the exception the command threw.
   *
   * @return the class name
   */
  public String errorClass() {
    return errorClass;
  }

  /**
   * Returns how many attempts were made.
   *
   * @return attempts
   */
  public int attempts() {
    return attempts;
  }
}
