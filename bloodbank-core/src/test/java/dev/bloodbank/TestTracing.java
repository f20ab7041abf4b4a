package dev.bloodbank;

import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.observability.CausationLinkingSenderHandler;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.micrometer.tracing.handler.DefaultTracingObservationHandler;
import io.micrometer.tracing.handler.PropagatingReceiverTracingObservationHandler;
import io.micrometer.tracing.otel.bridge.OtelBaggageManager;
import io.micrometer.tracing.otel.bridge.OtelCurrentTraceContext;
import io.micrometer.tracing.otel.bridge.OtelPropagator;
import io.micrometer.tracing.otel.bridge.OtelTracer;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.time.Duration;
import java.util.List;
import java.util.function.Predicate;

/**
 * OpenTelemetry's SDK with an in-memory exporter and the W3C propagator, bridged to an {@link
 * ObservationRegistry} by Micrometer Tracing the way an application wires it: the propagating
 * sender and receiver handlers first, then the default one. Spans are exported as they end.
 */
public final class TestTracing implements AutoCloseable {
  private final InMemorySpanExporter exporter = InMemorySpanExporter.create();
  private final SdkTracerProvider provider;
  private final ObservationRegistry observations = ObservationRegistry.create();

  /** Builds the SDK and registers the handlers. */
  public TestTracing() {
    provider =
        SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(exporter)).build();
    OpenTelemetrySdk otel =
        OpenTelemetrySdk.builder()
            .setTracerProvider(provider)
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    io.opentelemetry.api.trace.Tracer otelTracer = otel.getTracer("bloodbank-test");
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
                // The stock sender handler plus causation links (a subclass of it).
                new CausationLinkingSenderHandler(tracer, propagator),
                new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
                new DefaultTracingObservationHandler(tracer)));
  }

  /** The registry handlers and the bus observe with. */
  public ObservationRegistry observations() {
    return observations;
  }

  /** Observability for a bus: these observations, no metrics. */
  public BloodbankObservability observability() {
    return BloodbankObservability.builder().observationRegistry(observations).build();
  }

  /** The spans ended so far. */
  public List<SpanData> spans() {
    return exporter.getFinishedSpanItems();
  }

  /** Waits up to 20 s for an ended span that matches, and returns it. */
  public SpanData await(Predicate<SpanData> which, String what) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (true) {
      for (SpanData s : spans()) {
        if (which.test(s)) {
          return s;
        }
      }
      if (System.nanoTime() > deadline) {
        throw new AssertionError(
            "no "
                + what
                + " within 20 s among the spans "
                + spans().stream().map(SpanData::getName).toList());
      }
      Thread.sleep(20);
    }
  }

  /** A string attribute of a span, or null. */
  public static String attribute(SpanData span, String key) {
    return span.getAttributes().get(AttributeKey.stringKey(key));
  }

  /** Matches spans whose {@code messaging.message.id} is this event's id. */
  public static Predicate<SpanData> ofEvent(Object eventId) {
    return s -> eventId.toString().equals(attribute(s, "messaging.message.id"));
  }

  @Override
  public void close() {
    provider.close();
  }
}
