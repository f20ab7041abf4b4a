package dev.bloodbank;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * What a {@link Subscriber} consumes and how it treats failures.
 *
 * <p>Failed attempts are retried without broker plugins: the message is republished to a queue
 * {@code <queue>.retry.<millis>} whose TTL dead-letters it back to the main queue after the delay.
 * After {@link #maxAttempts()} failed attempts it goes to {@code <queue>.dlq} with {@link
 * FailureHeaders}. Immutable and thread-safe.
 */
public final class SubscriberOptions {
  /** Default prefetch (unacknowledged deliveries at once): 10. */
  public static final int DEFAULT_PREFETCH = 10;

  /** Default number of handler threads: 1. */
  public static final int DEFAULT_CONCURRENCY = 1;

  /**
   * Default number of handled events one acknowledgement may cover: 0, meaning half the prefetch
   * (at least 1).
   */
  public static final int DEFAULT_ACK_BATCH_SIZE = 0;

  /** Longest time a handled event's acknowledgement waits for others to go with: 1 ms. */
  public static final Duration ACK_BATCH_DELAY = Duration.ofMillis(1);

  /** Default number of handler attempts before dead-lettering: 3. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** Default delays before the 1st, 2nd, ... retry: 1 s, 5 s, 30 s (the last repeats). */
  public static final List<Duration> DEFAULT_RETRY_DELAYS =
      List.of(Duration.ofSeconds(1), Duration.ofSeconds(5), Duration.ofSeconds(30));

  /** Default {@code x-delivery-limit} of quorum queues: 20. */
  public static final int DEFAULT_DELIVERY_LIMIT = 20;

  /** Default time {@link Subscriber#close()} waits for handlers in progress: 30 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  /** Longest queue name AMQP allows, in UTF-8 bytes. */
  public static final int MAX_QUEUE_NAME_BYTES = 255;

  private static final Pattern PATTERN =
      Pattern.compile("(\\*|#|[A-Za-z0-9_-]+)(\\.(\\*|#|[A-Za-z0-9_-]+))*");

  private final List<String> patterns;
  private final @Nullable String queueName;
  private final int prefetch;
  private final int concurrency;
  private final int ackBatchSize; // 0: the default, so that mutate() keeps following the prefetch
  private final int maxAttempts;
  private final List<Duration> retryDelays;
  private final QueueType queueType;
  private final int deliveryLimit;
  private final Duration shutdownTimeout;
  private final boolean temporary;

  private SubscriberOptions(Builder b) {
    this.patterns = List.copyOf(b.patterns);
    this.queueName = b.queueName;
    this.prefetch = b.prefetch;
    this.concurrency = b.concurrency;
    this.ackBatchSize = b.ackBatchSize;
    this.maxAttempts = b.maxAttempts;
    this.retryDelays = List.copyOf(b.retryDelays);
    this.queueType = b.queueType;
    this.deliveryLimit = b.deliveryLimit;
    this.shutdownTimeout = b.shutdownTimeout;
    this.temporary = b.temporary;
  }

  /**
   * Returns a builder for a subscription to these routing-key patterns.
   *
   * @param patterns one or more topic patterns: words separated by dots, {@code *} for exactly one
   *     word, {@code #} for zero or more (e.g. {@code fireflies.#}, {@code *.transcript.*})
   * @return a new builder
   */
  public static Builder builder(String... patterns) {
    Builder b = new Builder();
    for (String p : patterns) {
      b.pattern(p);
    }
    return b;
  }

  /**
   * Returns a builder holding these options.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.patterns.addAll(patterns);
    b.queueName = queueName;
    b.prefetch = prefetch;
    b.concurrency = concurrency;
    b.ackBatchSize = ackBatchSize;
    b.maxAttempts = maxAttempts;
    b.retryDelays = retryDelays;
    b.queueType = queueType;
    b.deliveryLimit = deliveryLimit;
    b.shutdownTimeout = shutdownTimeout;
    b.temporary = temporary;
    return b;
  }

  /**
   * Returns the routing-key patterns the queue is bound with.
   *
   * @return one or more patterns
   */
  public List<String> patterns() {
    return patterns;
  }

  /**
   * Returns the queue name that was set.
   *
   * @return the name, or null for the default {@code <service>_<patterns>_queue}
   */
  public @Nullable String queueName() {
    return queueName;
  }

  /**
   * Returns the queue name for a service: the one set, or {@code <service>_<patterns>_queue} with
   * {@code #} written as {@code all}, {@code *} as {@code any}, patterns joined by {@code _}, and
   * any other character outside {@code [A-Za-z0-9._-]} replaced by {@code _}.
   *
   * @param serviceName the service name
   * @return the queue name
   */
  public String queueNameFor(String serviceName) {
    if (queueName != null) {
      return queueName;
    }
    StringBuilder sb = new StringBuilder(sanitize(serviceName));
    for (String p : patterns) {
      sb.append('_').append(sanitize(p.replace("#", "all").replace("*", "any")));
    }
    String name = sb.append("_queue").toString();
    if (name.getBytes(StandardCharsets.UTF_8).length > MAX_QUEUE_NAME_BYTES - 20) {
      // leave room for the ".retry.<millis>" suffixes
      String hash = Integer.toHexString(name.hashCode());
      name = name.substring(0, MAX_QUEUE_NAME_BYTES - 30) + "_" + hash;
    }
    return name;
  }

  private static String sanitize(String s) {
    return s.replaceAll("[^A-Za-z0-9._-]", "_");
  }

  /**
   * Returns the prefetch: how many deliveries may be unacknowledged at once.
   *
   * @return 1 to 65,535
   */
  public int prefetch() {
    return prefetch;
  }

  /**
   * Returns the number of handler threads.
   *
   * @return 1 or more
   */
  public int concurrency() {
    return concurrency;
  }

  /**
   * Returns how many handled events one acknowledgement may cover.
   *
   * @return 1 (each event acknowledged on its own) to the prefetch
   * @see Builder#ackBatchSize(int)
   */
  public int ackBatchSize() {
    return ackBatchSize == 0 ? Math.max(1, prefetch / 2) : ackBatchSize;
  }

  /**
   * Returns how many times the handler is tried before the event is dead-lettered.
   *
   * @return 1 or more; 1 means no retry
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Returns the delays before each retry; the last one repeats.
   *
   * @return one or more delays
   */
  public List<Duration> retryDelays() {
    return retryDelays;
  }

  /**
   * Returns the delay before retry number {@code retry} (1-based).
   *
   * @param retry 1 for the first retry
   * @return the delay
   */
  public Duration retryDelay(int retry) {
    return retryDelays.get(Math.min(Math.max(retry, 1), retryDelays.size()) - 1);
  }

  /**
   * Returns the queue type.
   *
   * @return the type
   */
  public QueueType queueType() {
    return queueType;
  }

  /**
   * Returns the {@code x-delivery-limit} of a quorum queue.
   *
   * @return the limit
   */
  public int deliveryLimit() {
    return deliveryLimit;
  }

  /**
   * Returns how long {@link Subscriber#close()} waits for handlers in progress.
   *
   * @return the timeout
   */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  /**
   * Returns whether the queue is temporary: exclusive, auto-deleted, with a generated name, and
   * without retry or dead-letter queues (a failed event is logged and dropped).
   *
   * @return true for a temporary queue
   */
  public boolean temporary() {
    return temporary;
  }

  @Override
  public String toString() {
    return "SubscriberOptions{patterns="
        + patterns
        + ", queueName="
        + queueName
        + ", prefetch="
        + prefetch
        + ", concurrency="
        + concurrency
        + ", ackBatchSize="
        + ackBatchSize()
        + ", maxAttempts="
        + maxAttempts
        + ", retryDelays="
        + retryDelays
        + ", queueType="
        + queueType
        + "}";
  }

  /** Builds {@link SubscriberOptions}; {@link #build()} needs at least one pattern. */
  public static final class Builder {
    private final List<String> patterns = new ArrayList<>();
    private @Nullable String queueName;
    private int prefetch = DEFAULT_PREFETCH;
    private int concurrency = DEFAULT_CONCURRENCY;
    private int ackBatchSize = DEFAULT_ACK_BATCH_SIZE;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private List<Duration> retryDelays = DEFAULT_RETRY_DELAYS;
    private QueueType queueType = QueueType.CLASSIC;
    private int deliveryLimit = DEFAULT_DELIVERY_LIMIT;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private boolean temporary;

    private Builder() {}

    /**
     * Adds a routing-key pattern.
     *
     * @param pattern words of {@code [A-Za-z0-9_-]}, {@code *} or {@code #}, separated by dots
     * @return this builder
     */
    public Builder pattern(String pattern) {
      Objects.requireNonNull(pattern, "pattern");
      if (!PATTERN.matcher(pattern).matches()
          || pattern.getBytes(StandardCharsets.UTF_8).length > 255) {
        throw new IllegalArgumentException(
            "routing-key pattern '"
                + LogSafe.escape(pattern)
                + "' must be dot-separated words of [A-Za-z0-9_-], '*' or '#', at most 255 bytes");
      }
      patterns.add(pattern);
      return this;
    }

    /**
     * Sets the queue name. Default: {@code <service>_<patterns>_queue}, see {@link
     * SubscriberOptions#queueNameFor(String)}.
     *
     * @param queueName at most 235 bytes, leaving room for the retry suffixes
     * @return this builder
     */
    public Builder queueName(String queueName) {
      Config.notBlank("queueName", queueName);
      int bytes = queueName.getBytes(StandardCharsets.UTF_8).length;
      if (bytes > MAX_QUEUE_NAME_BYTES - 20) {
        throw new IllegalArgumentException(
            "queueName must be at most "
                + (MAX_QUEUE_NAME_BYTES - 20)
                + " bytes (room for '.retry.<millis>'), was "
                + bytes);
      }
      if (queueName.startsWith("amq.")) {
        throw new IllegalArgumentException(
            "queueName '"
                + LogSafe.escape(queueName)
                + "' must not start with the reserved 'amq.'");
      }
      this.queueName = queueName;
      return this;
    }

    /**
     * Sets the prefetch. Default: 10.
     *
     * @param prefetch 1 to 65,535
     * @return this builder
     */
    public Builder prefetch(int prefetch) {
      this.prefetch = Config.inRange("prefetch", prefetch, 1, 65535);
      return this;
    }

    /**
     * Sets the number of handler threads. Default: 1. More than the prefetch gains nothing.
     *
     * @param concurrency 1 to 1,024
     * @return this builder
     */
    public Builder concurrency(int concurrency) {
      this.concurrency = Config.inRange("concurrency", concurrency, 1, 1024);
      return this;
    }

    /**
     * Sets how many handled events one acknowledgement may cover (AMQP {@code basic.ack} with
     * {@code multiple}). Default: half the prefetch, at least 1.
     *
     * <p>With one handler thread, events are handled in order, so the acknowledgement of a handled
     * event can wait, at most {@link #ACK_BATCH_DELAY}, to go with the next ones: one frame for the
     * broker and one socket write instead of one per event, which raises throughput. An event is
     * still acknowledged only after its handler returned, so nothing is lost; if the connection
     * drops meanwhile, the broker redelivers the handled events whose acknowledgement had not gone
     * out yet, as it does for any delivery in progress (consumers drop repeats by event id). With
     * more handler threads, or while a failed event is being moved to a retry or dead-letter queue,
     * each event is acknowledged on its own.
     *
     * @param size 1 (acknowledge each event at once) to the prefetch; 0 for the default
     * @return this builder
     */
    public Builder ackBatchSize(int size) {
      this.ackBatchSize = Config.inRange("ackBatchSize", size, 0, 65535);
      return this;
    }

    /**
     * Sets how many times the handler is tried before the event is dead-lettered. Default: 3.
     *
     * @param attempts 1 (no retry) to 100
     * @return this builder
     */
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = Config.inRange("maxAttempts", attempts, 1, 100);
      return this;
    }

    /**
     * Sets the delays before each retry; the last one repeats. Default: 1 s, 5 s, 30 s. Each
     * distinct delay gets its own queue.
     *
     * @param delays one to 10 delays, each 1 ms to 24 h
     * @return this builder
     */
    public Builder retryDelays(List<Duration> delays) {
      if (delays.isEmpty() || delays.size() > 10) {
        throw new IllegalArgumentException(
            "retryDelays must hold 1 to 10 delays, held " + delays.size());
      }
      for (Duration d : delays) {
        Config.positive("retry delay", d);
        if (d.compareTo(Duration.ofHours(24)) > 0 || d.toMillis() < 1) {
          throw new IllegalArgumentException("retry delay must be 1 ms to 24 h, was " + d);
        }
      }
      this.retryDelays = List.copyOf(delays);
      return this;
    }

    /**
     * Sets the queue type. Default: {@link QueueType#CLASSIC}.
     *
     * @param queueType the type
     * @return this builder
     */
    public Builder queueType(QueueType queueType) {
      this.queueType = Objects.requireNonNull(queueType, "queueType");
      return this;
    }

    /**
     * Sets the {@code x-delivery-limit} of a quorum queue. Default: 20.
     *
     * @param limit 1 to 1,000
     * @return this builder
     */
    public Builder deliveryLimit(int limit) {
      this.deliveryLimit = Config.inRange("deliveryLimit", limit, 1, 1000);
      return this;
    }

    /**
     * Sets how long {@link Subscriber#close()} waits for handlers in progress. Default: 30 s.
     *
     * @param timeout zero or more
     * @return this builder
     */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = Config.notNegative("shutdownTimeout", timeout);
      return this;
    }

    /**
     * Makes the queue temporary: exclusive to this connection, deleted when the subscriber closes,
     * named {@code <service>.tmp.<uuid>}, with no retry or dead-letter queues. For watching the bus
     * and for replies. Default: off (a durable queue).
     *
     * @return this builder
     */
    public Builder temporary() {
      this.temporary = true;
      this.maxAttempts = 1;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if no pattern was given
     */
    public SubscriberOptions build() {
      if (patterns.isEmpty()) {
        throw new IllegalArgumentException("at least one routing-key pattern is required");
      }
      if (ackBatchSize > prefetch) {
        throw new IllegalArgumentException(
            "ackBatchSize ("
                + ackBatchSize
                + ") must not exceed the prefetch ("
                + prefetch
                + "): the broker stops delivering at the prefetch");
      }
      return new SubscriberOptions(this);
    }
  }
}
