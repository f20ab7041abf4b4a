package dev.bloodbank.command;

import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.Source;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import java.util.UUID;

/**
 * Collects the events a command causes while it executes; they are published after it returns.
 *
 * <p>Each event gets the command's id as its correlation id and a deterministic id, the UUIDv5 of
 * the command id and its position ({@code uuid5(commandId, "side-effect:" + n)}, n from 0), so a
 * re-executed command emits the same ids. Not thread-safe: use it from the executing thread.
 */
public final class EventCollector {
  private final UUID commandId;
  private final Source source;
  private final List<EventEnvelope<?>> events = new ArrayList<>();

  EventCollector(UUID commandId, Source source) {
    this.commandId = commandId;
    this.source = source;
  }

  /**
   * Returns the id the n-th side effect of a command gets.
   *
   * @param commandId the command's event id
   * @param position 0 for the first side effect
   * @return the deterministic id
   */
  public static UUID sideEffectId(UUID commandId, int position) {
    return EventIds.uuid5(commandId, "side-effect:" + position);
  }

  /**
   * Adds an event caused by the command.
   *
   * @param eventType the event type
   * @param payload the payload
   * @param <T> the payload type
   * @return the envelope that will be published
   */
  public <T> EventEnvelope<T> add(String eventType, T payload) {
    EventEnvelope<T> e =
        EventEnvelope.builder(eventType, payload)
            .withEventId(sideEffectId(commandId, events.size()))
            .withCorrelationId(commandId)
            .withSource(source)
            .build();
    events.add(e);
    return e;
  }

  /**
   * Adds an event caused by the command, built by the caller: its type, payload, version, source,
   * agent context and other correlation ids are kept. Its event id is replaced by the deterministic
   * side-effect id, so that a re-executed command emits the same ids, and the command's id becomes
   * its first correlation id (the id stays where it already is).
   *
   * @param envelope the event
   * @param <T> the payload type
   * @return the envelope that will be published
   * @since 0.2.0
   */
  public <T> EventEnvelope<T> add(EventEnvelope<T> envelope) {
    Objects.requireNonNull(envelope, "envelope");
    List<UUID> correlations = new ArrayList<>(envelope.correlationIds().size() + 1);
    if (!envelope.correlationIds().contains(commandId)) {
      correlations.add(commandId);
    }
    correlations.addAll(envelope.correlationIds());
    EventEnvelope<T> e =
        envelope.toBuilder()
            .withEventId(sideEffectId(commandId, events.size()))
            .withCorrelationIds(correlations)
            .build();
    events.add(e);
    return e;
  }

  /**
   * Returns the events collected so far.
   *
   * @return an unmodifiable view
   */
  public List<EventEnvelope<?>> events() {
    return Collections.unmodifiableList(events);
  }
}
