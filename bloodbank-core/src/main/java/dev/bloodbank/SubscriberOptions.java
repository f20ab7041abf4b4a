package dev.bloodbank;

import dev.bloodbank.internal.LogSafe;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
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

  /** Default lease of a claim on an event with {@link Builder#idempotent}: 60 s. */
  public static final Duration DEFAULT_CLAIM_LEASE = Duration.ofSeconds(60);

  /** Longest queue name AMQP allows, in UTF-8 bytes. */
  public static final int MAX_QUEUE_NAME_BYTES = 255;

  /**
   * The most partitions a subscriber may have ({@link Builder#partitions}).
   *
   * @since 0.2.0
   */
  public static final int MAX_PARTITIONS = 256;

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
  private final QueueNaming queueNaming;
  private final @Nullable Map<String, Object> queueArguments;
  private final boolean existingQueue;
  private final @Nullable String deadLetterExchange; // as set; the effective one is derived
  private final @Nullable String deadLetterRoutingKey;
  private final List<String> additionalExchanges;
  private final @Nullable ProcessedEvents idempotency;
  private final Duration claimLease;
  private final int partitions;

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
    this.queueNaming = b.queueNaming;
    this.queueArguments =
        b.queueArguments == null
            ? null
            : Collections.unmodifiableMap(new LinkedHashMap<>(b.queueArguments));
    this.existingQueue = b.existingQueue;
    this.deadLetterExchange = b.deadLetterExchange;
    this.deadLetterRoutingKey = b.deadLetterRoutingKey;
    this.additionalExchanges = List.copyOf(b.additionalExchanges);
    this.idempotency = b.idempotency;
    this.claimLease = b.claimLease;
    this.partitions = b.partitions;
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
   * Returns a builder for a subscription to the patterns in the {@code BINDING_KEY} environment
   * variable (comma-separated), as the Python services configure theirs.
   *
   * @return a new builder
   * @throws IllegalArgumentException if {@code BINDING_KEY} is unset or holds a malformed pattern
   * @since 0.2.0
   */
  public static Builder fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Returns a builder for a subscription to the patterns in {@code BINDING_KEY}.
   *
   * @param env the environment variables
   * @return a new builder
   * @throws IllegalArgumentException if {@code BINDING_KEY} is unset or holds a malformed pattern
   * @since 0.2.0
   */
  public static Builder fromEnvironment(Map<String, String> env) {
    String value = env.get("BINDING_KEY");
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(
          "BINDING_KEY is not set: it holds the routing-key pattern(s) to subscribe to, e.g."
              + " 'fireflies.transcript.*' or 'llm.*,artifact.#'");
    }
    Builder b = new Builder();
    for (String p : value.split(",")) {
      try {
        b.pattern(p.trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("BINDING_KEY: " + e.getMessage(), e);
      }
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
    b.queueNaming = queueNaming;
    b.queueArguments = queueArguments;
    b.existingQueue = existingQueue;
    b.deadLetterExchange = deadLetterExchange;
    b.deadLetterRoutingKey = deadLetterRoutingKey;
    b.additionalExchanges.addAll(additionalExchanges);
    b.idempotency = idempotency;
    b.claimLease = claimLease;
    b.partitions = partitions;
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
   * Returns the queue name for a service on the default exchange; see {@link #queueNameFor(String,
   * String)}.
   *
   * @param serviceName the service name
   * @return the queue name
   */
  public String queueNameFor(String serviceName) {
    return queueNameFor(serviceName, BloodbankOptions.DEFAULT_EXCHANGE);
  }

  /**
   * Returns the queue name for a service: the one set, or the one its {@link QueueNaming} gives:
   * {@code <service>_<patterns>_queue} with {@code #} written as {@code all}, {@code *} as {@code
   * any}, patterns joined by {@code _}, and any other character outside {@code [A-Za-z0-9._-]}
   * replaced by {@code _} ({@link QueueNaming#PATTERNS}, the default); or {@code
   * <exchange>.<service>} ({@link QueueNaming#EXCHANGE_AND_SERVICE}, the Python library's).
   *
   * @param serviceName the service name
   * @param exchange the bus exchange
   * @return the queue name
   * @since 0.2.0
   */
  public String queueNameFor(String serviceName, String exchange) {
    if (queueName != null) {
      return queueName;
    }
    if (queueNaming == QueueNaming.EXCHANGE_AND_SERVICE) {
      String name = exchange + "." + serviceName;
      if (name.getBytes(StandardCharsets.UTF_8).length > MAX_QUEUE_NAME_BYTES - 20) {
        throw new IllegalArgumentException(
            "queue name '"
                + LogSafe.escape(name)
                + "' is longer than "
                + (MAX_QUEUE_NAME_BYTES - 20)
                + " bytes; set a queueName");
      }
      return name;
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

  /**
   * Returns how the queue is named when no name was set.
   *
   * @return the naming
   * @since 0.2.0
   */
  public QueueNaming queueNaming() {
    return queueNaming;
  }

  /**
   * Returns the arguments the queue is declared with, when they were set.
   *
   * @return the arguments, or null for Bloodbank's own ({@code x-queue-type} and a dead-letter
   *     queue {@code <queue>.dlq})
   * @since 0.2.0
   */
  public @Nullable Map<String, Object> queueArguments() {
    return queueArguments;
  }

  /**
   * Returns whether the queue is used as it exists (a passive declaration, nothing redeclared).
   *
   * @return true for an existing queue
   * @since 0.2.0
   */
  public boolean existingQueue() {
    return existingQueue;
  }

  /**
   * Returns the exchange failed events go to after their last attempt, when it is not Bloodbank's
   * own {@code <queue>.dlq}: the one set, or the queue arguments' {@code x-dead-letter-exchange}.
   *
   * @return the exchange, or null for {@code <queue>.dlq}
   * @since 0.2.0
   */
  public @Nullable String deadLetterExchange() {
    if (deadLetterExchange != null) {
      return deadLetterExchange;
    }
    // The queue names its own dead-letter exchange: failures go where the broker's would.
    Object x = queueArguments == null ? null : queueArguments.get("x-dead-letter-exchange");
    return x == null ? null : x.toString();
  }

  /**
   * Returns the routing key dead letters are sent to {@link #deadLetterExchange()} with.
   *
   * @return the key, or null for the event's own routing key (as the broker's dead-lettering does;
   *     the first one, not the queue name a retry hop gives a delivery)
   * @since 0.2.0
   */
  public @Nullable String deadLetterRoutingKey() {
    if (deadLetterExchange != null) {
      return deadLetterRoutingKey;
    }
    Object k = queueArguments == null ? null : queueArguments.get("x-dead-letter-routing-key");
    return k == null ? null : k.toString();
  }

  /**
   * Returns the exchanges the patterns are bound on besides the bus's own.
   *
   * @return zero or more exchange names
   * @since 0.2.0
   */
  public List<String> additionalExchanges() {
    return additionalExchanges;
  }

  /**
   * Returns the store that makes the handler run once per event id, when set.
   *
   * @return the store, or null for no guard
   * @since 0.2.0
   */
  public @Nullable ProcessedEvents idempotency() {
    return idempotency;
  }

  /**
   * Returns how long a claim on an event holds without renewal, with {@link #idempotency()}.
   *
   * @return the lease
   * @since 0.2.0
   */
  public Duration claimLease() {
    return claimLease;
  }

  /**
   * Returns how many partitions the subscription is spread over.
   *
   * @return 0 when it is one ordinary queue (the default), else 1 to {@value #MAX_PARTITIONS}
   * @since 0.2.0
   */
  public int partitions() {
    return partitions;
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
        + (existingQueue ? ", existingQueue" : "")
        + (queueArguments != null ? ", queueArguments=" + queueArguments : "")
        + (queueNaming != QueueNaming.PATTERNS ? ", queueNaming=" + queueNaming : "")
        + (deadLetterExchange() != null
            ? ", deadLetterExchange=" + deadLetterExchange() + "/" + deadLetterRoutingKey()
            : "")
        + (additionalExchanges.isEmpty() ? "" : ", additionalExchanges=" + additionalExchanges)
        + (idempotency != null ? ", idempotent(claimLease=" + claimLease + ")" : "")
        + (partitions > 0 ? ", partitions=" + partitions : "")
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
    private QueueNaming queueNaming = QueueNaming.PATTERNS;
    private @Nullable Map<String, Object> queueArguments;
    private boolean existingQueue;
    private @Nullable String deadLetterExchange;
    private @Nullable String deadLetterRoutingKey;
    private final List<String> additionalExchanges = new ArrayList<>();
    private @Nullable ProcessedEvents idempotency;
    private Duration claimLease = DEFAULT_CLAIM_LEASE;
    private int partitions;

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
     * broker and one socket write instead of one per event, which raises throughput. An event
     * handled 0.2 ms or more after the previous one is acknowledged at once, with any that wait: at
     * that pace a group would not fill in time, and waiting only delays the acknowledgement (and,
     * measured at 1,000 events/s, the next deliveries). An event is still acknowledged only after
     * its handler returned, so nothing is lost; if the connection drops meanwhile, the broker
     * redelivers the handled events whose acknowledgement had not gone out yet, as it does for any
     * delivery in progress (consumers drop repeats by event id). With more handler threads, or
     * while a failed event is being moved to a retry or dead-letter queue, each event is
     * acknowledged on its own.
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
     * Sets how the queue is named when no {@link #queueName} is set. Default: {@link
     * QueueNaming#PATTERNS}. {@link QueueNaming#EXCHANGE_AND_SERVICE} gives the name the Python
     * library's consumer declares, {@code <exchange>.<service>}, to take its queue over.
     *
     * @param naming the naming
     * @return this builder
     * @since 0.2.0
     */
    public Builder queueNaming(QueueNaming naming) {
      this.queueNaming = Objects.requireNonNull(naming, "naming");
      return this;
    }

    /**
     * Declares the queue with exactly these arguments instead of Bloodbank's own ({@code
     * x-queue-type}, {@code x-delivery-limit} and a dead-letter route to {@code <queue>.dlq}), so
     * that a queue another service declared, such as a Python service's with {@code
     * x-dead-letter-exchange: "dlx"} and {@code x-message-ttl}, is declared the same way and taken
     * over instead of refused with 406. An empty map declares it without arguments, as the Python
     * library does. When the arguments name an {@code x-dead-letter-exchange}, events that fail
     * their last attempt go there (with the queue's {@code x-dead-letter-routing-key}, or their own
     * routing key), as the broker's dead-lettering would send them; otherwise to {@code
     * <queue>.dlq}. Retry queues are declared beside it as usual.
     *
     * @param arguments the queue arguments, exactly as the queue has them
     * @return this builder
     * @since 0.2.0
     */
    public Builder queueArguments(Map<String, Object> arguments) {
      Objects.requireNonNull(arguments, "arguments");
      for (Map.Entry<String, Object> a : arguments.entrySet()) {
        Objects.requireNonNull(a.getKey(), "queue argument name");
        Objects.requireNonNull(a.getValue(), () -> "queue argument '" + a.getKey() + "'");
      }
      this.queueArguments = new LinkedHashMap<>(arguments);
      return this;
    }

    /**
     * Uses the queue as it exists: declared passively, so its arguments, bindings and type stay as
     * another service made them; subscribing fails with a clear error when it does not exist. The
     * patterns, if any, are bound in addition (binding twice is harmless). Failed events go to
     * {@link #deadLetterExchange} when set (AMQP cannot read a queue's arguments), otherwise to
     * {@code <queue>.dlq}. Needs a {@link #queueName} or the naming's name.
     *
     * @return this builder
     * @since 0.2.0
     */
    public Builder existingQueue() {
      this.existingQueue = true;
      return this;
    }

    /**
     * Sends events that failed their last attempt to this exchange, with their own routing key,
     * instead of to {@code <queue>.dlq}: for a queue whose dead-letter exchange another service set
     * up.
     *
     * @param exchange the dead-letter exchange; it must exist
     * @return this builder
     * @since 0.2.0
     */
    public Builder deadLetterExchange(String exchange) {
      return deadLetterExchange(exchange, null);
    }

    /**
     * Sends events that failed their last attempt to this exchange with this routing key.
     *
     * @param exchange the dead-letter exchange; it must exist
     * @param routingKey the routing key, or null for the event's own
     * @return this builder
     * @since 0.2.0
     */
    public Builder deadLetterExchange(String exchange, @Nullable String routingKey) {
      this.deadLetterExchange = Objects.requireNonNull(exchange, "exchange");
      this.deadLetterRoutingKey = routingKey;
      return this;
    }

    /**
     * Binds the patterns on this exchange too (a durable topic exchange, declared if missing), for
     * example the old {@code events} exchange while services move to {@code bloodbank.events.v1}.
     * An event published to both arrives twice, with the same id: use {@link #idempotent}.
     *
     * @param exchange another exchange
     * @return this builder
     * @since 0.2.0
     */
    public Builder additionalExchange(String exchange) {
      Config.notBlank("exchange", exchange);
      if (!additionalExchanges.contains(exchange)) {
        additionalExchanges.add(exchange);
      }
      return this;
    }

    /**
     * Runs the handler effectively once per event id, across every consumer that shares the store:
     * an event whose id the store knows as processed is acknowledged without running the handler,
     * and an event another consumer is handling right now (its claim holds) is retried after the
     * first retry delay. With {@link ProcessedEvents#redis}, the keys are the Python guide's {@code
     * processed:<event_id>} (value {@code 1}, 24 h), so Java consumers and Python ones that follow
     * the guide drop each other's repeats (the guide's consumers look only at that key, not at
     * Java's claims, so one of them may run a copy while Java handles another).
     *
     * <p>Like the command processor's claims, this prefers availability to consistency: the handler
     * runs anyway when the store cannot answer (logged), when its record of a handled event could
     * not be written, or when a claim lapsed while its handler ran (renewals kept failing for a
     * whole lease); a handler that must never run twice still checks in its own store.
     *
     * @param store the store of processed events; closed by the caller
     * @return this builder
     * @since 0.2.0
     */
    public Builder idempotent(ProcessedEvents store) {
      this.idempotency = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * Sets how long a claim on an event holds without renewal; it is renewed every third of it
     * while the handler runs. Default: 60 s.
     *
     * @param lease 1 s to 1 h
     * @return this builder
     * @since 0.2.0
     */
    public Builder claimLease(Duration lease) {
      Config.positive("claimLease", lease);
      if (lease.compareTo(Duration.ofSeconds(1)) < 0 || lease.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("claimLease must be 1 s to 1 h, was " + lease);
      }
      this.claimLease = lease;
      return this;
    }

    /**
     * Spreads the subscription over {@code n} queues that keep per-key order, so that consumption
     * scales past one queue (issue #23). The bus declares a consistent-hash exchange {@code
     * <queue>.partitions} bound to the bus exchange with the patterns, and {@code n} queues {@code
     * <queue>.p0} to {@code <queue>.p<n-1>} bound to it with equal weights; the exchange hashes
     * each event's {@value PublisherOptions#PARTITION_KEY_HEADER} header (set by {@link
     * PublisherOptions.Builder#partitionKey}), so all events of one key land in one queue, in the
     * order they were published. Each partition queue has {@code x-single-active-consumer}: every
     * instance of the service subscribes to every partition, the broker delivers each partition to
     * one of them at a time and moves it to another when that one goes away, so per-key order holds
     * across instances. The partitions share the dead-letter queue {@code <queue>.dlq}; a retry
     * goes back to its own partition (a retried event is then out of order, as with one queue).
     *
     * <p>Needs the broker's {@code rabbitmq_consistent_hash_exchange} plugin, which ships with
     * RabbitMQ and is enabled with {@code rabbitmq-plugins enable
     * rabbitmq_consistent_hash_exchange}. Needs {@link #concurrency} 1 (the default), since
     * parallel handlers would reorder a partition: use more partitions instead. Changing {@code n}
     * later moves keys between partitions. Default: 0, one ordinary queue.
     *
     * @param n 0 to {@value #MAX_PARTITIONS}
     * @return this builder
     * @since 0.2.0
     */
    public Builder partitions(int n) {
      if (n < 0 || n > MAX_PARTITIONS) {
        throw new IllegalArgumentException(
            "partitions must be 0 to " + MAX_PARTITIONS + ", was " + n);
      }
      this.partitions = n;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if no pattern was given for a queue Bloodbank declares (an
     *     {@link #existingQueue} needs none), or the settings contradict each other
     */
    public SubscriberOptions build() {
      if (patterns.isEmpty() && !existingQueue) {
        throw new IllegalArgumentException(
            "at least one routing-key pattern is required (only an existingQueue may have none)");
      }
      if (temporary && (existingQueue || queueArguments != null)) {
        throw new IllegalArgumentException(
            "a temporary queue cannot be an existing queue nor take queue arguments");
      }
      if (existingQueue && queueArguments != null) {
        throw new IllegalArgumentException(
            "existingQueue declares nothing, so queueArguments would be ignored: use one of them");
      }
      if (temporary && idempotency != null) {
        throw new IllegalArgumentException(
            "a temporary queue has no retry queue for events another consumer holds: use a"
                + " durable queue with idempotent()");
      }
      if (ackBatchSize > prefetch) {
        throw new IllegalArgumentException(
            "ackBatchSize ("
                + ackBatchSize
                + ") must not exceed the prefetch ("
                + prefetch
                + "): the broker stops delivering at the prefetch");
      }
      if (partitions > 0 && (temporary || existingQueue)) {
        throw new IllegalArgumentException(
            "partitions ("
                + partitions
                + ") need queues Bloodbank declares: not temporary() nor"
                + " existingQueue()");
      }
      if (partitions > 0 && concurrency > 1) {
        throw new IllegalArgumentException(
            "partitions ("
                + partitions
                + ") keep per-key order only with concurrency 1, was "
                + concurrency
                + ": use more partitions instead");
      }
      return new SubscriberOptions(this);
    }
  }
}
