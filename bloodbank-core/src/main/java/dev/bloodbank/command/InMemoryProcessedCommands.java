package dev.bloodbank.command;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** {@link ProcessedCommands} in a bounded map with expiry. */
final class InMemoryProcessedCommands implements ProcessedCommands {
  private final Duration ttl;
  private final Clock clock;
  private final Map<UUID, Instant> completed;

  InMemoryProcessedCommands(int maxCommands, Duration ttl, Clock clock) {
    if (maxCommands < 1) {
      throw new IllegalArgumentException("maxCommands must be at least 1, was " + maxCommands);
    }
    this.ttl = ttl;
    this.clock = clock;
    this.completed =
        new LinkedHashMap<>() {
          private static final long serialVersionUID = 1L;

          @Override
          protected boolean removeEldestEntry(Map.Entry<UUID, Instant> eldest) {
            return size() > maxCommands;
          }
        };
  }

  @Override
  public synchronized boolean isCompleted(UUID commandId) {
    Instant expires = completed.get(commandId);
    return expires != null && expires.isAfter(clock.instant());
  }

  @Override
  public synchronized void markCompleted(UUID commandId) {
    completed.put(commandId, clock.instant().plus(ttl));
  }

  @Override
  public void close() {}
}
