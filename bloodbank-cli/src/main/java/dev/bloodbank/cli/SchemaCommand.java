package dev.bloodbank.cli;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.ConnectionException;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.evolution.CompatibilityLevel;
import dev.bloodbank.evolution.CompatibilityReport;
import dev.bloodbank.evolution.Incompatibility;
import dev.bloodbank.evolution.SchemaCompatibility;
import dev.bloodbank.evolution.SchemaResolver;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.ValidationResult;
import dev.bloodbank.validation.Violation;
import java.io.IOException;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code bb schema diff|check}: the schema evolution gate from a shell (#21). */
@Command(
    name = "schema",
    description =
        "Compare two versions of a schema, or run archived events through a candidate schema.",
    subcommands = {SchemaCommand.Diff.class, SchemaCommand.Check.class},
    footer = {
      "",
      "The rules are in docs/schema-evolution.md.",
      "",
      "Examples:",
      "  bb schema diff llm/prompt.v1.schema.json prompt.candidate.json",
      "  bb schema diff old.json new.json --level backward --json",
      "  bb schema check llm.prompt --against-archive --schema prompt.candidate.json"
    })
final class SchemaCommand {
  private static final ObjectMapper JSON =
      new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

  private static final ObjectMapper PRETTY =
      new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  @ParentCommand Bb bb;

  /**
   * Reads a schema file, or fails with one line naming the file (and the line and column of a JSON
   * syntax error).
   */
  static JsonNode readSchema(Path file) {
    byte[] bytes;
    try {
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw new Bb.CliException(file + ": no such file");
    } catch (AccessDeniedException e) {
      throw new Bb.CliException(file + ": permission denied");
    } catch (IOException e) {
      throw new Bb.CliException(
          file + ": cannot read: " + (Files.isDirectory(file) ? "a directory" : e.getMessage()));
    }
    JsonNode node;
    try {
      node = JSON.readTree(bytes);
    } catch (JsonProcessingException e) {
      JsonLocation at = e.getLocation();
      String where = at == null ? "" : ":" + at.getLineNr() + ":" + at.getColumnNr();
      throw new Bb.CliException(
          file + where + ": not JSON: " + e.getOriginalMessage().replace("\n", " "));
    } catch (IOException e) {
      throw new Bb.CliException(file + ": cannot read: " + e.getMessage());
    }
    if (node == null || node.isMissingNode()) {
      throw new Bb.CliException(file + ": empty, not a JSON Schema");
    }
    if (!node.isObject() && !node.isBoolean()) {
      throw new Bb.CliException(
          file + ": not a JSON Schema (an object or a boolean), but a JSON " + kind(node));
    }
    return node;
  }

  private static String kind(JsonNode n) {
    return n.getNodeType().name().toLowerCase(Locale.ROOT);
  }

  /**
   * Where the documents a schema file's {@code $ref}s point at are looked for on disk: ids under
   * {@code prefix} map to files under {@code root}.
   */
  record Location(Path file, Path root, String prefix) {
    /**
     * The location of a schema file. A file whose path ends with the path of its catalog {@code
     * $id} ({@code .../llm/prompt.v1.schema.json} with id {@code
     * https://schemas.bloodbank.dev/llm/prompt.v1.schema.json}) sits in a catalog tree: the whole
     * tree is searched, so {@code ../common/...} resolves there. Otherwise the file's directory
     * stands for the directory of its {@code $id} (of {@link SchemaCompatibility#DEFAULT_BASE_URI}
     * without one).
     */
    static Optional<Location> of(Path file, JsonNode schema) {
      Path abs = file.toAbsolutePath().normalize();
      Path dir = abs.getParent();
      URI base = SchemaCompatibility.DEFAULT_BASE_URI;
      JsonNode id = schema.path("$id");
      URI docUri = base;
      if (id.isTextual()) {
        try {
          docUri = base.resolve(new URI(id.textValue()));
        } catch (URISyntaxException | IllegalArgumentException e) {
          return Optional.empty(); // the checker reports the bad $id
        }
      }
      if (dir == null || docUri.isOpaque()) {
        return Optional.empty();
      }
      String catalog = EventValidator.SCHEMA_ID_PREFIX;
      String u = docUri.toString();
      if (u.startsWith(catalog) && !u.equals(catalog)) {
        Path rel = Path.of(u.substring(catalog.length()));
        if (abs.endsWith(rel)) {
          Path root = abs;
          for (int i = 0; i < rel.getNameCount() && root != null; i++) {
            root = root.getParent();
          }
          if (root != null) {
            return Optional.of(new Location(abs, root, catalog));
          }
        }
      }
      return Optional.of(new Location(abs, dir, docUri.resolve(".").toString()));
    }

    /** The file a document URI maps to, when it is under this location and exists. */
    Optional<Path> find(URI uri) {
      String u = uri.toString();
      if (!u.startsWith(prefix)) {
        return Optional.empty();
      }
      Path p = root.resolve(u.substring(prefix.length())).normalize();
      return p.startsWith(root) && Files.isRegularFile(p) ? Optional.of(p) : Optional.empty();
    }

    @Override
    public String toString() {
      return root.toString();
    }
  }

  /**
   * Resolves {@code $ref}s to other documents next to the new schema, then next to the old one,
   * then in the catalog on the class path.
   */
  static SchemaResolver resolver(List<Location> locations) {
    SchemaResolver catalog =
        SchemaResolver.classpath(
            SchemaCommand.class.getClassLoader(),
            SchemaCompatibility.CATALOG_RESOURCE_PREFIX,
            SchemaCompatibility.DEFAULT_BASE_URI);
    return uri -> {
      for (Location l : locations) {
        Optional<Path> f = l.find(uri);
        if (f.isPresent()) {
          return readSchema(f.get());
        }
      }
      try {
        return catalog.resolve(uri);
      } catch (BloodbankException e) {
        List<String> dirs = locations.stream().map(Location::toString).distinct().toList();
        throw new Bb.CliException(
            "$ref to "
                + uri
                + ": not found"
                + (dirs.isEmpty() ? "" : " under " + String.join(" or ", dirs))
                + " nor in the catalog on the class path");
      }
    };
  }

  /** Parses a compatibility level; a bad one is a usage error naming the allowed values. */
  static final class Levels implements CommandLine.ITypeConverter<CompatibilityLevel> {
    @Override
    public CompatibilityLevel convert(String value) {
      try {
        return CompatibilityLevel.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  @Command(
      name = "diff",
      description =
          "Check whether a new version of a schema is compatible with the old one, listing each"
              + " incompatibility with its rule and the JSON pointer of the value concerned.",
      footer = {
        "",
        "$refs to other documents are read next to the new file, then next to the",
        "old one, then from the catalog on the class path; for a file in a catalog",
        "tree (its path ends with its $id's path) the whole tree is searched.",
        "Nothing is fetched from the network. Both versions see one document per",
        "$ref URI.",
        "Exit 0 when compatible at the level, 1 when not or a file cannot be read.",
        "",
        "Examples:",
        "  bb schema diff prompt.v1.schema.json prompt.v2.schema.json",
        "  bb schema diff old.json new.json --level backward --json"
      })
  static final class Diff implements Callable<Integer> {
    @ParentCommand SchemaCommand schema;

    @Parameters(index = "0", paramLabel = "<old.json>", description = "The schema in use.")
    Path oldFile;

    @Parameters(index = "1", paramLabel = "<new.json>", description = "The candidate version.")
    Path newFile;

    @Option(
        names = "--level",
        paramLabel = "LEVEL",
        converter = Levels.class,
        description =
            "BACKWARD, FORWARD, FULL, their _TRANSITIVE forms (the same for two files) or NONE"
                + " (default: FULL, both directions).")
    CompatibilityLevel level = CompatibilityLevel.FULL;

    @Option(names = "--json", description = "Print the report as one JSON document.")
    boolean json;

    @Override
    public Integer call() throws IOException {
      Bb bb = schema.bb;
      JsonNode previous = readSchema(oldFile);
      JsonNode candidate = readSchema(newFile);
      List<Location> locations = new ArrayList<>();
      Location.of(newFile, candidate).ifPresent(locations::add);
      Location.of(oldFile, previous).ifPresent(locations::add);
      SchemaCompatibility compatibility =
          SchemaCompatibility.builder().resolver(resolver(locations)).build();
      CompatibilityReport report;
      try {
        report = compatibility.check(previous, candidate, level);
      } catch (BloodbankException e) {
        throw new Bb.CliException(e.getMessage());
      }
      if (json) {
        bb.out.println(PRETTY.writeValueAsString(toJson(report)));
      } else {
        for (Incompatibility i : report.incompatibilities()) {
          bb.out.println(i);
        }
        if (level == CompatibilityLevel.NONE) {
          bb.out.println("NONE: nothing checked");
        }
        for (Incompatibility.Direction d : directions(level)) {
          long n = count(report, d);
          bb.out.println(
              d
                  + ": "
                  + (n == 0
                      ? "compatible"
                      : n + (n == 1 ? " incompatibility" : " incompatibilities")));
        }
      }
      return report.isCompatible() ? Bb.OK : Bb.INVALID;
    }

    private static List<Incompatibility.Direction> directions(CompatibilityLevel level) {
      List<Incompatibility.Direction> out = new ArrayList<>(2);
      if (level.checksBackward()) {
        out.add(Incompatibility.Direction.BACKWARD);
      }
      if (level.checksForward()) {
        out.add(Incompatibility.Direction.FORWARD);
      }
      return out;
    }

    private static long count(CompatibilityReport r, Incompatibility.Direction d) {
      return r.incompatibilities().stream().filter(i -> i.direction() == d).count();
    }

    private ObjectNode toJson(CompatibilityReport report) {
      ObjectNode o = JSON.createObjectNode();
      o.put("old", oldFile.toString());
      o.put("new", newFile.toString());
      o.put("level", level.name());
      o.put("compatible", report.isCompatible());
      ObjectNode dirs = o.putObject("directions");
      for (Incompatibility.Direction d : directions(level)) {
        long n = count(report, d);
        dirs.putObject(d.name()).put("compatible", n == 0).put("incompatibilities", n);
      }
      ArrayNode list = o.putArray("incompatibilities");
      for (Incompatibility i : report.incompatibilities()) {
        list.addObject()
            .put("direction", i.direction().name())
            .put("rule", i.rule())
            .put("pointer", i.pointer())
            .put("schema_location", i.schemaLocation())
            .put("message", i.message());
      }
      return o;
    }
  }

  /**
   * Serves the catalog's resources from a catalog tree on disk where it has them, so that a
   * candidate's {@code $ref}s to documents changed beside it resolve to those.
   */
  static final class CatalogOverlay extends ClassLoader {
    private final Path root;

    CatalogOverlay(ClassLoader parent, Path root) {
      super(parent);
      this.root = root;
    }

    @Override
    public @Nullable URL getResource(String name) {
      String prefix = SchemaCompatibility.CATALOG_RESOURCE_PREFIX;
      if (name.startsWith(prefix)) {
        Path p = root.resolve(name.substring(prefix.length())).normalize();
        if (p.startsWith(root) && Files.isRegularFile(p)) {
          try {
            return p.toUri().toURL();
          } catch (MalformedURLException e) {
            // fall through to the class path
          }
        }
      }
      return super.getResource(name);
    }
  }

  @Command(
      name = "check",
      description =
          "Run the archived events of an event type through a candidate schema and report those"
              + " that would fail it: event id, offset, time and each violation's JSON pointer.",
      footer = {
        "",
        "Every event from the start is read; those whose envelope event_type is",
        "<event-type> are checked, whatever their routing key. Events are taken as",
        "they are (no validation on the way in), so those that broke the schema in",
        "use are found too. The candidate is the type's catalog schema, or the file",
        "of --schema F. $refs in F resolve by its $id in the catalog on the class",
        "path, or in F's own catalog tree when F's path ends with its $id's path.",
        "Progress is drawn on stderr only when it is a terminal. Ctrl-C stops and",
        "exits 130. Exit 0 when no event would fail, 1 when some would.",
        "",
        "Examples:",
        "  bb schema check llm.prompt --against-archive",
        "  bb schema check llm.prompt --against-archive --since 2d --schema p2.json",
        "  bb schema check fireflies.transcript.ready --against-archive --first --json"
      })
  static final class Check implements Callable<Integer> {
    private static final long PROGRESS_NANOS = TimeUnit.MILLISECONDS.toNanos(200);

    /** How far back a check goes without --since or --first: the archive's default retention. */
    static final Duration DEFAULT_SINCE = ArchiveOptions.DEFAULT_MAX_AGE;

    @ParentCommand SchemaCommand schema;

    @CommandLine.Spec CommandLine.Model.CommandSpec spec;

    @Parameters(paramLabel = "<event-type>", description = "The event type, e.g. llm.prompt.")
    String eventType;

    @Option(
        names = "--against-archive",
        required = true,
        description = "Check the events kept in the archive (the only source so far).")
    boolean againstArchive;

    @ArgGroup(exclusive = true)
    @Nullable Start start;

    static final class Start {
      @Option(
          names = "--since",
          paramLabel = "AGO",
          converter = Durations.class,
          description = "From this long ago: 30s, 15m, 2h, 7d (default: 7d).")
      @Nullable Duration since;

      @Option(names = "--first", description = "From the oldest event kept.")
      boolean first;
    }

    @Option(
        names = "--schema",
        paramLabel = "FILE",
        description = "The candidate schema (default: the event type's schema in the catalog).")
    @Nullable Path schemaFile;

    @Option(
        names = "--queue",
        paramLabel = "Q",
        description = "The archive's stream queue (default: " + ArchiveOptions.DEFAULT_QUEUE + ").")
    String queue = ArchiveOptions.DEFAULT_QUEUE;

    @Option(
        names = "--limit",
        paramLabel = "N",
        description = "Print at most N failing events, 1 or more; all are counted (default: 100).")
    int limit = 100;

    @Option(
        names = "--json",
        description = "Print one JSON document: the counts and the failing events printed.")
    boolean json;

    /** One event that would fail the candidate. */
    record Failure(String eventId, long offset, Instant timestamp, List<Violation> violations) {}

    @Override
    public Integer call() throws Exception {
      Bb bb = schema.bb;
      if (limit < 1) {
        throw new CommandLine.ParameterException(
            spec.commandLine(), "--limit " + limit + " is not 1 or more");
      }
      // null: from the first event kept
      @Nullable Duration since = start == null ? DEFAULT_SINCE : start.first ? null : start.since;
      EventValidator validator = validator(bb);
      AtomicLong read = new AtomicLong();
      AtomicLong checked = new AtomicLong();
      AtomicLong failed = new AtomicLong();
      List<Failure> shown = java.util.Collections.synchronizedList(new ArrayList<>());
      ReplayOptions.Builder ob = ReplayOptions.builder().queue(queue).untilNow();
      if (since == null) {
        ob.fromFirst();
      } else {
        ob.since(since);
      }
      Instant startedAt = Instant.now();
      try (Bloodbank bus = bb.connect(ValidationMode.SKIP)) {
        long end = bb.terminal ? ReplayCommand.endOffset(bus.options(), queue) : -1;
        Replay replay =
            bus.replayWithDelivery(
                ob.build(),
                JsonNode.class,
                (event, delivery) -> {
                  read.incrementAndGet();
                  if (!eventType.equals(event.eventType())) {
                    return;
                  }
                  checked.incrementAndGet();
                  List<Violation> violations = check(validator, event);
                  if (!violations.isEmpty() && failed.incrementAndGet() <= limit) {
                    Failure f =
                        new Failure(
                            event.eventId().toString(),
                            delivery.offset().orElse(-1),
                            event.timestamp(),
                            violations);
                    if (json) {
                      shown.add(f);
                    } else {
                      print(bb, f);
                    }
                  }
                });
        StopOnSignal stop = new StopOnSignal("bb-schema-check-stop", replay::close);
        ReplayResult result;
        boolean drawn = false;
        try {
          while (true) {
            try {
              result = replay.completion().get(PROGRESS_NANOS, TimeUnit.NANOSECONDS);
              break;
            } catch (TimeoutException e) {
              if (bb.terminal) {
                drawn = true;
                bb.err.print(progress(replay, read, checked, failed, end));
                bb.err.flush();
              }
            } catch (ExecutionException | CompletionException e) {
              Throwable cause = e.getCause() == null ? e : e.getCause();
              throw cause instanceof Exception ex ? ex : e;
            }
          }
        } finally {
          if (drawn) {
            bb.err.println(progress(replay, read, checked, failed, end));
          }
          stop.close();
        }
        String from =
            since == null
                ? "from the first event kept"
                : "since " + startedAt.minus(since) + " (" + Durations.format(since) + " ago)";
        long more = failed.get() - Math.min(failed.get(), limit);
        if (json) {
          ObjectNode o = JSON.createObjectNode();
          o.put("event_type", eventType);
          o.put("queue", result.queue());
          o.put("schema", schemaFile == null ? "catalog" : schemaFile.toString());
          if (since != null) {
            o.put("since", startedAt.minus(since).toString());
          }
          o.put("read", read.get());
          o.put("checked", checked.get());
          o.put("failed", failed.get());
          o.put("undecodable", result.skipped());
          o.put("last_offset", result.lastOffset());
          o.put("complete", result.endReached());
          ArrayNode list = o.putArray("failures");
          synchronized (shown) {
            for (Failure f : shown) {
              ObjectNode e = list.addObject();
              e.put("event_id", f.eventId());
              e.put("offset", f.offset());
              e.put("timestamp", f.timestamp().toString());
              ArrayNode vs = e.putArray("violations");
              for (Violation v : f.violations()) {
                vs.addObject()
                    .put("pointer", v.pointer())
                    .put("keyword", v.keyword())
                    .put("message", v.message());
              }
            }
          }
          bb.out.println(PRETTY.writeValueAsString(o));
        } else {
          if (more > 0) {
            bb.out.println(
                "... and " + more + " more failing event(s) not shown (--limit " + limit + ")");
          }
          bb.out.println(
              "checked "
                  + checked.get()
                  + " events of "
                  + eventType
                  + " "
                  + from
                  + ", "
                  + failed.get()
                  + " would fail"
                  + (schemaFile == null ? " the catalog schema" : " " + schemaFile)
                  + " ("
                  + read.get()
                  + " read from '"
                  + result.queue()
                  + "'"
                  + (result.skipped() > 0 ? ", " + result.skipped() + " not decodable" : "")
                  + ")"
                  + (result.endReached() ? "" : " (stopped)"));
        }
        bb.out.flush();
        stop.summarized();
        if (stop.stopped()) {
          return StopOnSignal.EXIT;
        }
        return failed.get() == 0 ? Bb.OK : Bb.INVALID;
      } catch (BloodbankException e) {
        if (e instanceof ConnectionException) {
          throw e;
        }
        throw new Bb.CliException(e.getMessage());
      }
    }

    private List<Violation> check(EventValidator validator, EventEnvelope<JsonNode> event) {
      JsonNode payload = event.payload();
      ValidationResult r =
          validator.checkPayload(
              eventType, payload == null ? JSON.nullNode() : payload, ValidationMode.STRICT);
      return r.violations();
    }

    /**
     * The validator of the candidate: the catalog's, with the event type's schema replaced by the
     * file's when one is given. It is the validator a publisher uses, so an event found here is one
     * a bus with the candidate schema would reject.
     */
    private EventValidator validator(Bb bb) {
      EventRegistry registry;
      if (schemaFile == null) {
        registry = bb.registry();
        registry.require(eventType); // names similar types when unknown
      } else {
        JsonNode candidate = readSchema(schemaFile);
        ClassLoader loader = Bb.class.getClassLoader();
        Optional<Location> at = Location.of(schemaFile, candidate);
        if (at.isPresent() && at.get().prefix().equals(EventValidator.SCHEMA_ID_PREFIX)) {
          loader = new CatalogOverlay(loader, at.get().root());
        }
        registry = EventRegistry.fromClasspath(loader);
        EventDefinition.Builder d = EventDefinition.builder(eventType).schema(candidate);
        registry.find(eventType).ifPresent(old -> d.domain(old.domain()).title(old.title()));
        registry.register(d.build());
      }
      EventValidator validator = EventValidator.create(registry);
      try {
        // Compiles the schema now: a broken candidate fails before the broker is asked anything.
        validator.checkPayload(eventType, JSON.createObjectNode(), ValidationMode.STRICT);
      } catch (BloodbankException e) {
        throw new Bb.CliException(
            (schemaFile == null ? "" : schemaFile + ": ") + String.valueOf(e.getMessage()));
      }
      return validator;
    }

    private void print(Bb bb, Failure f) {
      bb.out.println(
          bb.bold(f.eventId()) + "  offset " + f.offset() + "  " + f.timestamp() + "  would fail:");
      for (Violation v : f.violations()) {
        bb.out.println(
            "  "
                + (v.pointer().isEmpty() ? "/" : v.pointer())
                + ": "
                + v.message()
                + bb.dim(" [" + v.keyword() + "]"));
      }
    }

    private String progress(
        Replay replay, AtomicLong read, AtomicLong checked, AtomicLong failed, long end) {
      long at = replay.lastOffset();
      String line =
          String.format(
              Locale.ROOT,
              "\r%s: %d read, %d of %s checked, %d would fail, offset %d",
              queue,
              read.get(),
              checked.get(),
              eventType,
              failed.get(),
              at);
      if (end > 0 && at >= 0) {
        line += String.format(Locale.ROOT, "  %3.0f%%", Math.min(100.0, 100.0 * at / end));
      }
      return line + "   ";
    }
  }
}
