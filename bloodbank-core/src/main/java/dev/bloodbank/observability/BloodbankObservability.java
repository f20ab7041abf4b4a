package dev.bloodbank.observability;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Where the bus reports its metrics and observations: a Micrometer {@link MeterRegistry} for
 * timers, counters and gauges, and an {@link ObservationRegistry} for observations, which a tracing
 * bridge (Micrometer Tracing with OpenTelemetry or Brave) turns into spans whose context crosses
 * the bus as W3C {@code traceparent}/{@code tracestate} message headers.
 *
 * <pre>{@code
 * Bloodbank bus = Bloodbank.connect(BloodbankOptions.builder()
 *     .observability(BloodbankObservability.builder()
 *         .meterRegistry(prometheusRegistry)
 *         .observationRegistry(observationRegistry)
 *         .build())
 *     .build());
 * }</pre>
 *
 * <p>Either registry may be left out: metrics only, or traces only. Names and tags are the
 * constants below; event types are tagged as the registry knows them and every other type as
 * {@value #OTHER}, so a producer cannot grow the number of series.
 *
 * <p>Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class BloodbankObservability {
  /** Timer of a publish, from the call to its final outcome, tags {@code event_type, outcome}. */
  public static final String PUBLISH = "bloodbank.publish";

  /** Counter of publish attempts that were retried, tags {@code event_type, reason}. */
  public static final String PUBLISH_RETRIES = "bloodbank.publish.retries";

  /** Gauge of events awaiting a confirm, over every publisher of the bus. */
  public static final String PUBLISH_IN_FLIGHT = "bloodbank.publish.in_flight";

  /**
   * Timer of a delivery, from its arrival to the decision that settles it, tags {@code
   * subscription, event_type, outcome}.
   */
  public static final String CONSUME = "bloodbank.consume";

  /**
   * Timer from an event's own timestamp to the start of its handling, tag {@code subscription}: how
   * far behind a subscriber is (across hosts, their clocks' skew adds to it).
   */
  public static final String CONSUME_LAG = "bloodbank.consume.lag";

  /** Counter of deliveries that were redelivered or came back for another attempt. */
  public static final String CONSUME_REDELIVERIES = "bloodbank.consume.redeliveries";

  /** Counter of events refused by schema validation, tags {@code event_type, direction}. */
  public static final String VALIDATION_FAILURES = "bloodbank.validation.failures";

  /** Timer of a command's execution with its side effects, tags {@code command_type, outcome}. */
  public static final String COMMAND = "bloodbank.command";

  /** Gauge of write-ahead log records not yet marked done. */
  public static final String WAL_PENDING_RECORDS = "bloodbank.wal.pending.records";

  /**
   * Gauge of the bytes of the log segments that still hold such records: what a replay reads, an
   * upper bound of the records' own size.
   */
  public static final String WAL_PENDING_BYTES = "bloodbank.wal.pending.bytes";

  /** Timer of the write-ahead log's fsync calls. */
  public static final String WAL_FSYNC = "bloodbank.wal.fsync";

  /** Function counter of causation links, tag {@code outcome}: recorded or lost. */
  public static final String CAUSATION_LINKS = "bloodbank.causation.links";

  /** Gauge, 1 while a connection is open, tag {@code connection}: publish or consume. */
  public static final String CONNECTION_OPEN = "bloodbank.connection.open";

  /** Gauge, 1 while the broker blocks publishing (a memory or disk alarm). */
  public static final String CONNECTION_BLOCKED = "bloodbank.connection.blocked";

  /** Prefix of amqp-client's own metrics when {@link Builder#amqpClientMetrics} is on. */
  public static final String AMQP_CLIENT_PREFIX = "bloodbank.amqp";

  /** Observation of a publish: a producer span. */
  public static final String PUBLISHER_OBSERVATION = "bloodbank.publisher";

  /** Observation of a handled delivery: a consumer span, the continuation of the producer's. */
  public static final String LISTENER_OBSERVATION = "bloodbank.listener";

  /**
   * Observation of a command's execution, the parent of its side effects' publishes. Not {@value
   * #COMMAND}: a meter handler on the observation registry would make a second timer of that name.
   */
  public static final String COMMAND_OBSERVATION = "bloodbank.command.execution";

  /** The tag value of event and command types the registry does not know. */
  public static final String OTHER = "other";

  private final @Nullable MeterRegistry meterRegistry;
  private final @Nullable ObservationRegistry observationRegistry;
  private final boolean amqpClientMetrics;

  private BloodbankObservability(Builder b) {
    this.meterRegistry = b.meterRegistry;
    this.observationRegistry = b.observationRegistry;
    this.amqpClientMetrics = b.amqpClientMetrics;
  }

  /**
   * A builder with nothing configured.
   *
   * @return the builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * The registry metrics go to.
   *
   * @return the registry, or null for no metrics
   */
  public @Nullable MeterRegistry meterRegistry() {
    return meterRegistry;
  }

  /**
   * The registry observations go to.
   *
   * @return the registry, or null for no observations (and no trace headers)
   */
  public @Nullable ObservationRegistry observationRegistry() {
    return observationRegistry;
  }

  /**
   * Whether amqp-client's own metrics are registered too.
   *
   * @return true to register them (the default) when there is a meter registry
   */
  public boolean amqpClientMetrics() {
    return amqpClientMetrics;
  }

  @Override
  public String toString() {
    return "BloodbankObservability{metrics="
        + (meterRegistry == null ? "off" : meterRegistry.getClass().getSimpleName())
        + ", observations="
        + (observationRegistry == null || observationRegistry.isNoop() ? "off" : "on")
        + ", amqpClientMetrics="
        + amqpClientMetrics
        + '}';
  }

  /** Builds a {@link BloodbankObservability}. Not thread-safe. */
  public static final class Builder {
    private @Nullable MeterRegistry meterRegistry;
    private @Nullable ObservationRegistry observationRegistry;
    private boolean amqpClientMetrics = true;

    private Builder() {}

    /**
     * Sets the registry metrics go to. Default: none.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder meterRegistry(MeterRegistry registry) {
      this.meterRegistry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Sets the registry observations go to; with a tracing bridge registered on it, each publish,
     * handled delivery and command is a span. Default: none.
     *
     * @param registry the registry
     * @return this builder
     */
    public Builder observationRegistry(ObservationRegistry registry) {
      this.observationRegistry = Objects.requireNonNull(registry, "registry");
      return this;
    }

    /**
     * Registers amqp-client's own metrics (connections, channels, messages published, consumed,
     * acknowledged, rejected) under {@value BloodbankObservability#AMQP_CLIENT_PREFIX}. Default:
     * true.
     *
     * @param on whether to register them
     * @return this builder
     */
    public Builder amqpClientMetrics(boolean on) {
      this.amqpClientMetrics = on;
      return this;
    }

    /**
     * Builds the configuration.
     *
     * @return the configuration
     * @throws IllegalArgumentException when neither registry is set
     */
    public BloodbankObservability build() {
      if (meterRegistry == null && observationRegistry == null) {
        throw new IllegalArgumentException(
            "give a meterRegistry, an observationRegistry or both; with neither, leave"
                + " observability out of the bus options");
      }
      return new BloodbankObservability(this);
    }
  }
}
