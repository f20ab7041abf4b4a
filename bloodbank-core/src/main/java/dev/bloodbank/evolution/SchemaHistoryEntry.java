package dev.bloodbank.evolution;

import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;

/**
 * The outcome of {@link SchemaHistoryCheck} for one subject: a current schema file checked against
 * the released versions kept in its history, or a history whose schema is gone. Immutable and
 * thread-safe.
 *
 * @since 0.2.0
 */
public final class SchemaHistoryEntry {

  /** What the check found for a subject. */
  public enum Status {
    /** Compatible with every history version its level compares with. */
    COMPATIBLE,
    /** No history yet: a new schema, nothing to check. */
    NEW,
    /** Not compatible at its level; {@link #report()} says why. */
    INCOMPATIBLE,
    /**
     * The check could not be made: a file is not JSON, a {@code x-bloodbank} value is bad, the
     * history has a version above the current one or a stray file, a {@code $ref} cannot be
     * resolved, or a history has no current schema. {@link #problems()} says what.
     */
    ERROR
  }

  private final String subject;
  private final @Nullable String schemaFile;
  private final @Nullable String eventType;
  private final int version;
  private final CompatibilityLevel level;
  private final List<Integer> historyVersions;
  private final Status status;
  private final @Nullable CompatibilityReport report;
  private final List<String> problems;

  SchemaHistoryEntry(
      String subject,
      @Nullable String schemaFile,
      @Nullable String eventType,
      int version,
      CompatibilityLevel level,
      List<Integer> historyVersions,
      Status status,
      @Nullable CompatibilityReport report,
      List<String> problems) {
    this.subject = Objects.requireNonNull(subject, "subject");
    this.schemaFile = schemaFile;
    this.eventType = eventType;
    this.version = version;
    this.level = Objects.requireNonNull(level, "level");
    this.historyVersions = List.copyOf(historyVersions);
    this.status = Objects.requireNonNull(status, "status");
    this.report = report;
    this.problems = List.copyOf(problems);
  }

  /**
   * Returns the subject: the schema's {@code x-bloodbank.event_type}, or for a schema without one
   * its path relative to the schemas directory without {@code .schema.json} ({@code
   * common/source.v1}). Its history is in the folder of that name under the history directory.
   *
   * @return the subject
   */
  public String subject() {
    return subject;
  }

  /**
   * Returns the current schema file, relative to the schemas directory with {@code /} separators.
   *
   * @return the file; empty for a history whose schema is gone
   */
  public Optional<String> schemaFile() {
    return Optional.ofNullable(schemaFile);
  }

  /**
   * Returns the event type the schema declares in {@code x-bloodbank.event_type}.
   *
   * @return the event type; empty for shared definitions without one
   */
  public Optional<String> eventType() {
    return Optional.ofNullable(eventType);
  }

  /**
   * Returns the version the current schema declares in {@code x-bloodbank.version}.
   *
   * @return the version; 1 when not declared (and when the entry is an error about the version)
   */
  public int version() {
    return version;
  }

  /**
   * Returns the level checked: the schema's {@code x-bloodbank.compatibility}, or the check's
   * default level.
   *
   * @return the level
   */
  public CompatibilityLevel level() {
    return level;
  }

  /**
   * Returns the released versions found in the history, ascending.
   *
   * @return the versions; empty for a new schema; unmodifiable
   */
  public List<Integer> historyVersions() {
    return historyVersions;
  }

  /**
   * Returns what the check found.
   *
   * @return the status
   */
  public Status status() {
    return status;
  }

  /**
   * Whether this entry fails the check: {@link Status#INCOMPATIBLE} or {@link Status#ERROR}.
   *
   * @return true when it fails
   */
  public boolean isFailure() {
    return status == Status.INCOMPATIBLE || status == Status.ERROR;
  }

  /**
   * Returns the compatibility report, whose {@link Incompatibility#previousIndex()} indexes {@link
   * #historyVersions()}.
   *
   * @return the report; empty when nothing was compared (new schema, or an error)
   */
  public Optional<CompatibilityReport> report() {
    return Optional.ofNullable(report);
  }

  /**
   * Returns why the check could not be made, each naming the file and, where there is one, the JSON
   * pointer.
   *
   * @return the problems; empty unless the status is {@link Status#ERROR}; unmodifiable
   */
  public List<String> problems() {
    return problems;
  }

  /**
   * Describes the entry for a person. The first line names the file, the event type and the
   * version, then the verdict; each incompatibility follows on its own line as {@code <rule> at
   * <pointer>: <message> (breaks BACKWARD) [against v1]}, each problem as its text:
   *
   * <pre>
   * voice/transcription.v1.schema.json (event transcription.voice.completed, version 2): not
   * compatible at BACKWARD with history v1: 1 incompatibility
   *   required-added at /speaker: 'speaker' is now required (breaks BACKWARD) [against v1]
   * </pre>
   *
   * (the first line is one line).
   *
   * @return the description, lines separated by {@code \n}
   */
  public String describe() {
    StringBuilder b = new StringBuilder();
    b.append(schemaFile != null ? schemaFile : "history " + subject).append(" (");
    if (eventType != null) {
      b.append("event ").append(eventType);
    } else {
      b.append("subject ").append(subject);
    }
    if (schemaFile != null) {
      b.append(", version ").append(version);
    }
    b.append("): ");
    String history =
        historyVersions.stream()
            .map(v -> "v" + v)
            .collect(Collectors.joining(", ", "history ", ""));
    switch (status) {
      case NEW -> b.append("new, nothing to check (no history yet)");
      case COMPATIBLE -> b.append("compatible at ").append(level).append(" with ").append(history);
      case INCOMPATIBLE -> {
        List<Incompatibility> found = report == null ? List.of() : report.incompatibilities();
        b.append("not compatible at ")
            .append(level)
            .append(" with ")
            .append(history)
            .append(": ")
            .append(found.size())
            .append(found.size() == 1 ? " incompatibility" : " incompatibilities");
        for (Incompatibility i : found) {
          b.append("\n  ")
              .append(i)
              .append(" [against v")
              .append(historyVersions.get(i.previousIndex()))
              .append(']');
        }
      }
      case ERROR -> {
        b.append(problems.size() == 1 ? "1 problem" : problems.size() + " problems");
        problems.forEach(p -> b.append("\n  ").append(p));
      }
    }
    return b.toString();
  }

  /** Returns {@link #describe()}. */
  @Override
  public String toString() {
    return describe();
  }
}
