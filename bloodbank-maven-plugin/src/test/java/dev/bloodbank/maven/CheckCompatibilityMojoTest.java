package dev.bloodbank.maven;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.maven.plugin.MojoExecutionException;
import org.apache.maven.plugin.MojoFailureException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The {@code check-compatibility} goal on a schema module laid out in a temporary directory. */
class CheckCompatibilityMojoTest {
  private static final String V1 =
      "{\"$id\":\"https://schemas.example.test/orders/placed.v1.schema.json\","
          + "\"x-bloodbank\":{\"event_type\":\"orders.placed\"},"
          + "\"type\":\"object\",\"properties\":{\"id\":{\"type\":\"string\"},"
          + "\"customer\":{\"$ref\":\"../common/customer.v1.schema.json\"}},"
          + "\"required\":[\"id\"]}";
  private static final String CUSTOMER =
      "{\"$id\":\"https://schemas.example.test/common/customer.v1.schema.json\","
          + "\"type\":\"object\",\"properties\":{\"name\":{\"type\":\"string\"}}}";

  @TempDir Path project;
  CheckCompatibilityMojo mojo;

  @BeforeEach
  void layOut() throws IOException {
    write("src/main/resources/orders/placed.v1.schema.json", V1);
    write("src/main/resources/common/customer.v1.schema.json", CUSTOMER);
    write("src/main/schema-history/orders.placed/v1.schema.json", V1);
    write("src/main/schema-history/common/customer.v1/v1.schema.json", CUSTOMER);
    mojo = new CheckCompatibilityMojo();
    mojo.schemasDirectory = project.resolve("src/main/resources").toFile();
    mojo.historyDirectory = project.resolve("src/main/schema-history").toFile();
    mojo.idBase = "https://schemas.example.test";
  }

  private void write(String rel, String content) throws IOException {
    Path f = project.resolve(rel);
    Files.createDirectories(f.getParent());
    Files.writeString(f, content);
  }

  private void change(String properties, String required) throws IOException {
    write(
        "src/main/resources/orders/placed.v1.schema.json",
        V1.replace("\"x-bloodbank\":{", "\"x-bloodbank\":{\"version\":2,")
            .replace("\"required\":[\"id\"]", "\"required\":[" + required + "]")
            .replace("\"customer\":{", properties + "\"customer\":{"));
  }

  @Test
  void releasedSchemasUnchangedPass() throws Exception {
    mojo.execute();
  }

  @Test
  void aNewRequiredPropertyFailsNamingFileEventLevelRuleAndPointer() throws Exception {
    change("\"total\":{\"type\":\"number\"},", "\"id\",\"total\"");
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining(
            "orders/placed.v1.schema.json (event orders.placed, version 2): not compatible at"
                + " BACKWARD with history v1")
        .hasMessageContaining("required-added at /total")
        .hasMessageContaining("[against v1]");
  }

  @Test
  void anOptionalPropertyBreaksBackwardUnlessWritersSendOnlyDeclaredProperties() throws Exception {
    change("\"note\":{\"type\":\"string\"},", "\"id\"");
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("property-added-open at /note");
    mojo.undeclaredProperties = "absent";
    mojo.execute();
  }

  @Test
  void theDefaultLevelAppliesWhereTheSchemaNamesNone() throws Exception {
    change("", ""); // 'id' no longer required: compatible BACKWARD, breaks FORWARD
    mojo.execute();
    mojo.defaultLevel = "full";
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("required-removed at /id")
        .hasMessageContaining("not compatible at FULL");
  }

  @Test
  void skipAndAMissingSchemasDirectoryDoNothing() throws Exception {
    change("\"total\":{\"type\":\"number\"},", "\"id\",\"total\"");
    mojo.skip = true;
    mojo.execute();
    mojo.skip = false;
    mojo.schemasDirectory = project.resolve("nowhere").toFile();
    mojo.execute();
  }

  @Test
  void badParametersNameTheAllowedValues() {
    mojo.undeclaredProperties = "some";
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoExecutionException.class)
        .hasMessage("undeclaredProperties 'some' is not one of [ANY, ABSENT]");
    mojo.undeclaredProperties = "ANY";
    mojo.defaultLevel = "sideways";
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoExecutionException.class)
        .hasMessageContaining("NONE, BACKWARD");
    mojo.defaultLevel = "BACKWARD";
    mojo.idBase = "relative/";
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoExecutionException.class)
        .hasMessageContaining("relative/");
  }

  @Test
  void aHistoryVersionAboveTheDeclaredOneFails() throws Exception {
    write("src/main/schema-history/orders.placed/v2.schema.json", V1);
    assertThatThrownBy(mojo::execute)
        .isInstanceOf(MojoFailureException.class)
        .hasMessageContaining("orders.placed/v2.schema.json is released version 2");
    assertThat(mojo.historyDirectory).isDirectory();
  }
}
