package dev.bloodbank.deadletter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

class DeadLetterReplayOptionsTest {
  @Test
  void defaultsMoveEverythingBackAsFastAsConfirmsCome() {
    DeadLetterReplayOptions o = DeadLetterReplayOptions.of("orders.dlq");
    assertThat(o.queue()).isEqualTo("orders.dlq");
    assertThat(o.patterns()).isEmpty();
    assertThat(o.limit()).isEqualTo(Long.MAX_VALUE);
    assertThat(o.toQueue()).isEmpty();
    assertThat(o.rate()).isZero();
    assertThat(o.dryRun()).isFalse();
    assertThat(o.confirmTimeout()).isEqualTo(DeadLetterReplayOptions.DEFAULT_CONFIRM_TIMEOUT);
    assertThat(o.listener()).isEmpty();
  }

  @Test
  void badValuesAreRefusedNamingTheValue() {
    DeadLetterReplayOptions.Builder b = DeadLetterReplayOptions.builder("orders.dlq");
    assertThatThrownBy(() -> DeadLetterReplayOptions.builder(" "))
        .hasMessageContaining("queue must not be blank");
    assertThatThrownBy(() -> b.limit(0)).hasMessageContaining("at least 1, got 0");
    assertThatThrownBy(() -> b.rate(-2)).hasMessageContaining("above 0 a second, got -2.0");
    assertThatThrownBy(() -> b.rate(Double.POSITIVE_INFINITY)).hasMessageContaining("Infinity");
    assertThatThrownBy(() -> b.toQueue("orders.dlq"))
        .hasMessageContaining("must not be the dead-letter queue 'orders.dlq' itself");
    assertThatThrownBy(() -> b.confirmTimeout(Duration.ZERO))
        .hasMessageContaining("from 1 ms to 1 hour, got PT0S");
    assertThatThrownBy(() -> b.pattern("")).hasMessageContaining("pattern must not be blank");
    DeadLetterReplayOptions o = b.pattern("a.#").limit(5).toQueue("orders").rate(10).build();
    assertThat(o.toString())
        .contains("patterns=[a.#]", "limit=5", "toQueue=orders", "rate=10.0", "dryRun=false");
  }
}
