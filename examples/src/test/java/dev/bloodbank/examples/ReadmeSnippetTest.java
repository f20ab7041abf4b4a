package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** The README's code samples must be the compiled code of the examples, not prose. */
class ReadmeSnippetTest {
  @Test
  void readmeQuickstartIsTheExampleCode() throws IOException {
    Path root = Path.of("..").toAbsolutePath().normalize();
    String readme = Files.readString(root.resolve("README.md"));
    String example =
        Files.readString(
            root.resolve("examples/src/main/java/dev/bloodbank/examples/Quickstart.java"));

    Matcher inReadme =
        Pattern.compile("<!-- snippet:quickstart -->\\n```java\\n(.*?)```\\n", Pattern.DOTALL)
            .matcher(readme);
    assertThat(inReadme.find()).as("README has the quickstart snippet").isTrue();
    Matcher inCode =
        Pattern.compile("// \\[quickstart]\\n(.*?)\\n\\s*// \\[quickstart]", Pattern.DOTALL)
            .matcher(example);
    assertThat(inCode.find()).as("Quickstart.java has the snippet markers").isTrue();

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
