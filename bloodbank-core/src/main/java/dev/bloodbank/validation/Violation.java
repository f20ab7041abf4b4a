package dev.bloodbank.validation;

import java.io.Serializable;
import java.util.Objects;

/**
 * One way an event breaks its schema.
 *
 * <p>Pointers are relative to the {@link #part() part} they are in: {@code
 * /audio_metadata/confidence} for a payload violation, {@code /source/host} for an envelope one.
 * {@link #envelopePointer()} gives the pointer from the root of the whole envelope document
 * (payload pointers under {@code /payload}). Immutable and thread-safe.
 *
 * @param part whether the fault is in the payload or in the envelope around it
 * @param pointer JSON pointer (RFC 6901) of the faulty value, relative to the part; for a missing
 *     required field and for a field the schema does not allow, the pointer of that field; {@code
 *     ""} for the part itself
 * @param keyword the JSON Schema keyword that failed, e.g. {@code maximum} or {@code required};
 *     {@value #UNKNOWN_EVENT_TYPE} when strict validation meets an event type the registry does not
 *     know
 * @param message a readable explanation, without the pointer
 */
public record Violation(Part part, String pointer, String keyword, String message)
    implements Serializable {

  /** The {@link #keyword()} of the violation strict validation reports for an unknown type. */
  public static final String UNKNOWN_EVENT_TYPE = "x-bloodbank-known-event-type";

  /** Where a violation is. */
  public enum Part {
    /** In the envelope fields ({@code event_id}, {@code source}, ...). */
    ENVELOPE,
    /** In the payload. */
    PAYLOAD
  }

  /**
   * Checks the fields.
   *
   * @throws IllegalArgumentException if the pointer is neither empty nor starts with {@code /}
   */
  public Violation {
    Objects.requireNonNull(part, "part");
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(keyword, "keyword");
    Objects.requireNonNull(message, "message");
    if (!pointer.isEmpty() && pointer.charAt(0) != '/') {
      throw new IllegalArgumentException(
          "pointer '" + pointer + "' is not a JSON pointer (empty, or starting with /)");
    }
  }

  /**
   * Returns the pointer from the envelope's root: payload pointers get a {@code /payload} prefix.
   *
   * @return the absolute pointer, e.g. {@code /payload/audio_metadata/confidence}
   */
  public String envelopePointer() {
    return part == Part.PAYLOAD ? "/payload" + pointer : pointer;
  }

  /** Formats as {@code /payload/audio_metadata/confidence: must have a maximum value of 1}. */
  @Override
  public String toString() {
    String p = envelopePointer();
    return (p.isEmpty() ? "/" : p) + ": " + message;
  }
}
