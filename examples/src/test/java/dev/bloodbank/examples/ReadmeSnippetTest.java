package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The README's code samples must be the compiled code of the examples, not prose. */
class ReadmeSnippetTest {

  /**
   * The README block between {@code <!-- snippet:NAME -->} and its end is the code between the two
   * {@code // [NAME]} markers of the source file, dedented.
   */
  @ParameterizedTest(name = "{0}")
  @CsvSource({
    "quickstart, examples/src/main/java/dev/bloodbank/examples/Quickstart.java",
    "testing, examples/src/test/java/dev/bloodbank/examples/HarnessExampleTest.java",
    "transcribe-wav, examples/src/main/java/dev/bloodbank/examples/TranscribeWav.java",
    "archive-replay, examples/src/main/java/dev/bloodbank/examples/ArchiveReplay.java",
    "dead-letters, examples/src/main/java/dev/bloodbank/examples/DeadLetterExample.java",
    "spring-boot-listener,"
        + " examples/spring-boot/src/main/java/dev/bloodbank/examples/springboot/TranscriptIndexer.java",
    "spring-boot-slice,"
        + " examples/spring-boot/src/test/java/dev/bloodbank/examples/springboot/TranscriptIndexerTest.java",
    "partitions, examples/src/main/java/dev/bloodbank/examples/PartitionedConsumer.java"
  })
  void readmeSnippetIsTheExampleCode(String name, String source) throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    String readme = Files.readString(root.resolve("README.md"));
    String example = Files.readString(root.resolve(source));

    Matcher inReadme =
        Pattern.compile(
                "<!-- snippet:" + Pattern.quote(name) + " -->\\n```java\\n(.*?)```\\n",
                Pattern.DOTALL)
            .matcher(readme);
    assertThat(inReadme.find()).as("README has the %s snippet", name).isTrue();
    Matcher inCode =
        Pattern.compile(
                "// \\["
                    + Pattern.quote(name)
                    + "]\\n(.*?)\\n\\s*// \\["
                    + Pattern.quote(name)
                    + "]",
                Pattern.DOTALL)
            .matcher(example);
    assertThat(inCode.find()).as("%s has the %s markers", source, name).isTrue();

    assertThat(inReadme.group(1).strip()).isEqualTo(dedent(inCode.group(1)).strip());
  }

  private static String dedent(String code) {
    int indent = Integer.MAX_VALUE;
    for (String line : code.split("\n")) {
      if (!line.isBlank()) {
        indent = Math.min(indent, line.length() - line.stripLeading().length());
      }
    }
    StringBuilder out = new StringBuilder();
    for (String line : code.split("\n")) {
      out.append(line.isBlank() ? "" : line.substring(indent)).append('\n');
    }
    return out.toString();
  }
}
