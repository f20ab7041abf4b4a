package dev.bloodbank.evolution;

import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The outcome of a compatibility check: the level checked and every incompatibility found.
 * Immutable and thread-safe.
 *
 * @since 0.2.0
 */
public final class CompatibilityReport {
  private final CompatibilityLevel level;
  private final List<Incompatibility> incompatibilities;
  private final int historySize;

  CompatibilityReport(
      CompatibilityLevel level, List<Incompatibility> incompatibilities, int historySize) {
    this.level = Objects.requireNonNull(level, "level");
    this.incompatibilities = List.copyOf(incompatibilities);
    this.historySize = historySize;
  }

  /**
   * Returns the level that was checked.
   *
   * @return the level
   */
  public CompatibilityLevel level() {
    return level;
  }

  /**
   * Whether the candidate is compatible at the level: no incompatibility was found.
   *
   * @return true when compatible
   */
  public boolean isCompatible() {
    return incompatibilities.isEmpty();
  }

  /**
   * Returns every incompatibility, in the order found: backward ones before forward ones, and for a
   * history the oldest version first.
   *
   * @return the incompatibilities, empty when compatible; unmodifiable
   */
  public List<Incompatibility> incompatibilities() {
    return incompatibilities;
  }

  /**
   * Returns the distinct rule names of the incompatibilities.
   *
   * @return the names, sorted; empty when compatible
   */
  public Set<String> rules() {
    Set<String> out = new TreeSet<>();
    incompatibilities.forEach(i -> out.add(i.rule()));
    return out;
  }

  /**
   * Describes the outcome for a person: a first line with the verdict, then one line per
   * incompatibility, {@code <rule> at <pointer>: <message> (breaks BACKWARD)}, followed by {@code
   * [against version #i]} when a history of more than one version was checked.
   *
   * @return the description, lines separated by {@code \n}
   */
  public String describe() {
    StringBuilder b = new StringBuilder();
    if (isCompatible()) {
      b.append("compatible at ").append(level);
      return b.toString();
    }
    b.append("not compatible at ")
        .append(level)
        .append(": ")
        .append(incompatibilities.size())
        .append(incompatibilities.size() == 1 ? " incompatibility" : " incompatibilities");
    for (Incompatibility i : incompatibilities) {
      b.append('\n').append(i);
      if (historySize > 1) {
        b.append(" [against version #").append(i.previousIndex()).append(']');
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
