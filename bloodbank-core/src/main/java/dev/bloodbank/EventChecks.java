package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.registry.UpcastStep;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.PayloadSchema;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What the bus checks around each event: schema validation before an event is sent ({@link
 * #outbound}), causation recording once it is confirmed, and schema validation of received events
 * ({@link #inboundViolations}). Thread-safe.
 */
final class EventChecks {
  private final EventCodec codec;
  private final EventValidator validator;
  private final ValidationMode busMode;
  private final @Nullable CorrelationRecorder recorder;
  // Compiled once per registered step. By identity: a step's own hash walks its whole schema.
  private final Map<UpcastStep, PayloadSchema> olderSchemas =
      java.util.Collections.synchronizedMap(new java.util.IdentityHashMap<>());

  EventChecks(
      EventCodec codec,
      EventValidator validator,
      ValidationMode busMode,
      @Nullable CorrelationRecorder recorder) {
    this.codec = codec;
    this.validator = validator;
    this.busMode = busMode;
    this.recorder = recorder;
  }

  EventCodec codec() {
    return codec;
  }

  /** The checks a publisher with this validation mode (null: the bus's) makes around each send. */
  EventInterceptor outbound(@Nullable ValidationMode mode) {
    return new Outbound(mode != null ? mode : busMode);
  }

  /**
   * A received event in its current shape: when upcasters are registered for its type, the current
   * schema rejects its payload and an older version's schema accepts it, the payload goes through
   * the upcasters from that version on (newest version tried first). Otherwise the event itself.
   *
   * @throws UpcastException when an upcaster throws, naming the type and versions
   */
  EventEnvelope<JsonNode> upcast(EventEnvelope<JsonNode> event) {
    EventRegistry registry = validator.registry();
    if (!registry.hasUpcasters()) {
      return event;
    }
    Map<Integer, UpcastStep> steps = registry.upcasters(event.eventType());
    if (steps.isEmpty()) {
      return event;
    }
    JsonNode payload = event.payload();
    if (validator.checkPayload(event.eventType(), payload, ValidationMode.PERMISSIVE).isValid()) {
      return event;
    }
    int current = registry.schemaVersion(event.eventType());
    List<Integer> froms = new ArrayList<>(steps.keySet());
    froms.sort(java.util.Comparator.reverseOrder());
    for (int from : froms) {
      if (!reaches(steps, from, current)
          || !olderSchemas
              .computeIfAbsent(steps.get(from), s -> validator.compile(s.fromSchema()))
              .accepts(payload)) {
        continue;
      }
      JsonNode shaped = payload.deepCopy();
      int version = from;
      while (version < current) {
        UpcastStep step = steps.get(version);
        try {
          shaped = step.upcaster().upcast(shaped);
        } catch (RuntimeException e) {
          throw new UpcastException(
              "the upcaster of "
                  + event.eventType()
                  + " from version "
                  + step.fromVersion()
                  + " to "
                  + step.toVersion()
                  + " failed: "
                  + e,
              e);
        }
        if (shaped == null) {
          throw new UpcastException(
              "the upcaster of "
                  + event.eventType()
                  + " from version "
                  + step.fromVersion()
                  + " returned null",
              null);
        }
        version = step.toVersion();
      }
      return event.withPayload(shaped);
    }
    return event;
  }

  private static boolean reaches(Map<Integer, UpcastStep> steps, int from, int current) {
    int v = from;
    while (v < current) {
      UpcastStep s = steps.get(v);
      if (s == null) {
        return false;
      }
      v = s.toVersion();
    }
    return v == current;
  }

  /** An upcaster threw or returned nothing: the event is refused as invalid. */
  static final class UpcastException extends BloodbankException {
    private static final long serialVersionUID = 1L;

    UpcastException(String message, @Nullable Throwable cause) {
      super(message, cause);
    }
  }

  /** Schema violations of a received event; empty when valid or when validation is off. */
  List<String> inboundViolations(EventEnvelope<JsonNode> event) {
    if (busMode == ValidationMode.SKIP) {
      return List.of();
    }
    List<Violation> found = validator.check(event, ValidationMode.PERMISSIVE);
    if (found.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(found.size());
    for (Violation v : found) {
      out.add(v.envelopePointer() + ": " + v.message());
    }
    return out;
  }

  /** The exception class named in the headers of an event dead-lettered for its schema. */
  static String inboundViolationClass() {
    return SchemaValidationException.class.getName();
  }

  private final class Outbound implements EventInterceptor {
    private final ValidationMode mode;

    Outbound(ValidationMode mode) {
      this.mode = mode;
    }

    @Override
    public EventEnvelope<?> beforeSend(EventEnvelope<?> envelope) {
      if (mode == ValidationMode.SKIP) {
        return envelope;
      }
      // Validate the JSON tree and encode that same tree: the payload is serialized once.
      Object payload = envelope.payload();
      EventEnvelope<?> tree;
      if (payload instanceof JsonNode) {
        tree = envelope;
      } else {
        try {
          tree = envelope.withPayload(codec.objectMapper().<JsonNode>valueToTree(payload));
        } catch (IllegalArgumentException e) {
          throw new BloodbankException(
              "cannot serialize the payload of event '"
                  + envelope.eventType()
                  + "' ("
                  + payload.getClass().getName()
                  + "): "
                  + e.getMessage(),
              e);
        }
      }
      validator.validate(tree, mode);
      return tree;
    }

    @Override
    public void afterSend(EventEnvelope<?> envelope, @Nullable Throwable failure) {
      CorrelationRecorder r = recorder;
      if (failure == null && r != null && !envelope.correlationIds().isEmpty()) {
        Map<String, Object> metadata = new HashMap<>(4);
        metadata.put("event_type", envelope.eventType());
        if (envelope.source().app() != null) {
          metadata.put("source_app", envelope.source().app());
        }
        r.record(envelope.eventId(), envelope.correlationIds(), metadata);
      }
    }
  }
}
