package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** {@code bb publish_prompt} and {@code bb wrap} against the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class WrapIT {
  @TempDir Path dir;

  /** A scripted agent: a banner, an answer per line (with colour), "bye" ends it with code 3. */
  private static final String AGENT =
      "#!/bin/sh\n"
          + "echo 'agent ready'\n"
          + "while read line; do\n"
          + "  if [ \"$line\" = bye ]; then echo 'see you'; exit 3; fi\n"
          + "  printf 'answer: %s\\n' \"$line\"\n"
          + "  printf '\\033[1mdone\\033[0m\\n'\n"
          + "done\n"
          + "exit 4\n";

  private Path agent() throws IOException {
    Path p = dir.resolve("agent.sh");
    Files.writeString(p, AGENT);
    p.toFile().setExecutable(true);
    return p;
  }

  record Run(int code, byte[] out, String err) {}

  private static Run run(List<String> cmd, String stdin) throws Exception {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return new Run(p.exitValue(), out, err);
  }

  private static Run bb(BrokerExtension.Broker broker, String stdin, String... args) {
    Map<String, String> env = new HashMap<>(System.getenv());
    env.put("BLOODBANK_EXCHANGE", broker.exchange());
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Bb.run(
            args,
            env,
            new ByteArrayInputStream(stdin.getBytes(StandardCharsets.UTF_8)),
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            false);
    return new Run(code, out.toByteArray(), err.toString(StandardCharsets.UTF_8));
  }

  private static List<EventEnvelope<JsonNode>> events(
      BrokerExtension.Broker broker, String q, int n) throws Exception {
    List<EventEnvelope<JsonNode>> got = new ArrayList<>();
    for (GetResponse g : broker.drain(q, n, Duration.ofSeconds(15))) {
      got.add(EventCodec.create().decode(g.getBody()));
    }
    return got;
  }

  /** Checks the prompts and responses of one session, and returns the session id. */
  private static String assertSession(
      List<EventEnvelope<JsonNode>> got, List<String> prompts, List<String> responses) {
    List<EventEnvelope<JsonNode>> p = new ArrayList<>();
    List<EventEnvelope<JsonNode>> r = new ArrayList<>();
    for (EventEnvelope<JsonNode> e : got) {
      (e.eventType().equals("agent.thread.prompt") ? p : r).add(e);
    }
    assertThat(p)
        .extracting(e -> e.payload().get("prompt").asText())
        .containsExactlyElementsOf(prompts);
    assertThat(r)
        .extracting(e -> e.payload().get("response").asText())
        .containsExactlyElementsOf(responses);
    String session = p.get(0).payload().get("session_id").asText();
    for (EventEnvelope<JsonNode> e : got) {
      assertThat(e.payload().get("session_id").asText()).isEqualTo(session);
      assertThat(e.source().meta()).containsEntry("session_id", session);
      assertThat(e.agentContext().instanceId()).isEqualTo(session);
      assertThat(e.payload().get("provider").asText()).isEqualTo("agent.sh");
    }
    for (int i = 0; i < r.size(); i++) {
      UUID promptId = p.get(i).eventId();
      assertThat(r.get(i).correlationIds()).containsExactly(promptId);
      assertThat(r.get(i).payload().get("prompt_id").asText()).isEqualTo(promptId.toString());
    }
    return session;
  }

  @Test
  void publishPromptPublishesAValidLlmPrompt(BrokerExtension.Broker broker) throws Exception {
    String q = broker.rawQueue("llm.#");
    Run r = bb(broker, "", "publish_prompt", "anthropic", "claude", "hello there", "--tag", "x");
    assertThat(r.code()).as(r.err()).isZero();
    Run piped = bb(broker, "from stdin\n", "publish-prompt", "openai", "gpt", "-");
    assertThat(piped.code()).as(piped.err()).isZero();
    List<EventEnvelope<JsonNode>> got = events(broker, q, 2);
    assertThat(got)
        .extracting(e -> e.eventId().toString())
        .containsExactlyInAnyOrder(
            new String(r.out(), StandardCharsets.UTF_8).strip(),
            new String(piped.out(), StandardCharsets.UTF_8).strip());
    EventEnvelope<JsonNode> first =
        got.stream()
            .filter(e -> e.payload().get("provider").asText().equals("anthropic"))
            .findFirst()
            .orElseThrow();
    assertThat(first.eventType()).isEqualTo("llm.prompt");
    assertThat(first.payload().get("model").asText()).isEqualTo("claude");
    assertThat(first.payload().get("prompt").asText()).isEqualTo("hello there");
    assertThat(first.payload().get("tags").get(0).asText()).isEqualTo("x");
    assertThat(got).anyMatch(e -> e.payload().get("prompt").asText().equals("from stdin\n"));

    Run invalid =
        bb(broker, "", "publish_prompt", "anthropic", "claude", "hi", "--temperature", "3");
    assertThat(invalid.code()).isEqualTo(1);
    assertThat(invalid.err()).contains("/payload/temperature");
    Run down =
        bb(
            broker,
            "",
            "publish_prompt",
            "a",
            "m",
            "hi",
            "--rabbit-url",
            "amqp://guest:guest@127.0.0.1:1/");
    assertThat(down.code()).isEqualTo(3);
  }

  @Test
  void pipedWrapCopiesBytesKeepsTheExitCodeAndPublishesTheSession(BrokerExtension.Broker broker)
      throws Exception {
    String q = broker.rawQueue("agent.thread.#");
    Path agent = agent();
    String input = "hello\nworld\n\nbye\n";
    Run direct = run(List.of(agent.toString()), input);
    Run wrapped = bb(broker, input, "wrap", agent.toString());
    assertThat(wrapped.code()).as(wrapped.err()).isEqualTo(3);
    assertThat(direct.code()).isEqualTo(3);
    assertThat(wrapped.out()).isEqualTo(direct.out());
    assertThat(wrapped.err()).isEmpty();

    // A blank line is not a prompt: what the program says to it continues the last response.
    List<EventEnvelope<JsonNode>> got = events(broker, q, 6);
    assertSession(
        got,
        List.of("hello", "world", "bye"),
        List.of("answer: hello\ndone", "answer: world\ndone\nanswer: \ndone", "see you"));
  }

  @Test
  void wrapKeepsTheProgramsArgumentsAndReportsWhatItCannotRunOrPublish(
      BrokerExtension.Broker broker) throws Exception {
    Path echo = dir.resolve("args.sh");
    Files.writeString(echo, "#!/bin/sh\nfor a in \"$@\"; do echo \"[$a]\"; done\nexit 7\n");
    echo.toFile().setExecutable(true);
    Run args = bb(broker, "", "wrap", echo.toString(), "--", "-x", "a b", "--flag");
    assertThat(args.code()).isEqualTo(7);
    assertThat(new String(args.out(), StandardCharsets.UTF_8)).isEqualTo("[-x]\n[a b]\n[--flag]\n");
    Run noDash = bb(broker, "", "wrap", echo.toString(), "-y");
    assertThat(new String(noDash.out(), StandardCharsets.UTF_8)).isEqualTo("[-y]\n");

    Path killed = dir.resolve("killed.sh");
    Files.writeString(killed, "#!/bin/sh\necho before\nkill -TERM $$\n");
    killed.toFile().setExecutable(true);
    Run signalled = bb(broker, "", "wrap", killed.toString());
    assertThat(signalled.code()).isEqualTo(128 + 15);
    assertThat(new String(signalled.out(), StandardCharsets.UTF_8)).isEqualTo("before\n");

    Run missing = bb(broker, "", "wrap", "no-such-agent-" + UUID.randomUUID());
    assertThat(missing.code()).isEqualTo(127);
    assertThat(missing.err()).contains("cannot run 'no-such-agent-");

    Path agent = agent();
    Run down =
        bb(
            broker,
            "hello\nbye\n",
            "--rabbit-url",
            "amqp://guest:guest@127.0.0.1:1/",
            "wrap",
            agent.toString());
    assertThat(down.code()).isEqualTo(3);
    assertThat(new String(down.out(), StandardCharsets.UTF_8))
        .isEqualTo("agent ready\nanswer: hello\n\u001b[1mdone\u001b[0m\nsee you\n");
    assertThat(down.err().strip().lines()).hasSize(1);
    assertThat(down.err()).startsWith("bb: wrap: 4 of 4 events not published");
  }

  @Test
  void onATerminalTheProgramGetsOneAndTheUserSeesItsOutput(BrokerExtension.Broker broker)
      throws Exception {
    try (Tmux tmux = Tmux.open("bb-wrap-it", Path.of("/usr/bin/script"))) {
      String q = broker.rawQueue("agent.thread.#");
      Path agent = dir.resolve("agent.sh");
      // On a terminal the agent also says whether its input is one.
      Files.writeString(
          agent, AGENT.replace("echo 'agent ready'", "[ -t 0 ] && echo 'agent ready on a tty'"));
      agent.toFile().setExecutable(true);
      tmux.startBb(
          "w",
          100,
          20,
          java.util.Map.of("BLOODBANK_EXCHANGE", broker.exchange()),
          "wrap '" + agent + "'",
          "");
      tmux.await("w", "agent ready on a tty", 30);
      tmux.keys("w", "hello", "Enter");
      tmux.await("w", "answer: hello", 10);
      tmux.keys("w", "wor", "BSpace", "rld", "Enter");
      tmux.await("w", "answer: world", 10);
      tmux.keys("w", "bye", "Enter");
      String pane = tmux.await("w", "EXIT=", 30);
      assertThat(pane)
          .contains("hello\nanswer: hello\ndone\nworld\nanswer: world\ndone\nbye\nsee you\nEXIT=3");

      List<EventEnvelope<JsonNode>> got = events(broker, q, 6);
      assertSession(
          got,
          List.of("hello", "world", "bye"),
          List.of("answer: hello\ndone", "answer: world\ndone", "see you"));
    }
  }
}
