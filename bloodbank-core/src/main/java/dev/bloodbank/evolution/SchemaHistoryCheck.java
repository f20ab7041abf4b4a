package dev.bloodbank.evolution;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.evolution.SchemaHistoryEntry.Status;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;

/**
 * Checks every schema in a directory against the released versions of it kept in a history
 * directory: the build gate of {@code bloodbank-schemas} and of the {@code check-compatibility}
 * goal of {@code bloodbank-maven-plugin}.
 *
 * <p>Each {@code *.schema.json} file under the schemas directory is a current schema. Its
 * <em>subject</em> is its {@code x-bloodbank.event_type}, or, for a shared definition without one,
 * its path relative to the schemas directory without {@code .schema.json} ({@code
 * common/source.v1}). The released versions of a subject are the files {@code
 * <history>/<subject>/v<N>.schema.json}. The current schema's {@code x-bloodbank} block may declare
 * {@code "version": N} (default 1) and {@code "compatibility": "<level>"} (any {@link
 * CompatibilityLevel} name; default {@link Builder#defaultLevel}). The schema is checked against
 * its history versions, oldest first, at that level; a history version above the declared version
 * is an error, and so is a history whose subject no current schema declares. A schema without
 * history is new: nothing to check.
 *
 * <pre>{@code
 * SchemaHistoryReport report =
 *     SchemaHistoryCheck.builder()
 *         .schemasDirectory(Path.of("src/main/resources/dev/bloodbank/schemas"))
 *         .historyDirectory(Path.of("src/main/schema-history"))
 *         .idBase(URI.create("https://schemas.bloodbank.dev/"))
 *         .undeclaredProperties(UndeclaredProperties.ABSENT)
 *         .build()
 *         .run();
 * if (!report.isPassed()) {
 *   throw new IllegalStateException(report.describeFailures());
 * }
 * }</pre>
 *
 * <p>{@code $ref}s to other documents resolve to the files of the schemas directory, for history
 * versions too: a shared definition is judged against its own history, not again through each
 * schema that refers to it.
 *
 * <p>Immutable and thread-safe; {@link #run()} reads the files anew on each call.
 *
 * @since 0.2.0
 */
public final class SchemaHistoryCheck {
  /** The file name suffix of the schemas checked. */
  public static final String SCHEMA_FILE_SUFFIX = ".schema.json";

  /** Where {@code bloodbank-schemas} packages its history on the class path. */
  public static final String HISTORY_RESOURCE_PREFIX = "META-INF/bloodbank/schema-history/";

  /** The level of a schema whose {@code x-bloodbank} block names none, unless set otherwise. */
  public static final CompatibilityLevel DEFAULT_LEVEL = CompatibilityLevel.BACKWARD;

  private static final Pattern HISTORY_FILE = Pattern.compile("v([1-9][0-9]{0,8})\\.schema\\.json");
  private static final ObjectMapper MAPPER = new ObjectMapper();

  private final Path schemasDirectory;
  private final Path historyDirectory;
  private final @Nullable URI idBase;
  private final UndeclaredProperties undeclaredProperties;
  private final CompatibilityLevel defaultLevel;

  private SchemaHistoryCheck(Builder b) {
    this.schemasDirectory = Objects.requireNonNull(b.schemasDirectory);
    this.historyDirectory = Objects.requireNonNull(b.historyDirectory);
    this.idBase = b.idBase;
    this.undeclaredProperties = b.undeclaredProperties;
    this.defaultLevel = b.defaultLevel;
  }

  /**
   * Returns a builder.
   *
   * @return a new builder; the schemas and history directories must be set
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the subject of a schema: its {@code x-bloodbank.event_type}, or else its relative path
   * without {@code .schema.json}.
   *
   * @param relativePath the schema's path relative to the schemas directory, {@code /}-separated
   * @param schema the schema
   * @return the subject, e.g. {@code transcription.voice.completed} or {@code common/source.v1}
   */
  public static String subjectOf(String relativePath, JsonNode schema) {
    JsonNode type = schema.path("x-bloodbank").path("event_type");
    if (type.isTextual() && !type.textValue().isBlank()) {
      return type.textValue();
    }
    return relativePath.endsWith(SCHEMA_FILE_SUFFIX)
        ? relativePath.substring(0, relativePath.length() - SCHEMA_FILE_SUFFIX.length())
        : relativePath;
  }

  /**
   * Runs the check.
   *
   * @return the report, one entry per subject
   * @throws BloodbankException when the schemas directory does not exist or a directory cannot be
   *     listed, naming it
   */
  public SchemaHistoryReport run() {
    if (!Files.isDirectory(schemasDirectory)) {
      throw new BloodbankException("schemas directory " + schemasDirectory + " does not exist");
    }
    List<SchemaHistoryEntry> entries = new ArrayList<>();
    Map<String, String> owner = new HashMap<>();
    Set<String> subjects = new HashSet<>();
    for (Path file : schemaFiles(schemasDirectory)) {
      String rel = relative(schemasDirectory, file);
      SchemaHistoryEntry e = checkOne(file, rel, owner);
      subjects.add(e.subject());
      entries.add(e);
    }
    for (String orphan : historySubjects()) {
      if (!subjects.contains(orphan)) {
        entries.add(
            new SchemaHistoryEntry(
                orphan,
                null,
                null,
                1,
                defaultLevel,
                List.copyOf(readHistory(orphan, new ArrayList<>()).keySet()),
                Status.ERROR,
                null,
                List.of(
                    historyDirectory.resolve(orphan)
                        + " holds released versions of '"
                        + orphan
                        + "', but no schema under "
                        + schemasDirectory
                        + " declares it: a released schema was removed or its event type"
                        + " renamed (delete its history only if no one reads or writes it)")));
      }
    }
    return new SchemaHistoryReport(schemasDirectory, historyDirectory, entries);
  }

  private SchemaHistoryEntry checkOne(Path file, String rel, Map<String, String> owner) {
    List<String> problems = new ArrayList<>();
    JsonNode schema;
    try {
      schema = MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      return error(
          rel, rel, null, 1, defaultLevel, List.of(), rel + ": not JSON: " + e.getMessage());
    }
    String subject = subjectOf(rel, schema);
    JsonNode meta = schema.path("x-bloodbank");
    String eventType = meta.path("event_type").isTextual() ? subject : null;
    int version = 1;
    JsonNode v = meta.get("version");
    if (v != null) {
      if (v.isIntegralNumber() && v.asLong() >= 1 && v.asLong() <= Integer.MAX_VALUE) {
        version = v.asInt();
      } else {
        problems.add(rel + " at /x-bloodbank/version: " + v + " is not a version (1, 2, ...)");
      }
    }
    CompatibilityLevel level = defaultLevel;
    JsonNode c = meta.get("compatibility");
    if (c != null) {
      try {
        level = CompatibilityLevel.parse(c.isTextual() ? c.textValue() : c.toString());
      } catch (IllegalArgumentException e) {
        problems.add(rel + " at /x-bloodbank/compatibility: " + e.getMessage());
      }
    }
    String before = owner.putIfAbsent(subject, rel);
    if (before != null) {
      problems.add(rel + ": subject '" + subject + "' is also the subject of " + before);
    }
    Map<Integer, JsonNode> history = readHistory(subject, problems);
    List<Integer> versions = List.copyOf(history.keySet());
    for (Map.Entry<Integer, JsonNode> h : history.entrySet()) {
      String hf = historyFile(subject, h.getKey());
      if (h.getKey() > version) {
        problems.add(
            hf
                + " is released version "
                + h.getKey()
                + ", above the version "
                + version
                + " that "
                + rel
                + " declares in /x-bloodbank/version: raise it to at least "
                + h.getKey());
      }
      JsonNode releasedType = h.getValue().path("x-bloodbank").path("event_type");
      if (releasedType.isTextual() && !releasedType.textValue().equals(subject)) {
        problems.add(
            hf
                + " at /x-bloodbank/event_type: '"
                + releasedType.textValue()
                + "' is not the subject of its folder, '"
                + subject
                + "'");
      }
    }
    if (!problems.isEmpty()) {
      return new SchemaHistoryEntry(
          subject, rel, eventType, version, level, versions, Status.ERROR, null, problems);
    }
    if (history.isEmpty()) {
      return new SchemaHistoryEntry(
          subject, rel, eventType, version, level, versions, Status.NEW, null, problems);
    }
    CompatibilityReport report;
    try {
      report = checker(rel).check(List.copyOf(history.values()), schema, level);
    } catch (BloodbankException e) {
      return error(subject, rel, eventType, version, level, versions, rel + ": " + e.getMessage());
    }
    return new SchemaHistoryEntry(
        subject,
        rel,
        eventType,
        version,
        level,
        versions,
        report.isCompatible() ? Status.COMPATIBLE : Status.INCOMPATIBLE,
        report,
        problems);
  }

  private SchemaCompatibility checker(String rel) {
    Path root = schemasDirectory.toAbsolutePath().normalize();
    // Without an id base, a schema without $id resolves relative $refs beside its own file (for
    // its history versions too, which live elsewhere).
    URI base = idBase != null ? idBase : root.toUri();
    return SchemaCompatibility.builder()
        .resolver(SchemaResolver.directory(root, base))
        .baseUri(base.resolve(rel))
        .undeclaredProperties(undeclaredProperties)
        .build();
  }

  /** The versions of a subject's history, ascending; problems with its files go to the list. */
  private Map<Integer, JsonNode> readHistory(String subject, List<String> problems) {
    Map<Integer, JsonNode> out = new TreeMap<>();
    Path dir = historyDirectory.resolve(subject);
    if (!Files.isDirectory(dir)) {
      return out;
    }
    for (Path f : list(dir)) {
      if (!Files.isRegularFile(f)) {
        continue;
      }
      String name = f.getFileName().toString();
      Matcher m = HISTORY_FILE.matcher(name);
      if (!m.matches()) {
        problems.add(
            relative(historyDirectory, f)
                + ": not a released version; history files are named v<N>.schema.json");
        continue;
      }
      try {
        out.put(Integer.parseInt(m.group(1)), MAPPER.readTree(f.toFile()));
      } catch (IOException e) {
        problems.add(relative(historyDirectory, f) + ": not JSON: " + e.getMessage());
      }
    }
    return out;
  }

  /** Every folder under the history directory that holds a {@code v<N>.schema.json}. */
  private List<String> historySubjects() {
    if (!Files.isDirectory(historyDirectory)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(historyDirectory)) {
      return s.filter(p -> HISTORY_FILE.matcher(p.getFileName().toString()).matches())
          .filter(Files::isRegularFile)
          .map(p -> relative(historyDirectory, p.getParent()))
          .distinct()
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new BloodbankException("cannot list the history directory " + historyDirectory, e);
    }
  }

  private String historyFile(String subject, int version) {
    return relative(historyDirectory, historyDirectory.resolve(subject))
        + "/v"
        + version
        + SCHEMA_FILE_SUFFIX;
  }

  private SchemaHistoryEntry error(
      String subject,
      String rel,
      @Nullable String eventType,
      int version,
      CompatibilityLevel level,
      List<Integer> versions,
      String problem) {
    return new SchemaHistoryEntry(
        subject, rel, eventType, version, level, versions, Status.ERROR, null, List.of(problem));
  }

  private static List<Path> schemaFiles(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      return s.filter(p -> p.getFileName().toString().endsWith(SCHEMA_FILE_SUFFIX))
          .filter(Files::isRegularFile)
          .sorted()
          .toList();
    } catch (IOException e) {
      throw new BloodbankException("cannot list the schemas directory " + dir, e);
    }
  }

  private static List<Path> list(Path dir) {
    try (Stream<Path> s = Files.list(dir)) {
      return s.sorted().toList();
    } catch (IOException e) {
      throw new BloodbankException("cannot list the history directory " + dir, e);
    }
  }

  private static String relative(Path root, Path p) {
    return root.relativize(p).toString().replace('\\', '/');
  }

  /** Builds a {@link SchemaHistoryCheck}; not thread-safe. */
  public static final class Builder {
    private @Nullable Path schemasDirectory;
    private @Nullable Path historyDirectory;
    private @Nullable URI idBase;
    private UndeclaredProperties undeclaredProperties = UndeclaredProperties.ANY;
    private CompatibilityLevel defaultLevel = DEFAULT_LEVEL;

    private Builder() {}

    /**
     * Sets the directory of the current schemas, searched recursively for {@code *.schema.json}.
     * Required.
     *
     * @param schemasDirectory the directory
     * @return this builder
     */
    public Builder schemasDirectory(Path schemasDirectory) {
      this.schemasDirectory = Objects.requireNonNull(schemasDirectory, "schemasDirectory");
      return this;
    }

    /**
     * Sets the history directory: {@code <subject>/v<N>.schema.json} for each released version.
     * Required; it need not exist (then every schema is new).
     *
     * @param historyDirectory the directory
     * @return this builder
     */
    public Builder historyDirectory(Path historyDirectory) {
      this.historyDirectory = Objects.requireNonNull(historyDirectory, "historyDirectory");
      return this;
    }

    /**
     * Sets the {@code $id} prefix that maps to the schemas directory: with {@code
     * https://schemas.bloodbank.dev/}, a {@code $ref} to {@code
     * https://schemas.bloodbank.dev/common/source.v1.schema.json} is read from {@code
     * common/source.v1.schema.json} there. Default: none; then only {@code $ref}s inside a document
     * and relative ones from schemas without {@code $id} resolve.
     *
     * @param idBase an absolute URI ending with {@code /}
     * @return this builder
     * @throws IllegalArgumentException when the URI is not absolute or does not end with {@code /}
     */
    public Builder idBase(URI idBase) {
      Objects.requireNonNull(idBase, "idBase");
      if (!idBase.isAbsolute() || idBase.isOpaque() || !idBase.toString().endsWith("/")) {
        throw new IllegalArgumentException(
            "idBase '" + idBase + "' is not an absolute hierarchical URI ending with /");
      }
      this.idBase = idBase;
      return this;
    }

    /**
     * Sets what the check assumes about undeclared properties in open objects. Default {@link
     * UndeclaredProperties#ANY}; see {@link SchemaCompatibility.Builder#undeclaredProperties}.
     *
     * @param undeclaredProperties the assumption
     * @return this builder
     */
    public Builder undeclaredProperties(UndeclaredProperties undeclaredProperties) {
      this.undeclaredProperties =
          Objects.requireNonNull(undeclaredProperties, "undeclaredProperties");
      return this;
    }

    /**
     * Sets the level of schemas whose {@code x-bloodbank} block names none. Default {@link
     * #DEFAULT_LEVEL} (BACKWARD).
     *
     * @param defaultLevel the level
     * @return this builder
     */
    public Builder defaultLevel(CompatibilityLevel defaultLevel) {
      this.defaultLevel = Objects.requireNonNull(defaultLevel, "defaultLevel");
      return this;
    }

    /**
     * Builds the check.
     *
     * @return the check
     * @throws IllegalStateException when the schemas or the history directory is not set
     */
    public SchemaHistoryCheck build() {
      if (schemasDirectory == null || historyDirectory == null) {
        throw new IllegalStateException(
            "set both schemasDirectory and historyDirectory (schemasDirectory="
                + schemasDirectory
                + ", historyDirectory="
                + historyDirectory
                + ")");
      }
      return new SchemaHistoryCheck(this);
    }
  }
}
