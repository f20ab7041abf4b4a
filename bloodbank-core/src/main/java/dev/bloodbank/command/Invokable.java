package dev.bloodbank.command;

/**
 * A command payload that knows how to execute itself.
 *
 * <p>{@link #execute} runs on a processor worker thread. Events it adds to the {@link
 * EventCollector} are published only after it returns, each correlated to the command; if it
 * throws, they are discarded, {@link #rollback} runs, and a {@code command.failed} event is
 * published. Delivery is at-least-once and a command already completed is not executed again, but a
 * crash between its side effects and the acknowledgement can run it twice: the side effects then
 * carry the same deterministic ids, so consumers can drop the duplicates.
 *
 * @param <R> the result type, sent back in {@code command.completed}; {@code Void} for none
 */
public interface Invokable<R> {
  /**
   * Executes the command.
   *
   * @param context the command's id, source, deadline and attempt
   * @param events where to put the events this command causes
   * @return the result, JSON-mappable, or null
   * @throws Exception to fail this attempt
   */
  R execute(CommandContext context, EventCollector events) throws Exception;

  /**
   * Undoes what a failed {@link #execute} did outside the bus. Called once per failed attempt.
   * Default: nothing.
   *
   * @param context the failed attempt's context
   * @throws Exception logged; the failure of the attempt stands
   */
  default void rollback(CommandContext context) throws Exception {}
}
