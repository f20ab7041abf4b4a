package dev.bloodbank.mcp;

import dev.bloodbank.BloodbankException;
import java.util.List;
import java.util.Map;

/**
 * Why a tool call failed, answered as a tool result with {@code isError} true: a code ({@code
 * invalid_arguments}, {@code validation_failed}, {@code unknown_event_type}, ...), a message, and
 * the violations as {@code pointer}, {@code keyword}, {@code message}.
 */
final class ToolFailure extends BloodbankException {
  private static final long serialVersionUID = 1L;

  final String code;
  final transient List<Map<String, String>> violations;

  ToolFailure(String code, String message) {
    this(code, message, List.of());
  }

  ToolFailure(String code, String message, List<Map<String, String>> violations) {
    super(message);
    this.code = code;
    this.violations = List.copyOf(violations);
  }

  /** A bad argument: one violation at its pointer. */
  static ToolFailure argument(String pointer, String keyword, String message) {
    return new ToolFailure(
        "invalid_arguments",
        "invalid arguments: " + pointer + ": " + message,
        List.of(Map.of("pointer", pointer, "keyword", keyword, "message", message)));
  }
}
