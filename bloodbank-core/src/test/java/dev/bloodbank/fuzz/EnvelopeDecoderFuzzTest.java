package dev.bloodbank.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import com.code_intelligence.jazzer.junit.FuzzTest;
import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.MalformedEventException;

/**
 * Fuzzes the envelope decoder (issue #9, scenario 22): any bytes either decode, or fail with the
 * documented {@link MalformedEventException} whose message is one line; nothing else escapes (no
 * {@code StackOverflowError}, {@code NullPointerException}, Jackson exception...). What decodes
 * encodes and decodes again to the same event.
 *
 * <p>Only in the {@code fuzz} profile (it needs Jazzer): {@code JAZZER_FUZZ=1 ./mvnw -B -pl
 * bloodbank-core -am -Pfuzz test -Dtest=EnvelopeDecoderFuzzTest
 * -Dsurefire.failIfNoSpecifiedTests=false}. Without {@code JAZZER_FUZZ} it replays the seeds in
 * {@code EnvelopeDecoderFuzzTestInputs} and the findings Jazzer saved there. Seeds: the golden
 * envelopes.
 */
class EnvelopeDecoderFuzzTest {
  private static final EventCodec CODEC = EventCodec.create();

  /** A typed payload, so the typed path is fuzzed too. */
  public record Payload(String text, int n) {}

  @FuzzTest(maxDuration = "3m")
  void decodeFailsOnlyWithMalformedEventException(byte[] input) {
    EventEnvelope<JsonNode> event;
    try {
      event = CODEC.decode(input);
    } catch (MalformedEventException e) {
      assertNotNull(e.getMessage());
      assertEquals(-1, e.getMessage().indexOf('\n'), "one-line message: " + e.getMessage());
      return;
    }
    EventEnvelope<JsonNode> again = CODEC.decode(CODEC.encode(event));
    assertEquals(event.eventId(), again.eventId());
    assertEquals(event.eventType(), again.eventType());
    assertEquals(event.payload(), again.payload());
    try {
      CODEC.decode(input, Payload.class);
    } catch (MalformedEventException e) {
      assertNotNull(e.getMessage());
    }
  }
}
