package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowable;

import dev.bloodbank.fault.Certificates;
import dev.bloodbank.fault.LogCapture;
import dev.bloodbank.fault.RabbitNode;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * TLS and credentials (issue #9, scenarios 19 and 20) against the private RabbitMQ node, whose TLS
 * listener uses certificates the fixture made with {@code openssl}.
 */
class FaultSecurityIT {

  @Test
  @Scenario(19)
  void tlsWorksWithTheTrustedCertificateAndRefusesAnUntrustedOneAndAWrongHostName()
      throws Exception {
    RabbitNode node = RabbitNode.shared();
    Certificates certs = node.certificates();
    String id = UUID.randomUUID().toString().substring(0, 8);

    try (Bloodbank bus =
        Bloodbank.connect(
            node.options(id)
                .address("localhost", node.tlsPort())
                .tls(true)
                .sslContext(certs.trusting())
                .build())) {
      assertThat(bus.isConnected()).isTrue();
      bus.publisher().publish("tls.ok", Map.of()).get(10, TimeUnit.SECONDS);
    }

    Throwable untrusted =
        catchThrowable(
            () ->
                Bloodbank.connect(
                    node.options(id)
                        .address("localhost", node.tlsPort())
                        .tls(true)
                        .sslContext(certs.untrusting())
                        .connectionTimeout(Duration.ofSeconds(5))
                        .build()));
    assertThat(untrusted)
        .isInstanceOf(ConnectionException.class)
        .hasMessageContaining("TLS handshake failed")
        .hasMessageContaining("localhost:" + node.tlsPort());

    // The certificate names localhost only; 127.0.0.1 is another host name.
    Throwable mismatch =
        catchThrowable(
            () ->
                Bloodbank.connect(
                    node.options(id)
                        .address("127.0.0.1", node.tlsPort())
                        .tls(true)
                        .sslContext(certs.trusting())
                        .connectionTimeout(Duration.ofSeconds(5))
                        .build()));
    assertThat(mismatch)
        .isInstanceOf(ConnectionException.class)
        .hasMessageContaining("TLS handshake failed")
        .hasMessageContaining("127.0.0.1");
    assertThat(mismatch.getMessage())
        .containsAnyOf("subject alternative", "hostname", "127.0.0.1 found");
    ReliabilityReport.events(19, 1, 0, 0);
  }

  @Test
  @Scenario(20)
  void aWrongPasswordIsAClearErrorAndAppearsInNoLogLineOrMessage() throws Exception {
    RabbitNode node = RabbitNode.shared();
    String id = UUID.randomUUID().toString().substring(0, 8);
    String password = "pw-" + UUID.randomUUID();
    try (LogCapture logs = new LogCapture()) {
      Throwable t =
          catchThrowable(
              () -> Bloodbank.connect(node.options(id).credentials("guest", password).build()));
      assertThat(t)
          .isInstanceOf(ConnectionException.class)
          .hasMessageContaining("authentication failed")
          .hasMessageContaining("'guest'");
      for (Throwable c = t; c != null; c = c.getCause()) {
        assertThat(String.valueOf(c.getMessage())).doesNotContain(password);
        assertThat(String.valueOf(c)).doesNotContain(password);
      }
      // A lazy connect logs its failed attempts instead of throwing; they carry no password.
      try (Bloodbank lazy =
          Bloodbank.connect(
              node.options(id)
                  .credentials("guest", password)
                  .lazyConnect(true)
                  .recoveryInterval(Duration.ofMillis(200))
                  .build())) {
        Thread.sleep(1000);
        assertThat(lazy.isConnected()).isFalse();
        assertThat(lazy.options().toString()).doesNotContain(password);
      }
      assertThat(logs.text()).contains("authentication failed").doesNotContain(password);
    }
  }
}
