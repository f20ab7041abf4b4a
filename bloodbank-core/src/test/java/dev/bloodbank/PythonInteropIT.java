package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.command.Command;
import dev.bloodbank.command.CommandContext;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.command.EventCollector;
import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.validation.ValidationMode;
import io.lettuce.core.RedisClient;
import io.lettuce.core.api.StatefulRedisConnection;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * A Java service beside a real Python one (Debian's python3-pika and python3-redis, installed by
 * {@code .ci/run}): the Python peer declares its queues the Python way, publishes and consumes v1
 * and v2 envelopes, writes {@code processed:} keys and runs commands (issue #17).
 */
@ExtendWith(BrokerExtension.class)
class PythonInteropIT {
  private static final String PYTHON = "/usr/bin/python3";
  private static final ObjectMapper JSON = new ObjectMapper();
  @TempDir static Path dir;
  private static Path script;

  @BeforeAll
  static void peer() throws Exception {
    script = dir.resolve("python_peer.py");
    try (InputStream in = PythonInteropIT.class.getResourceAsStream("/interop/python_peer.py")) {
      Files.copy(in, script);
    }
    String out = run(PYTHON, "-c", "import pika, redis");
    if (!out.isEmpty() && Files.isExecutable(Path.of("/usr/bin/apt-get"))) {
      // A fresh Debian machine: the peer's two packages, as .ci/run installs them.
      System.out.println("PythonInteropIT: installing python3-pika and python3-redis");
      String install =
          run("/usr/bin/apt-get", "install", "-y", "-q", "python3-pika", "python3-redis");
      if (!install.isEmpty()) {
        run("/usr/bin/apt-get", "update", "-q");
        run("/usr/bin/apt-get", "install", "-y", "-q", "python3-pika", "python3-redis");
      }
      out = run(PYTHON, "-c", "import pika, redis");
    }
    assertThat(out)
        .as(
            "the Python peer needs Debian's python3-pika and python3-redis (.ci/run installs"
                + " them: apt-get install python3-pika python3-redis)")
        .isEmpty();
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

  /** Runs the peer to its end and returns its output lines. */
  private static List<String> py(String... args) throws Exception {
    Process p = start(args);
    List<String> lines = lines(p);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("python peer %s finished", args[0]).isTrue();
    assertThat(p.exitValue()).as("python peer %s: %s", args[0], lines).isZero();
    return lines;
  }

  private static Process start(String... args) throws IOException {
    List<String> cmd = new ArrayList<>(List.of(PYTHON, script.toString()));
    cmd.addAll(List.of(args));
    return new ProcessBuilder(cmd).redirectErrorStream(true).start();
  }

  private static List<String> lines(Process p) throws IOException {
    List<String> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
      String line;
      while ((line = r.readLine()) != null) {
        out.add(line);
      }
    }
    return out;
  }

  private static List<String> ids(List<String> lines, String word) {
    return lines.stream()
        .filter(l -> l.startsWith(word + " "))
        .map(l -> l.substring(l.lastIndexOf(' ') + 1))
        .toList();
  }

  private static Bloodbank bus(BrokerExtension.Broker broker, String service) {
    return broker.connect(o -> o.serviceName(service).validation(ValidationMode.SKIP));
  }

  @Test
  void aPythonQueueWithItsOwnArgumentsIsTakenOverWithNothingLostOrTwice(
      BrokerExtension.Broker broker) throws Exception {
    String service = "interop_" + UUID.randomUUID().toString().substring(0, 8);
    String queue = broker.exchange() + "." + service;
    String dlx = queue + ".dlx";
    for (String q : List.of(queue, queue + ".dead", queue + ".retry.100")) {
      broker.track(q);
    }
    py("declare", broker.exchange(), queue, "interop.*", dlx);
    List<String> first =
        ids(py("publish", broker.exchange(), "interop.prompt", "60", "v2"), "SENT");
    List<String> byPython = ids(py("consume", queue, "20"), "GOT");
    assertThat(byPython).hasSize(20);

    List<String> byJava = new CopyOnWriteArrayList<>();
    try (Bloodbank bus = bus(broker, service)) {
      Subscriber sub =
          bus.subscribe(
              SubscriberOptions.builder("interop.*")
                  .queueNaming(QueueNaming.EXCHANGE_AND_SERVICE)
                  .queueArguments(Map.of("x-dead-letter-exchange", dlx, "x-message-ttl", 300000))
                  .maxAttempts(2)
                  .retryDelays(List.of(Duration.ofMillis(100)))
                  .build(),
              (EventEnvelope<JsonNode> e) -> {
                if (e.payload().path("prompt").asText().equals("poison")) {
                  throw new IllegalStateException("poison");
                }
                byJava.add(e.eventId().toString());
              });
      assertThat(sub.queueName()).isEqualTo(queue);
      // The Python publisher of the old model goes on meanwhile.
      List<String> second =
          ids(py("publish", broker.exchange(), "interop.prompt", "40", "v1"), "SENT");
      Await.until(() -> byJava.size() >= 80, Duration.ofSeconds(30), "80 events in Java");
      Thread.sleep(300); // anything more would be a duplicate
      Set<String> all = new HashSet<>(first);
      all.addAll(second);
      assertThat(byJava).doesNotHaveDuplicates().hasSize(80);
      assertThat(byJava).doesNotContainAnyElementsOf(byPython);
      Set<String> got = new HashSet<>(byJava);
      got.addAll(byPython);
      assertThat(got).isEqualTo(all);

      // A failed event goes where the queue's own dead-lettering sends it: its exchange, with its
      // own routing key after the retry hop (which delivers it with the queue's name).
      EventEnvelope<Map<String, Object>> poison =
          EventEnvelope.builder("interop.prompt", Map.<String, Object>of("prompt", "poison"))
              .build();
      bus.publisher().publish(poison).get(5, TimeUnit.SECONDS);
      List<GetResponse> dead = broker.drain(queue + ".dead", 1, Duration.ofSeconds(10));
      assertThat(dead).hasSize(1);
      assertThat(dead.get(0).getProps().getMessageId()).isEqualTo(poison.eventId().toString());
      Map<String, Object> headers = dead.get(0).getProps().getHeaders();
      assertThat(String.valueOf(headers.get(FailureHeaders.ERROR_MESSAGE))).isEqualTo("poison");
      assertThat(String.valueOf(headers.get(FailureHeaders.QUEUE))).isEqualTo(queue);
      assertThat(dead.get(0).getEnvelope().getRoutingKey()).isEqualTo("interop.prompt");
      assertThat(headers.get(FailureHeaders.ATTEMPTS)).isEqualTo(2);
    }
    // No second queue appeared beside the Python one.
    try (Connection c = broker.newConnection("interop-check")) {
      Channel ch = c.createChannel();
      assertThatThrownBy(() -> ch.queueDeclarePassive(queue + ".dlq"))
          .isInstanceOf(IOException.class);
      Channel ch2 = c.createChannel();
      assertThatThrownBy(() -> ch2.queueDeclarePassive(service + "_interop.any_queue"))
          .isInstanceOf(IOException.class);
    }
  }

  @Test
  void anExistingQueueIsUsedAsItIsAndAMissingOneIsNamed(BrokerExtension.Broker broker)
      throws Exception {
    String queue = broker.queueName("python-plain");
    py("declare-plain", broker.exchange(), queue, "interop.plain");
    List<String> got = new CopyOnWriteArrayList<>();
    try (Bloodbank bus = bus(broker, "interop-existing")) {
      broker.track(queue + ".dlq");
      broker.track(queue + ".retry.1000");
      broker.track(queue + ".retry.5000");
      broker.track(queue + ".retry.30000");
      bus.subscribe(
          SubscriberOptions.builder().queueName(queue).existingQueue().build(),
          (EventEnvelope<JsonNode> e) -> got.add(e.eventId().toString()));
      List<String> sent = ids(py("publish", broker.exchange(), "interop.plain", "5", "v2"), "SENT");
      Await.until(() -> got.size() >= 5, Duration.ofSeconds(20), "5 events");
      assertThat(got).containsExactlyInAnyOrderElementsOf(sent);
      String missing = broker.queueName("never-declared");
      assertThatThrownBy(
              () ->
                  bus.subscribe(
                      SubscriberOptions.builder().queueName(missing).existingQueue().build(),
                      (EventEnvelope<JsonNode> e) -> {}))
          .hasMessageContaining("NOT_FOUND - no queue '" + missing + "'");
    }
  }

  @Test
  void javaWritesV1AndV2EnvelopesThatThePythonModelsRead(BrokerExtension.Broker broker)
      throws Exception {
    String q1 = broker.queueName("py-v1");
    String q2 = broker.queueName("py-v2");
    py("declare-plain", broker.exchange(), q1, "interop.v1");
    py("declare-plain", broker.exchange(), q2, "interop.v2");
    List<String> sent1 = new ArrayList<>();
    List<String> sent2 = new ArrayList<>();
    try (Bloodbank bus = bus(broker, "interop-writer")) {
      Publisher v1 =
          bus.publisher(PublisherOptions.builder().envelopeVersion(EnvelopeVersion.V1).build());
      Publisher v2 = bus.publisher();
      UUID parent = UUID.randomUUID();
      for (int i = 0; i < 5; i++) {
        EventEnvelope<Map<String, Object>> a =
            EventEnvelope.builder("interop.v1", Map.<String, Object>of("n", i))
                .withCorrelationId(parent)
                .build();
        EventEnvelope<Map<String, Object>> b =
            EventEnvelope.builder("interop.v2", Map.<String, Object>of("n", i)).build();
        v1.publish(a).get(5, TimeUnit.SECONDS);
        v2.publish(b).get(5, TimeUnit.SECONDS);
        sent1.add(a.eventId().toString());
        sent2.add(b.eventId().toString());
      }
    }
    List<String> read1 = py("check-v1", q1, "5");
    List<String> read2 = py("check-v2", q2, "5");
    assertThat(read1).allSatisfy(l -> assertThat(l).startsWith("OK "));
    assertThat(ids(read1, "OK")).containsExactlyElementsOf(sent1);
    assertThat(read2).allSatisfy(l -> assertThat(l).startsWith("OK "));
    assertThat(ids(read2, "OK")).containsExactlyElementsOf(sent2);
  }

  @Test
  void javaAndPythonConsumersShareTheProcessedKeys(BrokerExtension.Broker broker) throws Exception {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    String queue = broker.queueName("py-dedup");
    broker.track(queue + ".dlq");
    for (long ms : List.of(1000L, 5000L, 30000L)) {
      broker.track(queue + ".retry." + ms);
    }
    py("declare-plain", broker.exchange(), queue, "interop.dedup");
    RedisTrackerOptions redis = RedisTrackerOptions.builder().build();
    List<String> handled = new CopyOnWriteArrayList<>();
    SubscriberOptions.Builder options =
        SubscriberOptions.builder("interop.dedup").queueName(queue).queueArguments(Map.of());
    List<String> all = new ArrayList<>();
    try (ProcessedEvents processed = ProcessedEvents.redis(redis);
        RedisClient client = RedisClient.create("redis://127.0.0.1:6379");
        StatefulRedisConnection<String, String> r = client.connect()) {
      try {
        // Python handles the first ten, Java the next ten: each writes processed:<id>.
        List<String> first =
            ids(py("publish", broker.exchange(), "interop.dedup", "10", "v2"), "SENT");
        assertThat(ids(py("consume", queue, "10", "dedup"), "GOT")).hasSize(10);
        List<String> second;
        try (Bloodbank bus = bus(broker, "interop-dedup")) {
          bus.subscribe(
              options.idempotent(processed).build(),
              (EventEnvelope<JsonNode> e) -> handled.add(e.eventId().toString()));
          second = ids(py("publish", broker.exchange(), "interop.dedup", "10", "v2"), "SENT");
          Await.until(() -> handled.size() >= 10, Duration.ofSeconds(20), "10 in Java");
        }
        all.addAll(first);
        all.addAll(second);
        assertThat(handled).containsExactlyInAnyOrderElementsOf(second);
        String key = "processed:" + second.get(0);
        assertThat(r.sync().get(key)).isEqualTo("1");
        assertThat(r.sync().ttl(key)).isBetween(86_000L, 86_400L);
        assertThat(r.sync().exists(key + ":claim")).isZero();

        // Every id again: Python skips all twenty, Java's ten included ...
        String[] again = new String[5 + all.size()];
        again[0] = "publish";
        again[1] = broker.exchange();
        again[2] = "interop.dedup";
        again[3] = "0";
        again[4] = "v2";
        for (int i = 0; i < all.size(); i++) {
          again[5 + i] = all.get(i);
        }
        py(again);
        List<String> pyAgain = py("consume", queue, "20", "dedup");
        assertThat(ids(pyAgain, "SKIP")).containsExactlyInAnyOrderElementsOf(all);
        assertThat(ids(pyAgain, "GOT")).isEmpty();
        // ... and Java runs its handler for none of them, Python's ten included.
        py(again);
        try (Bloodbank bus = bus(broker, "interop-dedup")) {
          bus.subscribe(
              options.idempotent(processed).build(),
              (EventEnvelope<JsonNode> e) -> handled.add(e.eventId().toString()));
          Await.until(
              () -> broker.messageCount(queue) == 0, Duration.ofSeconds(20), "queue drained");
          Thread.sleep(300);
        }
        assertThat(handled).hasSize(10);
      } finally {
        for (String id : all) {
          r.sync().del("processed:" + id, "processed:" + id + ":claim");
        }
        client.shutdown();
      }
    }
  }

  /** A command the Java processor runs: records which commands ran here. */
  public static final class Run extends Command<Integer> {
    static final Set<String> RAN = ConcurrentHashMap.newKeySet();
    public int n;

    @Override
    public Integer execute(CommandContext context, EventCollector events) throws Exception {
      Thread.sleep(10); // the work
      RAN.add(context.commandId().toString());
      return n;
    }
  }

  @Test
  void aJavaCommandProcessorCompetesWithThePythonOneAndEachCommandRunsOnce(
      BrokerExtension.Broker broker) throws Exception {
    String type = "interop.command.run";
    String queue = broker.exchange() + ".command_processor";
    for (String q : List.of(queue, queue + ".dlq", queue + ".retry.1000", queue + ".retry.5000")) {
      broker.track(q);
    }
    broker.track(queue + ".retry.30000");
    broker.rawQueue("#"); // where the processor's outcome events go
    py("declare-plain", broker.exchange(), queue, type);
    Run.RAN.clear();
    List<String> sent = new ArrayList<>();
    Process python;
    try (Bloodbank bus = bus(broker, "interop-commands")) {
      JsonNode schema = JSON.readTree("{\"type\":\"object\"}");
      bus.registry().register(EventDefinition.of(type, schema, Run.class, true));
      try (CommandProcessor processor =
          CommandProcessor.start(
              bus,
              CommandProcessorOptions.builder()
                  .sharedWithPython()
                  .commandTypes(type)
                  .concurrency(2)
                  .processed(ProcessedCommands.inMemory(1000, Duration.ofHours(1)))
                  .build())) {
        assertThat(processor.subscriber().queueName()).isEqualTo(queue);
        python = start("commands", queue, "6");
        Thread.sleep(1000); // the Python consumer is on the queue
        for (int i = 0; i < 100; i++) {
          EventEnvelope<Map<String, Object>> c =
              EventEnvelope.builder(type, Map.<String, Object>of("n", i)).build();
          bus.publisher().publish(c).get(5, TimeUnit.SECONDS);
          sent.add(c.eventId().toString());
        }
        Await.until(
            () -> broker.messageCount(queue) == 0, Duration.ofSeconds(30), "commands taken");
        List<String> out = lines(python);
        assertThat(python.waitFor(30, TimeUnit.SECONDS)).isTrue();
        Thread.sleep(500);
        List<String> byPython = ids(out, "RAN");
        Set<String> byJava = Set.copyOf(Run.RAN);
        assertThat(byPython).doesNotHaveDuplicates().doesNotContainAnyElementsOf(byJava);
        Set<String> both = new HashSet<>(byJava);
        both.addAll(byPython);
        assertThat(both).isEqualTo(new HashSet<>(sent));
        assertThat(byPython).as("the Python processor took some").isNotEmpty();
        assertThat(byJava).as("the Java processor took some").isNotEmpty();
        System.out.println(
            "commands: "
                + byJava.size()
                + " in Java, "
                + byPython.size()
                + " in Python, "
                + sent.stream().collect(Collectors.toSet()).size()
                + " sent");
      }
    }
  }
}
