package dev.bloodbank.server.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.observability.BloodbankObservability;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Which registry the server scrapes and closes, and which format an Accept header gets. */
class ServerMetricsTest {
  private final BloodbankOptions bus = BloodbankOptions.builder().build();

  @ParameterizedTest(name = "[{index}] {0}")
  @CsvSource(
      delimiter = '|',
      nullValues = "NULL",
      value = {
        "NULL|false",
        "*/*|false",
        "text/plain|false",
        "text/plain;version=0.0.4|false",
        "application/openmetrics-text|true",
        "application/openmetrics-text; version=1.0.0; charset=utf-8|true",
        // Prometheus 2.x and 3.x
        "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
            + "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1|true",
        "text/plain;q=0.9, application/openmetrics-text;q=0.5|false",
        "application/openmetrics-text;q=0|false",
        "application/openmetrics-text;q=nonsense|false",
      })
  void openMetricsOnlyWhenTheClientPrefersIt(String accept, boolean openMetrics) {
    assertThat(ServerMetrics.openMetricsPreferred(accept)).isEqualTo(openMetrics);
  }

  @Test
  void withoutObservabilityTheServerMakesAPrometheusRegistryAndClosesIt() {
    ServerMetrics m = ServerMetrics.create(null);
    MeterRegistry r = m.registry();
    assertThat(r).isInstanceOf(PrometheusMeterRegistry.class);
    BloodbankObservability o = m.busOptions(bus).observability();
    assertThat(o).isNotNull();
    assertThat(o.meterRegistry()).isSameAs(r);
    assertThat(o.amqpClientMetrics()).isTrue();
    assertThat(o.observationRegistry()).isNull();
    assertThat(r.find("jvm.memory.used").gauges()).isNotEmpty();
    assertThat(r.find("process.uptime").timeGauge()).isNotNull();

    ServerMetrics.Scrape text = m.scrape(null);
    assertThat(text.contentType()).isEqualTo(ServerMetrics.TEXT);
    assertThat(new String(text.body(), StandardCharsets.UTF_8)).contains("jvm_memory_used_bytes");
    ServerMetrics.Scrape om = m.scrape("application/openmetrics-text");
    assertThat(om.contentType()).isEqualTo(ServerMetrics.OPEN_METRICS);
    assertThat(new String(om.body(), StandardCharsets.UTF_8)).endsWith("# EOF\n");

    m.close();
    assertThat(r.isClosed()).isTrue();
  }

  @Test
  void anApplicationsPrometheusRegistryIsUsedAsItIsAndLeftOpen() {
    PrometheusMeterRegistry theirs = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    BloodbankOptions given =
        bus.mutate()
            .observability(BloodbankObservability.builder().meterRegistry(theirs).build())
            .build();
    ServerMetrics m = ServerMetrics.create(given.observability());
    assertThat(m.registry()).isSameAs(theirs);
    assertThat(m.busOptions(given)).isSameAs(given);
    // The application binds its own JVM metrics; binding them again would count GCs twice.
    assertThat(theirs.find("jvm.threads.live").gauge()).isNull();
    m.close();
    assertThat(theirs.isClosed()).isFalse();
    theirs.close();
  }

  @Test
  void anyOtherRegistryGetsThePrometheusOneBesideItAndStaysOpen() {
    SimpleMeterRegistry theirs = new SimpleMeterRegistry();
    ObservationRegistry observations = ObservationRegistry.create();
    BloodbankObservability given =
        BloodbankObservability.builder()
            .meterRegistry(theirs)
            .observationRegistry(observations)
            .amqpClientMetrics(false)
            .build();
    ServerMetrics m = ServerMetrics.create(given);
    assertThat(m.registry()).isInstanceOf(CompositeMeterRegistry.class);
    BloodbankObservability o = m.busOptions(bus).observability();
    assertThat(o).isNotNull();
    assertThat(o.meterRegistry()).isSameAs(m.registry());
    assertThat(o.observationRegistry()).isSameAs(observations);
    assertThat(o.amqpClientMetrics()).isFalse();

    // JVM metrics only in the server's own registry, so the scrape has them and theirs not twice.
    assertThat(theirs.find("jvm.threads.live").gauge()).isNull();
    assertThat(new String(m.scrape(null).body(), StandardCharsets.UTF_8))
        .contains("jvm_threads_live_threads");

    Counter.builder("bloodbank.test.things").register(m.registry()).increment(2);
    assertThat(theirs.get("bloodbank.test.things").counter().count()).isEqualTo(2);
    assertThat(new String(m.scrape(null).body(), StandardCharsets.UTF_8))
        .contains("bloodbank_test_things_total 2.0");

    m.close();
    assertThat(m.registry().isClosed()).isTrue();
    assertThat(theirs.isClosed()).isFalse();
    assertThat(theirs.get("bloodbank.test.things").counter().count()).isEqualTo(2);
    theirs.close();
  }

  @Test
  void anObservationRegistryAloneIsKeptAndMetricsAreAdded() {
    ObservationRegistry observations = ObservationRegistry.create();
    ServerMetrics m =
        ServerMetrics.create(
            BloodbankObservability.builder().observationRegistry(observations).build());
    BloodbankObservability o = m.busOptions(bus).observability();
    assertThat(o).isNotNull();
    assertThat(o.meterRegistry()).isInstanceOf(PrometheusMeterRegistry.class);
    assertThat(o.observationRegistry()).isSameAs(observations);
    m.close();
  }
}
