package dev.bloodbank.evolution;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.evolution.EvolutionCases.Case;
import dev.bloodbank.evolution.EvolutionCases.Sample;
import dev.bloodbank.evolution.Incompatibility.Direction;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The change table of {@code evolution/cases.json} under {@link UndeclaredProperties#ABSENT}: each
 * case's {@code absent} expectations (its plain ones when it has none), cross-checked with
 * instances that writers may send under that assumption (no undeclared names in records).
 */
class UndeclaredPropertiesTest {

  static Stream<Case> cases() {
    return EvolutionCases.cases().stream();
  }

  static Stream<Arguments> directions() {
    return cases().flatMap(c -> Stream.of(Direction.values()).map(d -> Arguments.of(c, d)));
  }

  @Test
  void anyIsTheDefault() {
    assertThat(SchemaCompatibility.create().undeclaredProperties())
        .isEqualTo(UndeclaredProperties.ANY);
    assertThat(EvolutionCases.CHECKER_ABSENT.undeclaredProperties())
        .isEqualTo(UndeclaredProperties.ABSENT);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void verdictsMatchTheTable(Case c) {
    SchemaCompatibility checker = EvolutionCases.CHECKER_ABSENT;
    CompatibilityReport backward = checker.check(c.old(), c.now(), CompatibilityLevel.BACKWARD);
    CompatibilityReport forward = checker.check(c.old(), c.now(), CompatibilityLevel.FORWARD);
    assertThat(EvolutionCases.found(backward))
        .as("BACKWARD: %s", backward)
        .isEqualTo(c.expected(Direction.BACKWARD, UndeclaredProperties.ABSENT));
    assertThat(EvolutionCases.found(forward))
        .as("FORWARD: %s", forward)
        .isEqualTo(c.expected(Direction.FORWARD, UndeclaredProperties.ABSENT));
  }

  @ParameterizedTest(name = "{0} {1}")
  @MethodSource("directions")
  void generatedInstancesAgreeWithTheVerdict(Case c, Direction d) {
    List<Sample> samples = EvolutionCases.samples(c, d, UndeclaredProperties.ABSENT);
    assertThat(samples).as("instances valid under the writer").isNotEmpty();
    var expected = c.expected(d, UndeclaredProperties.ABSENT);
    if (expected.isEmpty()) {
      assertThat(samples)
          .as("compatible %s: every writer instance is valid under the reader", d)
          .allSatisfy(s -> assertThat(s.readerAccepts()).as("%s", s.instance()).isTrue());
    } else if (expected.stream().noneMatch(r -> r.startsWith("unsupported-change"))) {
      assertThat(samples)
          .as("incompatible %s (%s): a counterexample", d, expected)
          .anyMatch(s -> !s.readerAccepts());
    }
  }

  @Test
  void aFieldRemovedAndAddedBackWithAnotherTypeIsCaughtOnlyTransitively() {
    JsonNode v1 = json("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
    JsonNode v2 = json("{\"type\":\"object\",\"properties\":{}}");
    JsonNode v3 = json("{\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"integer\"}}}");
    SchemaCompatibility checker =
        SchemaCompatibility.builder().undeclaredProperties(UndeclaredProperties.ABSENT).build();
    assertThat(checker.check(List.of(v1, v2), v3, CompatibilityLevel.FULL).isCompatible()).isTrue();
    assertThat(
            EvolutionCases.found(
                checker.check(List.of(v1, v2), v3, CompatibilityLevel.FULL_TRANSITIVE)))
        .containsExactly("type-changed /a");
  }

  private static JsonNode json(String s) {
    try {
      return EvolutionCases.MAPPER.readTree(s);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
