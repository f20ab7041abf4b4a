/**
 * Commands: events that a command processor executes, publishing their side effects only after
 * success.
 *
 * <p>A command is a payload class implementing {@link dev.bloodbank.command.Invokable}, bound to a
 * command event type of the registry. {@link dev.bloodbank.command.CommandProcessor} consumes every
 * command type, {@link dev.bloodbank.command.CommandManager} executes one, and {@link
 * dev.bloodbank.command.CommandClient} sends a command and awaits its result.
 */
@NullMarked
package dev.bloodbank.command;

import org.jspecify.annotations.NullMarked;
