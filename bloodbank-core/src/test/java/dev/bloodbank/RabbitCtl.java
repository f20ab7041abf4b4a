package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

/** Drives the local broker with {@code rabbitmqctl} for fault tests. */
public final class RabbitCtl {
  private RabbitCtl() {}

  /** Closes every client connection on the broker, as an operator or a network fault would. */
  public static void closeAllConnections() throws Exception {
    java.io.File log = java.io.File.createTempFile("rabbitmqctl", ".log");
    Process p =
        new ProcessBuilder("rabbitmqctl", "close_all_connections", "closed by a Bloodbank test")
            .redirectErrorStream(true)
            .redirectOutput(log)
            .start();
    boolean finished = p.waitFor(60, TimeUnit.SECONDS);
    if (!finished) {
      p.destroyForcibly();
    }
    String out = java.nio.file.Files.readString(log.toPath());
    log.delete();
    assertThat(finished).as("rabbitmqctl finished within 60 s: %s", out).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }
}
