package dev.bloodbank.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The metrics setting from the environment and a file, with the documented precedence. */
class ServerOptionsTest {
  @Test
  void metricsAreOnByDefault() {
    assertThat(ServerOptions.builder().build().metrics()).isTrue();
    assertThat(ServerOptions.fromEnvironment(Map.of(), null).build().metrics()).isTrue();
    assertThat(ServerOptions.builder().metrics(false).build().metrics()).isFalse();
  }

  @Test
  void theEnvironmentWinsOverTheFileAndTheFileOverTheDefault(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("server.properties");
    Files.writeString(file, "server.metrics=false\n");
    assertThat(ServerOptions.fromEnvironment(Map.of(), file).build().metrics()).isFalse();
    assertThat(
            ServerOptions.fromEnvironment(Map.of("BLOODBANK_SERVER_METRICS", "TRUE"), file)
                .build()
                .metrics())
        .isTrue();
    assertThat(
            ServerOptions.fromEnvironment(Map.of("BLOODBANK_SERVER_METRICS", "false"), null)
                .build()
                .metrics())
        .isFalse();
    // Set but blank counts as unset.
    assertThat(
            ServerOptions.fromEnvironment(Map.of("BLOODBANK_SERVER_METRICS", " "), file)
                .build()
                .metrics())
        .isFalse();
  }

  @Test
  void aBadValueNamesWhereItCameFrom(@TempDir Path dir) throws Exception {
    assertThatThrownBy(
            () -> ServerOptions.fromEnvironment(Map.of("BLOODBANK_SERVER_METRICS", "off"), null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("BLOODBANK_SERVER_METRICS")
        .hasMessageContaining("'off'");
    Path file = dir.resolve("server.properties");
    Files.writeString(file, "server.metrics=yes\n");
    assertThatThrownBy(() -> ServerOptions.fromEnvironment(Map.of(), file))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("server.metrics")
        .hasMessageContaining("'yes'");
  }
}
