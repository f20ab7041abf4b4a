package dev.bloodbank.observability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.BloodbankOptions;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import org.junit.jupiter.api.Test;

/** The observability options: what the builder refuses, its defaults, how it shows. */
class BloodbankObservabilityTest {
  @Test
  void neitherRegistryIsRefusedWithAMessageThatSaysWhatToDo() {
    assertThatThrownBy(() -> BloodbankObservability.builder().build())
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("meterRegistry")
        .hasMessageContaining("observationRegistry")
        .hasMessageContaining("leave observability out");
    assertThatThrownBy(() -> BloodbankObservability.builder().amqpClientMetrics(false).build())
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void nullRegistriesAreRefusedByName() {
    assertThatThrownBy(() -> BloodbankObservability.builder().meterRegistry(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("registry");
    assertThatThrownBy(() -> BloodbankObservability.builder().observationRegistry(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("registry");
    assertThatThrownBy(() -> BloodbankOptions.builder().observability(null))
        .isInstanceOf(NullPointerException.class)
        .hasMessage("observability");
  }

  @Test
  void eitherRegistryAloneIsEnoughAndAmqpClientMetricsDefaultToOn() {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    BloodbankObservability metricsOnly =
        BloodbankObservability.builder().meterRegistry(meters).build();
    assertThat(metricsOnly.meterRegistry()).isSameAs(meters);
    assertThat(metricsOnly.observationRegistry()).isNull();
    assertThat(metricsOnly.amqpClientMetrics()).isTrue();
    assertThat(metricsOnly)
        .hasToString(
            "BloodbankObservability{metrics=SimpleMeterRegistry, observations=off,"
                + " amqpClientMetrics=true}");

    ObservationRegistry observations = ObservationRegistry.create();
    observations.observationConfig().observationHandler(context -> true);
    BloodbankObservability tracesOnly =
        BloodbankObservability.builder()
            .observationRegistry(observations)
            .amqpClientMetrics(false)
            .build();
    assertThat(tracesOnly.meterRegistry()).isNull();
    assertThat(tracesOnly.observationRegistry()).isSameAs(observations);
    assertThat(tracesOnly.amqpClientMetrics()).isFalse();
    assertThat(tracesOnly.toString()).contains("metrics=off", "observations=on");
  }

  @Test
  void theBusOptionsCarryNoneByDefaultAndKeepOneThroughMutate() {
    assertThat(BloodbankOptions.defaults().observability()).isNull();
    assertThat(BloodbankOptions.defaults().logContext()).isTrue();
    assertThat(BloodbankOptions.defaults().toString()).doesNotContain("observability");
    BloodbankObservability o =
        BloodbankObservability.builder().meterRegistry(new SimpleMeterRegistry()).build();
    BloodbankOptions options =
        BloodbankOptions.builder().observability(o).logContext(false).build();
    assertThat(options.mutate().build().observability()).isSameAs(o);
    assertThat(options.mutate().build().logContext()).isFalse();
    assertThat(options.toString()).contains("observability=BloodbankObservability{");
  }
}
