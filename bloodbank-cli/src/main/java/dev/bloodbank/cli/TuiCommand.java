package dev.bloodbank.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.validation.ValidationMode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jline.keymap.BindingReader;
import org.jline.keymap.KeyMap;
import org.jline.terminal.Attributes;
import org.jline.terminal.Size;
import org.jline.terminal.Terminal;
import org.jline.terminal.TerminalBuilder;
import org.jline.utils.AttributedString;
import org.jline.utils.Display;
import org.jline.utils.InfoCmp.Capability;
import org.jline.utils.NonBlockingReader;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code bb tui}: browse the catalog, edit, validate and publish payloads, tail the bus. */
@Command(
    name = "tui",
    description =
        "A terminal UI: the catalog by domain, schemas, a payload editor that validates as you"
            + " type, mocks, publish, a live tail and causation trees.",
    footer = {
      "",
      "Keys: Tab moves between panes, Enter opens, Ctrl-P publishes, ? shows them all.",
      "Colours follow NO_COLOR. Needs a terminal of at least 60x16 (80x24 is the design).",
      "",
      "Examples:",
      "  bb tui",
      "  bb tui --pattern 'fireflies.#' --mocks ./mocks"
    })
final class TuiCommand implements java.util.concurrent.Callable<Integer> {
  /** Below this the panes cannot show anything useful. */
  static final int MIN_COLUMNS = 60;

  static final int MIN_ROWS = 16;

  @ParentCommand Bb bb;

  @Option(
      names = "--pattern",
      paramLabel = "P",
      description = "The tail's routing-key pattern (default: #); / changes it.")
  String pattern = "#";

  @Option(
      names = "--mocks",
      paramLabel = "DIR",
      description = "Where Ctrl-O and Ctrl-S load and save <event type>.json (default: ./mocks).")
  Path mocks = Path.of("mocks");

  @Override
  public Integer call() throws Exception {
    if (!bb.terminal) {
      throw new Bb.CliException(
          "tui needs a terminal, and this is not one; in scripts use bb publish, bb watch and"
              + " bb trace");
    }
    boolean unicode = utf8Locale(bb.env);
    TerminalBuilder builder = TerminalBuilder.builder().system(true).jni(true).nativeSignals(true);
    if (unicode) {
      builder.encoding(StandardCharsets.UTF_8);
    }
    Terminal terminal = builder.build();
    if (terminal.getType().startsWith(Terminal.TYPE_DUMB)) {
      terminal.close();
      throw new Bb.CliException(
          "tui needs a terminal that can move the cursor; TERM is '"
              + bb.env.getOrDefault("TERM", "")
              + "'");
    }
    try (BusBackend backend = new BusBackend()) {
      Tui tui =
          new Tui(
              bb.registry(), bb.codec(), backend, pattern, mocks, bb.env.get("NO_COLOR") == null);
      backend.tui = tui;
      new Screen(terminal, tui).run();
    }
    return Bb.OK;
  }

  /** Whether the locale takes UTF-8, by the variables' POSIX precedence. */
  static boolean utf8Locale(java.util.Map<String, String> env) {
    for (String name : List.of("LC_ALL", "LC_CTYPE", "LANG")) {
      String v = env.get(name);
      if (v != null && !v.isEmpty()) {
        String lower = v.toLowerCase(java.util.Locale.ROOT);
        return lower.contains("utf-8") || lower.contains("utf8");
      }
    }
    return false;
  }

  /** The terminal side: raw mode, the alternate screen, keys in, lines out, and a clean exit. */
  private static final class Screen {
    private final Terminal terminal;
    private final Tui tui;
    private final AtomicBoolean restored = new AtomicBoolean();
    private volatile boolean interrupted;
    private volatile boolean resized = true;
    private @Nullable Attributes saved;

    Screen(Terminal terminal, Tui tui) {
      this.terminal = terminal;
      this.tui = tui;
    }

    void run() throws IOException {
      Thread restore = new Thread(this::restore, "bb-tui-restore");
      // SIGTERM or a JVM exit from elsewhere must still give the shell its terminal back.
      Runtime.getRuntime().addShutdownHook(restore);
      try {
        saved = terminal.enterRawMode();
        terminal.handle(Terminal.Signal.INT, s -> interrupted = true);
        terminal.handle(Terminal.Signal.WINCH, s -> resized = true);
        terminal.puts(Capability.enter_ca_mode);
        terminal.puts(Capability.keypad_xmit);
        terminal.flush();
        loop();
      } finally {
        restore();
        try {
          Runtime.getRuntime().removeShutdownHook(restore);
        } catch (IllegalStateException e) {
          // the JVM is exiting; the hook restored the terminal already
        }
      }
    }

    private void loop() throws IOException {
      Display display = new Display(terminal, true);
      KeyMap<Tui.Key> keys = keyMap(terminal);
      BindingReader reader = new BindingReader(terminal.reader());
      Size size = new Size(80, 24);
      boolean cursorShown = true;
      tui.start();
      boolean stale = true;
      while (!tui.quit() && !interrupted) {
        if (resized) {
          resized = false;
          size = terminal.getSize();
          if (size.getColumns() <= 0 || size.getRows() <= 0) {
            size = new Size(80, 24);
          }
          display.clear();
          display.resize(size.getRows(), size.getColumns());
          stale = true;
        }
        stale |= tui.drainPosted();
        if (stale) {
          int cols = size.getColumns();
          int rows = size.getRows();
          List<AttributedString> lines;
          int[] at = {0, 0};
          boolean showCursor = false;
          if (cols < MIN_COLUMNS || rows < MIN_ROWS) {
            lines = new ArrayList<>();
            lines.add(new AttributedString("terminal too small: " + cols + "x" + rows));
            lines.add(new AttributedString("bb tui needs " + MIN_COLUMNS + "x" + MIN_ROWS));
            lines.add(new AttributedString("q quits"));
          } else {
            lines = tui.render(cols, rows);
            showCursor = tui.cursorVisible();
            if (showCursor) {
              at = tui.cursor(cols, rows);
            }
          }
          if (showCursor != cursorShown) {
            terminal.puts(showCursor ? Capability.cursor_visible : Capability.cursor_invisible);
            cursorShown = showCursor;
          }
          display.update(lines, size.cursorPos(at[0], at[1]));
          terminal.flush();
          stale = false;
        }
        int c = reader.peekCharacter(100);
        if (c == NonBlockingReader.READ_EXPIRED) {
          continue;
        }
        if (c == NonBlockingReader.EOF) {
          break;
        }
        Tui.Key key = reader.readBinding(keys, null, true);
        if (key != null) {
          String typed = reader.getLastBinding();
          tui.key(key, typed == null ? "" : typed, Tui.editorHeight(size.getRows()));
          stale = true;
        }
      }
    }

    /** Leaves the alternate screen and raw mode; once, from the loop or the shutdown hook. */
    private void restore() {
      if (!restored.compareAndSet(false, true)) {
        return;
      }
      try {
        terminal.puts(Capability.keypad_local);
        terminal.puts(Capability.cursor_visible);
        terminal.puts(Capability.exit_ca_mode);
        terminal.flush();
        if (saved != null) {
          terminal.setAttributes(saved);
        }
        terminal.close();
      } catch (IOException | RuntimeException e) {
        // the terminal is gone; nothing left to restore
      }
    }
  }

  static KeyMap<Tui.Key> keyMap(Terminal terminal) {
    KeyMap<Tui.Key> k = new KeyMap<>();
    k.setUnicode(Tui.Key.INSERT);
    k.setNomatch(Tui.Key.NONE);
    k.setAmbiguousTimeout(50);
    for (char c = 32; c < 127; c++) {
      k.bind(Tui.Key.INSERT, Character.toString(c));
    }
    k.bind(Tui.Key.NEWLINE, "\r", "\n");
    k.bind(Tui.Key.BACKSPACE, KeyMap.del(), KeyMap.ctrl('H'));
    k.bind(Tui.Key.TAB, "\t");
    k.bind(Tui.Key.ESCAPE, KeyMap.esc());
    k.bind(Tui.Key.PUBLISH, KeyMap.ctrl('P'));
    k.bind(Tui.Key.LOAD_MOCK, KeyMap.ctrl('O'));
    k.bind(Tui.Key.SAVE_MOCK, KeyMap.ctrl('S'));
    k.bind(Tui.Key.EXAMPLE, KeyMap.ctrl('E'));
    k.bind(Tui.Key.FILTER, KeyMap.ctrl('F'));
    k.bind(Tui.Key.KILL_LINE, KeyMap.ctrl('K'));
    k.bind(Tui.Key.HOME, KeyMap.ctrl('A'));
    k.bind(Tui.Key.QUIT, KeyMap.ctrl('Q'), KeyMap.ctrl('C'));
    bind(k, terminal, Tui.Key.UP, Capability.key_up, "\033[A", "\033OA");
    bind(k, terminal, Tui.Key.DOWN, Capability.key_down, "\033[B", "\033OB");
    bind(k, terminal, Tui.Key.RIGHT, Capability.key_right, "\033[C", "\033OC");
    bind(k, terminal, Tui.Key.LEFT, Capability.key_left, "\033[D", "\033OD");
    bind(k, terminal, Tui.Key.HOME, Capability.key_home, "\033[H", "\033OH", "\033[1~");
    bind(k, terminal, Tui.Key.END, Capability.key_end, "\033[F", "\033OF", "\033[4~");
    bind(k, terminal, Tui.Key.PAGE_UP, Capability.key_ppage, "\033[5~");
    bind(k, terminal, Tui.Key.PAGE_DOWN, Capability.key_npage, "\033[6~");
    bind(k, terminal, Tui.Key.DELETE, Capability.key_dc, "\033[3~");
    bind(k, terminal, Tui.Key.BACK_TAB, Capability.key_btab, "\033[Z");
    bind(k, terminal, Tui.Key.HELP, Capability.key_f1, "\033OP", "\033[11~");
    return k;
  }

  private static void bind(
      KeyMap<Tui.Key> k, Terminal t, Tui.Key key, Capability cap, String... fallbacks) {
    String fromTerminfo = KeyMap.key(t, cap);
    if (fromTerminfo != null && !fromTerminfo.isEmpty()) {
      k.bind(key, fromTerminfo);
    }
    k.bind(key, fallbacks);
  }

  /**
   * The bus behind the TUI. Everything that can block (connecting, subscribing, closing, reading
   * Redis) runs on one daemon thread of its own, never on the thread that reads keys.
   */
  private final class BusBackend implements Tui.Backend, AutoCloseable {
    private final ExecutorService io = daemon("bb-tui-io");

    /** Redis reads apart, so that a slow Redis never holds up a publish. */
    private final ExecutorService redis = daemon("bb-tui-redis");

    private volatile String state = "connecting ...";
    private volatile @Nullable Bloodbank bus;
    private @Nullable Subscriber subscriber;
    private @Nullable CorrelationTracker tracker;
    private @Nullable Tui tui;

    BusBackend() {
      io.execute(this::connect);
    }

    private static ExecutorService daemon(String name) {
      return Executors.newSingleThreadExecutor(
          r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
          });
    }

    private void connect() {
      try {
        Bloodbank b = Bloodbank.connect(bb.options(ValidationMode.SKIP));
        bus = b;
        state = "exchange " + b.options().exchange();
      } catch (RuntimeException e) {
        state = "broker unreachable (tail and publish off): " + e.getMessage();
      }
      changed();
    }

    private void changed() {
      Tui t = tui;
      if (t != null) {
        t.post(() -> {});
      }
    }

    @Override
    public String state() {
      return state;
    }

    @Override
    public CompletableFuture<UUID> publish(EventEnvelope<JsonNode> event) {
      CompletableFuture<UUID> done = new CompletableFuture<>();
      io.execute(
          () -> {
            Bloodbank b = bus;
            if (b == null) {
              done.completeExceptionally(new IllegalStateException("not connected: " + state));
              return;
            }
            b.publisher()
                .publish(event)
                .orTimeout(30, TimeUnit.SECONDS)
                .whenComplete(
                    (e, err) -> {
                      if (err != null) {
                        done.completeExceptionally(err);
                      } else {
                        done.complete(e.eventId());
                      }
                    });
          });
      return done;
    }

    @Override
    public void tail(String pattern, Consumer<EventEnvelope<JsonNode>> sink) {
      io.execute(
          () -> {
            Bloodbank b = bus;
            if (subscriber != null) {
              subscriber.close();
              subscriber = null;
            }
            if (b == null) {
              return;
            }
            try {
              subscriber =
                  b.subscribe(
                      SubscriberOptions.builder(pattern).temporary().prefetch(100).build(),
                      (EventEnvelope<JsonNode> e) -> sink.accept(e));
            } catch (RuntimeException e) {
              state = "cannot tail " + pattern + ": " + e.getMessage();
              changed();
            }
          });
    }

    @Override
    public CompletableFuture<List<String>> causation(UUID eventId) {
      return CompletableFuture.supplyAsync(
          () -> {
            try {
              if (tracker == null) {
                tracker = CorrelationTracker.redis(bb.redis());
              }
              CausationTree tree = new CausationTree(tracker, s -> s);
              List<String> up = tree.lines(eventId, true, CorrelationTracker.DEFAULT_MAX_DEPTH);
              List<String> down = tree.lines(eventId, false, CorrelationTracker.DEFAULT_MAX_DEPTH);
              List<String> out = new ArrayList<>();
              out.add("caused by (ancestors):");
              out.addAll(up.size() > 1 ? up : List.of("  nothing recorded"));
              out.add("");
              out.add("caused (descendants):");
              out.addAll(down.size() > 1 ? down : List.of("  nothing recorded"));
              return out;
            } catch (Exception e) {
              throw new java.util.concurrent.CompletionException(e);
            }
          },
          redis);
    }

    @Override
    public void close() {
      io.execute(
          () -> {
            if (subscriber != null) {
              subscriber.close();
            }
            Bloodbank b = bus;
            if (b != null) {
              b.close();
            }
          });
      redis.execute(
          () -> {
            if (tracker != null) {
              tracker.close();
            }
          });
      for (ExecutorService e : List.of(io, redis)) {
        e.shutdown();
        try {
          if (!e.awaitTermination(10, TimeUnit.SECONDS)) {
            e.shutdownNow();
          }
        } catch (InterruptedException ie) {
          e.shutdownNow();
          Thread.currentThread().interrupt();
        }
      }
    }
  }
}
