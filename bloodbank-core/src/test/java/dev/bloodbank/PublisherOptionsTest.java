package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Defaults, range checks and {@code mutate()} of {@link PublisherOptions}. */
class PublisherOptionsTest {

  @Test
  void defaultsAreTheDocumentedConstants() {
    for (PublisherOptions o :
        new PublisherOptions[] {PublisherOptions.defaults(), PublisherOptions.builder().build()}) {
      assertThat(o.confirmTimeout()).isEqualTo(PublisherOptions.DEFAULT_CONFIRM_TIMEOUT);
      assertThat(o.maxAttempts()).isEqualTo(PublisherOptions.DEFAULT_MAX_ATTEMPTS);
      assertThat(o.backoffBase()).isEqualTo(PublisherOptions.DEFAULT_BACKOFF_BASE);
      assertThat(o.backoffCap()).isEqualTo(PublisherOptions.DEFAULT_BACKOFF_CAP);
      assertThat(o.maxEventBytes()).isEqualTo(PublisherOptions.DEFAULT_MAX_EVENT_BYTES);
      assertThat(o.maxInFlight()).isEqualTo(PublisherOptions.DEFAULT_MAX_IN_FLIGHT);
      assertThat(o.channels()).isEqualTo(PublisherOptions.DEFAULT_CHANNELS);
      assertThat(o.mandatory()).isFalse();
      assertThat(o.validation()).isNull();
    }
    assertThat(PublisherOptions.DEFAULT_CONFIRM_TIMEOUT).isEqualTo(Duration.ofSeconds(10));
    assertThat(PublisherOptions.DEFAULT_MAX_EVENT_BYTES).isEqualTo(8 * 1024 * 1024);
  }

  static Stream<Arguments> outOfRange() {
    return Stream.of(
        bad("maxAttempts", b -> b.maxAttempts(0), "maxAttempts must be between 1 and 100, was 0"),
        bad(
            "maxAttempts",
            b -> b.maxAttempts(101),
            "maxAttempts must be between 1 and 100, was 101"),
        bad(
            "maxEventBytes",
            b -> b.maxEventBytes(0),
            "maxEventBytes must be between 1 and 134217728, was 0"),
        bad(
            "maxEventBytes",
            b -> b.maxEventBytes(128 * 1024 * 1024 + 1),
            "maxEventBytes must be between 1 and 134217728, was 134217729"),
        bad(
            "maxInFlight",
            b -> b.maxInFlight(0),
            "maxInFlight must be between 1 and 100000, was 0"),
        bad(
            "maxInFlight",
            b -> b.maxInFlight(100_001),
            "maxInFlight must be between 1 and 100000, was 100001"),
        bad("channels", b -> b.channels(0), "channels must be between 1 and 64, was 0"),
        bad("channels", b -> b.channels(65), "channels must be between 1 and 64, was 65"),
        bad(
            "confirmTimeout",
            b -> b.confirmTimeout(Duration.ZERO),
            "confirmTimeout must be positive, was PT0S"),
        bad(
            "confirmTimeout",
            b -> b.confirmTimeout(Duration.ofMillis(-1)),
            "confirmTimeout must be positive, was PT-0.001S"),
        bad(
            "backoff base",
            b -> b.backoff(Duration.ZERO, Duration.ofSeconds(1)),
            "backoff base must be positive, was PT0S"),
        bad(
            "backoff cap",
            b -> b.backoff(Duration.ofSeconds(1), Duration.ofSeconds(-1)),
            "backoff cap must be positive, was PT-1S"),
        bad(
            "backoff cap below base",
            b -> b.backoff(Duration.ofSeconds(2), Duration.ofSeconds(1)),
            "backoff cap must be at least the base PT2S, was PT1S"));
  }

  private static Arguments bad(
      String name, Consumer<PublisherOptions.Builder> setter, String message) {
    return Arguments.of(name, setter, message);
  }

  @ParameterizedTest(name = "{0}: {2}")
  @MethodSource("outOfRange")
  void setterRejectsOutOfRangeShowingValueAndRange(
      String name, Consumer<PublisherOptions.Builder> setter, String message) {
    PublisherOptions.Builder b = PublisherOptions.builder();
    assertThatThrownBy(() -> setter.accept(b))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage(message);
    // the builder is unchanged by a rejected value
    assertThat(b.build().toString()).isEqualTo(PublisherOptions.defaults().toString());
  }

  @Test
  void boundariesAreAccepted() {
    PublisherOptions lo =
        PublisherOptions.builder()
            .maxAttempts(1)
            .maxEventBytes(1)
            .maxInFlight(1)
            .channels(1)
            .confirmTimeout(Duration.ofNanos(1))
            .backoff(Duration.ofMillis(5), Duration.ofMillis(5))
            .build();
    assertThat(lo.maxAttempts()).isEqualTo(1);
    assertThat(lo.backoffCap()).isEqualTo(lo.backoffBase());
    PublisherOptions hi =
        PublisherOptions.builder()
            .maxAttempts(100)
            .maxEventBytes(128 * 1024 * 1024)
            .maxInFlight(100_000)
            .channels(64)
            .build();
    assertThat(hi.channels()).isEqualTo(64);
    assertThat(hi.maxInFlight()).isEqualTo(100_000);
  }

  @Test
  void nullsAreRejected() {
    assertThatThrownBy(() -> PublisherOptions.builder().confirmTimeout(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> PublisherOptions.builder().validation(null))
        .isInstanceOf(NullPointerException.class);
    assertThatThrownBy(() -> PublisherOptions.builder().backoff(null, Duration.ofSeconds(1)))
        .isInstanceOf(NullPointerException.class);
  }

  @Test
  void mutateRoundTripsAndCopies() {
    PublisherOptions o =
        PublisherOptions.builder()
            .confirmTimeout(Duration.ofSeconds(2))
            .maxAttempts(7)
            .backoff(Duration.ofMillis(10), Duration.ofMillis(90))
            .maxEventBytes(4096)
            .maxInFlight(33)
            .channels(5)
            .mandatory(true)
            .validation(ValidationMode.PERMISSIVE)
            .build();
    PublisherOptions copy = o.mutate().build();
    assertThat(copy.confirmTimeout()).isEqualTo(Duration.ofSeconds(2));
    assertThat(copy.maxAttempts()).isEqualTo(7);
    assertThat(copy.backoffBase()).isEqualTo(Duration.ofMillis(10));
    assertThat(copy.backoffCap()).isEqualTo(Duration.ofMillis(90));
    assertThat(copy.maxEventBytes()).isEqualTo(4096);
    assertThat(copy.maxInFlight()).isEqualTo(33);
    assertThat(copy.channels()).isEqualTo(5);
    assertThat(copy.mandatory()).isTrue();
    assertThat(copy.validation()).isEqualTo(ValidationMode.PERMISSIVE);
    assertThat(copy.toString()).isEqualTo(o.toString());

    PublisherOptions changed = o.mutate().channels(1).build();
    assertThat(changed.channels()).isEqualTo(1);
    assertThat(o.channels()).isEqualTo(5);
  }

  @Test
  void partitionKeyIsOffByDefaultAndKeptByMutate() {
    assertThat(PublisherOptions.defaults().partitionKey()).isNull();
    PublisherOptions o = PublisherOptions.builder().partitionKey(e -> "k").build();
    assertThat(o.mutate().build().partitionKey()).isSameAs(o.partitionKey());
    assertThat(o.toString()).contains("partitionKey=on");
    assertThatThrownBy(() -> PublisherOptions.builder().partitionKey(null))
        .isInstanceOf(NullPointerException.class);
  }
}
