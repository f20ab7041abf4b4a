package dev.bloodbank;

import static dev.bloodbank.TestTracing.ofEvent;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.validation.ValidationMode;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.trace.data.SpanData;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.MDC;

/**
 * One trace across Java and a Python service (issue #19): the Python peer runs on Debian's python3
 * with python3-pika and no OpenTelemetry, and carries the trace by hand in the {@code traceparent}
 * header, as OpenTelemetry's pika instrumentation would. Java's producer span is continued in
 * Python, Python's span in Java's consumer span, and that one in what Java publishes next.
 */
@ExtendWith(BrokerExtension.class)
class PythonTraceIT {
  private static final String PYTHON = "/usr/bin/python3";
  @TempDir static Path dir;
  private static Path script;
  private TestTracing tracing;

  @BeforeAll
  static void peer() throws Exception {
    RecordingMdc.install();
    script = dir.resolve("trace_peer.py");
    try (InputStream in = PythonTraceIT.class.getResourceAsStream("/interop/trace_peer.py")) {
      Files.copy(in, script);
    }
    String out = run(PYTHON, "-c", "import pika");
    if (!out.isEmpty() && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
      // A fresh Debian machine: the peer's package, as .ci/run installs it.
      System.out.println("PythonTraceIT: installing python3-pika");
      String install = run("/usr/bin/apt-get", "install", "-y", "-q", "python3-pika");
      if (!install.isEmpty()) {
        run("/usr/bin/apt-get", "update", "-q");
        run("/usr/bin/apt-get", "install", "-y", "-q", "python3-pika");
      }
      out = run(PYTHON, "-c", "import pika");
    }
    assertThat(out)
        .as(
            "the Python peer needs Debian's python3-pika (.ci/run installs it: apt-get install"
                + " python3-pika)")
        .isEmpty();
  }

  @BeforeEach
  void tracing() {
    tracing = new TestTracing();
  }

  @AfterEach
  void close() {
    tracing.close();
  }

  /** Runs a command; returns its output when it failed, or an empty string when it succeeded. */
  private static String run(String... cmd) throws Exception {
    Process p =
        new ProcessBuilder(cmd)
            .redirectErrorStream(true)
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return p.waitFor() == 0 ? "" : "exit " + p.exitValue() + ": " + out;
  }

  private static Process start(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  /** Waits for the peer to end and returns its output lines; fails unless it exited with 0. */
  private static List<String> finish(Process p, String what) throws Exception {
    List<String> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.add(line);
      }
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("python peer %s finished", what).isTrue();
    assertThat(p.exitValue()).as("python peer %s: %s", what, out).isZero();
    return out;
  }

  /** The words of the one line that starts with {@code word}. */
  private static String[] line(List<String> lines, String word) {
    List<String[]> found =
        lines.stream().filter(l -> l.startsWith(word + " ")).map(l -> l.split(" ")).toList();
    assertThat(found).as("%s lines in %s", word, lines).hasSize(1);
    return found.get(0);
  }

  private static Predicate<SpanData> kind(SpanKind kind) {
    return s -> s.getKind() == kind;
  }

  /** What a Java handler saw. */
  record Seen(EventEnvelope<JsonNode> event, Map<String, String> mdc, SpanContext span) {}

  private static Seen seen(EventEnvelope<JsonNode> e) {
    Map<String, String> mdc = MDC.getCopyOfContextMap();
    return new Seen(e, mdc == null ? Map.of() : mdc, Span.current().getSpanContext());
  }

  @Test
  void aJavaTraceGoesThroughAPythonServiceAndComesBack(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus =
        broker.connect(
            o -> o.observability(tracing.observability()).validation(ValidationMode.SKIP));
    String question = "pytrace.question";
    String answer = "pytrace.answer";
    String pythonQueue = broker.rawQueue(question);
    BlockingQueue<Seen> answers = new LinkedBlockingQueue<>();
    Subscriber s =
        broker.track(
            bus.subscribe(
                SubscriberOptions.builder(answer).queueName(broker.queueName("answers")).build(),
                (EventEnvelope<JsonNode> e) -> answers.add(seen(e))));
    Process python = start("reply", pythonQueue, broker.exchange(), answer);
    EventEnvelope<Map<String, Object>> ask =
        EventEnvelope.builder(question, Map.<String, Object>of("q", "why")).build();
    bus.publisher().publish(ask).get(10, TimeUnit.SECONDS);
    List<String> out = finish(python, "reply");
    SpanData producer = tracing.await(ofEvent(ask.eventId()).and(kind(SpanKind.PRODUCER)), "send");

    // Python read a valid traceparent naming the Java producer span ...
    String[] got = line(out, "GOT");
    assertThat(got[1]).isEqualTo(ask.eventId().toString());
    assertThat(got[2]).startsWith("00-" + producer.getTraceId() + "-" + producer.getSpanId() + "-");
    // ... and answered in the same trace, from a span of its own.
    String[] sent = line(out, "SENT");
    String pythonTraceparent = sent[2];
    assertThat(pythonTraceparent).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    assertThat(LogContext.traceIdOf(pythonTraceparent)).isEqualTo(producer.getTraceId());
    String pythonSpan = pythonTraceparent.substring(36, 52);
    assertThat(pythonSpan).isNotEqualTo(producer.getSpanId());

    // Java's consumer span continues the Python span.
    SpanData consumer =
        tracing.await(ofEvent(sent[1]).and(kind(SpanKind.CONSUMER)), "the answer's consumer span");
    assertThat(consumer.getTraceId()).isEqualTo(producer.getTraceId());
    assertThat(consumer.getParentSpanId()).isEqualTo(pythonSpan);
    assertThat(consumer.getParentSpanContext().isRemote()).isTrue();
    assertThat(TestTracing.attribute(consumer, "messaging.destination.subscription.name"))
        .isEqualTo(s.queueName());
    Seen handled = answers.poll(10, TimeUnit.SECONDS);
    assertThat(handled).isNotNull();
    assertThat(handled.event().eventId().toString()).isEqualTo(sent[1]);
    assertThat(handled.event().correlationIds()).containsExactly(ask.eventId());
    assertThat(handled.span().getSpanId()).isEqualTo(consumer.getSpanId());
    assertThat(handled.mdc())
        .containsEntry(LogContext.TRACE_ID, producer.getTraceId())
        .containsEntry(LogContext.EVENT_ID, sent[1])
        .containsEntry(LogContext.CORRELATION_ID, ask.eventId().toString());
  }

  @Test
  void aPythonTraceIsContinuedByAJavaSubscriberAndWhatItPublishes(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus =
        broker.connect(
            o -> o.observability(tracing.observability()).validation(ValidationMode.SKIP));
    String started = "pytrace.started";
    String followed = "pytrace.followed";
    String followUps = broker.rawQueue(followed);
    BlockingQueue<Seen> handled = new LinkedBlockingQueue<>();
    broker.track(
        bus.subscribe(
            SubscriberOptions.builder(started).queueName(broker.queueName("started")).build(),
            (EventEnvelope<JsonNode> e) -> {
              handled.add(seen(e));
              // Published inside the handler: a child of its consumer span.
              bus.publisher()
                  .publish(
                      EventEnvelope.builder(followed, Map.<String, Object>of())
                          .withCorrelationId(e.eventId())
                          .build())
                  .get(10, TimeUnit.SECONDS);
            }));
    String[] sent = line(finish(start("origin", broker.exchange(), started), "origin"), "SENT");
    String pythonTrace = LogContext.traceIdOf(sent[2]);
    assertThat(pythonTrace).isNotNull();
    String pythonSpan = sent[2].substring(36, 52);

    SpanData consumer =
        tracing.await(ofEvent(sent[1]).and(kind(SpanKind.CONSUMER)), "the consumer span");
    assertThat(consumer.getTraceId()).isEqualTo(pythonTrace);
    assertThat(consumer.getParentSpanId()).isEqualTo(pythonSpan);
    Seen seen = handled.poll(10, TimeUnit.SECONDS);
    assertThat(seen).isNotNull();
    assertThat(seen.mdc()).containsEntry(LogContext.TRACE_ID, pythonTrace);

    List<GetResponse> next = broker.drain(followUps, 1, Duration.ofSeconds(10));
    assertThat(next).hasSize(1);
    UUID followId = UUID.fromString(next.get(0).getProps().getMessageId());
    SpanData producer =
        tracing.await(ofEvent(followId).and(kind(SpanKind.PRODUCER)), "the follow-up's span");
    assertThat(producer.getTraceId()).isEqualTo(pythonTrace);
    assertThat(producer.getParentSpanId()).isEqualTo(consumer.getSpanId());
    assertThat(String.valueOf(next.get(0).getProps().getHeaders().get("traceparent")))
        .startsWith("00-" + pythonTrace + "-" + producer.getSpanId() + "-");
  }
}
