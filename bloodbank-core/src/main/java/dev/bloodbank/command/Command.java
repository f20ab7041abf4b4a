package dev.bloodbank.command;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * A convenient base for hand-written command payloads: unknown JSON fields are ignored and {@link
 * #rollback} does nothing unless overridden. (A command bound to a generated payload class extends
 * that class and implements {@link Invokable} instead.)
 *
 * @param <R> the result type
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public abstract class Command<R> implements Invokable<R> {
  /** For subclasses. */
  protected Command() {}
}
