package dev.bloodbank.command;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** How a {@link CommandProcessor} consumes and executes commands. Immutable and thread-safe. */
public final class CommandProcessorOptions {
  /** Default number of commands executed at once: 4. */
  public static final int DEFAULT_CONCURRENCY = 4;

  /** Default attempts per command before it is dead-lettered: 3. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** Default time a command has from being sent to completing: 5 min. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofMinutes(5);

  /** Default lease of a processor's claim on a running command: 30 s, renewed every third. */
  public static final Duration DEFAULT_CLAIM_LEASE = Duration.ofSeconds(30);

  private final @Nullable String queueName;
  private final int concurrency;
  private final int maxAttempts;
  private final List<Duration> retryDelays;
  private final Duration commandTimeout;
  private final Duration claimLease;
  private final @Nullable ProcessedCommands processed;
  private final boolean sharedWithPython;
  private final List<String> commandTypes;

  private CommandProcessorOptions(Builder b) {
    this.queueName = b.queueName;
    this.concurrency = b.concurrency;
    this.maxAttempts = b.maxAttempts;
    this.retryDelays = b.retryDelays;
    this.commandTimeout = b.commandTimeout;
    this.claimLease = b.claimLease;
    this.processed = b.processed;
    this.sharedWithPython = b.sharedWithPython;
    this.commandTypes = List.copyOf(b.commandTypes);
  }

  /**
   * Returns whether the processor shares the Python command processor's queue.
   *
   * @return true when it competes with it for commands
   * @since 0.2.0
   */
  public boolean sharedWithPython() {
    return sharedWithPython;
  }

  /**
   * Returns the command types consumed, when restricted.
   *
   * @return the types, or empty for every command type of the registry
   * @since 0.2.0
   */
  public List<String> commandTypes() {
    return commandTypes;
  }

  /**
   * Returns a builder with the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the defaults.
   *
   * @return the options
   */
  public static CommandProcessorOptions defaults() {
    return builder().build();
  }

  /**
   * Returns the queue name, when set.
   *
   * @return the name, or null for {@code <service>_commands}
   */
  public @Nullable String queueName() {
    return queueName;
  }

  /**
   * Returns how many commands run at once.
   *
   * @return 1 or more
   */
  public int concurrency() {
    return concurrency;
  }

  /**
   * Returns the attempts per command.
   *
   * @return 1 or more
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Returns the delays before retries.
   *
   * @return one or more delays
   */
  public List<Duration> retryDelays() {
    return retryDelays;
  }

  /**
   * Returns how long a command has from being sent to completing.
   *
   * @return the timeout
   */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /**
   * Returns how long a processor's claim on a running command holds without renewal.
   *
   * @return the lease
   * @since 0.2.0
   */
  public Duration claimLease() {
    return claimLease;
  }

  /**
   * Returns the store of completed commands, when one was given.
   *
   * @return the store, or null for Redis when the bus tracks causation in Redis, otherwise memory
   */
  public @Nullable ProcessedCommands processed() {
    return processed;
  }

  /** Builds {@link CommandProcessorOptions}. Not thread-safe. */
  public static final class Builder {
    private @Nullable String queueName;
    private int concurrency = DEFAULT_CONCURRENCY;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private List<Duration> retryDelays =
        List.of(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30));
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private Duration claimLease = DEFAULT_CLAIM_LEASE;
    private @Nullable ProcessedCommands processed;
    private boolean sharedWithPython;
    private final List<String> commandTypes = new java.util.ArrayList<>();

    private Builder() {}

    /**
     * Competes with a Python command processor for commands instead of receiving a copy of each:
     * consumes from its queue, {@code <exchange>.command_processor} (what the Python library's
     * consumer names the queue of its service {@code command_processor}), declared as it declares
     * it, without arguments, so the broker gives each command to one of the two. Failed commands go
     * to {@code <queue>.dlq} after their last attempt (the Python processor drops them). Bind only
     * command types both sides can execute ({@link #commandTypes}): the broker hands a command to
     * whichever consumer is free. A {@link #queueName} set as well wins.
     *
     * @return this builder
     * @since 0.2.0
     */
    public Builder sharedWithPython() {
      this.sharedWithPython = true;
      return this;
    }

    /**
     * Consumes only these command types instead of every command type of the registry.
     *
     * @param types command types of the registry
     * @return this builder
     * @since 0.2.0
     */
    public Builder commandTypes(String... types) {
      for (String t : types) {
        commandTypes.add(Objects.requireNonNull(t, "command type"));
      }
      return this;
    }

    /**
     * Sets the queue name. Default: {@code <service>_commands}.
     *
     * @param queueName the name
     * @return this builder
     */
    public Builder queueName(String queueName) {
      this.queueName = Objects.requireNonNull(queueName, "queueName");
      return this;
    }

    /**
     * Sets how many commands run at once. Default: 4.
     *
     * @param concurrency 1 to 1,024
     * @return this builder
     */
    public Builder concurrency(int concurrency) {
      if (concurrency < 1 || concurrency > 1024) {
        throw new IllegalArgumentException(
            "concurrency must be between 1 and 1024, was " + concurrency);
      }
      this.concurrency = concurrency;
      return this;
    }

    /**
     * Sets the attempts per command and the delays between them. Default: 3; 1 s, 5 s, 30 s.
     *
     * @param attempts 1 to 100
     * @param delays one or more delays, the last repeating
     * @return this builder
     */
    public Builder retries(int attempts, List<Duration> delays) {
      if (attempts < 1 || attempts > 100) {
        throw new IllegalArgumentException("attempts must be between 1 and 100, was " + attempts);
      }
      if (delays.isEmpty()) {
        throw new IllegalArgumentException("at least one retry delay is required");
      }
      this.maxAttempts = attempts;
      this.retryDelays = List.copyOf(delays);
      return this;
    }

    /**
     * Sets how long a command has from being sent to completing; it sees this as {@link
     * CommandContext#deadline()}. Default: 5 min.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder commandTimeout(Duration timeout) {
      if (timeout.isNegative() || timeout.isZero()) {
        throw new IllegalArgumentException("commandTimeout must be positive, was " + timeout);
      }
      this.commandTimeout = timeout;
      return this;
    }

    /**
     * Sets the lease of a processor's claim on a command it runs. A processor claims each command
     * before running it and renews the claim every third of the lease while it runs; another
     * processor that receives the same command meanwhile (a redelivery) waits for the outcome
     * instead of running it too, for up to one lease, and runs it once the claim lapses (its holder
     * died) or is released (its attempt failed). Default: 30 s.
     *
     * @param lease 1 s to 1 h
     * @return this builder
     * @since 0.2.0
     */
    public Builder claimLease(Duration lease) {
      Objects.requireNonNull(lease, "lease");
      if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("claimLease must be between 1 s and 1 h, was " + lease);
      }
      this.claimLease = lease;
      return this;
    }

    /**
     * Sets the store of completed commands. Default: Redis when the bus tracks causation in Redis,
     * otherwise an in-memory store of 100,000 commands.
     *
     * @param processed the store; the processor does not close it
     * @return this builder
     */
    public Builder processed(ProcessedCommands processed) {
      this.processed = Objects.requireNonNull(processed, "processed");
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if {@link #sharedWithPython} is set without {@link
     *     #commandTypes}
     */
    public CommandProcessorOptions build() {
      if (sharedWithPython && commandTypes.isEmpty()) {
        throw new IllegalArgumentException(
            "sharedWithPython needs commandTypes(...): the bindings stay on the Python processor's"
                + " queue, and a command only Java can execute would reach the Python processor");
      }
      return new CommandProcessorOptions(this);
    }
  }
}
