package dev.bloodbank.test;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.FailureHeaders;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * A message that reached a dead-letter queue ({@code <queue>.dlq}), with the failure metadata the
 * subscriber wrote ({@link FailureHeaders}).
 *
 * @param queue the dead-letter queue
 * @param eventType the event type: the original routing key, or the decoded event's type
 * @param event the decoded event, or null if the message is not a valid event (malformed ones are
 *     dead-lettered too)
 * @param reason {@link FailureHeaders#REASON}, e.g. {@code handler-failed}, or null
 * @param errorClass {@link FailureHeaders#ERROR_CLASS}, or null
 * @param errorMessage {@link FailureHeaders#ERROR_MESSAGE}, or null
 * @param attempts {@link FailureHeaders#ATTEMPTS}, 0 when absent
 * @param headers every header, values as they come from the broker
 */
public record DeadLetter(
    String queue,
    String eventType,
    @Nullable EventEnvelope<JsonNode> event,
    @Nullable String reason,
    @Nullable String errorClass,
    @Nullable String errorMessage,
    int attempts,
    Map<String, Object> headers) {}
