package dev.bloodbank.evolution;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.evolution.EvolutionCases.Case;
import dev.bloodbank.evolution.EvolutionCases.Sample;
import dev.bloodbank.evolution.Incompatibility.Direction;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A second opinion on the instance cross-check of {@link SchemaCompatibilityTest}: Debian's
 * python3-jsonschema ({@code Draft202012Validator}, format checker on) judges every generated
 * (schema, instance) pair, writer's and reader's, and must agree with networknt. Instances whose
 * schemas use a format the Python checker does not know (date-time needs a package Debian lacks)
 * are left out. Needs {@code /usr/bin/python3} with {@code jsonschema}: skipped without it, failed
 * without it when {@code CI} is set.
 */
class PythonJsonSchemaIT {
  private static final String PYTHON = "/usr/bin/python3";

  private static final String SCRIPT =
      String.join(
          "\n",
          "import json, sys",
          "import jsonschema",
          "from jsonschema import Draft202012Validator, RefResolver",
          "data = json.load(open(sys.argv[1]))",
          "docs = data['documents']",
          "checker = getattr(Draft202012Validator, 'FORMAT_CHECKER', None)",
          "if checker is None:",
          "    checker = jsonschema.draft202012_format_checker",
          "results = []",
          "for t in data['triples']:",
          "    s = t['schema']",
          "    v = Draft202012Validator(s, resolver=RefResolver.from_schema(s, store=docs),"
              + " format_checker=checker)",
          "    results.append(v.is_valid(t['instance']))",
          "json.dump({'formats': sorted(checker.checkers), 'results': results}, sys.stdout)",
          "");

  @BeforeAll
  static void pythonJsonSchemaIsThere() throws Exception {
    boolean ok;
    try {
      Process p =
          new ProcessBuilder(PYTHON, "-c", "import jsonschema").redirectErrorStream(true).start();
      ok = p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      ok = false;
    }
    if (!ok && System.getenv("CI") != null) {
      fail(PYTHON + " -c 'import jsonschema' failed: install python3-jsonschema (.ci/run does)");
    }
    Assumptions.assumeTrue(ok, PYTHON + " with jsonschema (python3-jsonschema) is not installed");
  }

  @Test
  void pythonJsonSchemaAgreesWithNetworkntOnEveryGeneratedInstance(@TempDir Path dir)
      throws Exception {
    ObjectNode input = EvolutionCases.MAPPER.createObjectNode();
    input.set("documents", EvolutionCases.file().get("documents"));
    ArrayNode triples = input.putArray("triples");
    List<String> labels = new ArrayList<>();
    List<Boolean> expected = new ArrayList<>();
    for (Case c : EvolutionCases.cases()) {
      for (Direction d : Direction.values()) {
        for (Sample s : EvolutionCases.samples(c, d)) {
          add(triples, c.writer(d), s.instance());
          labels.add(c.name() + " " + d + " writer " + s.instance());
          expected.add(true);
          add(triples, c.reader(d), s.instance());
          labels.add(c.name() + " " + d + " reader " + s.instance());
          expected.add(s.readerAccepts());
        }
      }
    }
    Path file = dir.resolve("triples.json");
    EvolutionCases.MAPPER.writeValue(file.toFile(), input);
    Path script = dir.resolve("check.py");
    Files.writeString(script, SCRIPT, StandardCharsets.UTF_8);
    Process p =
        new ProcessBuilder(PYTHON, script.toString(), file.toString())
            .redirectError(dir.resolve("stderr.txt").toFile())
            .start();
    byte[] stdout = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue())
        .as("python: %s", Files.readString(dir.resolve("stderr.txt")))
        .isZero();
    JsonNode out = EvolutionCases.MAPPER.readTree(stdout);
    Set<String> formats = new HashSet<>();
    out.get("formats").forEach(f -> formats.add(f.textValue()));
    List<String> disagreements = new ArrayList<>();
    int compared = 0;
    for (int i = 0; i < expected.size(); i++) {
      if (usesUnknownFormat(triples.get(i).get("schema"), formats)) {
        continue;
      }
      compared++;
      if (out.get("results").get(i).booleanValue() != expected.get(i)) {
        disagreements.add(labels.get(i) + ": networknt " + expected.get(i));
      }
    }
    assertThat(disagreements).isEmpty();
    assertThat(compared).as("pairs compared").isGreaterThan(500);
  }

  private static void add(ArrayNode triples, JsonNode schema, JsonNode instance) {
    ObjectNode t = triples.addObject();
    t.set("schema", schema);
    t.set("instance", instance);
  }

  private static boolean usesUnknownFormat(JsonNode n, Set<String> known) {
    if (n.isObject()) {
      JsonNode f = n.get("format");
      if (f != null && f.isTextual() && !known.contains(f.textValue())) {
        return true;
      }
    }
    for (JsonNode child : n) {
      if (usesUnknownFormat(child, known)) {
        return true;
      }
    }
    return false;
  }
}
