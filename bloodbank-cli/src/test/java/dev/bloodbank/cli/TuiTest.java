package dev.bloodbank.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.registry.EventRegistry;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.jline.utils.AttributedString;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The TUI's keys, validation and drawing, without a terminal or a broker. */
class TuiTest {
  private static final int COLS = 80;
  private static final int ROWS = 24;

  @TempDir Path mocks;

  /** Records what the TUI asked of the bus and answers at once. */
  static final class FakeBackend implements Tui.Backend {
    final List<EventEnvelope<JsonNode>> published = new ArrayList<>();
    final List<String> patterns = new ArrayList<>();
    Consumer<EventEnvelope<JsonNode>> sink = e -> {};

    @Override
    public String state() {
      return "exchange test";
    }

    @Override
    public CompletableFuture<UUID> publish(EventEnvelope<JsonNode> event) {
      published.add(event);
      return CompletableFuture.completedFuture(event.eventId());
    }

    @Override
    public void tail(String pattern, Consumer<EventEnvelope<JsonNode>> sink) {
      patterns.add(pattern);
      this.sink = sink;
    }

    @Override
    public CompletableFuture<List<String>> causation(UUID eventId) {
      return CompletableFuture.completedFuture(
          List.of(eventId + "  llm.prompt", "└── " + UUID.randomUUID() + "  llm.response"));
    }
  }

  private final FakeBackend backend = new FakeBackend();

  private Tui tui(boolean color) {
    Tui t = new Tui(EventRegistry.fromClasspath(), EventCodec.create(), backend, "#", mocks, color);
    t.start();
    return t;
  }

  private static void keys(Tui t, Tui.Key... keys) {
    for (Tui.Key k : keys) {
      t.key(k, "", Tui.editorHeight(ROWS));
    }
  }

  private static void type(Tui t, String text) {
    t.key(Tui.Key.INSERT, text, Tui.editorHeight(ROWS));
  }

  private static String screen(Tui t) {
    t.drainPosted();
    StringBuilder b = new StringBuilder();
    for (AttributedString l : t.render(COLS, ROWS)) {
      b.append(l).append('\n');
    }
    return b.toString();
  }

  /** From the top of the tree: open the llm domain and edit llm.prompt. */
  private static void openLlmPrompt(Tui t) {
    List<String> domains = new ArrayList<>(new java.util.TreeSet<>(topDomains()));
    for (int i = 0; i < domains.indexOf("llm"); i++) {
      keys(t, Tui.Key.DOWN);
    }
    keys(t, Tui.Key.NEWLINE, Tui.Key.DOWN, Tui.Key.DOWN, Tui.Key.NEWLINE);
  }

  private static List<String> topDomains() {
    return EventRegistry.fromClasspath().all().stream()
        .map(d -> d.eventType().substring(0, d.eventType().indexOf('.')))
        .distinct()
        .toList();
  }

  @Test
  void everyScreenFitsEightyByTwentyFour() {
    Tui t = tui(true);
    List<String> screens = new ArrayList<>();
    screens.add(screen(t));
    openLlmPrompt(t);
    screens.add(screen(t));
    for (int i = 0; i < 300; i++) {
      backend.sink.accept(
          EventEnvelope.builder(
                  "llm.prompt",
                  (JsonNode)
                      EventCodec.create()
                          .parse(
                              ("{\"prompt\":\"" + "x".repeat(200) + "\"}")
                                  .getBytes(StandardCharsets.UTF_8)))
              .build());
    }
    screens.add(screen(t));
    keys(t, Tui.Key.TAB, Tui.Key.NEWLINE);
    screens.add(screen(t));
    type(t, "c");
    screens.add(screen(t));
    type(t, "?");
    screens.add(screen(t));
    for (String s : screens) {
      List<String> lines = s.lines().toList();
      assertThat(lines).hasSize(ROWS);
      assertThat(lines).allSatisfy(l -> assertThat(l.length()).isLessThanOrEqualTo(COLS));
    }
    assertThat(screens.get(2)).contains("Tail #  (200+)");
    assertThat(screens.get(3)).contains("\"event_type\" : \"llm.prompt\"");
    assertThat(screens.get(4)).contains("Causation llm.prompt").contains("`-- ");
    assertThat(screens.get(5)).contains("bb tui keys").contains("Press any key");
  }

  @Test
  void noColorDrawsNoAttributes() {
    Tui plain = tui(false);
    Tui colored = tui(true);
    openLlmPrompt(plain);
    openLlmPrompt(colored);
    String plainAnsi =
        String.join("\n", plain.render(COLS, ROWS).stream().map(AttributedString::toAnsi).toList());
    String colorAnsi =
        String.join(
            "\n", colored.render(COLS, ROWS).stream().map(AttributedString::toAnsi).toList());
    assertThat(plainAnsi).doesNotContain("\u001b");
    assertThat(colorAnsi).contains("\u001b[");
    // Without colour the selection and the focus still show, as > and [ ].
    assertThat(plainAnsi).contains(">    prompt").contains("[Payload llm.prompt]");
  }

  @Test
  void violationsShowAsYouTypeAndPublishWaitsForAValidPayload() {
    Tui t = tui(false);
    openLlmPrompt(t);
    assertThat(t.eventType()).isEqualTo("llm.prompt");
    assertThat(screen(t)).contains("ok llm.prompt: payload valid");

    // Break the temperature: a string where a number belongs.
    String text = t.payloadText();
    int line = (int) text.lines().takeWhile(l -> !l.contains("\"temperature\"")).count();
    for (int i = 0; i < line; i++) {
      keys(t, Tui.Key.DOWN);
    }
    keys(t, Tui.Key.HOME);
    t.key(Tui.Key.KILL_LINE, "", 10);
    type(t, "  \"temperature\" : \"hot\",");
    assertThat(t.violations()).extracting(v -> v.pointer()).contains("/temperature");
    assertThat(screen(t)).contains("x /temperature:").contains("x llm.prompt: 1 violation");

    keys(t, Tui.Key.PUBLISH);
    assertThat(backend.published).isEmpty();
    assertThat(t.message()).contains("not published");

    keys(t, Tui.Key.HOME);
    t.key(Tui.Key.KILL_LINE, "", 10);
    type(t, "  \"temperature\" : 1.5,");
    assertThat(t.violations()).isEmpty();
    keys(t, Tui.Key.PUBLISH);
    t.drainPosted();
    assertThat(backend.published).hasSize(1);
    EventEnvelope<JsonNode> sent = backend.published.get(0);
    assertThat(sent.eventType()).isEqualTo("llm.prompt");
    assertThat(sent.payload().get("temperature").asDouble()).isEqualTo(1.5);
    assertThat(t.message()).isEqualTo("published llm.prompt " + sent.eventId() + " (confirmed)");
  }

  @Test
  void brokenJsonNamesTheLineAndColumn() {
    Tui t = tui(false);
    openLlmPrompt(t);
    keys(t, Tui.Key.DOWN, Tui.Key.END);
    keys(t, Tui.Key.BACKSPACE);
    assertThat(screen(t)).containsPattern("x llm.prompt: JSON line \\d+ col \\d+: ");
  }

  @Test
  void mocksLoadAndSaveAsFilesNamedByEventType() throws Exception {
    Files.writeString(
        mocks.resolve("llm.prompt.json"),
        "{\n  \"provider\": \"mock provider\",\n  \"prompt\": \"from the mock\"\n}\n");
    Tui t = tui(false);
    openLlmPrompt(t);
    assertThat(t.payloadText()).contains("from the mock");
    assertThat(t.message()).startsWith("loaded ");

    keys(t, Tui.Key.EXAMPLE);
    assertThat(t.payloadText()).doesNotContain("from the mock");
    keys(t, Tui.Key.SAVE_MOCK);
    assertThat(Files.readString(mocks.resolve("llm.prompt.json")))
        .isEqualTo(t.payloadText() + "\n");
    keys(t, Tui.Key.LOAD_MOCK);
    assertThat(t.message()).startsWith("loaded ");
  }

  @Test
  void theFilterPromptResubscribesTheTail() {
    Tui t = tui(false);
    type(t, "/");
    for (int i = 0; i < 1; i++) {
      keys(t, Tui.Key.BACKSPACE);
    }
    type(t, "fireflies.#");
    assertThat(screen(t)).contains("tail pattern: fireflies.#");
    Consumer<EventEnvelope<JsonNode>> old = backend.sink;
    keys(t, Tui.Key.NEWLINE);
    assertThat(backend.patterns).containsExactly("#", "fireflies.#");
    // An event still in flight from the old subscription does not land in the new tail.
    old.accept(
        EventEnvelope.builder(
                "llm.prompt", (JsonNode) EventCodec.create().objectMapper().createObjectNode())
            .build());
    backend.sink.accept(
        EventEnvelope.builder(
                "fireflies.transcript.ready",
                (JsonNode) EventCodec.create().objectMapper().createObjectNode())
            .build());
    assertThat(screen(t)).contains("Tail fireflies.#  (1)").doesNotContain("llm.prompt");
    type(t, "/");
    keys(t, Tui.Key.ESCAPE);
    assertThat(backend.patterns).hasSize(2);
  }

  @Test
  void qQuitsOutsideTheEditorButIsTextInIt() {
    Tui t = tui(false);
    openLlmPrompt(t);
    type(t, "q");
    assertThat(t.quit()).isFalse();
    assertThat(t.payloadText()).startsWith("q");
    keys(t, Tui.Key.TAB);
    type(t, "q");
    assertThat(t.quit()).isTrue();
  }
}
