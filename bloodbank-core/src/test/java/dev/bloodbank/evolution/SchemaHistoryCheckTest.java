package dev.bloodbank.evolution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.SchemaHistoryEntry.Status;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link SchemaHistoryCheck} on schema and history directories made by each test. */
class SchemaHistoryCheckTest {
  private static final URI ID_BASE = URI.create("https://schemas.example.test/");

  @TempDir Path tmp;

  private static String schema(String meta, String properties, String required) {
    return "{\"$id\":\"https://schemas.example.test/voice/transcription.v1.schema.json\","
        + "\"x-bloodbank\":{\"event_type\":\"transcription.voice.completed\""
        + meta
        + "},\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}"
        + properties
        + "},\"required\":["
        + required
        + "]}";
  }

  private static final String V1 = schema("", "", "\"text\"");

  private Path schemas() {
    return tmp.resolve("schemas");
  }

  private Path history() {
    return tmp.resolve("history");
  }

  private void write(Path file, String content) {
    try {
      Files.createDirectories(file.getParent());
      Files.writeString(file, content);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private void current(String content) {
    write(schemas().resolve("voice/transcription.v1.schema.json"), content);
  }

  private void released(String subject, int version, String content) {
    write(history().resolve(subject).resolve("v" + version + ".schema.json"), content);
  }

  private SchemaHistoryReport run(UndeclaredProperties mode) {
    return SchemaHistoryCheck.builder()
        .schemasDirectory(schemas())
        .historyDirectory(history())
        .idBase(ID_BASE)
        .undeclaredProperties(mode)
        .build()
        .run();
  }

  private SchemaHistoryEntry only(SchemaHistoryReport r) {
    assertThat(r.entries()).hasSize(1);
    return r.entries().get(0);
  }

  @Test
  void aSchemaWithoutHistoryIsNew() {
    current(V1);
    SchemaHistoryReport r = run(UndeclaredProperties.ANY);
    SchemaHistoryEntry e = only(r);
    assertThat(e.status()).isEqualTo(Status.NEW);
    assertThat(r.isPassed()).isTrue();
    assertThat(e.subject()).isEqualTo("transcription.voice.completed");
    assertThat(e.describe())
        .isEqualTo(
            "voice/transcription.v1.schema.json (event transcription.voice.completed, version 1):"
                + " new, nothing to check (no history yet)");
  }

  @Test
  void anUnchangedReleasedSchemaIsCompatibleAtTheDefaultLevel() {
    current(V1);
    released("transcription.voice.completed", 1, V1);
    SchemaHistoryEntry e = only(run(UndeclaredProperties.ANY));
    assertThat(e.status()).isEqualTo(Status.COMPATIBLE);
    assertThat(e.level()).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(e.historyVersions()).containsExactly(1);
    assertThat(e.describe()).endsWith("compatible at BACKWARD with history v1");
  }

  @Test
  void anOptionalFieldAddedPassesOnlyWhenWritersSendOnlyDeclaredProperties() {
    released("transcription.voice.completed", 1, V1);
    current(schema(",\"version\":2", ",\"speaker\":{\"type\":[\"string\",\"null\"]}", "\"text\""));
    assertThat(only(run(UndeclaredProperties.ABSENT)).status()).isEqualTo(Status.COMPATIBLE);
    SchemaHistoryEntry strict = only(run(UndeclaredProperties.ANY));
    assertThat(strict.status()).isEqualTo(Status.INCOMPATIBLE);
    assertThat(strict.report().orElseThrow().rules()).containsExactly("property-added-open");
  }

  @Test
  void aNewRequiredFieldFailsNamingFileEventLevelRulePointerAndVersion() {
    released("transcription.voice.completed", 1, V1);
    current(
        schema(
            ",\"version\":2",
            ",\"speaker\":{\"type\":[\"string\",\"null\"]}",
            "\"text\",\"speaker\""));
    SchemaHistoryReport r = run(UndeclaredProperties.ABSENT);
    assertThat(r.isPassed()).isFalse();
    assertThat(r.failures()).hasSize(1);
    assertThat(r.describeFailures())
        .endsWith(
            "voice/transcription.v1.schema.json (event transcription.voice.completed, version 2):"
                + " not compatible at BACKWARD with history v1: 1 incompatibility\n"
                + "  required-added at /speaker: 'speaker' is now required (breaks BACKWARD)"
                + " [against v1]");
    assertThat(r.summary()).endsWith("1 subject, 0 compatible, 0 new, 1 failed");
  }

  @Test
  void theLevelComesFromTheSchemaAndTransitiveLevelsNameTheOldVersion() {
    String enumV1 = schema("", ",\"kind\":{\"enum\":[\"a\",\"b\"]}", "\"text\"");
    String enumV2 = schema(",\"version\":2", ",\"kind\":{\"enum\":[\"a\"]}", "\"text\"");
    released("transcription.voice.completed", 1, enumV1);
    released("transcription.voice.completed", 2, enumV2);
    current(
        schema(
            ",\"version\":3,\"compatibility\":\"backward-transitive\"",
            ",\"kind\":{\"enum\":[\"a\",\"c\"]}",
            "\"text\""));
    SchemaHistoryEntry e = only(run(UndeclaredProperties.ABSENT));
    assertThat(e.level()).isEqualTo(CompatibilityLevel.BACKWARD_TRANSITIVE);
    assertThat(e.describe())
        .contains("not compatible at BACKWARD_TRANSITIVE with history v1, v2")
        .contains("enum-value-removed at /kind: value \"b\" was allowed and no longer is")
        .endsWith("[against v1]");

    current(
        schema(
            ",\"version\":3,\"compatibility\":\"NONE\"", ",\"kind\":{\"type\":\"integer\"}", ""));
    assertThat(only(run(UndeclaredProperties.ANY)).status()).isEqualTo(Status.COMPATIBLE);
  }

  @Test
  void aReleasedVersionAboveTheDeclaredOneIsAnError() {
    released("transcription.voice.completed", 1, V1);
    released("transcription.voice.completed", 2, V1);
    current(V1);
    SchemaHistoryEntry e = only(run(UndeclaredProperties.ANY));
    assertThat(e.status()).isEqualTo(Status.ERROR);
    assertThat(e.problems())
        .singleElement()
        .asString()
        .isEqualTo(
            "transcription.voice.completed/v2.schema.json is released version 2, above the"
                + " version 1 that voice/transcription.v1.schema.json declares in"
                + " /x-bloodbank/version: raise it to at least 2");
  }

  @Test
  void badXBloodbankValuesAndStrayHistoryFilesAreErrorsNamingFileAndPointer() {
    released("transcription.voice.completed", 1, V1);
    write(history().resolve("transcription.voice.completed/v2.json"), V1);
    current(schema(",\"version\":\"2\",\"compatibility\":\"sideways\"", "", "\"text\""));
    SchemaHistoryEntry e = only(run(UndeclaredProperties.ANY));
    assertThat(e.status()).isEqualTo(Status.ERROR);
    assertThat(e.problems())
        .containsExactly(
            "voice/transcription.v1.schema.json at /x-bloodbank/version: \"2\" is not a version"
                + " (1, 2, ...)",
            "voice/transcription.v1.schema.json at /x-bloodbank/compatibility: compatibility"
                + " level 'sideways' is not one of NONE, BACKWARD, BACKWARD_TRANSITIVE, FORWARD,"
                + " FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE",
            "transcription.voice.completed/v2.json: not a released version; history files are"
                + " named v<N>.schema.json");
  }

  @Test
  void aHistoryWithoutSchemaIsAnError() {
    current(V1);
    released("transcription.voice.completed", 1, V1);
    released("fireflies.transcript.ready", 1, "{\"type\":\"object\"}");
    SchemaHistoryReport r = run(UndeclaredProperties.ANY);
    assertThat(r.failures())
        .singleElement()
        .satisfies(
            e -> {
              assertThat(e.subject()).isEqualTo("fireflies.transcript.ready");
              assertThat(e.schemaFile()).isEmpty();
              assertThat(e.describe())
                  .startsWith("history fireflies.transcript.ready (subject")
                  .contains("no schema under");
            });
  }

  @Test
  void sharedDefinitionsAreSubjectsByPathAndRefsResolveInTheSchemasDirectory() {
    String source =
        "{\"$id\":\"https://schemas.example.test/common/source.v1.schema.json\","
            + "\"type\":\"object\",\"properties\":{\"app\":{\"type\":\"string\"}}}";
    write(schemas().resolve("common/source.v1.schema.json"), source);
    released("common/source.v1", 1, source);
    String withRef =
        schema(",\"version\":2", ",\"source\":{\"$ref\":\"../common/source.v1.schema.json\"}", "");
    released("transcription.voice.completed", 1, V1);
    current(withRef);
    SchemaHistoryReport r = run(UndeclaredProperties.ABSENT);
    assertThat(r.entries())
        .extracting(SchemaHistoryEntry::subject)
        .containsExactly("common/source.v1", "transcription.voice.completed");
    assertThat(r.entries().get(0).eventType()).isEmpty();
    assertThat(r.entries().get(0).status()).isEqualTo(Status.COMPATIBLE);
    // 'text' is no longer required: compatible for BACKWARD; the $ref resolved on disk.
    assertThat(r.entries().get(1).status()).as(r.describe()).isEqualTo(Status.COMPATIBLE);

    // A $ref the directory cannot serve is an error of that schema, not a crash. (Under ABSENT
    // the new property is not even reached: old writers never send it.)
    current(
        schema(",\"version\":2", ",\"source\":{\"$ref\":\"../common/gone.v1.schema.json\"}", ""));
    SchemaHistoryEntry broken = run(UndeclaredProperties.ANY).entries().get(1);
    assertThat(broken.status()).isEqualTo(Status.ERROR);
    assertThat(broken.problems()).singleElement().asString().contains("common/gone.v1.schema.json");
  }

  @Test
  void withoutIdBaseRelativeRefsResolveBesideTheFile() {
    write(
        schemas().resolve("a/item.schema.json"),
        "{\"type\":\"object\",\"properties\":{\"n\":{\"type\":\"integer\"}}}");
    String order =
        "{\"type\":\"object\",\"properties\":{\"item\":{\"$ref\":\"item.schema.json\"}}}";
    write(schemas().resolve("a/order.schema.json"), order);
    write(history().resolve("a/order/v1.schema.json"), "{\"type\":\"object\"}");
    SchemaHistoryReport r =
        SchemaHistoryCheck.builder()
            .schemasDirectory(schemas())
            .historyDirectory(history())
            .build()
            .run();
    assertThat(r.entries()).extracting(SchemaHistoryEntry::subject).contains("a/order");
    SchemaHistoryEntry e =
        r.entries().stream().filter(x -> x.subject().equals("a/order")).findFirst().orElseThrow();
    assertThat(e.report().orElseThrow().rules()).containsExactly("property-added-open");
  }

  @Test
  void badConfigurationIsRejected() {
    assertThatThrownBy(() -> SchemaHistoryCheck.builder().schemasDirectory(tmp).build())
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("historyDirectory=null");
    assertThatThrownBy(() -> SchemaHistoryCheck.builder().idBase(URI.create("https://x.test/a")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("https://x.test/a");
    assertThatThrownBy(
            () ->
                SchemaHistoryCheck.builder()
                    .schemasDirectory(tmp.resolve("missing"))
                    .historyDirectory(tmp)
                    .build()
                    .run())
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("missing");
    assertThat(SchemaHistoryCheck.subjectOf("common/source.v1.schema.json", json("{}")))
        .isEqualTo("common/source.v1");
    assertThat(List.of(SchemaHistoryCheck.HISTORY_RESOURCE_PREFIX))
        .containsExactly("META-INF/bloodbank/schema-history/");
  }

  private static com.fasterxml.jackson.databind.JsonNode json(String s) {
    try {
      return EvolutionCases.MAPPER.readTree(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
