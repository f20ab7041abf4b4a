package dev.bloodbank.archive;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.jspecify.annotations.Nullable;

/**
 * What a {@linkplain dev.bloodbank.Bloodbank#replay replay} reads: which stream, from where, until
 * when, which routing keys, with how much credit, and where it keeps its offset.
 *
 * <p>The defaults replay the whole archive ({@code bloodbank.archive}) from the first event kept
 * until the last event present when the replay starts. Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class ReplayOptions {
  /** Default stream queue: the archive's default, {@value ArchiveOptions#DEFAULT_QUEUE}. */
  public static final String DEFAULT_QUEUE = ArchiveOptions.DEFAULT_QUEUE;

  /** Default credit (events delivered and not yet acknowledged at once): 100. */
  public static final int DEFAULT_PREFETCH = 100;

  /** Default number of events after which an {@link OffsetStore} is written: 100. */
  public static final int DEFAULT_STORE_EVERY = 100;

  /** Default time after which an {@link OffsetStore} is written, whatever the count: 1 s. */
  public static final Duration DEFAULT_STORE_INTERVAL = Duration.ofSeconds(1);

  /** Default time {@link Replay#close()} waits for a handler in progress: 10 s. */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(10);

  /** Where a replay starts. */
  public enum Start {
    /** The oldest event the archive keeps. */
    FIRST,
    /** A given offset ({@link #startOffset()}). */
    OFFSET,
    /** The events stored from an instant on ({@link #startInstant()}). */
    INSTANT,
    /** The events stored during the last while ({@link #startAgo()}), measured at start. */
    AGO
  }

  /** Where a replay ends. */
  public enum End {
    /** The last event present when the replay starts. */
    NOW,
    /** The last event of an instant ({@link #endInstant()}), which may be in the future. */
    INSTANT,
    /** Never: after the stored events, new ones as they are published, until closed. */
    FOLLOW
  }

  private final String queue;
  private final Start start;
  private final long startOffset;
  private final @Nullable Instant startInstant;
  private final @Nullable Duration startAgo;
  private final End end;
  private final @Nullable Instant endInstant;
  private final List<String> patterns;
  private final int prefetch;
  private final @Nullable OffsetStore offsetStore;
  private final int storeEvery;
  private final Duration storeInterval;
  private final Duration shutdownTimeout;

  private ReplayOptions(Builder b) {
    this.queue = b.queue;
    this.start = b.start;
    this.startOffset = b.startOffset;
    this.startInstant = b.startInstant;
    this.startAgo = b.startAgo;
    this.end = b.end;
    this.endInstant = b.endInstant;
    this.patterns = List.copyOf(b.patterns);
    this.prefetch = b.prefetch;
    this.offsetStore = b.offsetStore;
    this.storeEvery = b.storeEvery;
    this.storeInterval = b.storeInterval;
    this.shutdownTimeout = b.shutdownTimeout;
  }

  /**
   * Returns a builder with the defaults: the default archive, first to now, every routing key.
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
    b.queue = queue;
    b.start = start;
    b.startOffset = startOffset;
    b.startInstant = startInstant;
    b.startAgo = startAgo;
    b.end = end;
    b.endInstant = endInstant;
    b.patterns.addAll(patterns);
    b.prefetch = prefetch;
    b.offsetStore = offsetStore;
    b.storeEvery = storeEvery;
    b.storeInterval = storeInterval;
    b.shutdownTimeout = shutdownTimeout;
    return b;
  }

  /**
   * Returns the stream queue read.
   *
   * @return the queue; default {@value ReplayOptions#DEFAULT_QUEUE}
   */
  public String queue() {
    return queue;
  }

  /**
   * Returns where the replay starts, unless an {@link #offsetStore()} holds an offset.
   *
   * @return the start; default {@link Start#FIRST}
   */
  public Start start() {
    return start;
  }

  /**
   * Returns the first offset read, for {@link Start#OFFSET}.
   *
   * @return the offset, or -1 for other starts
   */
  public long startOffset() {
    return startOffset;
  }

  /**
   * Returns the instant the replay starts at, for {@link Start#INSTANT}.
   *
   * @return the instant, or empty for other starts
   */
  public Optional<Instant> startInstant() {
    return Optional.ofNullable(startInstant);
  }

  /**
   * Returns how far back the replay starts, for {@link Start#AGO}.
   *
   * @return the duration, or empty for other starts
   */
  public Optional<Duration> startAgo() {
    return Optional.ofNullable(startAgo);
  }

  /**
   * Returns where the replay ends.
   *
   * @return the end; default {@link End#NOW}
   */
  public End end() {
    return end;
  }

  /**
   * Returns the instant the replay ends at, for {@link End#INSTANT}.
   *
   * @return the instant, or empty for other ends
   */
  public Optional<Instant> endInstant() {
    return Optional.ofNullable(endInstant);
  }

  /**
   * Returns the routing-key patterns of the events handed to the handler.
   *
   * @return the patterns; empty (the default) for every event
   */
  public List<String> patterns() {
    return patterns;
  }

  /**
   * Returns the credit: events delivered and not yet acknowledged at once.
   *
   * @return the prefetch; default 100
   */
  public int prefetch() {
    return prefetch;
  }

  /**
   * Returns where the replay keeps its offset, making it resumable.
   *
   * @return the store, or empty (the default) for none
   */
  public Optional<OffsetStore> offsetStore() {
    return Optional.ofNullable(offsetStore);
  }

  /**
   * Returns after how many events the offset store is written.
   *
   * @return events; default 100
   */
  public int storeEvery() {
    return storeEvery;
  }

  /**
   * Returns after how long the offset store is written, whatever the count.
   *
   * @return the interval; default 1 s
   */
  public Duration storeInterval() {
    return storeInterval;
  }

  /**
   * Returns how long {@link Replay#close()} waits for a handler in progress.
   *
   * @return the timeout; default 10 s
   */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  @Override
  public String toString() {
    return "ReplayOptions{queue="
        + queue
        + ", start="
        + start
        + (start == Start.OFFSET ? " " + startOffset : "")
        + (startInstant != null ? " " + startInstant : "")
        + (startAgo != null ? " " + startAgo : "")
        + ", end="
        + end
        + (endInstant != null ? " " + endInstant : "")
        + ", patterns="
        + patterns
        + ", prefetch="
        + prefetch
        + (offsetStore != null ? ", offsetStore=" + offsetStore : "")
        + "}";
  }

  /** Builds {@link ReplayOptions}. Not thread-safe. */
  public static final class Builder {
    private String queue = DEFAULT_QUEUE;
    private Start start = Start.FIRST;
    private long startOffset = -1;
    private @Nullable Instant startInstant;
    private @Nullable Duration startAgo;
    private End end = End.NOW;
    private @Nullable Instant endInstant;
    private final List<String> patterns = new ArrayList<>();
    private int prefetch = DEFAULT_PREFETCH;
    private @Nullable OffsetStore offsetStore;
    private int storeEvery = DEFAULT_STORE_EVERY;
    private Duration storeInterval = DEFAULT_STORE_INTERVAL;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;

    private Builder() {}

    /**
     * Sets the stream queue read. Default: {@value ReplayOptions#DEFAULT_QUEUE}.
     *
     * @param queue the name of a stream queue, such as an {@link Archive#queueName()}
     * @return this builder
     */
    public Builder queue(String queue) {
      this.queue = ArchiveOptions.checkQueue(queue);
      return this;
    }

    /**
     * Starts at the oldest event kept. The default.
     *
     * @return this builder
     */
    public Builder fromFirst() {
      setStart(Start.FIRST);
      return this;
    }

    /**
     * Starts at an offset; one older than the oldest kept starts at the oldest.
     *
     * @param offset 0 or more
     * @return this builder
     */
    public Builder fromOffset(long offset) {
      if (offset < 0) {
        throw new IllegalArgumentException("offset must be 0 or more, was " + offset);
      }
      setStart(Start.OFFSET);
      this.startOffset = offset;
      return this;
    }

    /**
     * Starts with the events stored from an instant on. The broker attaches at the chunk stored
     * then (in whole seconds, so it may deliver events stored shortly before); the replay then
     * skips events whose event time is before the instant, up to the first one at or after it.
     *
     * @param instant the instant
     * @return this builder
     */
    public Builder from(Instant instant) {
      Objects.requireNonNull(instant, "instant");
      setStart(Start.INSTANT);
      this.startInstant = instant;
      return this;
    }

    /**
     * Starts with the events stored during the last while, measured when the replay starts; like
     * {@link #from(Instant)} with now minus the duration.
     *
     * @param ago a positive duration, such as 2 hours
     * @return this builder
     */
    public Builder since(Duration ago) {
      Objects.requireNonNull(ago, "ago");
      if (ago.isNegative() || ago.isZero()) {
        throw new IllegalArgumentException("since must be a positive duration, was " + ago);
      }
      setStart(Start.AGO);
      this.startAgo = ago;
      return this;
    }

    /**
     * Ends with the last event present when the replay starts. The default.
     *
     * @return this builder
     */
    public Builder untilNow() {
      this.end = End.NOW;
      this.endInstant = null;
      return this;
    }

    /**
     * Ends before the first handed event whose event time is after the instant, or, once the
     * instant has passed, with the last event present then. An instant in the future makes the
     * replay follow new events until then.
     *
     * @param instant the instant
     * @return this builder
     */
    public Builder until(Instant instant) {
      this.endInstant = Objects.requireNonNull(instant, "instant");
      this.end = End.INSTANT;
      return this;
    }

    /**
     * Never ends: after the stored events come new ones as they are published, until {@link
     * Replay#close()}.
     *
     * @return this builder
     */
    public Builder follow() {
      this.end = End.FOLLOW;
      this.endInstant = null;
      return this;
    }

    /**
     * Adds a routing-key pattern: only events whose routing key matches one of the patterns reach
     * the handler, matched as RabbitMQ's topic exchange does. The filtering is done in the client
     * (every event is still read from the broker): RabbitMQ 3.13 can filter streams on the broker,
     * which this client does not use since 3.10 cannot. Default: no pattern, every event.
     *
     * @param pattern words of {@code [A-Za-z0-9_-]}, {@code *} or {@code #}, separated by dots
     * @return this builder
     */
    public Builder pattern(String pattern) {
      patterns.add(ArchiveOptions.checkPattern(pattern));
      return this;
    }

    /**
     * Sets the credit: the broker delivers at most this many events not yet acknowledged, so a slow
     * handler holds back the stream instead of buffering it in memory. The broker sends whole
     * chunks (the events it stored together, many when they were published in a burst), so up to
     * one chunk more than the prefetch may be out. Acknowledgements go in groups of half the
     * prefetch. Default: 100.
     *
     * @param prefetch 1 to 65,535
     * @return this builder
     */
    public Builder prefetch(int prefetch) {
      if (prefetch < 1 || prefetch > 65_535) {
        throw new IllegalArgumentException("prefetch must be between 1 and 65535, was " + prefetch);
      }
      this.prefetch = prefetch;
      return this;
    }

    /**
     * Makes the replay resumable: when the store holds an offset, the replay starts right after it
     * instead of at {@link #fromFirst() its start}; while it runs, the offset of the last event
     * done is written to the store every {@link #storeEvery} events or {@link #storeInterval}, and
     * when it ends or is closed. Delivery is at-least-once: after a crash, the events done since
     * the last write are handed again. Default: none.
     *
     * @param store the store; closed by the caller
     * @return this builder
     */
    public Builder resumeFrom(OffsetStore store) {
      this.offsetStore = Objects.requireNonNull(store, "store");
      return this;
    }

    /**
     * Sets after how many events the offset store is written. Default: 100.
     *
     * @param events 1 to 1,000,000
     * @return this builder
     */
    public Builder storeEvery(int events) {
      if (events < 1 || events > 1_000_000) {
        throw new IllegalArgumentException(
            "storeEvery must be between 1 and 1000000, was " + events);
      }
      this.storeEvery = events;
      return this;
    }

    /**
     * Sets after how long the offset store is written whatever the count, checked as events arrive.
     * Default: 1 s.
     *
     * @param interval 1 ms to 1 h
     * @return this builder
     */
    public Builder storeInterval(Duration interval) {
      Objects.requireNonNull(interval, "interval");
      if (interval.toMillis() < 1 || interval.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("storeInterval must be 1 ms to 1 h, was " + interval);
      }
      this.storeInterval = interval;
      return this;
    }

    /**
     * Sets how long {@link Replay#close()} waits for a handler in progress before interrupting it.
     * Default: 10 s.
     *
     * @param timeout 0 to 1 h
     * @return this builder
     */
    public Builder shutdownTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.isNegative() || timeout.compareTo(Duration.ofHours(1)) > 0) {
        throw new IllegalArgumentException("shutdownTimeout must be 0 to 1 h, was " + timeout);
      }
      this.shutdownTimeout = timeout;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if the end instant is before the start instant
     */
    public ReplayOptions build() {
      if (startInstant != null && endInstant != null && endInstant.isBefore(startInstant)) {
        throw new IllegalArgumentException(
            "until (" + endInstant + ") must not be before from (" + startInstant + ")");
      }
      return new ReplayOptions(this);
    }

    private void setStart(Start s) {
      this.start = s;
      this.startOffset = -1;
      this.startInstant = null;
      this.startAgo = null;
    }
  }
}
