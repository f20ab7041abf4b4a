package dev.bloodbank.benchmarks;

import dev.bloodbank.observability.BloodbankObservability;
import io.micrometer.core.instrument.Timer;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.BatchSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import io.opentelemetry.sdk.trace.samplers.Sampler;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What an application with metrics and tracing gives the bus, for the harness's observability rows:
 * a {@link PrometheusMeterRegistry}, and an {@link ObservationRegistry} bridged to the
 * OpenTelemetry SDK the way Spring Boot wires it (sender, receiver and default tracing handlers in
 * a first-match composite, W3C trace context propagation), every span sampled, and a {@link
 * BatchSpanProcessor} with its default settings feeding an exporter that counts the spans and drops
 * them. Spans are built, ended, queued and turned into {@link SpanData} as they would be for a
 * network exporter; only the sending is left out.
 */
final class BenchObservability implements AutoCloseable {
  private final AtomicLong exported = new AtomicLong();
  private final PrometheusMeterRegistry meters =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final ObservationRegistry observations = ObservationRegistry.create();
  private final SdkTracerProvider tracerProvider;

  BenchObservability() {
    SpanExporter counting =
        new SpanExporter() {
          @Override
          public CompletableResultCode export(Collection<SpanData> spans) {
            exported.addAndGet(spans.size());
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode flush() {
            return CompletableResultCode.ofSuccess();
          }

          @Override
          public CompletableResultCode shutdown() {
            return CompletableResultCode.ofSuccess();
          }
        };
    tracerProvider =
        SdkTracerProvider.builder()
            .setSampler(Sampler.alwaysOn())
            .addSpanProcessor(BatchSpanProcessor.builder(counting).build())
            .build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(tracerProvider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    Tracer otelTracer = otel.getTracer("dev.bloodbank.benchmarks");
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer =
        new OtelTracer(
            otelTracer,
            current,
            event -> {},
            new OtelBaggageManager(current, List.of(), List.of()));
    OtelPropagator propagator = new OtelPropagator(otel.getPropagators(), otelTracer);
    observations
        .observationConfig()
        .observationHandler(
            new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new PropagatingSenderTracingObservationHandler<>(tracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
  }

  /** The bus options' observability: both registries, amqp-client's metrics too (the default). */
  BloodbankObservability observability() {
    return BloodbankObservability.builder()
        .meterRegistry(meters)
        .observationRegistry(observations)
        .build();
  }

  /** Spans the processor handed to the exporter so far, after exporting what it holds. */
  long spansExported() {
    tracerProvider.forceFlush().join(30, TimeUnit.SECONDS);
    return exported.get();
  }

  /** How many times the timers of this name recorded, over all their tags. */
  long timerCount(String name) {
    return meters.find(name).timers().stream().mapToLong(Timer::count).sum();
  }

  /** How many times the timers of this name recorded, by the value of one of their tags. */
  Map<String, Long> timerCountsBy(String name, String tag) {
    Map<String, Long> out = new TreeMap<>();
    for (Timer t : meters.find(name).timers()) {
      out.merge(String.valueOf(t.getId().getTag(tag)), t.count(), Long::sum);
    }
    return out;
  }

  /** A Prometheus scrape, as the server's {@code /metrics} would answer it. */
  String scrape() {
    return meters.scrape();
  }

  @Override
  public void close() {
    tracerProvider.shutdown().join(30, TimeUnit.SECONDS);
    meters.close();
  }
}
