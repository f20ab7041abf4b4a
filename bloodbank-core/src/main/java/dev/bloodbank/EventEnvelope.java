package dev.bloodbank;

import dev.bloodbank.internal.LogSafe;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;

/**
 * The standard Bloodbank event: an id, a type that doubles as the routing key, a timestamp, who
 * produced it, which events caused it, and a payload.
 *
 * <p>On the wire (see {@link EventCodec}) it is the JSON object of the Python Bloodbank v2
 * envelope:
 *
 * <pre>{@code
 * {"event_id": "...", "event_type": "fireflies.transcript.ready", "timestamp": "2026-01-27T10:00:00Z",
 *  "version": "1.0.0", "source": {"host": "...", "type": "manual", "app": "...", "meta": {}},
 *  "correlation_ids": ["..."], "agent_context": null, "payload": {...}}
 * }</pre>
 *
 * <p>The payload is any Jackson-mappable object, or a {@link
 * com.fasterxml.jackson.databind.JsonNode} for untyped access. Immutable and thread-safe when the
 * payload is.
 *
 * @param <T> the payload type
 */
public final class EventEnvelope<T> {
  /** The envelope schema version written when none is given. */
  public static final String DEFAULT_VERSION = "1.0.0";

  /** Longest event type, in UTF-8 bytes: AMQP's limit for a routing key. */
  public static final int MAX_EVENT_TYPE_BYTES = 255;

  private final UUID eventId;
  private final String eventType;
  private final Instant timestamp;
  private final String version;
  private final Source source;
  private final List<UUID> correlationIds;
  private final @Nullable AgentContext agentContext;
  private final T payload;

  private EventEnvelope(EventEnvelope<?> other, T payload) {
    this.eventId = other.eventId;
    this.eventType = other.eventType;
    this.timestamp = other.timestamp;
    this.version = other.version;
    this.source = other.source;
    this.correlationIds = other.correlationIds;
    this.agentContext = other.agentContext;
    this.payload = payload;
  }

  private EventEnvelope(Builder<T> b, T payload) {
    this.eventId = b.eventId != null ? b.eventId : UUID.randomUUID();
    this.eventType = b.eventType;
    this.timestamp =
        (b.timestamp != null ? b.timestamp : Instant.now()).truncatedTo(ChronoUnit.MICROS);
    this.version = b.version;
    this.source = b.source != null ? b.source : Source.local(null);
    this.correlationIds = List.copyOf(b.correlationIds);
    this.agentContext = b.agentContext;
    this.payload = payload;
  }

  /**
   * Returns a builder for an event of this type and payload.
   *
   * @param eventType the event type, e.g. {@code fireflies.transcript.ready}
   * @param payload the payload
   * @param <T> the payload type
   * @return a new builder
   */
  public static <T> Builder<T> builder(String eventType, T payload) {
    return new Builder<T>().withEventType(eventType).withPayload(payload);
  }

  /**
   * Returns an empty builder; {@link Builder#build()} requires an event type and a payload.
   *
   * @param <T> the payload type
   * @return a new builder
   */
  public static <T> Builder<T> builder() {
    return new Builder<>();
  }

  /**
   * Returns a builder holding this envelope's values, for a modified copy.
   *
   * @return a new builder
   */
  public Builder<T> toBuilder() {
    Builder<T> b = new Builder<>();
    b.eventId = eventId;
    b.eventType = eventType;
    b.timestamp = timestamp;
    b.version = version;
    b.source = source;
    b.correlationIds.addAll(correlationIds);
    b.agentContext = agentContext;
    b.payload = payload;
    return b;
  }

  /**
   * Checks that a string can be an event type: dot-separated words of letters, digits, {@code _}
   * and {@code -}, at most {@value #MAX_EVENT_TYPE_BYTES} UTF-8 bytes. Wildcards ({@code *}, {@code
   * #}) belong in subscription patterns, not in event types.
   *
   * @param eventType the candidate
   * @return the same string
   * @throws IllegalArgumentException naming the value and the rule it breaks
   */
  public static String checkEventType(String eventType) {
    Objects.requireNonNull(eventType, "eventType");
    // A hand-written scan: this runs for every event built and decoded.
    boolean wordStart = true;
    boolean valid = !eventType.isEmpty();
    for (int i = 0; i < eventType.length() && valid; i++) {
      char c = eventType.charAt(i);
      if (c == '.') {
        valid = !wordStart;
        wordStart = true;
      } else if ((c >= 'a' && c <= 'z')
          || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9')
          || c == '_'
          || c == '-') {
        wordStart = false;
      } else {
        valid = false;
      }
    }
    if (!valid || wordStart) {
      throw new IllegalArgumentException(
          "event type '"
              + LogSafe.escape(eventType)
              + "' is not dot-separated words of [A-Za-z0-9_-] (e.g. fireflies.transcript.ready)");
    }
    // ASCII only, so the UTF-8 length is the string length.
    if (eventType.length() > MAX_EVENT_TYPE_BYTES) {
      throw new IllegalArgumentException(
          String.format(
              "event type is %d bytes, over the AMQP routing key limit of %d bytes",
              eventType.length(), MAX_EVENT_TYPE_BYTES));
    }
    return eventType;
  }

  /**
   * Returns the event's unique id, also the AMQP {@code message_id}.
   *
   * @return the id
   */
  public UUID eventId() {
    return eventId;
  }

  /**
   * Returns the event type, also the routing key.
   *
   * @return the type
   */
  public String eventType() {
    return eventType;
  }

  /**
   * Returns when the event happened, to the microsecond.
   *
   * @return the timestamp
   */
  public Instant timestamp() {
    return timestamp;
  }

  /**
   * Returns the envelope schema version, {@value #DEFAULT_VERSION} unless set.
   *
   * @return the version
   */
  public String version() {
    return version;
  }

  /**
   * Returns who or what produced the event.
   *
   * @return the source
   */
  public Source source() {
    return source;
  }

  /**
   * Returns the ids of the events that caused this one, in order; empty for a root event.
   *
   * @return an unmodifiable list
   */
  public List<UUID> correlationIds() {
    return correlationIds;
  }

  /**
   * Returns the agent context, when an agent produced the event.
   *
   * @return the context, or null
   */
  public @Nullable AgentContext agentContext() {
    return agentContext;
  }

  /**
   * Returns the payload.
   *
   * @return the payload
   */
  public T payload() {
    return payload;
  }

  /**
   * Returns a copy with another payload, e.g. a typed one converted from a {@code JsonNode}.
   *
   * @param newPayload the payload
   * @param <U> the new payload type
   * @return the copy, with every other field unchanged
   */
  public <U> EventEnvelope<U> withPayload(U newPayload) {
    // The other fields were checked when this envelope was built: copy them as they are.
    return new EventEnvelope<>(this, Objects.requireNonNull(newPayload, "payload"));
  }

  @Override
  public boolean equals(Object o) {
    if (this == o) {
      return true;
    }
    if (!(o instanceof EventEnvelope)) {
      return false;
    }
    EventEnvelope<?> e = (EventEnvelope<?>) o;
    return eventId.equals(e.eventId)
        && eventType.equals(e.eventType)
        && timestamp.equals(e.timestamp)
        && version.equals(e.version)
        && source.equals(e.source)
        && correlationIds.equals(e.correlationIds)
        && Objects.equals(agentContext, e.agentContext)
        && payload.equals(e.payload);
  }

  @Override
  public int hashCode() {
    return Objects.hash(
        eventId, eventType, timestamp, version, source, correlationIds, agentContext, payload);
  }

  /** Names the event without its payload, which may be large or sensitive. */
  @Override
  public String toString() {
    return "EventEnvelope{eventId="
        + eventId
        + ", eventType="
        + eventType
        + ", timestamp="
        + timestamp
        + ", source="
        + source.host()
        + "/"
        + source.app()
        + ", correlationIds="
        + correlationIds
        + ", payloadType="
        + payload.getClass().getSimpleName()
        + "}";
  }

  /**
   * Builds an {@link EventEnvelope}; checks the event type in {@link #build()}. Not thread-safe.
   *
   * @param <T> the payload type
   */
  public static final class Builder<T> {
    private @Nullable UUID eventId;
    private @Nullable String eventType;
    private @Nullable Instant timestamp;
    private String version = DEFAULT_VERSION;
    private @Nullable Source source;
    private final List<UUID> correlationIds = new ArrayList<>();
    private @Nullable AgentContext agentContext;
    private @Nullable T payload;

    private Builder() {}

    /**
     * Sets the event id. Default: a random (version 4) UUID; see {@link EventIds} for deterministic
     * ones.
     *
     * @param eventId the id
     * @return this builder
     */
    public Builder<T> withEventId(UUID eventId) {
      this.eventId = Objects.requireNonNull(eventId, "eventId");
      return this;
    }

    /**
     * Sets the event type, which is also the routing key. Required.
     *
     * @param eventType e.g. {@code transcription.voice.completed}
     * @return this builder
     */
    public Builder<T> withEventType(String eventType) {
      this.eventType = Objects.requireNonNull(eventType, "eventType");
      return this;
    }

    /**
     * Sets when the event happened. Default: now. Kept to the microsecond, as Python does.
     *
     * @param timestamp the instant
     * @return this builder
     */
    public Builder<T> withTimestamp(Instant timestamp) {
      this.timestamp = Objects.requireNonNull(timestamp, "timestamp");
      return this;
    }

    /**
     * Sets the envelope schema version. Default: {@value EventEnvelope#DEFAULT_VERSION}.
     *
     * @param version the version
     * @return this builder
     */
    public Builder<T> withVersion(String version) {
      this.version = Objects.requireNonNull(version, "version");
      return this;
    }

    /**
     * Sets the source. Default: {@link Source#local(String) Source.local(null)}.
     *
     * @param source the source
     * @return this builder
     */
    public Builder<T> withSource(Source source) {
      this.source = Objects.requireNonNull(source, "source");
      return this;
    }

    /**
     * Replaces the ids of the events that caused this one. Default: none.
     *
     * @param correlationIds the parent event ids, in order
     * @return this builder
     */
    public Builder<T> withCorrelationIds(List<UUID> correlationIds) {
      this.correlationIds.clear();
      for (UUID id : correlationIds) {
        this.correlationIds.add(Objects.requireNonNull(id, "correlation id"));
      }
      return this;
    }

    /**
     * Adds the id of an event that caused this one.
     *
     * @param parentId the parent event id
     * @return this builder
     */
    public Builder<T> withCorrelationId(UUID parentId) {
      this.correlationIds.add(Objects.requireNonNull(parentId, "parentId"));
      return this;
    }

    /**
     * Sets the agent context. Default: null.
     *
     * @param agentContext the context
     * @return this builder
     */
    public Builder<T> withAgentContext(@Nullable AgentContext agentContext) {
      this.agentContext = agentContext;
      return this;
    }

    /**
     * Sets the payload. Required.
     *
     * @param payload the payload
     * @return this builder
     */
    public Builder<T> withPayload(T payload) {
      this.payload = Objects.requireNonNull(payload, "payload");
      return this;
    }

    /**
     * Builds the envelope.
     *
     * @return the envelope
     * @throws IllegalArgumentException if the event type or payload is missing, or the event type
     *     is not a valid routing key
     */
    public EventEnvelope<T> build() {
      if (eventType == null) {
        throw new IllegalArgumentException("event type is required");
      }
      checkEventType(eventType);
      T p = payload;
      if (p == null) {
        throw new IllegalArgumentException("payload is required for event type " + eventType);
      }
      return new EventEnvelope<>(this, p);
    }
  }
}
