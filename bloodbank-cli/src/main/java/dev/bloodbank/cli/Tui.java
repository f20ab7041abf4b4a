package dev.bloodbank.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Source;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.function.Consumer;
import org.jline.utils.AttributedString;
import org.jline.utils.AttributedStringBuilder;
import org.jline.utils.AttributedStyle;
import org.jspecify.annotations.Nullable;

/**
 * The state, key handling and drawing of {@code bb tui}, apart from the terminal: the catalog tree,
 * the schema viewer, the payload editor with validation as you type, mocks, publishing, the live
 * tail and an event's causation tree. {@link TuiCommand} feeds it keys and puts what {@link
 * #render} returns on the screen.
 *
 * <p>Not thread-safe, with two exceptions: the tail and the backend's callbacks hand their results
 * over through {@link #post}, which any thread may call, and the UI thread applies them in {@link
 * #drainPosted}.
 */
final class Tui {
  /** Keys, as the command's key map names them. */
  enum Key {
    INSERT,
    NEWLINE,
    BACKSPACE,
    DELETE,
    KILL_LINE,
    UP,
    DOWN,
    LEFT,
    RIGHT,
    HOME,
    END,
    PAGE_UP,
    PAGE_DOWN,
    TAB,
    BACK_TAB,
    ESCAPE,
    HELP,
    PUBLISH,
    LOAD_MOCK,
    SAVE_MOCK,
    EXAMPLE,
    FILTER,
    QUIT,
    NONE
  }

  /** Where keys go. */
  enum Focus {
    TREE,
    RIGHT,
    TAIL
  }

  /** What the right-hand pane shows. */
  enum View {
    EDITOR,
    SCHEMA,
    EVENT,
    CAUSATION
  }

  /** What the TUI needs from the bus; the command implements it with a real connection. */
  interface Backend {
    /** One line: where the TUI is connected, or why it is not. */
    String state();

    /** Publishes with confirms; the future completes with the event id or the reason. */
    CompletableFuture<UUID> publish(EventEnvelope<JsonNode> event);

    /** Replaces the tail's subscription; {@code sink} may be called on any thread. */
    void tail(String pattern, Consumer<EventEnvelope<JsonNode>> sink);

    /** The causation tree around an event: what caused it, then what it caused. */
    CompletableFuture<List<String>> causation(UUID eventId);
  }

  /** Events kept by the tail; older ones are dropped. */
  static final int TAIL_CAPACITY = 200;

  /** Width of the catalog tree at 80 columns; wider terminals give it a third. */
  static final int TREE_WIDTH = 30;

  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("HH:mm:ss").withZone(ZoneId.systemDefault());

  private static final List<String> HELP =
      List.of(
          "bb tui keys",
          "",
          "  Tab / Shift-Tab   next / previous pane: events, right pane, tail",
          "  Up Down PgUp PgDn move; Left Right fold a domain in the events pane",
          "  Enter             events: edit a payload of that type; tail: show the event",
          "  s  e              events: schema viewer, payload editor",
          "  c                 tail: causation tree of the event (from Redis)",
          "  /  or  Ctrl-F     tail pattern, e.g. fireflies.# (Enter applies)",
          "  Ctrl-E            fresh example payload from the schema",
          "  Ctrl-O  Ctrl-S    load / save the mock file <mocks>/<event type>.json",
          "  Ctrl-P            validate and publish the payload (broker confirms)",
          "  Ctrl-K            editor: delete to the end of the line",
          "  Esc               back to the editor, cancel a prompt",
          "  ?  or  F1         this help (in the editor: F1)",
          "  q  Ctrl-Q  Ctrl-C quit (q outside the editor)",
          "",
          "Violations show under the payload as you type, by JSON pointer.",
          "Press any key to close this help.");

  private final EventRegistry registry;
  private final EventValidator validator;
  private final EventCodec codec;
  private final ObjectMapper mapper;
  private final ObjectMapper pretty;
  private final Backend backend;
  private final Path mocks;
  private final boolean color;

  private final List<String> domains;
  private final Map<String, List<EventDefinition>> byDomain = new LinkedHashMap<>();
  private final Set<String> open = new TreeSet<>();
  private int treeIndex;
  private int treeTop;

  private Focus focus = Focus.TREE;
  private View view = View.SCHEMA;
  private @Nullable String eventType;
  private final PayloadEditor editor = new PayloadEditor();
  private long validatedVersion = -1;
  private @Nullable String parseError;
  private List<Violation> violations = List.of();
  private List<String> viewLines = List.of();
  private String viewTitle = "";
  private int viewTop;

  private final Deque<EventEnvelope<JsonNode>> tail = new ArrayDeque<>();
  private final Deque<EventEnvelope<JsonNode>> incoming = new ArrayDeque<>();
  private int tailGeneration; // guarded by incoming
  private volatile boolean tailArrived;
  private String pattern;
  private int tailSelected = -1;
  private @Nullable StringBuilder prompt;

  private boolean help;
  private boolean quit;
  private String message = "";
  private final ConcurrentLinkedQueue<Runnable> posted = new ConcurrentLinkedQueue<>();

  /**
   * @param pattern the tail's first routing-key pattern
   * @param mocks the directory of mock payload files
   * @param color whether to use colours and text attributes ({@code NO_COLOR} unset)
   */
  Tui(
      EventRegistry registry,
      EventCodec codec,
      Backend backend,
      String pattern,
      Path mocks,
      boolean color) {
    this.registry = registry;
    this.codec = codec;
    this.mapper =
        codec.objectMapper().copy().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);
    this.pretty = codec.objectMapper().copy().enable(SerializationFeature.INDENT_OUTPUT);
    this.validator = EventValidator.create(registry, mapper);
    this.backend = backend;
    this.pattern = pattern;
    this.mocks = mocks;
    this.color = color;
    for (EventDefinition d : registry.all()) {
      byDomain.computeIfAbsent(topDomain(d.eventType()), k -> new ArrayList<>()).add(d);
    }
    this.domains = new ArrayList<>(byDomain.keySet());
  }

  private static String topDomain(String eventType) {
    int dot = eventType.indexOf('.');
    return dot < 0 ? eventType : eventType.substring(0, dot);
  }

  /** Starts the tail; call once, after the terminal is set up. */
  void start() {
    subscribeTail();
    message = "? for help";
  }

  boolean quit() {
    return quit;
  }

  /** Whether the terminal cursor belongs in the editor (or the prompt) rather than hidden. */
  boolean cursorVisible() {
    return !help && (prompt != null || focus == Focus.RIGHT && view == View.EDITOR);
  }

  /** Hands work to the UI thread; safe from any thread. */
  void post(Runnable r) {
    posted.add(r);
  }

  /** Runs what other threads posted; returns whether anything ran (so the screen is stale). */
  boolean drainPosted() {
    boolean any = drainTail();
    for (Runnable r; (r = posted.poll()) != null; ) {
      r.run();
      any = true;
    }
    return any;
  }

  /**
   * Takes a tail event on the subscriber's thread. The events wait in a buffer as bounded as the
   * tail itself, so a screen that stops drawing (a stalled terminal blocks the UI thread's writes)
   * never makes the TUI hold more than {@link #TAIL_CAPACITY} of them.
   */
  private void onTailEvent(int generation, EventEnvelope<JsonNode> e) {
    synchronized (incoming) {
      if (generation != tailGeneration) {
        return; // still in flight from the previous pattern's subscription
      }
      incoming.addLast(e);
      if (incoming.size() > TAIL_CAPACITY) {
        incoming.removeFirst();
      }
    }
    tailArrived = true;
  }

  /** Moves the buffered tail events into the pane; on the UI thread. */
  private boolean drainTail() {
    if (!tailArrived) {
      return false;
    }
    tailArrived = false;
    synchronized (incoming) {
      for (EventEnvelope<JsonNode> e; (e = incoming.pollFirst()) != null; ) {
        tail.addLast(e);
        if (tail.size() > TAIL_CAPACITY) {
          tail.removeFirst();
          if (tailSelected > 0) {
            tailSelected--;
          }
        }
      }
    }
    return true;
  }

  private void subscribeTail() {
    int generation;
    synchronized (incoming) {
      generation = ++tailGeneration;
      incoming.clear();
    }
    tail.clear();
    tailSelected = -1;
    backend.tail(pattern, e -> onTailEvent(generation, e));
  }

  // ---------------------------------------------------------------- keys

  /**
   * Handles one key.
   *
   * @param text what was typed, for {@link Key#INSERT}
   * @param editorHeight the editor's rows on the screen, for paging
   */
  void key(Key key, String text, int editorHeight) {
    if (help) {
      help = false;
      return;
    }
    if (key == Key.QUIT) {
      quit = true;
      return;
    }
    if (prompt != null) {
      promptKey(key, text);
      return;
    }
    boolean editing = focus == Focus.RIGHT && view == View.EDITOR;
    switch (key) {
      case HELP -> help = true;
      case TAB -> focus = Focus.values()[(focus.ordinal() + 1) % Focus.values().length];
      case BACK_TAB ->
          focus =
              Focus.values()[(focus.ordinal() + Focus.values().length - 1) % Focus.values().length];
      case PUBLISH -> publish();
      case LOAD_MOCK -> loadMock();
      case SAVE_MOCK -> saveMock();
      case EXAMPLE -> example();
      case FILTER -> prompt = new StringBuilder(pattern);
      case ESCAPE -> {
        if (eventType != null) {
          view = View.EDITOR;
          focus = Focus.RIGHT;
        }
      }
      default -> {
        if (editing) {
          editorKey(key, text, editorHeight);
        } else if (key == Key.INSERT && !text.isEmpty()) {
          letter(text.charAt(0));
        } else if (focus == Focus.TREE) {
          treeKey(key);
        } else if (focus == Focus.TAIL) {
          tailKey(key);
        } else {
          viewKey(key, editorHeight);
        }
      }
    }
  }

  private void letter(char c) {
    switch (c) {
      case '?' -> help = true;
      case 'q' -> quit = true;
      case '/' -> prompt = new StringBuilder(pattern);
      case 's' -> {
        if (focus == Focus.TREE && selectedEvent() != null) {
          showSchema(selectedEvent().eventType());
        }
      }
      case 'e' -> {
        if (focus == Focus.TREE && selectedEvent() != null) {
          edit(selectedEvent().eventType());
        } else if (eventType != null) {
          view = View.EDITOR;
          focus = Focus.RIGHT;
        }
      }
      case 'c' -> {
        if (focus == Focus.TAIL) {
          causation();
        }
      }
      default -> {}
    }
  }

  private void promptKey(Key key, String text) {
    StringBuilder p = prompt;
    switch (key) {
      case INSERT -> p.append(text.replaceAll("\\s", ""));
      case BACKSPACE -> {
        if (p.length() > 0) {
          p.setLength(p.length() - 1);
        }
      }
      case ESCAPE -> prompt = null;
      case NEWLINE -> {
        String next = p.toString().isBlank() ? "#" : p.toString();
        prompt = null;
        if (!next.equals(pattern)) {
          pattern = next;
          subscribeTail();
        }
        message = "tailing " + pattern;
      }
      default -> {}
    }
  }

  private void treeKey(Key key) {
    List<Row> rows = treeRows();
    Row row = rows.get(Math.min(treeIndex, rows.size() - 1));
    switch (key) {
      case UP -> treeIndex = Math.max(0, treeIndex - 1);
      case DOWN -> treeIndex = Math.min(rows.size() - 1, treeIndex + 1);
      case PAGE_UP -> treeIndex = Math.max(0, treeIndex - 10);
      case PAGE_DOWN -> treeIndex = Math.min(rows.size() - 1, treeIndex + 10);
      case HOME -> treeIndex = 0;
      case END -> treeIndex = rows.size() - 1;
      case RIGHT -> {
        if (row.event == null) {
          open.add(row.domain);
        } else {
          showSchema(row.event.eventType());
        }
      }
      case LEFT -> {
        open.remove(row.domain);
        treeIndex = indexOfDomain(row.domain);
      }
      case NEWLINE -> {
        if (row.event == null) {
          if (!open.remove(row.domain)) {
            open.add(row.domain);
          }
        } else {
          edit(row.event.eventType());
        }
      }
      default -> {}
    }
  }

  private int indexOfDomain(String domain) {
    List<Row> rows = treeRows();
    for (int i = 0; i < rows.size(); i++) {
      if (rows.get(i).event == null && rows.get(i).domain.equals(domain)) {
        return i;
      }
    }
    return 0;
  }

  private void tailKey(Key key) {
    int n = tail.size();
    if (n == 0) {
      return;
    }
    if (tailSelected < 0 || tailSelected >= n) {
      tailSelected = n - 1;
    }
    switch (key) {
      case UP -> tailSelected = Math.max(0, tailSelected - 1);
      case DOWN -> tailSelected = Math.min(n - 1, tailSelected + 1);
      case HOME -> tailSelected = 0;
      case END -> tailSelected = n - 1;
      case NEWLINE -> showEvent();
      default -> {}
    }
  }

  private void viewKey(Key key, int height) {
    int max = Math.max(0, viewLines.size() - height);
    switch (key) {
      case UP -> viewTop = Math.max(0, viewTop - 1);
      case DOWN -> viewTop = Math.min(max, viewTop + 1);
      case PAGE_UP -> viewTop = Math.max(0, viewTop - height);
      case PAGE_DOWN -> viewTop = Math.min(max, viewTop + height);
      case HOME -> viewTop = 0;
      case END -> viewTop = max;
      default -> {}
    }
  }

  private void editorKey(Key key, String text, int height) {
    switch (key) {
      case INSERT -> editor.insert(text);
      case NEWLINE -> editor.newline();
      case BACKSPACE -> editor.backspace();
      case DELETE -> editor.delete();
      case KILL_LINE -> editor.killLine();
      case UP -> editor.up();
      case DOWN -> editor.down();
      case LEFT -> editor.left();
      case RIGHT -> editor.right();
      case HOME -> editor.home();
      case END -> editor.end();
      case PAGE_UP -> editor.pageUp(height);
      case PAGE_DOWN -> editor.pageDown(height);
      default -> {}
    }
  }

  // ---------------------------------------------------------------- actions

  private @Nullable EventDefinition selectedEvent() {
    List<Row> rows = treeRows();
    return rows.isEmpty() ? null : rows.get(Math.min(treeIndex, rows.size() - 1)).event;
  }

  private void showSchema(String type) {
    try {
      JsonNode schema = registry.schema(type);
      EventDefinition d = registry.require(type);
      List<String> l = new ArrayList<>();
      l.add(d.title() + (d.command() ? "  [command]" : ""));
      if (schema.hasNonNull("description")) {
        l.add(schema.get("description").asText());
      }
      l.add("");
      l.add("fields:");
      l.addAll(CatalogCommands.fields(schema));
      l.add("");
      l.add("schema (" + d.schemaLocation() + "):");
      l.addAll(lines(pretty.writeValueAsString(schema)));
      viewLines = l;
    } catch (RuntimeException | JsonProcessingException e) {
      viewLines = List.of("cannot read the schema: " + e.getMessage());
    }
    selectType(type);
    viewTitle = "Schema " + type;
    view = View.SCHEMA;
    viewTop = 0;
  }

  /** Opens the editor on an event type: its mock file when there is one, else an example. */
  private void edit(String type) {
    boolean same = type.equals(eventType);
    selectType(type);
    view = View.EDITOR;
    focus = Focus.RIGHT;
    if (same) {
      return;
    }
    if (Files.isRegularFile(mockFile(type))) {
      loadMock();
    } else {
      example();
    }
  }

  private void selectType(String type) {
    if (!type.equals(eventType)) {
      eventType = type;
      editor.setText("");
      validatedVersion = -1;
    }
  }

  private void example() {
    if (eventType == null) {
      message = "choose an event type first (Enter in the events pane)";
      return;
    }
    try {
      editor.setText(pretty.writeValueAsString(MockPayloads.example(registry.schema(eventType))));
      message = "example payload of " + eventType;
    } catch (JsonProcessingException e) {
      message = "cannot make an example: " + e.getOriginalMessage();
    }
    view = View.EDITOR;
  }

  Path mockFile(String type) {
    return mocks.resolve(type + ".json");
  }

  private void loadMock() {
    if (eventType == null) {
      message = "choose an event type first (Enter in the events pane)";
      return;
    }
    Path file = mockFile(eventType);
    try {
      editor.setText(Files.readString(file, StandardCharsets.UTF_8));
      view = View.EDITOR;
      message = "loaded " + file;
    } catch (NoSuchFileException e) {
      message = "no mock at " + file + " (Ctrl-S saves one, Ctrl-E makes an example)";
    } catch (IOException | RuntimeException e) {
      message = "cannot read " + file + ": " + e.getMessage();
    }
  }

  private void saveMock() {
    if (eventType == null) {
      message = "choose an event type first (Enter in the events pane)";
      return;
    }
    Path file = mockFile(eventType);
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      String text = editor.text();
      Files.writeString(file, text.endsWith("\n") ? text : text + "\n", StandardCharsets.UTF_8);
      validate();
      message =
          "saved "
              + file
              + (parseError != null || !violations.isEmpty() ? " (it does not validate yet)" : "");
    } catch (IOException | RuntimeException e) {
      message = "cannot write " + file + ": " + e.getMessage();
    }
  }

  private void publish() {
    if (eventType == null) {
      message = "choose an event type first (Enter in the events pane)";
      return;
    }
    validate();
    if (parseError != null || !violations.isEmpty()) {
      message = "not published: fix the " + (parseError != null ? "JSON" : "violations") + " first";
      view = View.EDITOR;
      return;
    }
    JsonNode payload;
    try {
      payload = mapper.readTree(editor.text());
    } catch (JsonProcessingException e) {
      message = "not published: " + e.getOriginalMessage();
      return;
    }
    EventEnvelope<JsonNode> event =
        EventEnvelope.builder(eventType, payload).withSource(Source.local("bb-tui")).build();
    String type = eventType;
    message = "publishing " + type + " ...";
    backend
        .publish(event)
        .whenComplete(
            (id, err) ->
                post(
                    () ->
                        message =
                            err == null
                                ? "published " + type + " " + id + " (confirmed)"
                                : "not published: " + rootMessage(err)));
  }

  private void showEvent() {
    EventEnvelope<JsonNode> e = selectedTail();
    if (e == null) {
      return;
    }
    try {
      viewLines = lines(pretty.writeValueAsString(pretty.readTree(codec.encode(e))));
    } catch (IOException ex) {
      viewLines = List.of("cannot show the event: " + ex.getMessage());
    }
    viewTitle = "Event " + e.eventType();
    view = View.EVENT;
    viewTop = 0;
  }

  private void causation() {
    EventEnvelope<JsonNode> e = selectedTail();
    if (e == null) {
      message = "choose an event in the tail first (Tab, Up/Down)";
      return;
    }
    UUID id = e.eventId();
    viewTitle = "Causation " + e.eventType();
    viewLines = List.of("reading the causation graph of " + id + " ...");
    view = View.CAUSATION;
    viewTop = 0;
    backend
        .causation(id)
        .whenComplete(
            (tree, err) ->
                post(
                    () -> {
                      if (view == View.CAUSATION) {
                        viewLines =
                            err == null
                                ? tree.stream().map(Tui::ascii).toList()
                                : List.of("no causation tree: " + rootMessage(err));
                      }
                    }));
  }

  /**
   * The tree in ASCII like the rest of the screen: JLine draws box characters through the
   * terminal's alternate character set where it has one, which not every terminal (nor tmux's
   * capture) shows as lines.
   */
  private static String ascii(String line) {
    return line.replace("└── ", "`-- ").replace("├── ", "|-- ").replace("│   ", "|   ");
  }

  private @Nullable EventEnvelope<JsonNode> selectedTail() {
    if (tail.isEmpty()) {
      return null;
    }
    int i = tailSelected < 0 || tailSelected >= tail.size() ? tail.size() - 1 : tailSelected;
    return new ArrayList<>(tail).get(i);
  }

  private static String rootMessage(Throwable t) {
    Throwable c = t;
    while (c.getCause() != null && c.getCause() != c) {
      c = c.getCause();
    }
    String m = c.getMessage();
    return m == null ? c.getClass().getSimpleName() : m;
  }

  /** Parses and validates the editor's text when it changed since the last time. */
  void validate() {
    if (eventType == null || editor.version() == validatedVersion) {
      return;
    }
    validatedVersion = editor.version();
    parseError = null;
    violations = List.of();
    JsonNode payload;
    try {
      payload = mapper.readTree(editor.text());
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      parseError =
          (at == null ? "" : "line " + at.getLineNr() + " col " + at.getColumnNr() + ": ")
              + e.getOriginalMessage().lines().findFirst().orElse("");
      return;
    }
    if (payload == null || payload.isMissingNode()) {
      parseError = "empty payload";
      return;
    }
    violations = validator.checkPayload(eventType, payload, ValidationMode.STRICT).violations();
  }

  // ---------------------------------------------------------------- drawing

  private record Row(String domain, @Nullable EventDefinition event) {}

  private List<Row> treeRows() {
    List<Row> rows = new ArrayList<>();
    for (String d : domains) {
      rows.add(new Row(d, null));
      if (open.contains(d)) {
        for (EventDefinition e : byDomain.get(d)) {
          rows.add(new Row(d, e));
        }
      }
    }
    return rows;
  }

  /** Rows the editor gets on a screen of this height. */
  static int editorHeight(int rows) {
    return Math.max(1, mainHeight(rows) - 1);
  }

  private static int mainHeight(int rows) {
    return Math.max(3, rows - 9);
  }

  private static int treeWidth(int cols) {
    return Math.max(TREE_WIDTH, cols / 3);
  }

  /** The screen: exactly {@code rows} lines, none wider than {@code cols}. */
  List<AttributedString> render(int cols, int rows) {
    validate();
    List<AttributedString> out = new ArrayList<>(rows);
    out.add(header(cols));
    int main = mainHeight(rows);
    if (help) {
      List<AttributedString> h = helpLines(cols, rows - 3);
      for (int i = 0; i < rows - 3; i++) {
        out.add(i < h.size() ? h.get(i) : AttributedString.EMPTY);
      }
    } else {
      int tw = Math.min(treeWidth(cols), cols - 10);
      int rw = cols - tw - 1;
      List<AttributedString> left = tree(tw, main);
      List<AttributedString> right = right(rw, main);
      for (int i = 0; i < main; i++) {
        AttributedStringBuilder b = new AttributedStringBuilder();
        b.append(pad(i < left.size() ? left.get(i) : AttributedString.EMPTY, tw));
        b.append("|", dim());
        b.append(i < right.size() ? right.get(i) : AttributedString.EMPTY);
        out.add(cut(b.toAttributedString(), cols));
      }
      out.addAll(tailLines(cols, rows - main - 3));
    }
    out.add(cut(validationLine(), cols));
    out.add(cut(statusLine(), cols));
    while (out.size() > rows) {
      out.remove(out.size() - 1);
    }
    return out;
  }

  /** Where the cursor goes, as (row, column), when {@link #cursorVisible()}. */
  int[] cursor(int cols, int rows) {
    if (prompt != null) {
      return new int[] {rows - 1, Math.min(cols - 1, promptLabel().length() + prompt.length())};
    }
    int tw = Math.min(treeWidth(cols), cols - 10);
    int height = editorHeight(rows) - violationRows();
    editor.window(Math.max(1, height), cols - tw - 1);
    return new int[] {
      2 + editor.row() - editor.scrollTop(),
      Math.min(cols - 1, tw + 1 + editor.col() - editor.scrollLeft())
    };
  }

  private int violationRows() {
    if (eventType == null || view != View.EDITOR) {
      return 0;
    }
    return parseError != null ? 1 : Math.min(3, violations.size());
  }

  private AttributedString header(int cols) {
    String left = " bb tui  " + backend.state();
    String right = "? help  q quit ";
    String text =
        left.length() + right.length() < cols
            ? left + " ".repeat(cols - left.length() - right.length()) + right
            : left;
    return cut(new AttributedString(text, color ? AttributedStyle.INVERSE : plain()), cols);
  }

  private List<AttributedString> tree(int width, int height) {
    List<AttributedString> out = new ArrayList<>();
    out.add(title("Events", focus == Focus.TREE, width));
    List<Row> rows = treeRows();
    treeIndex = Math.max(0, Math.min(treeIndex, rows.size() - 1));
    int body = height - 1;
    if (treeIndex < treeTop) {
      treeTop = treeIndex;
    } else if (treeIndex >= treeTop + body) {
      treeTop = treeIndex - body + 1;
    }
    for (int i = treeTop; i < Math.min(rows.size(), treeTop + body); i++) {
      Row r = rows.get(i);
      boolean sel = i == treeIndex;
      String text;
      if (r.event == null) {
        text = (open.contains(r.domain) ? "[-] " : "[+] ") + r.domain;
      } else {
        String rest = r.event.eventType().substring(r.domain.length() + 1);
        text = "    " + rest + (r.event.command() ? " *" : "");
      }
      out.add(selectable(text, sel, focus == Focus.TREE, width));
    }
    return out;
  }

  private List<AttributedString> right(int width, int height) {
    List<AttributedString> out = new ArrayList<>();
    if (eventType == null && view != View.EVENT && view != View.CAUSATION) {
      out.add(title("Welcome", focus == Focus.RIGHT, width));
      for (String l :
          List.of(
              "Choose an event type on the left:",
              "Up/Down to move, Enter to open a domain,",
              "Enter on an event to edit a payload,",
              "s to read its schema.",
              "",
              "Tab moves to the tail below, where Enter",
              "shows an event and c its causation tree.",
              "",
              "? shows every key.")) {
        out.add(new AttributedString(" " + l));
      }
      return out;
    }
    if (view == View.EDITOR) {
      out.add(title("Payload " + eventType, focus == Focus.RIGHT, width));
      int vr = violationRows();
      int h = Math.max(1, height - 1 - vr);
      for (String l : editor.window(h, width)) {
        out.add(new AttributedString(l));
      }
      while (out.size() < 1 + h) {
        out.add(new AttributedString("~", dim()));
      }
      if (parseError != null) {
        out.add(new AttributedString("x JSON " + parseError, error()));
      } else {
        for (int i = 0; i < vr; i++) {
          Violation v = violations.get(i);
          out.add(
              new AttributedString(
                  "x " + (v.pointer().isEmpty() ? "/" : v.pointer()) + ": " + v.message(),
                  error()));
        }
      }
      return out;
    }
    out.add(title(viewTitle, focus == Focus.RIGHT, width));
    int body = height - 1;
    List<String> wrapped = wrap(viewLines, width);
    viewTop = Math.max(0, Math.min(viewTop, Math.max(0, wrapped.size() - body)));
    for (int i = viewTop; i < Math.min(wrapped.size(), viewTop + body); i++) {
      out.add(new AttributedString(wrapped.get(i)));
    }
    return out;
  }

  private List<AttributedString> tailLines(int cols, int rows) {
    List<AttributedString> out = new ArrayList<>();
    out.add(
        title(
            "Tail "
                + pattern
                + "  ("
                + tail.size()
                + (tail.size() == TAIL_CAPACITY ? "+" : "")
                + ")",
            focus == Focus.TAIL,
            cols));
    int body = rows - 1;
    List<EventEnvelope<JsonNode>> list = new ArrayList<>(tail);
    int sel = tailSelected < 0 || tailSelected >= list.size() ? list.size() - 1 : tailSelected;
    int first = Math.max(0, Math.min(list.size() - body, sel - body + 1));
    if (sel >= 0 && sel < first) {
      first = sel;
    }
    for (int i = first; i < Math.min(list.size(), first + body); i++) {
      EventEnvelope<JsonNode> e = list.get(i);
      String text =
          TIME.format(e.timestamp())
              + " "
              + e.eventType()
              + " "
              + e.eventId().toString().substring(0, 8)
              + " "
              + e.payload();
      out.add(selectable(text, i == sel && focus == Focus.TAIL, true, cols));
    }
    while (out.size() < rows) {
      out.add(AttributedString.EMPTY);
    }
    return out;
  }

  private AttributedString validationLine() {
    if (eventType == null) {
      return new AttributedString(" no payload yet", dim());
    }
    if (parseError != null) {
      return new AttributedString(" x " + eventType + ": JSON " + parseError, error());
    }
    if (!violations.isEmpty()) {
      Violation v = violations.get(0);
      return new AttributedString(
          " x "
              + eventType
              + ": "
              + violations.size()
              + (violations.size() == 1 ? " violation, " : " violations, first ")
              + (v.pointer().isEmpty() ? "/" : v.pointer())
              + ": "
              + v.message(),
          error());
    }
    return new AttributedString(" ok " + eventType + ": payload valid", ok());
  }

  private String promptLabel() {
    return " tail pattern: ";
  }

  private AttributedString statusLine() {
    if (prompt != null) {
      return new AttributedString(promptLabel() + prompt);
    }
    String keys = "Tab pane  ^P publish  ^O load  ^S save  ^E example  / filter  ? help";
    return new AttributedString(message.isEmpty() ? " " + keys : " " + message, dim());
  }

  private List<AttributedString> helpLines(int cols, int height) {
    List<AttributedString> out = new ArrayList<>();
    for (String l : HELP) {
      if (out.size() == height) {
        break;
      }
      out.add(out.isEmpty() ? title(l, true, cols) : cut(new AttributedString(" " + l), cols));
    }
    return out;
  }

  private AttributedString title(String text, boolean focused, int width) {
    String t = (focused ? "[" + text + "]" : " " + text + " ");
    AttributedStyle style =
        !color ? plain() : focused ? AttributedStyle.BOLD.underline() : AttributedStyle.BOLD;
    return cut(new AttributedString(t, style), width);
  }

  private AttributedString selectable(String text, boolean selected, boolean focused, int width) {
    String t = (selected ? ">" : " ") + text;
    AttributedStyle style =
        selected && color ? (focused ? AttributedStyle.INVERSE : AttributedStyle.BOLD) : plain();
    return cut(new AttributedString(t, style), width);
  }

  private static AttributedStyle plain() {
    return AttributedStyle.DEFAULT;
  }

  private AttributedStyle dim() {
    return color ? AttributedStyle.DEFAULT.faint() : plain();
  }

  private AttributedStyle error() {
    return color ? AttributedStyle.DEFAULT.foreground(AttributedStyle.RED) : plain();
  }

  private AttributedStyle ok() {
    return color ? AttributedStyle.DEFAULT.foreground(AttributedStyle.GREEN) : plain();
  }

  private static AttributedString cut(AttributedString s, int width) {
    return s.columnLength() <= width ? s : s.columnSubSequence(0, width);
  }

  private static AttributedString pad(AttributedString s, int width) {
    AttributedString c = cut(s, width);
    int missing = width - c.columnLength();
    if (missing <= 0) {
      return c;
    }
    return new AttributedStringBuilder().append(c).append(" ".repeat(missing)).toAttributedString();
  }

  /** Breaks lines longer than the pane, continuing them indented by two more columns. */
  static List<String> wrap(List<String> lines, int width) {
    List<String> out = new ArrayList<>();
    for (String l : lines) {
      if (l.length() <= width || width < 8) {
        out.add(l);
        continue;
      }
      int indent = 0;
      while (indent < l.length() && l.charAt(indent) == ' ') {
        indent++;
      }
      String cont = " ".repeat(Math.min(indent + 2, width / 2));
      out.add(l.substring(0, width));
      for (int i = width; i < l.length(); ) {
        int n = Math.min(l.length() - i, width - cont.length());
        out.add(cont + l.substring(i, i + n));
        i += n;
      }
    }
    return out;
  }

  private static List<String> lines(String text) {
    return text.lines().map(l -> l.replace("\t", "  ")).toList();
  }

  /** The current event type of the editor, for tests. */
  @Nullable String eventType() {
    return eventType;
  }

  /** The editor's text, for tests. */
  String payloadText() {
    return editor.text();
  }

  /** The last status message, for tests. */
  String message() {
    return message;
  }

  /** The current violations, for tests. */
  List<Violation> violations() {
    validate();
    return violations;
  }
}
