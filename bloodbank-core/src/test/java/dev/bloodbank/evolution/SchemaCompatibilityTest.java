package dev.bloodbank.evolution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.EvolutionCases.Case;
import dev.bloodbank.evolution.EvolutionCases.Sample;
import dev.bloodbank.evolution.Incompatibility.Direction;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** The change table of {@code evolution/cases.json}, cross-checked with generated instances. */
class SchemaCompatibilityTest {

  static Stream<Case> cases() {
    return EvolutionCases.cases().stream();
  }

  static Stream<Arguments> directions() {
    return cases().flatMap(c -> Stream.of(Direction.values()).map(d -> Arguments.of(c, d)));
  }

  @Test
  void theTableHasAtLeastFortyCases() {
    assertThat(EvolutionCases.cases()).hasSizeGreaterThanOrEqualTo(40);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verdictsMatchTheTable(Case c) {
    CompatibilityReport backward =
        EvolutionCases.CHECKER.check(c.old(), c.now(), CompatibilityLevel.BACKWARD);
    CompatibilityReport forward =
        EvolutionCases.CHECKER.check(c.old(), c.now(), CompatibilityLevel.FORWARD);
    CompatibilityReport full =
        EvolutionCases.CHECKER.check(c.old(), c.now(), CompatibilityLevel.FULL);
    assertThat(EvolutionCases.found(backward)).as("BACKWARD: %s", backward).isEqualTo(c.backward());
    assertThat(EvolutionCases.found(forward)).as("FORWARD: %s", forward).isEqualTo(c.forward());
    assertThat(full.isCompatible()).isEqualTo(c.backward().isEmpty() && c.forward().isEmpty());
    assertThat(full.incompatibilities())
        .containsExactlyElementsOf(
            Stream.concat(
                    backward.incompatibilities().stream(), forward.incompatibilities().stream())
                .toList());
    assertThat(backward.incompatibilities()).allMatch(i -> i.direction() == Direction.BACKWARD);
    assertThat(forward.incompatibilities()).allMatch(i -> i.direction() == Direction.FORWARD);
    assertThat(
            EvolutionCases.CHECKER.check(c.old(), c.now(), CompatibilityLevel.NONE).isCompatible())
        .isTrue();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void everySchemaIsFullyCompatibleWithItself(Case c) {
    assertThat(EvolutionCases.CHECKER.check(c.old(), c.old(), CompatibilityLevel.FULL).describe())
        .isEqualTo("compatible at FULL");
    assertThat(EvolutionCases.CHECKER.check(c.now(), c.now(), CompatibilityLevel.FULL).describe())
        .isEqualTo("compatible at FULL");
  }

  /**
   * A compatible verdict is checked by instances: whatever the writer accepts, the reader must. An
   * incompatible one needs a counterexample among them, except where the checker only says it
   * cannot tell ({@code unsupported-change}).
   */
  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("directions")
  void generatedInstancesAgreeWithTheVerdict(Case c, Direction d) {
    List<Sample> samples = EvolutionCases.samples(c, d);
    assertThat(samples).as("instances valid under the writer").isNotEmpty();
    if (c.expected(d).isEmpty()) {
      assertThat(samples)
          .as("compatible %s: every writer instance is valid under the reader", d)
          .allSatisfy(s -> assertThat(s.readerAccepts()).as("%s", s.instance()).isTrue());
    } else if (c.expected(d).stream().noneMatch(r -> r.startsWith("unsupported-change"))) {
      assertThat(samples)
          .as("incompatible %s (%s): a counterexample", d, c.expected(d))
          .anyMatch(s -> !s.readerAccepts());
    }
  }

  @Test
  void transitiveLevelsCheckEveryEarlierVersion() {
    JsonNode v1 = json("{\"enum\":[\"a\",\"b\"]}");
    JsonNode v2 = json("{\"enum\":[\"a\"]}"); // accepted when the subject's level was NONE
    JsonNode v3 = json("{\"enum\":[\"a\",\"c\"]}");
    SchemaCompatibility checker = SchemaCompatibility.create();
    assertThat(checker.check(List.of(v1, v2), v3, CompatibilityLevel.BACKWARD).isCompatible())
        .isTrue();
    CompatibilityReport transitive =
        checker.check(List.of(v1, v2), v3, CompatibilityLevel.BACKWARD_TRANSITIVE);
    assertThat(transitive.incompatibilities())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.rule()).isEqualTo("enum-value-removed");
              assertThat(i.previousIndex()).isZero();
              assertThat(i.direction()).isEqualTo(Direction.BACKWARD);
            });
    assertThat(transitive.describe())
        .isEqualTo(
            "not compatible at BACKWARD_TRANSITIVE: 1 incompatibility\n"
                + "enum-value-removed at /: value \"b\" was allowed and no longer is (breaks"
                + " BACKWARD) [against version #0]");
    assertThat(checker.check(List.of(v1, v2), v3, CompatibilityLevel.FULL_TRANSITIVE).rules())
        .containsExactly("enum-value-added", "enum-value-removed");
  }

  @Test
  void describeNamesRulePointerMessageAndDirection() {
    JsonNode old =
        json(
            "{\"type\":\"object\",\"properties\":{\"audio_metadata\":{\"type\":\"object\","
                + "\"properties\":{\"sample_rate\":{\"type\":\"integer\",\"minimum\":1}}}}}");
    JsonNode now =
        json(
            "{\"type\":\"object\",\"properties\":{\"audio_metadata\":{\"type\":\"object\","
                + "\"properties\":{\"sample_rate\":{\"type\":\"integer\",\"minimum\":8000}}}}}");
    CompatibilityReport r = SchemaCompatibility.create().check(old, now, CompatibilityLevel.FULL);
    assertThat(r.level()).isEqualTo(CompatibilityLevel.FULL);
    assertThat(r.incompatibilities())
        .singleElement()
        .satisfies(
            i -> {
              assertThat(i.pointer()).isEqualTo("/audio_metadata/sample_rate");
              assertThat(i.schemaLocation())
                  .isEqualTo("/properties/audio_metadata/properties/sample_rate");
              assertThat(i.toString())
                  .isEqualTo(
                      "minimum-raised at /audio_metadata/sample_rate: minimum 1 -> minimum 8000"
                          + " (breaks BACKWARD)");
            });
  }

  @Test
  void catalogRefsResolveOnTheClasspathByDefaultAndMissingOnesFailNamingTheRef() {
    JsonNode schema = json("{\"properties\":{\"x\":{\"$ref\":\"nowhere.v1.schema.json\"}}}");
    JsonNode other =
        json("{\"properties\":{\"x\":{\"$ref\":\"nowhere.v1.schema.json\"}},\"title\":\"t\"}");
    // Equal documents are compatible without resolving anything.
    assertThat(
            SchemaCompatibility.create()
                .check(schema, schema, CompatibilityLevel.FULL)
                .isCompatible())
        .isTrue();
    JsonNode changed =
        json("{\"properties\":{\"x\":{\"$ref\":\"nowhere.v1.schema.json\"},\"y\":{}}}");
    assertThatThrownBy(
            () -> SchemaCompatibility.create().check(other, changed, CompatibilityLevel.FULL))
        .isInstanceOf(BloodbankException.class)
        .hasMessageContaining("https://schemas.bloodbank.dev/nowhere.v1.schema.json");
  }

  @Test
  void levelsParseIgnoringCaseAndNameTheAllowedValues() {
    assertThat(CompatibilityLevel.parse("backward")).isEqualTo(CompatibilityLevel.BACKWARD);
    assertThat(CompatibilityLevel.parse("Full-Transitive"))
        .isEqualTo(CompatibilityLevel.FULL_TRANSITIVE);
    assertThat(CompatibilityLevel.parse(" none ")).isEqualTo(CompatibilityLevel.NONE);
    assertThatThrownBy(() -> CompatibilityLevel.parse("sideways"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(
            "compatibility level 'sideways' is not one of NONE, BACKWARD, BACKWARD_TRANSITIVE,"
                + " FORWARD, FORWARD_TRANSITIVE, FULL, FULL_TRANSITIVE");
  }

  @Test
  void badArgumentsAreRejected() {
    SchemaCompatibility checker = SchemaCompatibility.create();
    assertThatThrownBy(() -> checker.check(List.of(), json("{}"), CompatibilityLevel.FULL))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("history is empty");
    assertThatThrownBy(
            () -> SchemaCompatibility.builder().baseUri(java.net.URI.create("relative/")))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("relative/");
  }

  private static JsonNode json(String s) {
    try {
      return EvolutionCases.MAPPER.readTree(s);
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
