package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.concurrent.TimeUnit;

/** Drives the local broker with {@code rabbitmqctl} for fault tests. */
public final class RabbitCtl {
  private RabbitCtl() {}

  /** Closes every client connection on the broker, as an operator or a network fault would. */
  public static void closeAllConnections() throws Exception {
    Process p =
        new ProcessBuilder("rabbitmqctl", "close_all_connections", "closed by a Bloodbank test")
            .redirectErrorStream(true)
            .start();
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }
}
