package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.LogSafe;
import java.util.List;
import java.util.Locale;
import org.jspecify.annotations.Nullable;

/**
 * The path from a delivered message to a decoded, checked, typed event, shared by subscribers and
 * replays so that both accept and refuse exactly the same messages. Stateless.
 */
final class Inbound {
  static final int MAX_ERROR_MESSAGE = 1000;

  private Inbound() {}

  /**
   * Why a message cannot be handed to a handler.
   *
   * @param reason one of the {@code FailureHeaders.REASON_*} values
   * @param errorClass the class named in the failure headers
   * @param message what is wrong, escaped and at most {@link #MAX_ERROR_MESSAGE} characters
   * @param violations the schema violations, for an invalid event
   * @param outcome the observation outcome, {@link BusObserver#MALFORMED} or {@link
   *     BusObserver#INVALID}
   */
  record Rejection(
      String reason,
      String errorClass,
      String message,
      @Nullable List<String> violations,
      String outcome) {}

  /**
   * The event, or why there is none.
   *
   * @param event the typed event, when accepted
   * @param rejection why not, otherwise
   */
  record Result<T>(@Nullable EventEnvelope<T> event, @Nullable Rejection rejection) {}

  /**
   * Decodes, validates and converts one message body.
   *
   * @param direction the metrics label of a validation failure ({@code consume}, {@code replay})
   */
  static <T> Result<T> decode(
      BusContext ctx,
      @Nullable String contentType,
      byte[] body,
      Class<T> payloadType,
      BusObserver.Delivery observed,
      String direction) {
    // The exact prefix first: lower-casing allocates, and nearly every event has it.
    if (contentType != null
        && !contentType.startsWith("application/json")
        && !contentType.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      return new Result<>(
          null,
          new Rejection(
              FailureHeaders.REASON_UNSUPPORTED_CONTENT_TYPE,
              MalformedEventException.class.getName(),
              "content type '" + LogSafe.escape(contentType) + "' is not application/json",
              null,
              BusObserver.MALFORMED));
    }
    try {
      EventEnvelope<JsonNode> raw = ctx.codec().decode(body);
      BusObserver.eventQuietly(observed, raw);
      try {
        raw = ctx.checks().upcast(raw);
      } catch (EventChecks.UpcastException e) {
        ctx.observer().validationFailed(raw.eventType(), direction);
        return new Result<>(
            null,
            new Rejection(
                FailureHeaders.REASON_INVALID,
                e.getClass().getName(),
                describeMessage(e),
                null,
                BusObserver.INVALID));
      }
      List<String> violations = ctx.checks().inboundViolations(raw);
      if (!violations.isEmpty()) {
        ctx.observer().validationFailed(raw.eventType(), direction);
        return new Result<>(
            null,
            new Rejection(
                FailureHeaders.REASON_INVALID,
                EventChecks.inboundViolationClass(),
                "event '"
                    + raw.eventType()
                    + "' breaks its schema: "
                    + String.join("; ", violations),
                violations,
                BusObserver.INVALID));
      }
      return new Result<>(ctx.codec().convertPayload(raw, payloadType), null);
    } catch (MalformedEventException e) {
      return new Result<>(
          null,
          new Rejection(
              FailureHeaders.REASON_MALFORMED,
              e.getClass().getName(),
              describeMessage(e),
              null,
              BusObserver.MALFORMED));
    }
  }

  /** A throwable's message, escaped for logs and headers and cut to a bounded length. */
  static String describeMessage(Throwable t) {
    String m = LogSafe.escape(String.valueOf(t.getMessage()));
    return m.length() > MAX_ERROR_MESSAGE ? m.substring(0, MAX_ERROR_MESSAGE) : m;
  }
}
