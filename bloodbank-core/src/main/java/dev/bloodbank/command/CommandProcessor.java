package dev.bloodbank.command;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.registry.EventDefinition;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes every command type of the registry from one durable queue and executes them.
 *
 * <p>Commands run on {@link CommandProcessorOptions#concurrency()} workers; a command is
 * acknowledged only after its side effects are confirmed by the broker. Failed attempts follow the
 * subscriber retry policy and end in the queue's dead-letter queue. Thread-safe.
 */
public final class CommandProcessor implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(CommandProcessor.class);

  private final Subscriber subscriber;
  private final List<String> commandTypes;
  private final CommandManager manager;
  private final ProcessedCommands processed;
  private final boolean ownsProcessed;

  private CommandProcessor(Bloodbank bus, CommandProcessorOptions options) {
    List<String> all = bus.registry().commands().stream().map(EventDefinition::eventType).toList();
    if (!options.commandTypes().isEmpty()) {
      for (String t : options.commandTypes()) {
        if (!all.contains(t)) {
          throw new BloodbankException(
              "'" + t + "' is not a command type of the registry; its command types are " + all);
        }
      }
      all = options.commandTypes();
    }
    this.commandTypes = all;
    if (commandTypes.isEmpty()) {
      throw new BloodbankException(
          "the registry has no command types; put a schema catalog with commands on the classpath"
              + " or register some");
    }
    ProcessedCommands given = options.processed();
    RedisTrackerOptions redis = bus.options().correlation();
    this.ownsProcessed = given == null;
    this.processed =
        given != null
            ? given
            : redis != null
                ? ProcessedCommands.redis(redis, ProcessedCommands.DEFAULT_TTL)
                : ProcessedCommands.inMemory(100_000, ProcessedCommands.DEFAULT_TTL);
    CommandManager m = null;
    try {
      m = new CommandManager(bus, processed, options.commandTimeout(), options.claimLease());
      CommandManager running = m;
      SubscriberOptions.Builder sub =
          SubscriberOptions.builder(commandTypes.toArray(new String[0]))
              .queueName(queueName(bus, options))
              .concurrency(options.concurrency())
              .prefetch(options.concurrency())
              .maxAttempts(options.maxAttempts())
              .retryDelays(options.retryDelays());
      if (options.sharedWithPython()) {
        sub.queueArguments(java.util.Map.of());
      }
      this.subscriber =
          bus.subscribeWithDelivery(
              sub.build(), JsonNode.class, (event, delivery) -> running.handle(event, delivery));
    } catch (RuntimeException | Error e) {
      if (m != null) {
        m.close();
      }
      if (ownsProcessed) {
        processed.close();
      }
      throw e;
    }
    this.manager = m;
    LOG.info("command processor consuming {} from '{}'", commandTypes, subscriber.queueName());
  }

  private static String queueName(Bloodbank bus, CommandProcessorOptions options) {
    String given = options.queueName();
    if (given != null) {
      return given;
    }
    return options.sharedWithPython()
        ? bus.options().exchange() + ".command_processor"
        : bus.options().serviceName() + "_commands";
  }

  /**
   * Starts a processor for every command type in the bus's registry.
   *
   * @param bus the bus
   * @param options how to consume and execute
   * @return the running processor
   * @throws BloodbankException if the registry has no commands
   */
  public static CommandProcessor start(Bloodbank bus, CommandProcessorOptions options) {
    return new CommandProcessor(
        Objects.requireNonNull(bus, "bus"), Objects.requireNonNull(options, "options"));
  }

  /**
   * Returns the command types consumed.
   *
   * @return the routing keys bound
   */
  public List<String> commandTypes() {
    return commandTypes;
  }

  /**
   * Returns the subscriber underneath, for its queue names and health.
   *
   * @return the subscriber
   */
  public Subscriber subscriber() {
    return subscriber;
  }

  /**
   * Returns the manager executing the commands.
   *
   * @return the manager
   */
  public CommandManager manager() {
    return manager;
  }

  /**
   * Stops consuming, lets running commands finish and acknowledge, then closes the manager and the
   * store of processed commands it made (one given in the options stays open). Idempotent.
   */
  @Override
  public void close() {
    try {
      subscriber.close();
    } finally {
      manager.close();
      if (ownsProcessed) {
        processed.close();
      }
    }
  }
}
