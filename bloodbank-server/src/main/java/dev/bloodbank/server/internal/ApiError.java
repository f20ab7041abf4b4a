package dev.bloodbank.server.internal;

import dev.bloodbank.validation.Violation;
import java.time.Duration;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * An error answer: the HTTP status, a stable code for programs, a message for people naming what is
 * wrong, and for schema failures every violation's JSON pointer.
 */
public final class ApiError extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int status;
  private final String code;
  private final transient List<Violation> violations;
  private final @Nullable Duration retryAfter;
  private final @Nullable String eventId;

  ApiError(int status, String code, String message) {
    this(status, code, message, List.of(), null);
  }

  ApiError(
      int status,
      String code,
      String message,
      List<Violation> violations,
      @Nullable Duration retryAfter) {
    this(status, code, message, violations, retryAfter, null);
  }

  private ApiError(
      int status,
      String code,
      String message,
      List<Violation> violations,
      @Nullable Duration retryAfter,
      @Nullable String eventId) {
    super(message, null, false, false);
    this.status = status;
    this.code = code;
    this.violations = List.copyOf(violations);
    this.retryAfter = retryAfter;
    this.eventId = eventId;
  }

  static ApiError badRequest(String message) {
    return new ApiError(400, "bad_request", message);
  }

  static ApiError notFound(String code, String message) {
    return new ApiError(404, code, message);
  }

  static ApiError unavailable(String code, String message) {
    return new ApiError(503, code, message, List.of(), Duration.ofSeconds(5));
  }

  /** The HTTP status. */
  public int status() {
    return status;
  }

  /** A stable, machine-readable code such as {@code schema_violation}. */
  public String code() {
    return code;
  }

  /** The schema violations, for 422. */
  public List<Violation> violations() {
    return violations;
  }

  /**
   * Names the event whose publish had this outcome: set when the broker may still have it (no
   * confirm in time, connection lost), so a client resends under the same id.
   */
  ApiError withEventId(String id) {
    return new ApiError(status, code, getMessage(), violations, retryAfter, id);
  }

  /** The event id, when the outcome of its publish is unknown; else null. */
  public @Nullable String eventId() {
    return eventId;
  }

  /** How long a client should wait before trying again, or null. */
  public @Nullable Duration retryAfter() {
    return retryAfter;
  }
}
