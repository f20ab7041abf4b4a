package dev.bloodbank.command;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;

/** {@link ProcessedCommands} in bounded maps with expiry; claims are seen within this JVM. */
final class InMemoryProcessedCommands implements ProcessedCommands {
  private final Duration ttl;
  private final Clock clock;
  private final Map<UUID, Instant> completed;
  private final Map<UUID, Held> claims = new HashMap<>();

  private record Held(String token, Instant expires) {}

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
  public synchronized Claim claim(UUID commandId, Duration lease) {
    Instant now = clock.instant();
    if (isCompletedAt(commandId, now)) {
      return new Claim(commandId, Claim.Status.COMPLETED, "");
    }
    Held h = claims.get(commandId);
    if (h != null && h.expires().isAfter(now)) {
      return new Claim(commandId, Claim.Status.HELD, "");
    }
    String token = UUID.randomUUID().toString();
    claims.put(commandId, new Held(token, now.plus(lease)));
    return new Claim(commandId, Claim.Status.ACQUIRED, token);
  }

  @Override
  public synchronized boolean renew(Claim claim, Duration lease) {
    Held h = claims.get(claim.commandId());
    Instant now = clock.instant();
    if (h == null || !h.token().equals(claim.token()) || !h.expires().isAfter(now)) {
      return false;
    }
    claims.put(claim.commandId(), new Held(h.token(), now.plus(lease)));
    return true;
  }

  @Override
  public synchronized void release(Claim claim) {
    Held h = claims.get(claim.commandId());
    if (h != null && h.token().equals(claim.token())) {
      claims.remove(claim.commandId());
    }
  }

  @Override
  public synchronized void complete(Claim claim) {
    markCompleted(claim.commandId());
    release(claim);
  }

  @Override
  public synchronized boolean isCompleted(UUID commandId) {
    return isCompletedAt(commandId, clock.instant());
  }

  private boolean isCompletedAt(UUID commandId, Instant now) {
    Instant expires = completed.get(commandId);
    return expires != null && expires.isAfter(now);
  }

  @Override
  public synchronized void markCompleted(UUID commandId) {
    completed.put(commandId, clock.instant().plus(ttl));
  }

  @Override
  public void close() {}
}
