package dev.bloodbank;

/**
 * The wire format of an envelope a publisher writes. Subscribers read both.
 *
 * @since 0.2.0
 */
public enum EnvelopeVersion {
  /**
   * {@code event_id}, {@code event_type}, {@code timestamp}, {@code version}, {@code source}
   * object, {@code correlation_ids}, {@code agent_context}, {@code payload}: what the Python
   * library writes since v2, and the default.
   */
  V2,
  /**
   * {@code id}, {@code event_type}, {@code ts} and {@code timestamp}, {@code source} string, {@code
   * correlation_id}, {@code data}: for consumers still on the Python library's v1 model; see {@link
   * EventCodec#encode(EventEnvelope, EnvelopeVersion)} for what is left out.
   */
  V1
}
