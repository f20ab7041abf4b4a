package dev.bloodbank.evolution;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of a {@link SchemaHistoryCheck}: one {@link SchemaHistoryEntry} per subject.
 * Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class SchemaHistoryReport {
  private final Path schemasDirectory;
  private final Path historyDirectory;
  private final List<SchemaHistoryEntry> entries;

  SchemaHistoryReport(
      Path schemasDirectory, Path historyDirectory, List<SchemaHistoryEntry> entries) {
    this.schemasDirectory = Objects.requireNonNull(schemasDirectory, "schemasDirectory");
    this.historyDirectory = Objects.requireNonNull(historyDirectory, "historyDirectory");
    this.entries = List.copyOf(entries);
  }

  /**
   * Returns every entry: the current schemas in the order of their paths, then histories whose
   * schema is gone.
   *
   * @return the entries; unmodifiable
   */
  public List<SchemaHistoryEntry> entries() {
    return entries;
  }

  /**
   * Returns the entries that fail the check.
   *
   * @return the incompatible and erroneous entries, in order; unmodifiable
   */
  public List<SchemaHistoryEntry> failures() {
    return entries.stream().filter(SchemaHistoryEntry::isFailure).toList();
  }

  /**
   * Whether every schema is compatible with its history (or new).
   *
   * @return true when no entry fails
   */
  public boolean isPassed() {
    return entries.stream().noneMatch(SchemaHistoryEntry::isFailure);
  }

  /**
   * Returns the summary line: {@code schema history check of <schemas> against <history>: 39
   * schemas, 38 compatible, 1 new, 0 failed}.
   *
   * @return the line
   */
  public String summary() {
    long compatible = count(SchemaHistoryEntry.Status.COMPATIBLE);
    long isNew = count(SchemaHistoryEntry.Status.NEW);
    return "schema history check of "
        + schemasDirectory
        + " against "
        + historyDirectory
        + ": "
        + entries.size()
        + (entries.size() == 1 ? " subject, " : " subjects, ")
        + compatible
        + " compatible, "
        + isNew
        + " new, "
        + failures().size()
        + " failed";
  }

  /**
   * Describes the failures for a person: the {@link #summary()}, then each failing entry's {@link
   * SchemaHistoryEntry#describe()}.
   *
   * @return the description, lines separated by {@code \n}
   */
  public String describeFailures() {
    StringBuilder b = new StringBuilder(summary());
    failures().forEach(e -> b.append('\n').append(e.describe()));
    return b.toString();
  }

  /**
   * Describes every entry: the {@link #summary()}, then each entry's {@link
   * SchemaHistoryEntry#describe()}.
   *
   * @return the description, lines separated by {@code \n}
   */
  public String describe() {
    StringBuilder b = new StringBuilder(summary());
    entries.forEach(e -> b.append('\n').append(e.describe()));
    return b.toString();
  }

  /** Returns {@link #describe()}. */
  @Override
  public String toString() {
    return describe();
  }

  private long count(SchemaHistoryEntry.Status s) {
    return entries.stream().filter(e -> e.status() == s).count();
  }
}
