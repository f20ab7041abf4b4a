package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.validation.PayloadSchema;
import dev.bloodbank.validation.Violation;
import org.junit.jupiter.api.Test;

/**
 * {@code EventValidator.compile}: another version of a catalog schema, with the same {@code $id},
 * is checked on its own terms (never mistaken for the current one) and resolves the catalog's
 * relative {@code $ref}s.
 */
class CompiledSchemaTest {
  @Test
  void anOlderVersionWithTheSameIdIsCheckedOnItsOwnTerms() {
    String type = "transcription.voice.completed";
    JsonNode current = Examples.CATALOG.schema(type);
    ObjectNode older = (ObjectNode) current.deepCopy();
    ((ObjectNode) older.get("properties")).putObject("speaker").put("type", "string");
    older.putArray("required").add("speaker");
    JsonNode payload =
        Examples.read(Examples.exampleFile("voice/transcription.v1.schema.json"))
            .path("valid")
            .get(0);
    assertThat(Examples.VALIDATOR.checkPayload(type, payload).isValid()).isTrue();

    PayloadSchema compiled = Examples.VALIDATOR.compile(older);
    assertThat(compiled.check(payload)).extracting(Violation::keyword).containsExactly("required");
    // The current schema is untouched by the compilation of another with its $id.
    assertThat(Examples.VALIDATOR.checkPayload(type, payload).isValid()).isTrue();
    assertThat(Examples.VALIDATOR.compile(current).accepts(payload)).isTrue();
    assertThat(compiled.schema()).isEqualTo(older);
  }

  @Test
  void relativeRefsResolveFromTheCatalog() {
    JsonNode envelope = Examples.CATALOG.envelopeSchema().orElseThrow();
    assertThat(envelope.toString()).contains("source.v1.schema.json");
    PayloadSchema compiled = Examples.VALIDATOR.compile(envelope);
    JsonNode valid =
        Examples.read(Examples.exampleFile("common/envelope.v1.schema.json")).path("valid").get(0);
    assertThat(compiled.check(valid)).isEmpty();
    ObjectNode badSource = (ObjectNode) valid.deepCopy();
    badSource.putObject("source").put("host", 5);
    assertThat(compiled.accepts(badSource)).isFalse();
  }

  @Test
  void theRegistryFindsReleasedVersionsOnTheClassPathForUpcasters() {
    String type = "transcription.voice.completed";
    assertThat(Examples.CATALOG.schemaVersion(type)).isEqualTo(1);
    assertThat(Examples.CATALOG.historySchema(type, 1)).hasValue(Examples.CATALOG.schema(type));
    assertThat(Examples.CATALOG.historySchema(type, 2)).isEmpty();
  }
}
