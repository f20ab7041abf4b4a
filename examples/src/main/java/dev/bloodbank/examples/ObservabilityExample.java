package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.observability.CausationLinkingSenderHandler;
import dev.bloodbank.schemas.fireflies.TranscriptUpload;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.common.CompletableResultCode;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.opentelemetry.sdk.trace.export.SpanExporter;
import java.util.Collection;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Metrics and traces: a bus with a Prometheus registry and OpenTelemetry (through Micrometer
 * Tracing) publishes an event and handles it; the handler adds to its own span, the spans
 * (producer, then consumer, one trace) are printed as they end, and then the bus's metrics as
 * Prometheus would scrape them. An application would export spans with OTLP instead of printing
 * them, and serve the scrape on {@code /metrics} (as bloodbank-server does).
 *
 * <p>Run it with {@code ./mvnw -q install -DskipTests && ./mvnw -q -pl examples exec:java
 * -Dexample=dev.bloodbank.examples.ObservabilityExample}. Without a reachable RabbitMQ it runs on
 * the embedded broker.
 */
public final class ObservabilityExample {
  private ObservabilityExample() {}

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws Exception if the event does not arrive in time
   */
  public static void main(String[] args) throws Exception {
    run(BloodbankOptions.fromEnvironment());
  }

  /** Runs the example on the broker of these options, or on the embedded one. */
  static void run(BloodbankOptions env) throws Exception {
    // OpenTelemetry's SDK, W3C propagation (the headers Python's pika instrumentation uses).
    SdkTracerProvider spans =
        SdkTracerProvider.builder()
            .addSpanProcessor(SimpleSpanProcessor.create(new PrintingExporter()))
            .build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(spans)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    io.opentelemetry.api.trace.Tracer otelTracer = otel.getTracer("observability-example");
    OtelCurrentTraceContext current = new OtelCurrentTraceContext();
    OtelTracer tracer =
        new OtelTracer(
            otelTracer,
            current,
            event -> {},
            new OtelBaggageManager(current, List.of(), List.of()));
    OtelPropagator propagator = new OtelPropagator(otel.getPropagators(), otelTracer);

    // Micrometer: observations become spans through these handlers; metrics go to Prometheus.
    ObservationRegistry observations = ObservationRegistry.create();
    observations
        .observationConfig()
        .observationHandler(
            new ObservationHandler.FirstMatchingCompositeObservationHandler(
                new CausationLinkingSenderHandler(tracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
    PrometheusMeterRegistry prometheus = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);

    BloodbankOptions chosen =
        ExampleTransport.pick(
            env.mutate()
                .serviceName("observability-example")
                .observability(
                    BloodbankObservability.builder()
                        .meterRegistry(prometheus)
                        .observationRegistry(observations)
                        .build())
                .build());
    System.out.println(
        "Observability example: running on " + ExampleTransport.describe(env, chosen));
    try (Bloodbank bus = Bloodbank.connect(chosen)) {
      CountDownLatch handled = new CountDownLatch(1);
      try (Subscriber s =
          bus.subscribe(
              SubscriberOptions.builder("fireflies.transcript.#").temporary().build(),
              TranscriptUpload.class,
              (EventEnvelope<TranscriptUpload> e) -> {
                // The consumer span is current here: a handler can add to it. (SLF4J's MDC also
                // holds event_id and trace_id now; slf4j-simple, which the examples log with,
                // drops MDC values: with Logback, %X{trace_id} in the pattern shows it.)
                Span span = Span.current();
                span.setAttribute("meeting.title", e.payload().getTitle());
                System.out.println(
                    "handled " + e.eventType() + " in trace " + span.getSpanContext().getTraceId());
                handled.countDown();
              })) {
        bus.publisher()
            .publish(
                "fireflies.transcript.upload",
                new TranscriptUpload()
                    .withMediaFile("https://files.example/weekly-sync.mp3")
                    .withTitle("Weekly sync")
                    .withMediaDurationSeconds(1800.0))
            .get(10, TimeUnit.SECONDS);
        if (!handled.await(10, TimeUnit.SECONDS)) {
          throw new IllegalStateException("the event did not arrive within 10 s");
        }
      }
    } finally {
      spans.close();
    }
    System.out.println("metrics:");
    prometheus
        .scrape()
        .lines()
        .filter(
            l ->
                l.startsWith("bloodbank_publish_seconds_count")
                    || l.startsWith("bloodbank_consume_seconds_count"))
        .forEach(l -> System.out.println("  " + l));
    prometheus.close();
  }

  /** Prints each span as it ends: an application would use OTLP (or another exporter) here. */
  private static final class PrintingExporter implements SpanExporter {
    @Override
    public CompletableResultCode export(Collection<SpanData> spans) {
      for (SpanData s : spans) {
        System.out.println(
            "span "
                + s.getKind()
                + " '"
                + s.getName()
                + "' trace="
                + s.getTraceId()
                + " parent="
                + (s.getParentSpanContext().isValid() ? s.getParentSpanId() : "none"));
      }
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
  }
}
