package dev.bloodbank.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.evolution.SchemaHistoryCheck;
import dev.bloodbank.evolution.SchemaHistoryEntry;
import dev.bloodbank.evolution.SchemaHistoryReport;
import dev.bloodbank.evolution.UndeclaredProperties;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The schema evolution gate of this module's build (issue #21), run as the build runs it: {@code
 * src/build/SchemaHistoryGate.java} on the real catalog, and on a copy with a deliberately breaking
 * change.
 */
class SchemaHistoryGateTest {
  static final Path SCHEMAS = Path.of("src/main/resources/dev/bloodbank/schemas");
  static final Path HISTORY = Path.of("src/main/schema-history");
  static final String ID_BASE = "https://schemas.bloodbank.dev/";

  @TempDir Path tmp;

  /** What the gate printed and its exit status. */
  record Run(int exit, String out, String err) {}

  static Run gate(Path schemas, Path history) throws IOException, InterruptedException {
    // Surefire runs tests from a manifest-only jar; the real class path is in this property.
    String classpath =
        System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(
        List.of(
            "-classpath",
            classpath,
            "src/build/SchemaHistoryGate.java",
            schemas.toString(),
            history.toString(),
            ID_BASE));
    Path out = Files.createTempFile("gate", ".out");
    Path err = Files.createTempFile("gate", ".err");
    try {
      Process p =
          new ProcessBuilder(command)
              .redirectOutput(out.toFile())
              .redirectError(err.toFile())
              .start();
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        throw new AssertionError("the gate did not finish in 120 s");
      }
      return new Run(p.exitValue(), Files.readString(out), Files.readString(err));
    } finally {
      Files.deleteIfExists(out);
      Files.deleteIfExists(err);
    }
  }

  @Test
  void theCatalogPassesItsGate() throws Exception {
    Run run = gate(SCHEMAS, HISTORY);
    assertThat(run.exit()).as(run.err()).isZero();
    assertThat(run.out()).contains("0 failed");
  }

  @Test
  void aNewRequiredFieldInTranscriptionFailsTheGateNamingEventRuleAndPointer() throws Exception {
    Path schemas = copy(SCHEMAS, tmp.resolve("schemas"));
    Path history = copy(HISTORY, tmp.resolve("history"));
    Path file = schemas.resolve("voice/transcription.v1.schema.json");
    ObjectNode schema = (ObjectNode) Examples.MAPPER.readTree(file.toFile());
    ((ObjectNode) schema.get("properties"))
        .putObject("speaker")
        .put("type", "string")
        .put("description", "Who spoke.");
    ((ArrayNode) schema.get("required")).add("speaker");
    ((ObjectNode) schema.get("x-bloodbank")).put("version", 2);
    Examples.MAPPER.writeValue(file.toFile(), schema);

    Run run = gate(schemas, history);

    assertThat(run.exit()).isEqualTo(1);
    assertThat(run.err())
        .contains(
            "voice/transcription.v1.schema.json (event transcription.voice.completed, version 2):"
                + " not compatible at BACKWARD with history v1: 1 incompatibility")
        .contains(
            "required-added at /speaker: 'speaker' is now required (breaks BACKWARD) [against v1]")
        .contains("1 failed");
  }

  @Test
  void anOptionalFieldAddedToTranscriptionPassesTheGate() throws Exception {
    Path schemas = copy(SCHEMAS, tmp.resolve("schemas"));
    Path history = copy(HISTORY, tmp.resolve("history"));
    Path file = schemas.resolve("voice/transcription.v1.schema.json");
    ObjectNode schema = (ObjectNode) Examples.MAPPER.readTree(file.toFile());
    ObjectNode speaker = ((ObjectNode) schema.get("properties")).putObject("speaker");
    speaker.putArray("type").add("string").add("null");
    ((ObjectNode) schema.get("x-bloodbank")).put("version", 2);
    Examples.MAPPER.writeValue(file.toFile(), schema);

    SchemaHistoryReport report = check(schemas, history);
    assertThat(report.isPassed()).as(report.describeFailures()).isTrue();
  }

  @Test
  void everyCatalogSchemaIsCompatibleWithItsReleasedVersions() {
    SchemaHistoryReport report = check(SCHEMAS, HISTORY);
    assertThat(report.isPassed()).as(report.describeFailures()).isTrue();
    assertThat(report.entries())
        .extracting(SchemaHistoryEntry::subject)
        .contains("transcription.voice.completed", "common/source.v1", "common/envelope.v1");
  }

  @Test
  void theHistoryIsPackagedUnderMetaInf() throws IOException {
    String resource =
        SchemaHistoryCheck.HISTORY_RESOURCE_PREFIX + "transcription.voice.completed/v1.schema.json";
    try (InputStream in = getClass().getClassLoader().getResourceAsStream(resource)) {
      assertThat(in).as(resource).isNotNull();
      assertThat(new String(in.readAllBytes(), StandardCharsets.UTF_8))
          .isEqualTo(
              Files.readString(HISTORY.resolve("transcription.voice.completed/v1.schema.json")));
    }
  }

  private static SchemaHistoryReport check(Path schemas, Path history) {
    return SchemaHistoryCheck.builder()
        .schemasDirectory(schemas)
        .historyDirectory(history)
        .idBase(URI.create(ID_BASE))
        .undeclaredProperties(UndeclaredProperties.ABSENT)
        .build()
        .run();
  }

  private static Path copy(Path from, Path to) throws IOException {
    try (Stream<Path> s = Files.walk(from)) {
      for (Path p : s.toList()) {
        Path target = to.resolve(from.relativize(p).toString());
        if (Files.isDirectory(p)) {
          Files.createDirectories(target);
        } else {
          Files.copy(p, target);
        }
      }
    }
    return to;
  }
}
