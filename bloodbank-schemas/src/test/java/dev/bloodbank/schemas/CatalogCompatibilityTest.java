package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.evolution.CompatibilityLevel;
import dev.bloodbank.evolution.CompatibilityReport;
import dev.bloodbank.evolution.SchemaCompatibility;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every catalog schema is FULL_TRANSITIVE compatible with itself (issue #21). The candidate differs
 * from the previous version only in annotations, so the checker cannot take its shortcut for equal
 * documents: it walks the whole schema and resolves every {@code $ref}, to {@code $defs} and to
 * sibling files on the class path.
 */
class CatalogCompatibilityTest {
  private static final SchemaCompatibility CHECKER = SchemaCompatibility.create();

  static Stream<String> schemaFiles() {
    return Examples.schemaFiles().stream();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaFiles")
  void everySchemaIsCompatibleWithItself(String schemaFile) {
    JsonNode schema = read(schemaFile);
    ObjectNode annotated = schema.deepCopy();
    annotated.put("description", "a new description");
    annotated.put("$comment", "annotations are not validation");
    CompatibilityReport report =
        CHECKER.check(
            java.util.List.of(schema, schema), annotated, CompatibilityLevel.FULL_TRANSITIVE);
    assertThat(report.isCompatible()).as(report.describe()).isTrue();
    assertThat(CHECKER.check(schema, schema, CompatibilityLevel.FULL).isCompatible()).isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("schemaFiles")
  void droppingARequiredFieldBreaksOnlyForward(String schemaFile) {
    JsonNode schema = read(schemaFile);
    org.junit.jupiter.api.Assumptions.assumeTrue(schema.path("required").size() > 0);
    ObjectNode candidate = schema.deepCopy();
    String dropped =
        ((com.fasterxml.jackson.databind.node.ArrayNode) candidate.get("required"))
            .remove(0)
            .textValue();
    assertThat(CHECKER.check(schema, candidate, CompatibilityLevel.BACKWARD).isCompatible())
        .isTrue();
    assertThat(CHECKER.check(schema, candidate, CompatibilityLevel.FORWARD).incompatibilities())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.rule()).isEqualTo("required-removed");
              assertThat(i.pointer()).isEqualTo("/" + dropped);
            });
  }

  private static JsonNode read(String schemaFile) {
    try (InputStream in =
        CatalogCompatibilityTest.class
            .getClassLoader()
            .getResourceAsStream(Examples.RESOURCE_BASE + schemaFile)) {
      return Examples.MAPPER.readTree(in);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
