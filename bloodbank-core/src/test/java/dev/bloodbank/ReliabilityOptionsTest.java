package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.wal.WalOptions;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** The options issue #9 added: durable publishing, lazy connect, the heartbeat asked for. */
class ReliabilityOptionsTest {

  @Test
  void durableIsOffByDefaultAndSurvivesMutate() {
    assertThat(PublisherOptions.defaults().durable()).isNull();
    WalOptions wal = WalOptions.of(Path.of("/tmp/x.wal"));
    PublisherOptions o = PublisherOptions.builder().durable(wal).build();
    assertThat(o.durable()).isSameAs(wal);
    assertThat(o.mutate().build().durable()).isSameAs(wal);
    assertThat(o.toString()).contains("durable=" + wal.path());
    assertThatThrownBy(() -> PublisherOptions.builder().durable(null))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void lazyConnectIsOffByDefaultAndSurvivesMutate() {
    assertThat(BloodbankOptions.defaults().lazyConnect()).isFalse();
    BloodbankOptions o = BloodbankOptions.builder().lazyConnect(true).build();
    assertThat(o.lazyConnect()).isTrue();
    assertThat(o.mutate().build().lazyConnect()).isTrue();
  }

  /** amqp-client gives up after 2.25 negotiated intervals; two configured ones is the promise. */
  @ParameterizedTest
  @CsvSource({"0, 0", "1, 1", "2, 1", "3, 2", "9, 8", "20, 17", "60, 53"})
  void theHeartbeatAskedForDetectsADeadPeerWithinTwoConfiguredOnes(long configured, int asked) {
    assertThat(BusConnections.requestedHeartbeatSeconds(Duration.ofSeconds(configured)))
        .isEqualTo(asked);
    if (configured >= 2) {
      assertThat(asked * 2.25).isLessThanOrEqualTo(configured * 2.0);
    }
  }

  @Test
  void aDurablePublisherNeedsTheRealBroker() {
    try (Bloodbank bus =
        Bloodbank.connect(BloodbankOptions.builder().transport(Transport.embedded()).build())) {
      assertThatThrownBy(
              () ->
                  bus.publisher(
                      PublisherOptions.builder()
                          .durable(WalOptions.of(Path.of("/tmp/never.wal")))
                          .build()))
          .isInstanceOf(BloodbankException.class)
          .hasMessageContaining("embedded");
    }
  }
}
