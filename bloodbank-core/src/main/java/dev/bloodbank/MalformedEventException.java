package dev.bloodbank;

import org.jspecify.annotations.Nullable;

/**
 * A document could not be decoded into an {@link EventEnvelope}.
 *
 * <p>The message names what is wrong and where: the line and column for a syntax error, the JSON
 * pointer ({@code /payload/audio_metadata/sample_rate}) for a wrong or missing field, the limit and
 * the actual size for an oversized input. The subscriber dead-letters such a message with this
 * message in its headers; it never reaches user code.
 */
public final class MalformedEventException extends BloodbankException {
  private static final long serialVersionUID = 1L;

  /** What kind of fault the document has. */
  public enum Kind {
    /** Not well-formed JSON: a stray character, an unterminated string, a truncated document. */
    SYNTAX,
    /** Bytes that are not valid UTF-8. */
    INVALID_ENCODING,
    /** A {@link DecodeLimits} limit was exceeded: size, nesting depth, string or number length. */
    LIMIT_EXCEEDED,
    /** The same key appears twice in one object. */
    DUPLICATE_KEY,
    /** A required field is absent or null. */
    MISSING_FIELD,
    /** A field has the wrong JSON type, e.g. a number where an object is expected. */
    WRONG_TYPE,
    /** A field has the right type but a value that is not allowed, e.g. a malformed UUID. */
    INVALID_VALUE
  }

  private final Kind kind;
  private final @Nullable String pointer;
  private final int line;
  private final int column;

  private MalformedEventException(
      Kind kind,
      String message,
      @Nullable String pointer,
      int line,
      int column,
      @Nullable Throwable cause) {
    super(message, cause);
    this.kind = kind;
    this.pointer = pointer;
    this.line = line;
    this.column = column;
  }

  /**
   * Creates an exception for a fault at a position in the raw document.
   *
   * @param kind the kind of fault
   * @param detail what is wrong, without the position
   * @param line 1-based line, or -1 when unknown
   * @param column 1-based column, or -1 when unknown
   * @param cause the parser's exception, if any
   * @return the exception
   */
  public static MalformedEventException newAtLocation(
      Kind kind, String detail, int line, int column, @Nullable Throwable cause) {
    String where = line > 0 ? String.format(" at line %d, column %d", line, column) : "";
    return new MalformedEventException(kind, detail + where, null, line, column, cause);
  }

  /**
   * Creates an exception for a fault at a field of the parsed document.
   *
   * @param kind the kind of fault
   * @param pointer the JSON pointer (RFC 6901) of the field, {@code ""} for the whole document
   * @param detail what is wrong with it
   * @param cause the mapper's exception, if any
   * @return the exception
   */
  public static MalformedEventException newAtPointer(
      Kind kind, String pointer, String detail, @Nullable Throwable cause) {
    String at = pointer.isEmpty() ? "document" : pointer;
    return new MalformedEventException(kind, at + ": " + detail, pointer, -1, -1, cause);
  }

  /**
   * Returns the kind of fault.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Returns the JSON pointer of the faulty field, when the fault is in a field.
   *
   * @return the pointer, or {@code null} for faults located by line and column
   */
  public @Nullable String pointer() {
    return pointer;
  }

  /**
   * Returns the 1-based line of the fault in the raw document.
   *
   * @return the line, or -1 when unknown or located by pointer
   */
  public int line() {
    return line;
  }

  /**
   * Returns the 1-based column of the fault in the raw document.
   *
   * @return the column, or -1 when unknown or located by pointer
   */
  public int column() {
    return column;
  }
}
