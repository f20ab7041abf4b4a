package dev.bloodbank.observability;

import io.micrometer.observation.transport.SenderContext;
import io.micrometer.tracing.Link;
import io.micrometer.tracing.Span;
import io.micrometer.tracing.TraceContext;
import io.micrometer.tracing.Tracer;
import io.micrometer.tracing.handler.PropagatingSenderTracingObservationHandler;
import io.micrometer.tracing.propagation.Propagator;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * Micrometer Tracing's sender handler, plus one span link per causation parent: when an event is
 * published with {@code correlation_ids}, its producer span links to the spans of those parents
 * that this bus published or consumed recently (it remembers the last {@value #REMEMBERED_EVENTS}
 * events' trace contexts). A parent in the same trace is usually the span's parent already; a
 * parent from another trace (a batch job that consumed events from many requests, say) is then
 * reachable from the child's trace.
 *
 * <p>Register it instead of {@link PropagatingSenderTracingObservationHandler}:
 *
 * <pre>{@code
 * observationRegistry.observationConfig().observationHandler(
 *     new ObservationHandler.FirstMatchingCompositeObservationHandler(
 *         new CausationLinkingSenderHandler(tracer, propagator),
 *         new PropagatingReceiverTracingObservationHandler<>(tracer, propagator),
 *         new DefaultTracingObservationHandler(tracer)));
 * }</pre>
 *
 * <p>Needs {@code micrometer-tracing} (any bridge). Other senders' observations are handled as the
 * stock handler does. Thread-safe.
 *
 * @since 0.2.0
 */
public class CausationLinkingSenderHandler
    extends PropagatingSenderTracingObservationHandler<SenderContext<?>> {
  /**
   * The observation context key under which Bloodbank's publish observation puts the W3C {@code
   * traceparent} values of the event's known causation parents: a {@code List<String>}.
   */
  public static final String PARENT_TRACES = "bloodbank.causation.parent_traces";

  /** How many recent events' trace contexts a bus remembers for links: {@value}. */
  public static final int REMEMBERED_EVENTS = 10_000;

  /**
   * Creates the handler.
   *
   * @param tracer the bridge's tracer
   * @param propagator the bridge's propagator (W3C for OpenTelemetry's pika instrumentation)
   */
  public CausationLinkingSenderHandler(Tracer tracer, Propagator propagator) {
    super(tracer, propagator);
  }

  @Override
  public Span createSenderSpan(SenderContext<?> context) {
    List<String> parents = context.get(PARENT_TRACES);
    if (parents == null || parents.isEmpty()) {
      return super.createSenderSpan(context);
    }
    Span parent = getParentSpan(context);
    Span.Builder builder =
        getTracer().spanBuilder().kind(Span.Kind.valueOf(context.getKind().name()));
    if (parent != null) {
      builder.setParent(parent.context());
    }
    if (context.getRemoteServiceName() != null) {
      builder.remoteServiceName(context.getRemoteServiceName());
    }
    for (String traceparent : parents) {
      TraceContext linked = traceContext(traceparent);
      if (linked != null) {
        builder.addLink(new Link(linked));
      }
    }
    return builder.start();
  }

  private @Nullable TraceContext traceContext(String traceparent) {
    // 00-<32 hex trace id>-<16 hex span id>-<2 hex flags>, checked when it was remembered
    if (traceparent.length() < 55) {
      return null;
    }
    int flags = Character.digit(traceparent.charAt(54), 16);
    return getTracer()
        .traceContextBuilder()
        .traceId(traceparent.substring(3, 35))
        .spanId(traceparent.substring(36, 52))
        .sampled((flags & 1) == 1)
        .build();
  }
}
