package dev.bloodbank.deadletter;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a {@linkplain DeadLetters#replay dead-letter replay} moves, where to, and how fast.
 *
 * <p>The defaults move every message of the queue back to the queue whose consumer failed, as fast
 * as the broker confirms. Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class DeadLetterReplayOptions {
  /** Default time to wait for the broker's confirm of one moved message: 30 s. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(30);

  private final String queue;
  private final List<String> patterns;
  private final long limit;
  private final @Nullable String toQueue;
  private final double rate;
  private final boolean dryRun;
  private final Duration confirmTimeout;
  private final @Nullable DeadLetterListener listener;

  private DeadLetterReplayOptions(Builder b) {
    this.queue = Objects.requireNonNull(b.queue, "queue");
    this.patterns = List.copyOf(b.patterns);
    this.limit = b.limit;
    this.toQueue = b.toQueue;
    this.rate = b.rate;
    this.dryRun = b.dryRun;
    this.confirmTimeout = b.confirmTimeout;
    this.listener = b.listener;
  }

  /**
   * Returns a builder for the given dead-letter queue.
   *
   * @param queue the dead-letter queue, e.g. {@code orders.dlq}
   * @return a new builder
   * @throws IllegalArgumentException when the name is blank
   */
  public static Builder builder(String queue) {
    return new Builder(queue);
  }

  /**
   * Returns the options for moving every message of a queue back.
   *
   * @param queue the dead-letter queue
   * @return the options
   */
  public static DeadLetterReplayOptions of(String queue) {
    return builder(queue).build();
  }

  /**
   * Returns the dead-letter queue read.
   *
   * @return the queue name
   */
  public String queue() {
    return queue;
  }

  /**
   * Returns the routing-key patterns ({@code *} one word, {@code #} any) a message's first routing
   * key must match one of to be moved; empty moves all.
   *
   * @return the patterns
   */
  public List<String> patterns() {
    return patterns;
  }

  /**
   * Returns the most messages moved; {@link Long#MAX_VALUE} (the default) for no limit.
   *
   * @return the limit
   */
  public long limit() {
    return limit;
  }

  /**
   * Returns the queue every message goes to instead of its own failed queue.
   *
   * @return the target queue, empty for each message's own
   */
  public Optional<String> toQueue() {
    return Optional.ofNullable(toQueue);
  }

  /**
   * Returns the most messages moved a second; 0 (the default) for no limit.
   *
   * @return the rate
   */
  public double rate() {
    return rate;
  }

  /**
   * Returns whether this is a dry run: messages are counted as they would be moved, and all stay.
   *
   * @return true for a dry run; false by default
   */
  public boolean dryRun() {
    return dryRun;
  }

  /**
   * Returns how long the broker's confirm of one moved message is waited for.
   *
   * @return the timeout; {@link #DEFAULT_CONFIRM_TIMEOUT} by default
   */
  public Duration confirmTimeout() {
    return confirmTimeout;
  }

  /**
   * Returns the listener told of each message as it is moved or left.
   *
   * @return the listener, empty by default
   */
  public Optional<DeadLetterListener> listener() {
    return Optional.ofNullable(listener);
  }

  @Override
  public String toString() {
    return "DeadLetterReplayOptions{queue="
        + queue
        + ", patterns="
        + patterns
        + ", limit="
        + (limit == Long.MAX_VALUE ? "none" : limit)
        + ", toQueue="
        + toQueue
        + ", rate="
        + rate
        + ", dryRun="
        + dryRun
        + ", confirmTimeout="
        + confirmTimeout
        + "}";
  }

  /** Told of each message a replay looks at; called on the replaying thread, may not block long. */
  public interface DeadLetterListener {
    /**
     * A message was moved (confirmed and removed; for a dry run, would have been).
     *
     * @param letter the message
     * @param target the queue it went to
     */
    void moved(DeadLetter letter, String target);

    /**
     * A message stays in the dead-letter queue.
     *
     * @param letter the message
     * @param why why: skipped by the patterns, or why it cannot be moved
     */
    default void left(DeadLetter letter, String why) {}
  }

  /** Builds {@link DeadLetterReplayOptions}. Not thread-safe. */
  public static final class Builder {
    private final String queue;
    private final List<String> patterns = new ArrayList<>();
    private long limit = Long.MAX_VALUE;
    private @Nullable String toQueue;
    private double rate;
    private boolean dryRun;
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private @Nullable DeadLetterListener listener;

    private Builder(String queue) {
      Objects.requireNonNull(queue, "queue");
      if (queue.isBlank()) {
        throw new IllegalArgumentException("queue must not be blank");
      }
      this.queue = queue;
    }

    /**
     * Adds a routing-key pattern: only messages whose first routing key matches one of the patterns
     * are moved.
     *
     * @param pattern a topic pattern, e.g. {@code fireflies.#}
     * @return this builder
     * @throws IllegalArgumentException when the pattern is blank
     */
    public Builder pattern(String pattern) {
      Objects.requireNonNull(pattern, "pattern");
      if (pattern.isBlank()) {
        throw new IllegalArgumentException("pattern must not be blank");
      }
      patterns.add(pattern);
      return this;
    }

    /**
     * Sets the most messages moved.
     *
     * @param limit at least 1; no limit by default
     * @return this builder
     * @throws IllegalArgumentException when below 1
     */
    public Builder limit(long limit) {
      if (limit < 1) {
        throw new IllegalArgumentException("limit must be at least 1, got " + limit);
      }
      this.limit = limit;
      return this;
    }

    /**
     * Sends every message to this queue instead of its own failed queue, e.g. for a message the
     * broker dead-lettered without saying where from.
     *
     * @param queue an existing queue
     * @return this builder
     * @throws IllegalArgumentException when blank or the dead-letter queue itself
     */
    public Builder toQueue(String queue) {
      Objects.requireNonNull(queue, "queue");
      if (queue.isBlank()) {
        throw new IllegalArgumentException("toQueue must not be blank");
      }
      if (queue.equals(this.queue)) {
        throw new IllegalArgumentException(
            "toQueue must not be the dead-letter queue '" + queue + "' itself");
      }
      this.toQueue = queue;
      return this;
    }

    /**
     * Sets the most messages moved a second.
     *
     * @param perSecond above 0; no limit by default
     * @return this builder
     * @throws IllegalArgumentException when not a positive finite number
     */
    public Builder rate(double perSecond) {
      if (!(perSecond > 0) || !Double.isFinite(perSecond)) {
        throw new IllegalArgumentException("rate must be above 0 a second, got " + perSecond);
      }
      this.rate = perSecond;
      return this;
    }

    /**
     * Makes this a dry run: messages are counted as they would be moved, and all stay.
     *
     * @param dryRun true for a dry run; false by default
     * @return this builder
     */
    public Builder dryRun(boolean dryRun) {
      this.dryRun = dryRun;
      return this;
    }

    /**
     * Sets how long the broker's confirm of one moved message is waited for.
     *
     * @param timeout from 1 ms to 1 hour; {@link #DEFAULT_CONFIRM_TIMEOUT} by default
     * @return this builder
     * @throws IllegalArgumentException when out of range
     */
    public Builder confirmTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException(
            "confirmTimeout must be from 1 ms to 1 hour, got " + timeout);
      }
      this.confirmTimeout = timeout;
      return this;
    }

    /**
     * Sets the listener told of each message as it is moved or left.
     *
     * @param listener the listener
     * @return this builder
     */
    public Builder listener(DeadLetterListener listener) {
      this.listener = Objects.requireNonNull(listener, "listener");
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public DeadLetterReplayOptions build() {
      return new DeadLetterReplayOptions(this);
    }
  }
}
