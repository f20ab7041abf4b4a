package dev.bloodbank.correlation;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;

/** The argument rules of {@link CorrelationTracker#addCorrelation}, shared by both trackers. */
final class LinkArguments {
  private LinkArguments() {}

  /**
   * Checks the arguments of a recording.
   *
   * @throws NullPointerException for a null id, parent id or metadata
   * @throws IllegalArgumentException when there is no parent
   */
  static void check(UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    Objects.requireNonNull(childId, "childId");
    Objects.requireNonNull(metadata, "metadata");
    for (UUID p : parentIds) {
      Objects.requireNonNull(p, () -> "a parent id of " + childId + " is null");
    }
    if (parentIds.isEmpty()) {
      throw new IllegalArgumentException("at least one parent id is required for " + childId);
    }
  }
}
