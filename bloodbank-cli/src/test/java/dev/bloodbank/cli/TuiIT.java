package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.registry.EventRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bb tui} on a real 80x24 terminal (tmux) against the real RabbitMQ and Redis: navigate to
 * an event, load a mock, break a field and see the violation, fix it, publish, see the event in the
 * tail, its causation tree from Redis, the help, and a clean terminal after q and Ctrl-C.
 */
@ExtendWith(BrokerExtension.class)
class TuiIT {
  /** What a shell that got its terminal back says about it: canonical input, echo on. */
  private static final String MODES =
      "stty -a | tr ' ;' '\\n\\n' | grep -xE -- '-?(icanon|echo)' | tr '\\n' ' '";

  @TempDir Path dir;
  private Tmux tmux;

  @BeforeEach
  void openTmux() {
    tmux = Tmux.open("bb-tui-it");
  }

  @AfterEach
  void killTmux() throws Exception {
    tmux.close();
  }

  private void start(BrokerExtension.Broker broker, String session, Map<String, String> env)
      throws Exception {
    Map<String, String> all = new java.util.HashMap<>(env);
    all.put("BLOODBANK_EXCHANGE", broker.exchange());
    all.put("LANG", "C.UTF-8");
    tmux.startBb(
        session,
        80,
        24,
        all,
        "tui --pattern 'llm.#' --mocks '" + dir.resolve("mocks") + "'",
        MODES);
    tmux.await(
        session,
        env.containsKey("RABBIT_URL") ? "broker unreachable" : "exchange " + broker.exchange(),
        30);
  }

  /** Moves from the top of the events pane to llm.prompt and opens it. */
  private void openLlmPrompt(String session) throws Exception {
    List<String> domains =
        List.copyOf(
            EventRegistry.fromClasspath().all().stream()
                .map(d -> d.eventType().substring(0, d.eventType().indexOf('.')))
                .collect(Collectors.toCollection(TreeSet::new)));
    for (int i = 0; i < domains.indexOf("llm"); i++) {
      tmux.keys(session, "Down");
    }
    tmux.keys(session, "Enter");
    tmux.await(session, "[-] llm", 10);
    tmux.keys(session, "Down", "Down");
    tmux.await(session, ">    prompt", 10);
    tmux.keys(session, "Enter");
  }

  @Test
  void editValidatePublishTailAndTrace(BrokerExtension.Broker broker) throws Exception {
    BrokerExtension.requireService("Redis", "127.0.0.1", 6379);
    String q = broker.rawQueue("llm.#");
    String tag = "t-" + UUID.randomUUID().toString().substring(0, 8);
    Files.createDirectories(dir.resolve("mocks"));
    Files.writeString(
        dir.resolve("mocks/llm.prompt.json"),
        "{\n  \"prompt\": \""
            + tag
            + "\",\n  \"provider\": \"anthropic\",\n"
            + "  \"temperature\": 0.5\n}\n");

    start(broker, "tui", Map.of());
    openLlmPrompt("tui");
    String loaded = tmux.await("tui", "loaded ", 10);
    assertThat(loaded).contains("[Payload llm.prompt]").contains("ok llm.prompt: payload valid");

    // Break the temperature (line 4): a string where a number belongs.
    tmux.keys("tui", "Down", "Down", "Down", "End", "BSpace", "BSpace", "BSpace");
    tmux.type("tui", "\"hot\"");
    String broken = tmux.await("tui", "x /temperature:", 10);
    assertThat(broken).contains("x llm.prompt: 1 violation");
    tmux.keys("tui", "C-p");
    tmux.await("tui", "not published: fix the violations first", 10);

    tmux.keys("tui", "BSpace", "BSpace", "BSpace", "BSpace", "BSpace");
    tmux.type("tui", "1.5");
    tmux.await("tui", "ok llm.prompt: payload valid", 10);
    tmux.keys("tui", "C-p");
    String published = tmux.await("tui", "(confirmed)", 30);
    Matcher m = Pattern.compile("published llm\\.prompt (\\S+) \\(confirmed\\)").matcher(published);
    assertThat(m.find()).as(published).isTrue();
    UUID id = UUID.fromString(m.group(1));

    // It went to the broker as edited, and the tail pane shows it.
    List<GetResponse> got = broker.drain(q, 1, Duration.ofSeconds(10));
    assertThat(got).hasSize(1);
    EventEnvelope<JsonNode> sent = EventCodec.create().decode(got.get(0).getBody());
    assertThat(sent.eventId()).isEqualTo(id);
    assertThat(sent.payload().get("prompt").asText()).isEqualTo(tag);
    assertThat(sent.payload().get("temperature").asDouble()).isEqualTo(1.5);
    tmux.await("tui", "llm.prompt " + id.toString().substring(0, 8) + " {\"prompt\":\"" + tag, 10);

    // Its causation tree, from links recorded in Redis by "services".
    UUID cause = UUID.randomUUID();
    UUID effect = UUID.randomUUID();
    try (CorrelationTracker t =
        CorrelationTracker.redis(
            RedisTrackerOptions.builder().ttl(Duration.ofMinutes(10)).build())) {
      t.addCorrelation(id, List.of(cause), Map.of("event_type", "llm.prompt"))
          .get(5, TimeUnit.SECONDS);
      t.addCorrelation(effect, List.of(id), Map.of("event_type", "llm.response"))
          .get(5, TimeUnit.SECONDS);
    }
    tmux.keys("tui", "Tab");
    tmux.await("tui", "[Tail llm.#", 10);
    tmux.keys("tui", "Enter");
    String event = tmux.await("tui", "Event llm.prompt", 10);
    // The pane wraps the event's lines; the id starts on the event_id line.
    assertThat(event).contains("\"event_id\" : \"" + id.toString().substring(0, 30));
    tmux.keys("tui", "c");
    String tree = tmux.await("tui", "`-- " + effect, 15);
    assertThat(tree).contains("Causation llm.prompt").contains("`-- " + cause);

    tmux.keys("tui", "?");
    assertThat(tmux.await("tui", "bb tui keys", 10)).contains("Press any key");
    assertThat(tmux.paneWithEscapes("tui")).contains("\u001b[");
    tmux.keys("tui", "x");
    tmux.await("tui", "[Tail llm.#", 10);
    tmux.keys("tui", "q");
    String after = tmux.await("tui", "EXIT=0", 20);
    assertThat(after).doesNotContain("Tail llm.#");
    assertThat(tmux.await("tui", "icanon", 10)).contains("icanon echo").doesNotContain("-icanon");
  }

  @Test
  void noColorHasNoAttributesAndCtrlCLeavesTheTerminalClean(BrokerExtension.Broker broker)
      throws Exception {
    start(broker, "plain", Map.of("NO_COLOR", "1"));
    openLlmPrompt("plain");
    tmux.await("plain", "[Payload llm.prompt]", 10);
    assertThat(tmux.paneWithEscapes("plain")).doesNotContain("\u001b");
    tmux.keys("plain", "C-c");
    String after = tmux.await("plain", "EXIT=0", 20);
    assertThat(after).doesNotContain("Payload llm.prompt");
    assertThat(tmux.await("plain", "icanon", 10)).contains("icanon echo");
  }

  @Test
  void withoutABrokerTheCatalogAndEditorWorkAndPublishSaysWhy(BrokerExtension.Broker broker)
      throws Exception {
    // Nothing listens on port 1: the connection is refused at once.
    start(broker, "down", Map.of("RABBIT_URL", "amqp://guest:guest@127.0.0.1:1/"));
    assertThat(tmux.pane("down")).contains("(tail and publish off)");
    openLlmPrompt("down");
    tmux.await("down", "ok llm.prompt: payload valid", 10);
    tmux.keys("down", "C-p");
    tmux.await("down", "not published: not connected: broker unreachable", 10);
    tmux.keys("down", "Tab", "q");
    tmux.await("down", "EXIT=0", 20);
  }
}
