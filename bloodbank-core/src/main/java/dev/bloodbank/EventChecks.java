package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.validation.EventValidator;
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
