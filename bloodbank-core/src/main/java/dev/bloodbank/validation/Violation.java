package dev.bloodbank.validation;

import java.util.Objects;

/**
 * One way an event breaks its schema.
 *
 * @param part whether the fault is in the payload or in the envelope around it
 * @param pointer JSON pointer (RFC 6901) of the faulty value, relative to the part: {@code
 *     /audio_metadata/confidence} in the payload; for a missing field, the pointer of that field
 * @param keyword the JSON Schema keyword that failed, e.g. {@code maximum}, {@code required}
 * @param message a readable explanation
 */
public record Violation(Part part, String pointer, String keyword, String message) {

  /** Where a violation is. */
  public enum Part {
    /** In the envelope fields ({@code event_id}, {@code source}, ...). */
    ENVELOPE,
    /** In the payload. */
    PAYLOAD
  }

  /** Checks the fields. */
  public Violation {
    Objects.requireNonNull(part, "part");
    Objects.requireNonNull(pointer, "pointer");
    Objects.requireNonNull(keyword, "keyword");
    Objects.requireNonNull(message, "message");
  }

  /**
   * Returns the pointer from the envelope's root: payload pointers get a {@code /payload} prefix.
   *
   * @return the absolute pointer
   */
  public String envelopePointer() {
    return part == Part.PAYLOAD ? "/payload" + pointer : pointer;
  }

  /** Formats as {@code payload /audio_metadata/confidence: must be at most 1}. */
  @Override
  public String toString() {
    return (part == Part.PAYLOAD ? "payload " : "envelope ")
        + (pointer.isEmpty() ? "/" : pointer)
        + ": "
        + message;
  }
}
