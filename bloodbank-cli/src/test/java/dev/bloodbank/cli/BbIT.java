package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Every bb command, run in-process against the real RabbitMQ and Redis. */
@ExtendWith(BrokerExtension.class)
class BbIT {
  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  static Result bbWithInput(BrokerExtension.Broker broker, String stdin, String... args) {
    Map<String, String> env = new HashMap<>();
    env.put("BLOODBANK_EXCHANGE", broker.exchange());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    InputStream in = new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8));
    int code =
        Bb.run(
            args,
            env,
            in,
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false);
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static Result bb(BrokerExtension.Broker broker, String... args) {
    return bbWithInput(broker, "", args);
  }

  private static final String PROMPT =
      "{\"provider\":\"anthropic\",\"model\":\"claude\",\"prompt\":\"hi\"}";

  @Test
  void publishFromEveryInputKind(BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("#");
    UUID parent = UUID.randomUUID();
    Path payload = dir.resolve("p.json");
    Files.writeString(payload, PROMPT);
    Path envelope = dir.resolve("e.json");
    EventEnvelope<JsonNode> env =
        EventEnvelope.builder(
                "llm.prompt", EventCodec.create().parse(PROMPT.getBytes(StandardCharsets.UTF_8)))
            .build();
    Files.write(envelope, EventCodec.create().encode(env));

    Result inline =
        bb(
            broker,
            "publish",
            "llm.prompt",
            "--json",
            PROMPT,
            "--correlation-id",
            parent.toString(),
            "--correlation-id",
            UUID.randomUUID().toString());
    Result piped = bbWithInput(broker, PROMPT, "publish", "llm.prompt", "--json", "-");
    Result file =
        bb(
            broker,
            "publish",
            "llm.prompt",
            "--payload-file",
            payload.toString(),
            "--source-app",
            "tests");
    Result whole = bb(broker, "publish", "llm.prompt", "--envelope-file", envelope.toString());
    Result mock = bb(broker, "publish", "transcription.voice.completed", "--mock");
    for (Result r : List.of(inline, piped, file, whole, mock)) {
      assertThat(r.code()).as(r.err()).isZero();
    }
    assertThat(whole.out().strip()).isEqualTo(env.eventId().toString());

    List<GetResponse> got = broker.drain(q, 5, Duration.ofSeconds(10));
    assertThat(got)
        .extracting(g -> g.getEnvelope().getRoutingKey())
        .containsExactly(
            "llm.prompt",
            "llm.prompt",
            "llm.prompt",
            "llm.prompt",
            "transcription.voice.completed");
    assertThat(got)
        .extracting(g -> g.getProps().getMessageId())
        .containsExactly(
            inline.out().strip(),
            piped.out().strip(),
            file.out().strip(),
            whole.out().strip(),
            mock.out().strip());
    EventEnvelope<JsonNode> first = EventCodec.create().decode(got.get(0).getBody());
    assertThat(first.correlationIds()).hasSize(2).contains(parent);
    assertThat(first.payload().get("prompt").asText()).isEqualTo("hi");
    assertThat(EventCodec.create().decode(got.get(2).getBody()).source().app()).isEqualTo("tests");
  }

  @Test
  void dryRunValidatesAndPrintsButPublishesNothing(BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("#");
    Result r = bb(broker, "publish", "llm.prompt", "--json", PROMPT, "--dry-run");
    assertThat(r.code()).isZero();
    assertThat(r.out()).contains("\"event_type\" : \"llm.prompt\"").contains("\"prompt\" : \"hi\"");
    assertThat(broker.drain(q, 1, Duration.ofMillis(700))).isEmpty();
  }

  @Test
  void pythonGuidesConnectivityCheckExitsZeroAndTouchesTheBroker(BrokerExtension.Broker broker)
      throws Exception {
    String q = broker.rawQueue("#");
    Result r = bb(broker, "publish", "test-event", "--mock", "--dry-run");
    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err())
        .contains("'test-event' is not in the catalog")
        .contains("exchange '" + broker.exchange() + "' ready");
    assertThat(r.out()).contains("\"event_type\" : \"test-event\"");
    assertThat(broker.drain(q, 1, Duration.ofMillis(700))).isEmpty();
    // The same check against no broker fails as any unreachable broker does.
    Result down =
        bb(
            broker,
            "publish",
            "test-event",
            "--mock",
            "--dry-run",
            "--rabbit-url",
            "amqp://guest:guest@127.0.0.1:1/");
    assertThat(down.code()).isEqualTo(3);
    assertThat(bb(broker, "publish", "test-event", "--mock", "--dry-run", "--offline").code())
        .isZero();
    // Without --dry-run an unknown type is still refused in strict mode.
    assertThat(bb(broker, "publish", "test-event", "--json", "{}").code()).isEqualTo(1);
  }

  @Test
  void publishWithCorrelationIdRecordsTheLinkInRedis(BrokerExtension.Broker broker)
      throws Exception {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    UUID parent = UUID.randomUUID();
    Map<String, String> env = new HashMap<>();
    env.put("BLOODBANK_EXCHANGE", broker.exchange());
    env.put("REDIS_URL", "redis://127.0.0.1:6379");
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Bb.run(
            new String[] {
              "publish", "llm.prompt", "--json", PROMPT, "--correlation-id", parent.toString()
            },
            env,
            new ByteArrayInputStream(new byte[0]),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false);
    assertThat(code).as(err.toString(StandardCharsets.UTF_8)).isZero();
    UUID child = UUID.fromString(out.toString(StandardCharsets.UTF_8).strip());
    try (CorrelationTracker t = CorrelationTracker.redis(RedisTrackerOptions.builder().build())) {
      assertThat(t.parents(child).get(5, TimeUnit.SECONDS)).containsExactly(parent);
      assertThat(t.children(parent).get(5, TimeUnit.SECONDS)).containsExactly(child);
    }
  }

  @Test
  void invalidPayloadExitsOneListingEveryPointer(BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("#");
    Result r =
        bb(
            broker,
            "publish",
            "llm.prompt",
            "--json",
            "{\"provider\":\"p\",\"model\":5,\"temperature\":9}");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err())
        .contains("/payload/model")
        .contains("/payload/prompt")
        .contains("/payload/temperature");
    assertThat(r.err()).doesNotContain("at dev.bloodbank");
    Result unknown = bb(broker, "publish", "llm.promt", "--json", "{}");
    assertThat(unknown.code()).isEqualTo(1);
    assertThat(unknown.err()).contains("unknown event type 'llm.promt'");
    assertThat(broker.drain(q, 1, Duration.ofMillis(500))).isEmpty();
  }

  @Test
  void badJsonExitsOneWithLineAndColumn(BrokerExtension.Broker broker) {
    Result r =
        bbWithInput(
            broker,
            "{\n  \"provider\": \"p\",\n  \"model\" \"m\"\n}",
            "publish",
            "llm.prompt",
            "--json",
            "-");
    assertThat(r.code()).isEqualTo(1);
    assertThat(r.err()).contains("line 3, column 11").contains("standard input");
  }

  @Test
  void brokerDownExitsThreeWithOneLine(BrokerExtension.Broker broker) {
    Result r =
        bb(
            broker,
            "publish",
            "llm.prompt",
            "--json",
            PROMPT,
            "--rabbit-url",
            "amqp://guest:secret@127.0.0.1:1/");
    assertThat(r.code()).isEqualTo(3);
    assertThat(r.err().strip().lines()).hasSize(1);
    assertThat(r.err()).contains("127.0.0.1:1").doesNotContain("secret");
  }

  @Test
  void usageErrorsExitTwo(BrokerExtension.Broker broker) {
    assertThat(bb(broker, "publish", "llm.prompt").code()).isEqualTo(2);
    assertThat(bb(broker, "publish", "llm.prompt", "--json", "{}", "--mock").code()).isEqualTo(2);
    assertThat(bb(broker, "frobnicate").code()).isEqualTo(2);
  }

  @Test
  void watchCountTwoPrintsExactlyTwoEvents(BrokerExtension.Broker broker) throws Exception {
    CompletableFuture<Result> watch =
        CompletableFuture.supplyAsync(() -> bb(broker, "watch", "llm.#", "--count", "2"));
    // Publish until the watcher has its queue; it exits after the second event it sees.
    for (int i = 0; i < 100 && !watch.isDone(); i++) {
      bb(broker, "publish", "llm.prompt", "--json", PROMPT);
      Thread.sleep(100);
    }
    Result r = watch.get(20, TimeUnit.SECONDS);
    assertThat(r.code()).isZero();
    assertThat(r.out().strip().lines())
        .hasSize(2)
        .allSatisfy(l -> assertThat(l).contains("llm.prompt"));
  }

  @Test
  void traceDrawsAKnownThreeLevelGraph(BrokerExtension.Broker broker) throws Exception {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    UUID a = UUID.randomUUID(), b = UUID.randomUUID(), c = UUID.randomUUID(), d = UUID.randomUUID();
    try (CorrelationTracker t =
        CorrelationTracker.redis(
            RedisTrackerOptions.builder().ttl(Duration.ofMinutes(10)).build())) {
      t.addCorrelation(b, List.of(a), Map.of("event_type", "fireflies.transcript.ready"))
          .get(5, TimeUnit.SECONDS);
      t.addCorrelation(c, List.of(b), Map.of("event_type", "fireflies.transcript.processed"))
          .get(5, TimeUnit.SECONDS);
      t.addCorrelation(d, List.of(a), Map.of("event_type", "artifact.created"))
          .get(5, TimeUnit.SECONDS);
    }
    Result down = bb(broker, "trace", a.toString());
    assertThat(down.code()).as(down.err()).isZero();
    assertThat(down.out())
        .contains(a.toString())
        .contains("── " + b + "  fireflies.transcript.ready")
        .contains("── " + d + "  artifact.created")
        .contains("fireflies.transcript.processed");
    // c hangs one level below b, whatever order the siblings come in
    assertThat(down.out().lines().filter(l -> l.matches("^(│   |    )└── " + c + ".*"))).hasSize(1);
    assertThat(down.out().strip().lines()).hasSize(4);
    Result up = bb(broker, "trace", c.toString(), "--ancestors", "--depth", "1");
    assertThat(up.out()).contains("└── " + b).doesNotContain(a.toString()).contains("depth limit");
    Result noRedis = bb(broker, "trace", a.toString(), "--redis-url", "redis://127.0.0.1:1");
    assertThat(noRedis.code()).isEqualTo(3);
  }

  @Test
  void walReplayRepublishesAPreparedLog(BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("#");
    Path file = dir.resolve("prepared.wal");
    EventCodec codec = EventCodec.create();
    List<EventEnvelope<JsonNode>> events =
        List.of(
            EventEnvelope.builder(
                    "llm.prompt", codec.parse(PROMPT.getBytes(StandardCharsets.UTF_8)))
                .build(),
            EventEnvelope.builder(
                    "llm.prompt", codec.parse(PROMPT.getBytes(StandardCharsets.UTF_8)))
                .build());
    try (WriteAheadLog wal = WriteAheadLog.open(WalOptions.of(file))) {
      for (EventEnvelope<JsonNode> e : events) {
        wal.append(e.eventId(), e.eventType(), codec.encode(e));
      }
    }
    Result stats = bb(broker, "wal", "stats", file.toString());
    assertThat(stats.out()).contains("pending:  2").contains("llm.prompt");
    Result replay = bb(broker, "wal", "replay", file.toString());
    assertThat(replay.code()).as(replay.err()).isZero();
    assertThat(replay.out()).contains("replayed 2 of 2");
    assertThat(broker.drain(q, 3, Duration.ofSeconds(3)))
        .extracting(g -> g.getProps().getMessageId())
        .containsExactly(events.get(0).eventId().toString(), events.get(1).eventId().toString());
    assertThat(bb(broker, "wal", "stats", file.toString()).out()).contains("pending:  0");
  }

  @Test
  void walImportTakesAPlainLogAndStatsNamesAPlainLogForWhatItIs(BrokerExtension.Broker broker)
      throws Exception {
    Path plain = dir.resolve("raw_voice_ingest.jsonl");
    java.util.UUID id = java.util.UUID.randomUUID();
    Files.writeString(
        plain,
        "{\"event_id\": \""
            + id
            + "\", \"event_type\": \"llm.prompt\", \"timestamp\":"
            + " \"2026-12-03T10:00:00+00:00\", \"payload\": {}}\nnot json\n");
    Result asLog = bb(broker, "wal", "stats", plain.toString());
    assertThat(asLog.code()).isEqualTo(1);
    assertThat(asLog.err()).contains("plain JSONL").contains("bb wal import");
    Path log = dir.resolve("imported.wal");
    Result imported = bb(broker, "wal", "import", plain.toString(), log.toString());
    assertThat(imported.code()).as(imported.err()).isZero();
    assertThat(imported.out()).contains("imported 1 event(s)");
    assertThat(imported.err()).contains("line 2").contains("not JSON");
    assertThat(bb(broker, "wal", "stats", log.toString()).out())
        .contains("pending:  1")
        .contains("llm.prompt");
    assertThat(bb(broker, "wal", "import", plain.toString(), log.toString()).out())
        .contains("imported 0 event(s)");
  }

  @Test
  void catalogVersionHelpAndCompletion(BrokerExtension.Broker broker) {
    assertThat(bb(broker, "list-events", "--domain", "agent.thread").out())
        .contains("agent.thread.prompt")
        .contains("[command]")
        .doesNotContain("llm.prompt");
    assertThat(bb(broker, "list-commands").out().strip()).startsWith("agent.thread.prompt");
    Result show = bb(broker, "show", "transcription.voice.completed");
    assertThat(show.out()).contains("session_id").contains("required").contains("example payload");
    assertThat(bb(broker, "--version").out()).contains("bb (Bloodbank for Java) 0.1.0");
    assertThat(bb(broker, "help", "publish").out()).contains("Examples:").contains("--mock");
    assertThat(bb(broker, "generate-completion").out()).contains("complete").contains("bb");
  }
}
