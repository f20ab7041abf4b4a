package dev.bloodbank;

import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.wal.WalOptions;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * How a {@link Publisher} sends: confirm timeout, retries, window, size limit.
 *
 * <p>Immutable and thread-safe. Build with {@link #builder()}, take {@link #defaults()}, or change
 * a copy with {@link #mutate()}.
 */
public final class PublisherOptions {
  /** Default time to wait for the broker's confirm of one attempt: 10 s. */
  public static final Duration DEFAULT_CONFIRM_TIMEOUT = Duration.ofSeconds(10);

  /** Default number of attempts for a transient failure (nack, timeout, lost connection): 3. */
  public static final int DEFAULT_MAX_ATTEMPTS = 3;

  /** Default delay before the first retry: 100 ms, doubling each retry. */
  public static final Duration DEFAULT_BACKOFF_BASE = Duration.ofMillis(100);

  /** Default longest delay between retries: 5 s. */
  public static final Duration DEFAULT_BACKOFF_CAP = Duration.ofSeconds(5);

  /** Default largest encoded event: 8 MiB (RabbitMQ 4 refuses messages over 16 MiB by default). */
  public static final int DEFAULT_MAX_EVENT_BYTES = 8 * 1024 * 1024;

  /** Default number of events sent but not yet confirmed, across all channels: 1,000. */
  public static final int DEFAULT_MAX_IN_FLIGHT = 1000;

  /** Largest window {@link Builder#maxInFlight(int)} accepts. */
  static final int MAX_IN_FLIGHT = 100_000;

  /** Default number of channels the publisher spreads its sends over: 2. */
  public static final int DEFAULT_CHANNELS = 2;

  /**
   * The AMQP header that carries an event's partition key ({@link Builder#partitionKey}), which a
   * partitioned subscriber ({@link SubscriberOptions.Builder#partitions}) hashes on.
   *
   * @since 0.2.0
   */
  public static final String PARTITION_KEY_HEADER = "bb-partition-key";

  private static final PublisherOptions DEFAULTS = builder().build();

  private final Duration confirmTimeout;
  private final int maxAttempts;
  private final Duration backoffBase;
  private final Duration backoffCap;
  private final int maxEventBytes;
  private final int maxInFlight;
  private final int channels;
  private final boolean mandatory;
  private final @Nullable ValidationMode validation;
  private final @Nullable WalOptions durable;
  private final EnvelopeVersion envelopeVersion;
  private final @Nullable Function<? super EventEnvelope<?>, ? extends @Nullable String>
      partitionKey;

  private PublisherOptions(Builder b) {
    this.confirmTimeout = b.confirmTimeout;
    this.maxAttempts = b.maxAttempts;
    this.backoffBase = b.backoffBase;
    this.backoffCap = b.backoffCap;
    this.maxEventBytes = b.maxEventBytes;
    this.maxInFlight = b.maxInFlight;
    this.channels = b.channels;
    this.mandatory = b.mandatory;
    this.validation = b.validation;
    this.durable = b.durable;
    this.envelopeVersion = b.envelopeVersion;
    this.partitionKey = b.partitionKey;
  }

  /**
   * Returns the defaults.
   *
   * @return the defaults
   */
  public static PublisherOptions defaults() {
    return DEFAULTS;
  }

  /**
   * Returns a builder starting from the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns a builder holding these options.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.confirmTimeout = confirmTimeout;
    b.maxAttempts = maxAttempts;
    b.backoffBase = backoffBase;
    b.backoffCap = backoffCap;
    b.maxEventBytes = maxEventBytes;
    b.maxInFlight = maxInFlight;
    b.channels = channels;
    b.mandatory = mandatory;
    b.validation = validation;
    b.durable = durable;
    b.envelopeVersion = envelopeVersion;
    b.partitionKey = partitionKey;
    return b;
  }

  /**
   * Returns what gives each event its partition key, if anything.
   *
   * @return the function, or null when events carry no key (the default)
   * @since 0.2.0
   */
  public @Nullable Function<? super EventEnvelope<?>, ? extends @Nullable String> partitionKey() {
    return partitionKey;
  }

  /**
   * Returns the wire format of the envelopes this publisher writes.
   *
   * @return {@link EnvelopeVersion#V2} unless set
   * @since 0.2.0
   */
  public EnvelopeVersion envelopeVersion() {
    return envelopeVersion;
  }

  /**
   * Returns how long one attempt waits for the broker's confirm.
   *
   * @return the timeout
   */
  public Duration confirmTimeout() {
    return confirmTimeout;
  }

  /**
   * Returns how many times a transient failure is tried in all.
   *
   * @return 1 or more
   */
  public int maxAttempts() {
    return maxAttempts;
  }

  /**
   * Returns the delay before the first retry.
   *
   * @return the delay
   */
  public Duration backoffBase() {
    return backoffBase;
  }

  /**
   * Returns the longest delay between retries.
   *
   * @return the cap
   */
  public Duration backoffCap() {
    return backoffCap;
  }

  /**
   * Returns the largest encoded event accepted.
   *
   * @return bytes
   */
  public int maxEventBytes() {
    return maxEventBytes;
  }

  /**
   * Returns how many events may await confirms at once.
   *
   * @return the window
   */
  public int maxInFlight() {
    return maxInFlight;
  }

  /**
   * Returns how many channels the publisher uses.
   *
   * @return 1 or more
   */
  public int channels() {
    return channels;
  }

  /**
   * Returns whether events are published with the mandatory flag.
   *
   * @return true if an event no queue is bound for fails with {@link UnroutableEventException}
   */
  public boolean mandatory() {
    return mandatory;
  }

  /**
   * Returns this publisher's validation mode, when it overrides the bus's.
   *
   * @return the mode, or null to use {@link BloodbankOptions#validation()}
   */
  public @Nullable ValidationMode validation() {
    return validation;
  }

  /**
   * Returns the longest a publish future can take to complete with these options: a wait for room
   * in the window, then every attempt's confirm timeout and the longest backoff between attempts.
   * Every publish future completes within this time (plus scheduling delays), so it is a safe bound
   * for waiting on one.
   *
   * @return confirmTimeout × (maxAttempts + 1) + backoffCap × (maxAttempts − 1)
   * @since 0.2.0
   */
  public Duration maxPublishTime() {
    return confirmTimeout
        .multipliedBy(maxAttempts + 1L)
        .plus(backoffCap.multipliedBy(maxAttempts - 1L));
  }

  /**
   * Returns the write-ahead log of a durable publisher.
   *
   * @return the log's options, or null for a publisher without one
   * @since 0.2.0
   */
  public @Nullable WalOptions durable() {
    return durable;
  }

  @Override
  public String toString() {
    return "PublisherOptions{confirmTimeout="
        + confirmTimeout
        + ", maxAttempts="
        + maxAttempts
        + ", backoffBase="
        + backoffBase
        + ", backoffCap="
        + backoffCap
        + ", maxEventBytes="
        + maxEventBytes
        + ", maxInFlight="
        + maxInFlight
        + ", channels="
        + channels
        + ", mandatory="
        + mandatory
        + ", validation="
        + validation
        + ", durable="
        + (durable == null ? "off" : durable.path())
        + (partitionKey == null ? "" : ", partitionKey=on")
        + "}";
  }

  /** Builds {@link PublisherOptions}. Not thread-safe. */
  public static final class Builder {
    private Duration confirmTimeout = DEFAULT_CONFIRM_TIMEOUT;
    private int maxAttempts = DEFAULT_MAX_ATTEMPTS;
    private Duration backoffBase = DEFAULT_BACKOFF_BASE;
    private Duration backoffCap = DEFAULT_BACKOFF_CAP;
    private int maxEventBytes = DEFAULT_MAX_EVENT_BYTES;
    private int maxInFlight = DEFAULT_MAX_IN_FLIGHT;
    private int channels = DEFAULT_CHANNELS;
    private boolean mandatory;
    private @Nullable ValidationMode validation;
    private @Nullable WalOptions durable;
    private EnvelopeVersion envelopeVersion = EnvelopeVersion.V2;
    private @Nullable Function<? super EventEnvelope<?>, ? extends @Nullable String> partitionKey;

    private Builder() {}

    /**
     * Sets how long one attempt waits for the broker's confirm. Default: 10 s. A caller also waits
     * at most this long for room in the window ({@link #maxInFlight(int)}).
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder confirmTimeout(Duration timeout) {
      this.confirmTimeout = Config.positive("confirmTimeout", timeout);
      return this;
    }

    /**
     * Sets how many times a nacked, timed-out or connection-lost publish is tried in all. Default:
     * 3.
     *
     * @param attempts 1 to 100
     * @return this builder
     */
    public Builder maxAttempts(int attempts) {
      this.maxAttempts = Config.inRange("maxAttempts", attempts, 1, 100);
      return this;
    }

    /**
     * Sets the exponential backoff between attempts: {@code base * 2^(retry-1)}, at most {@code
     * cap}, with up to 20% random jitter. Default: 100 ms, 5 s.
     *
     * @param base positive
     * @param cap at least {@code base}
     * @return this builder
     */
    public Builder backoff(Duration base, Duration cap) {
      Config.positive("backoff base", base);
      Config.positive("backoff cap", cap);
      if (cap.compareTo(base) < 0) {
        throw new IllegalArgumentException(
            "backoff cap must be at least the base " + base + ", was " + cap);
      }
      this.backoffBase = base;
      this.backoffCap = cap;
      return this;
    }

    /**
     * Sets the largest encoded event; larger ones fail with {@link EventTooLargeException} before
     * anything is sent. Default: 8 MiB.
     *
     * @param bytes 1 to 128 MiB
     * @return this builder
     */
    public Builder maxEventBytes(int bytes) {
      this.maxEventBytes = Config.inRange("maxEventBytes", bytes, 1, 128 * 1024 * 1024);
      return this;
    }

    /**
     * Sets how many events may await confirms at once; a publish waits for room, up to the confirm
     * timeout. Default: 1,000.
     *
     * @param window 1 to 100,000
     * @return this builder
     */
    public Builder maxInFlight(int window) {
      this.maxInFlight = Config.inRange("maxInFlight", window, 1, MAX_IN_FLIGHT);
      return this;
    }

    /**
     * Sets how many channels the publisher spreads its sends over. Default: 2.
     *
     * @param channels 1 to 64
     * @return this builder
     */
    public Builder channels(int channels) {
      this.channels = Config.inRange("channels", channels, 1, 64);
      return this;
    }

    /**
     * Publishes with the mandatory flag, so that an event no queue is bound for fails with {@link
     * UnroutableEventException}. Default: off, as in the Python services: an event nobody
     * subscribes to yet is not an error.
     *
     * @param mandatory true to fail unroutable events
     * @return this builder
     */
    public Builder mandatory(boolean mandatory) {
      this.mandatory = mandatory;
      return this;
    }

    /**
     * Sets how this publisher checks events against the schema catalog. Default: the bus's {@link
     * BloodbankOptions#validation()}.
     *
     * @param mode the mode
     * @return this builder
     */
    public Builder validation(ValidationMode mode) {
      this.validation = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Makes the publisher durable: each event is written to a write-ahead log (and forced to disk
     * as the log's fsync policy says) before it is sent, marked done once the broker confirmed it,
     * and sent again, with its id, after the connection recovers or when a publisher opens a log
     * that a crashed process left events in. With {@link BloodbankOptions.Builder#lazyConnect} such
     * a publisher can be made while the broker is down; it buffers to the log meanwhile.
     *
     * <p>Its futures complete with the envelope once the broker confirmed the event; exceptionally
     * with a {@link dev.bloodbank.wal.WalException} if the event could not be logged (then it is
     * not sent); with {@link EventTooLargeException} or a validation failure (then it is not kept);
     * with {@link UnroutableEventException} (then it is kept, and sent again only by {@link
     * dev.bloodbank.wal.DurablePublisher#replay}); or with a {@link PublishException} when it is
     * not confirmed within the confirm timeout (then it stays in the log and is sent again later,
     * so it may still arrive). Order is kept while connected, not across an outage. Consumers
     * should drop duplicates by event id. {@link Bloodbank#durablePublisher} returns such a
     * publisher with its log. Default: off.
     *
     * @param wal the log; one publisher per file (the file is locked)
     * @return this builder
     * @since 0.2.0
     */
    public Builder durable(WalOptions wal) {
      this.durable = Objects.requireNonNull(wal, "wal");
      return this;
    }

    /**
     * Sets the wire format of the envelopes this publisher writes. Default: {@link
     * EnvelopeVersion#V2}. {@link EnvelopeVersion#V1} is for consumers still on the Python
     * library's v1 model; a publisher per format, since the format is per consumer.
     *
     * @param version the format
     * @return this builder
     * @since 0.2.0
     */
    public Builder envelopeVersion(EnvelopeVersion version) {
      this.envelopeVersion = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Gives each event a partition key, sent in the {@value #PARTITION_KEY_HEADER} header, so that
     * a partitioned subscriber ({@link SubscriberOptions.Builder#partitions}) hands all events of
     * one key to the same partition, in order. Typical keys: a session, conversation or order id
     * from the payload. The function runs on the publishing thread and must be quick; a null key
     * sends no header (such events all go to one partition); a function that throws fails that
     * publish. Default: none, and no header (a header costs the broker a little per message).
     *
     * @param key the event's key, e.g. {@code e -> ((Order) e.payload()).customerId()}
     * @return this builder
     * @since 0.2.0
     */
    public Builder partitionKey(
        Function<? super EventEnvelope<?>, ? extends @Nullable String> key) {
      this.partitionKey = Objects.requireNonNull(key, "key");
      return this;
    }

    /** Makes the publisher not durable again (for the durable publisher's inner one). */
    Builder notDurable() {
      this.durable = null;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public PublisherOptions build() {
      if (backoffCap.compareTo(backoffBase) < 0) {
        throw new IllegalArgumentException("backoff cap must be at least the base");
      }
      return new PublisherOptions(this);
    }
  }
}
