package dev.bloodbank;

import static dev.bloodbank.TestTracing.attribute;
import static dev.bloodbank.TestTracing.ofEvent;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.command.Command;
import dev.bloodbank.command.CommandContext;
import dev.bloodbank.command.CommandManager;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.command.EventCollector;
import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.registry.EventDefinition;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.observation.Observation;
import io.micrometer.observation.ObservationHandler;
import io.micrometer.observation.ObservationRegistry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.slf4j.MDC;

/**
 * Traces across the bus on the real broker (issue #19), with OpenTelemetry's in-memory exporter
 * behind Micrometer Tracing: the producer span and its {@code traceparent} header, the consumer
 * span that continues it, a handler enriching its span, the log context, and the span tree of a
 * command with its side effects.
 */
@ExtendWith(BrokerExtension.class)
class TracingIT {
  private TestTracing tracing;

  @BeforeAll
  static void workingMdc() {
    RecordingMdc.install();
  }

  @BeforeEach
  void tracing() {
    tracing = new TestTracing();
  }

  @AfterEach
  void close() {
    tracing.close();
  }

  /** What a handler saw: the event, its thread, the MDC and the current OpenTelemetry span. */
  record Seen(UUID eventId, String thread, Map<String, String> mdc, SpanContext span) {}

  private static Map<String, String> mdc() {
    Map<String, String> m = MDC.getCopyOfContextMap();
    return m == null ? Map.of() : m;
  }

  @Test
  void aPublishIsAProducerSpanWhoseHeaderTheConsumerSpanContinuesAndTheHandlerEnriches(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect(o -> o.observability(tracing.observability()));
    String type = "trace.thing.done";
    String raw = broker.rawQueue("trace.#");
    BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
    // The handler enriches its span both ways: through the current observation, and through
    // OpenTelemetry's own current span.
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("trace.#")
                    .queueName(broker.queueName("traced"))
                    .concurrency(2)
                    .build(),
                (EventEnvelope<JsonNode> e) -> {
                  Observation current = tracing.observations().getCurrentObservation();
                  if (current != null) {
                    current.highCardinalityKeyValue("custom", "x");
                  }
                  Span.current().setAttribute("handler.note", "y");
                  seen.add(
                      new Seen(
                          e.eventId(),
                          Thread.currentThread().getName(),
                          mdc(),
                          Span.current().getSpanContext()));
                }));
    UUID parent = UUID.randomUUID();
    EventEnvelope<Map<String, Object>> event =
        EventEnvelope.builder(type, Map.<String, Object>of("n", 0))
            .withCorrelationId(parent)
            .build();
    bus.publisher().publish(event).get(10, TimeUnit.SECONDS);

    SpanData producer =
        tracing.await(ofEvent(event.eventId()).and(k(SpanKind.PRODUCER)), "producer span");
    String destination = broker.exchange() + ":" + type;
    assertThat(producer.getName()).isEqualTo("publish " + destination);
    assertThat(producer.getParentSpanContext().isValid()).as("a root span").isFalse();
    assertThat(attribute(producer, "messaging.system")).isEqualTo("rabbitmq");
    assertThat(attribute(producer, "messaging.destination.name")).isEqualTo(destination);
    assertThat(attribute(producer, "messaging.rabbitmq.destination.routing_key")).isEqualTo(type);
    assertThat(attribute(producer, "messaging.operation.type")).isEqualTo("send");
    assertThat(attribute(producer, "messaging.operation.name")).isEqualTo("publish");
    assertThat(attribute(producer, "bloodbank.correlation_id")).isEqualTo(parent.toString());
    assertThat(attribute(producer, "messaging.message.conversation_id"))
        .isEqualTo(parent.toString());
    assertThat(attribute(producer, "bloodbank.outcome")).isEqualTo("confirmed");
    assertThat(attribute(producer, "bloodbank.event_type"))
        .as("a type no catalog holds")
        .isEqualTo("other");

    // The message carries the producer span's context as a W3C header, beside the causation one.
    List<GetResponse> got = broker.drain(raw, 1, Duration.ofSeconds(10));
    assertThat(got).hasSize(1);
    Map<String, Object> headers = got.get(0).getProps().getHeaders();
    String traceparent = String.valueOf(headers.get("traceparent"));
    assertThat(traceparent)
        .startsWith("00-" + producer.getTraceId() + "-" + producer.getSpanId() + "-")
        .hasSize(55);
    // Sampled (bit 0); OpenTelemetry also sets W3C level 2's "random trace id" (bit 1).
    assertThat(Integer.parseInt(traceparent.substring(53), 16) & 1).isOne();
    assertThat(headers.get(AmqpPublisher.CORRELATION_IDS_HEADER).toString())
        .contains(parent.toString());

    SpanData consumer =
        tracing.await(ofEvent(event.eventId()).and(k(SpanKind.CONSUMER)), "consumer span");
    assertThat(consumer.getName()).isEqualTo("process " + destination);
    assertThat(consumer.getTraceId()).isEqualTo(producer.getTraceId());
    assertThat(consumer.getParentSpanId()).isEqualTo(producer.getSpanId());
    assertThat(consumer.getParentSpanContext().isRemote()).isTrue();
    assertThat(attribute(consumer, "messaging.system")).isEqualTo("rabbitmq");
    assertThat(attribute(consumer, "messaging.operation.type")).isEqualTo("process");
    assertThat(attribute(consumer, "messaging.destination.name"))
        .isEqualTo(destination + ":" + s.queueName());
    assertThat(attribute(consumer, "messaging.rabbitmq.destination.routing_key")).isEqualTo(type);
    assertThat(attribute(consumer, "messaging.destination.subscription.name"))
        .isEqualTo(s.queueName());
    assertThat(attribute(consumer, "bloodbank.correlation_id")).isEqualTo(parent.toString());
    assertThat(attribute(consumer, "bloodbank.outcome")).isEqualTo("handled");
    assertThat(consumer.getStatus().getStatusCode()).isNotEqualTo(StatusCode.ERROR);
    assertThat(attribute(consumer, "custom")).as("added through the observation").isEqualTo("x");
    assertThat(attribute(consumer, "handler.note"))
        .as("added through OpenTelemetry's current span")
        .isEqualTo("y");

    Seen first = seen.poll(10, TimeUnit.SECONDS);
    assertThat(first).isNotNull();
    assertThat(first.span().getSpanId()).isEqualTo(consumer.getSpanId());
    assertThat(first.mdc())
        .containsOnly(
            Map.entry(LogContext.EVENT_ID, event.eventId().toString()),
            Map.entry(LogContext.EVENT_TYPE, type),
            Map.entry(LogContext.CORRELATION_ID, parent.toString()),
            Map.entry(LogContext.TRACE_ID, producer.getTraceId()));

    // More events on the same two worker threads: the first two (one per thread) with a parent,
    // the rest without. Each handler sees its own event's keys and nothing left over.
    List<EventEnvelope<Map<String, Object>>> more = new ArrayList<>();
    for (int i = 1; i <= 8; i++) {
      EventEnvelope.Builder<Map<String, Object>> b =
          EventEnvelope.builder(type, Map.<String, Object>of("n", i));
      if (i == 1) {
        b.withCorrelationId(UUID.randomUUID());
      }
      EventEnvelope<Map<String, Object>> e = b.build();
      bus.publisher().publish(e).get(10, TimeUnit.SECONDS);
      more.add(e);
    }
    Map<String, Integer> perThread = new HashMap<>();
    perThread.merge(first.thread(), 1, Integer::sum);
    for (int i = 0; i < more.size(); i++) {
      Seen next = seen.poll(10, TimeUnit.SECONDS);
      assertThat(next).as("event %d handled", i + 1).isNotNull();
      EventEnvelope<Map<String, Object>> e =
          more.stream().filter(m -> m.eventId().equals(next.eventId())).findFirst().orElseThrow();
      SpanData span = tracing.await(ofEvent(e.eventId()).and(k(SpanKind.CONSUMER)), "consumer");
      Map<String, String> expected = new HashMap<>();
      expected.put(LogContext.EVENT_ID, e.eventId().toString());
      expected.put(LogContext.EVENT_TYPE, type);
      expected.put(LogContext.TRACE_ID, span.getTraceId());
      if (!e.correlationIds().isEmpty()) {
        expected.put(LogContext.CORRELATION_ID, e.correlationIds().get(0).toString());
      }
      assertThat(next.mdc()).as("MDC of event %d on %s", i + 1, next.thread()).isEqualTo(expected);
      perThread.merge(next.thread(), 1, Integer::sum);
    }
    assertThat(perThread.values())
        .as("a thread handled more than one event, so leftovers would show")
        .anySatisfy(n -> assertThat(n).isGreaterThan(1));
  }

  private static java.util.function.Predicate<SpanData> k(SpanKind kind) {
    return s -> s.getKind() == kind;
  }

  @Test
  void aChildFromAnotherTraceLinksToItsCausationParentsSpans(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect(o -> o.observability(tracing.observability()));
    broker.rawQueue("link.#");
    Publisher p = bus.publisher();
    // Two parents, each the root of its own trace; the child is published in a third one.
    EventEnvelope<Map<String, Object>> first =
        EventEnvelope.builder("link.first", Map.<String, Object>of()).build();
    EventEnvelope<Map<String, Object>> second =
        EventEnvelope.builder("link.second", Map.<String, Object>of()).build();
    p.publish(first).get(10, TimeUnit.SECONDS);
    p.publish(second).get(10, TimeUnit.SECONDS);
    UUID unknown = UUID.randomUUID(); // never seen by this bus: no link, no failure
    EventEnvelope<Map<String, Object>> child =
        EventEnvelope.builder("link.child", Map.<String, Object>of())
            .withCorrelationIds(List.of(first.eventId(), unknown, second.eventId()))
            .build();
    Observation request = Observation.start("test.batch", tracing.observations());
    try (Observation.Scope scope = request.openScope()) {
      p.publish(child).get(10, TimeUnit.SECONDS);
    } finally {
      request.stop();
    }

    SpanData a = tracing.await(ofEvent(first.eventId()), "first parent");
    SpanData b = tracing.await(ofEvent(second.eventId()), "second parent");
    SpanData c = tracing.await(ofEvent(child.eventId()), "child");
    SpanData root = tracing.await(s -> s.getName().equals("test.batch"), "batch span");
    assertThat(c.getParentSpanId()).isEqualTo(root.getSpanId());
    assertThat(c.getTraceId()).isNotEqualTo(a.getTraceId()).isNotEqualTo(b.getTraceId());
    assertThat(c.getLinks())
        .extracting(l -> l.getSpanContext().getTraceId() + "/" + l.getSpanContext().getSpanId())
        .containsExactly(
            a.getTraceId() + "/" + a.getSpanId(), b.getTraceId() + "/" + b.getSpanId());
    assertThat(a.getLinks()).isEmpty();
    bus.close();
  }

  /** An application's observation handler that throws where {@code where} says. */
  private static ObservationRegistry throwing(String where) {
    ObservationRegistry r = ObservationRegistry.create();
    r.observationConfig()
        .observationHandler(
            new ObservationHandler<Observation.Context>() {
              @Override
              public boolean supportsContext(Observation.Context context) {
                return true;
              }

              @Override
              public void onStart(Observation.Context context) {
                fail("start");
              }

              @Override
              public void onScopeOpened(Observation.Context context) {
                fail("scope");
              }

              @Override
              public void onStop(Observation.Context context) {
                fail("stop");
              }

              private void fail(String at) {
                if (where.contains(at)) {
                  throw new IllegalStateException("observation handler broke at " + at);
                }
              }
            });
    return r;
  }

  @ParameterizedTest
  @ValueSource(strings = {"start", "scope,stop"})
  void aThrowingObservationHandlerNeverFailsAPublishNorRunsAHandlerTwice(
      String where, BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus =
        broker.connect(
            o ->
                o.observability(
                    BloodbankObservability.builder().observationRegistry(throwing(where)).build()));
    BlockingQueue<UUID> handled = new LinkedBlockingQueue<>();
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder("broken.#").queueName(broker.queueName("broken")).build(),
            (EventEnvelope<JsonNode> e) -> handled.add(e.eventId())));
    EventEnvelope<Map<String, Object>> event =
        EventEnvelope.builder("broken.observer", Map.<String, Object>of()).build();
    bus.publisher().publish(event).get(10, TimeUnit.SECONDS);
    assertThat(handled.poll(10, TimeUnit.SECONDS)).isEqualTo(event.eventId());
    // Handled once: no retry, no redelivery.
    assertThat(handled.poll(1500, TimeUnit.MILLISECONDS)).isNull();
    bus.close();
  }

  @Test
  void aPublishCallbackRunsWithThePublishedEventInTheMdcAndLeavesNothingBehind(
      BrokerExtension.Broker broker) throws Exception {
    ExecutorService callbacks = Executors.newSingleThreadExecutor();
    try {
      Bloodbank bus =
          broker.connect(o -> o.observability(tracing.observability()).callbackExecutor(callbacks));
      broker.rawQueue("cb.#");
      Publisher p = bus.publisher();
      p.publish("cb.warm", Map.of()).get(10, TimeUnit.SECONDS);
      // Completions wait behind this until both callbacks are attached, so that they run on the
      // callback thread and not on this one.
      CountDownLatch attached = new CountDownLatch(1);
      callbacks.execute(
          () -> {
            try {
              attached.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      UUID parent = UUID.randomUUID();
      EventEnvelope<Map<String, Object>> a =
          EventEnvelope.builder("cb.one", Map.<String, Object>of())
              .withCorrelationId(parent)
              .build();
      EventEnvelope<Map<String, Object>> b =
          EventEnvelope.builder("cb.two", Map.<String, Object>of()).build();
      CompletableFuture<Map<String, String>> inA = p.publish(a).thenApply(x -> mdc());
      CompletableFuture<Map<String, String>> inB = p.publish(b).thenApply(x -> mdc());
      attached.countDown();
      Map<String, String> seenA = inA.get(10, TimeUnit.SECONDS);
      Map<String, String> seenB = inB.get(10, TimeUnit.SECONDS);
      Map<String, String> after =
          CompletableFuture.supplyAsync(TracingIT::mdc, callbacks).get(10, TimeUnit.SECONDS);

      SpanData spanA = tracing.await(ofEvent(a.eventId()), "producer span of a");
      SpanData spanB = tracing.await(ofEvent(b.eventId()), "producer span of b");
      assertThat(seenA)
          .containsOnly(
              Map.entry(LogContext.EVENT_ID, a.eventId().toString()),
              Map.entry(LogContext.EVENT_TYPE, "cb.one"),
              Map.entry(LogContext.CORRELATION_ID, parent.toString()),
              Map.entry(LogContext.TRACE_ID, spanA.getTraceId()));
      assertThat(seenB)
          .containsOnly(
              Map.entry(LogContext.EVENT_ID, b.eventId().toString()),
              Map.entry(LogContext.EVENT_TYPE, "cb.two"),
              Map.entry(LogContext.TRACE_ID, spanB.getTraceId()));
      assertThat(after).as("the callback thread's MDC afterwards").isEmpty();
      bus.close();
    } finally {
      callbacks.shutdown();
    }
  }

  @Test
  void aFailedHandlerAndAFailedPublishMarkTheirSpansWithTheError(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect(o -> o.observability(tracing.observability()));
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder("fail.#")
                    .queueName(broker.queueName("failing"))
                    .maxAttempts(2)
                    .retryDelays(List.of(Duration.ofMillis(50)))
                    .build(),
                (EventEnvelope<JsonNode> e) -> {
                  throw new IllegalStateException("refused");
                }));
    EventEnvelope<Map<String, Object>> event =
        EventEnvelope.builder("fail.always", Map.<String, Object>of()).build();
    bus.publisher().publish(event).get(10, TimeUnit.SECONDS);
    assertThat(broker.drain(s.deadLetterQueueName(), 1, Duration.ofSeconds(10))).hasSize(1);
    SpanData retried =
        tracing.await(
            ofEvent(event.eventId())
                .and(k(SpanKind.CONSUMER))
                .and(x -> "retried".equals(attribute(x, "bloodbank.outcome"))),
            "the first attempt's span");
    SpanData dead =
        tracing.await(
            ofEvent(event.eventId())
                .and(k(SpanKind.CONSUMER))
                .and(x -> "dead_lettered".equals(attribute(x, "bloodbank.outcome"))),
            "the last attempt's span");
    for (SpanData span : List.of(retried, dead)) {
      assertThat(span.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
      assertThat(attribute(span, "error.type")).isEqualTo(IllegalStateException.class.getName());
      assertThat(span.getEvents())
          .anySatisfy(ev -> assertThat(ev.getName()).isEqualTo("exception"));
    }
    SpanData producer = tracing.await(ofEvent(event.eventId()).and(k(SpanKind.PRODUCER)), "send");
    // The retry travels through the retry queue with the original headers: the same parent.
    assertThat(retried.getParentSpanId()).isEqualTo(producer.getSpanId());
    assertThat(dead.getParentSpanId()).isEqualTo(producer.getSpanId());

    Publisher mandatory = bus.publisher(PublisherOptions.builder().mandatory(true).build());
    EventEnvelope<Map<String, Object>> lost =
        EventEnvelope.builder("nowhere.bound", Map.<String, Object>of()).build();
    assertThat(mandatory.publish(lost)).failsWithin(Duration.ofSeconds(10));
    SpanData unroutable = tracing.await(ofEvent(lost.eventId()), "unroutable publish span");
    assertThat(unroutable.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(attribute(unroutable, "bloodbank.outcome")).isEqualTo("unroutable");
    assertThat(attribute(unroutable, "error.type"))
        .isEqualTo(UnroutableEventException.class.getName());
  }

  static final String NOTE = "trace.note.take";
  static final String NOTED = "trace.note.taken";

  /** A command that records where it ran and adds one side effect. */
  public static final class Note extends Command<String> {
    static final Map<UUID, Map<String, String>> MDCS = new ConcurrentHashMap<>();
    static final Map<UUID, SpanContext> SPANS = new ConcurrentHashMap<>();
    public String text = "";

    public Note() {}

    Note(String text) {
      this.text = text;
    }

    @Override
    public @Nullable String execute(CommandContext context, EventCollector events) {
      MDCS.put(context.commandId(), mdc());
      SPANS.put(context.commandId(), Span.current().getSpanContext());
      events.add(NOTED, Map.of("text", text));
      return text;
    }
  }

  @Test
  void aCommandSpanIsTheChildOfItsDeliveryAndTheParentOfItsSideEffectsInOneTrace(
      BrokerExtension.Broker broker) throws Exception {
    SimpleMeterRegistry meters = new SimpleMeterRegistry();
    Bloodbank bus =
        broker.connect(
            o ->
                o.observability(
                    BloodbankObservability.builder()
                        .observationRegistry(tracing.observations())
                        .meterRegistry(meters)
                        .build()));
    JsonNode schema = new ObjectMapper().readTree("{\"type\":\"object\"}");
    bus.registry().register(EventDefinition.of(NOTE, schema, Note.class, true));
    broker.rawQueue(NOTED, CommandManager.COMPLETED);
    EventEnvelope<Note> command = EventEnvelope.builder(NOTE, new Note("hello")).build();
    try (CommandProcessor processor =
        CommandProcessor.start(
            bus,
            CommandProcessorOptions.builder()
                .commandTypes(NOTE)
                .processed(ProcessedCommands.inMemory(100, Duration.ofHours(1)))
                .build())) {
      broker.track(processor.subscriber());
      // An incoming request of the application's own, the root of the trace.
      Observation request = Observation.start("test.request", tracing.observations());
      try (Observation.Scope scope = request.openScope()) {
        bus.publisher().publish(command).get(10, TimeUnit.SECONDS);
      } finally {
        request.stop();
      }
      UUID effectId = EventCollector.sideEffectId(command.eventId(), 0);
      UUID completedId = EventIds.uuid5(command.eventId(), "completed");
      SpanData root = tracing.await(s -> s.getName().equals("test.request"), "request span");
      SpanData sent = tracing.await(ofEvent(command.eventId()).and(k(SpanKind.PRODUCER)), "send");
      SpanData delivered =
          tracing.await(ofEvent(command.eventId()).and(k(SpanKind.CONSUMER)), "delivery");
      SpanData executed = tracing.await(s -> s.getName().equals("command " + NOTE), "command span");
      SpanData effect = tracing.await(ofEvent(effectId).and(k(SpanKind.PRODUCER)), "side effect");
      SpanData completed =
          tracing.await(ofEvent(completedId).and(k(SpanKind.PRODUCER)), "completed event");

      String trace = root.getTraceId();
      assertThat(List.of(sent, delivered, executed, effect, completed))
          .allSatisfy(s -> assertThat(s.getTraceId()).as(s.getName()).isEqualTo(trace));
      assertThat(sent.getParentSpanId()).isEqualTo(root.getSpanId());
      assertThat(delivered.getParentSpanId()).isEqualTo(sent.getSpanId());
      assertThat(executed.getParentSpanId()).isEqualTo(delivered.getSpanId());
      assertThat(executed.getKind()).isEqualTo(SpanKind.INTERNAL);
      assertThat(attribute(executed, "bloodbank.command_type")).isEqualTo(NOTE);
      assertThat(attribute(executed, "bloodbank.command_id"))
          .isEqualTo(command.eventId().toString());
      assertThat(effect.getName()).isEqualTo("publish " + broker.exchange() + ":" + NOTED);
      assertThat(effect.getParentSpanId()).isEqualTo(executed.getSpanId());
      assertThat(attribute(effect, "bloodbank.correlation_id"))
          .isEqualTo(command.eventId().toString());
      assertThat(completed.getParentSpanId()).isEqualTo(executed.getSpanId());

      // Inside the command: its own span is current and the MDC names it.
      assertThat(Note.SPANS.get(command.eventId()).getSpanId()).isEqualTo(executed.getSpanId());
      assertThat(Note.MDCS.get(command.eventId()))
          .containsEntry(LogContext.EVENT_ID, command.eventId().toString())
          .containsEntry(LogContext.EVENT_TYPE, NOTE)
          .containsEntry(LogContext.TRACE_ID, trace)
          .doesNotContainKey(LogContext.CORRELATION_ID);
      Await.until(
          () ->
              meters
                      .find(BloodbankObservability.COMMAND)
                      .tags("command_type", NOTE, "outcome", "completed")
                      .timer()
                  != null,
          Duration.ofSeconds(10),
          "the command timed");
      assertThat(
              meters
                  .get(BloodbankObservability.COMMAND)
                  .tags("command_type", NOTE, "outcome", "completed")
                  .timer()
                  .count())
          .isOne();
    }
  }

  @Test
  void aCommandRunInsideAHandlerGivesTheHandlerItsLogContextBack(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = broker.connect(o -> o.observability(tracing.observability()));
    JsonNode schema = new ObjectMapper().readTree("{\"type\":\"object\"}");
    bus.registry().register(EventDefinition.of(NOTE, schema, Note.class, true));
    broker.rawQueue(NOTED, CommandManager.COMPLETED);
    BlockingQueue<List<Map<String, String>>> seen = new LinkedBlockingQueue<>();
    try (CommandManager manager =
        new CommandManager(
            bus,
            ProcessedCommands.inMemory(100, Duration.ofHours(1)),
            Duration.ofMinutes(1),
            Duration.ofSeconds(30))) {
      broker.track(
          bus.subscribeWithDelivery(
              SubscriberOptions.builder(NOTE).queueName(broker.queueName("own-commands")).build(),
              JsonNode.class,
              (e, delivery) -> {
                Map<String, String> before = mdc();
                manager.handle(e, delivery);
                seen.add(List.of(before, mdc()));
              }));
      UUID parent = UUID.randomUUID();
      EventEnvelope<Note> command =
          EventEnvelope.builder(NOTE, new Note("nested")).withCorrelationId(parent).build();
      bus.publisher().publish(command).get(10, TimeUnit.SECONDS);
      List<Map<String, String>> beforeAndAfter = seen.poll(20, TimeUnit.SECONDS);
      assertThat(beforeAndAfter).isNotNull();
      assertThat(beforeAndAfter.get(0))
          .containsEntry(LogContext.EVENT_ID, command.eventId().toString())
          .containsEntry(LogContext.CORRELATION_ID, parent.toString())
          .containsKey(LogContext.TRACE_ID);
      assertThat(beforeAndAfter.get(1)).as("after the command").isEqualTo(beforeAndAfter.get(0));
    }
  }
}
