package dev.bloodbank.command;

import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.internal.RedisClients;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link ProcessedCommands} in Redis: an expiring key per completed command and a leased claim per
 * running one, in one hash slot per command ({@code {<id>}}), so each step is one atomic script
 * also on Redis Cluster.
 */
final class RedisProcessedCommands implements ProcessedCommands {
  private static final Logger LOG = LoggerFactory.getLogger(RedisProcessedCommands.class);
  private static final String CLIENT_NAME = "bloodbank-commands";
  private static final long RECONNECT_PAUSE_NANOS =
      java.util.concurrent.TimeUnit.SECONDS.toNanos(1);

  /** Completed → "completed"; else takes the claim → "acquired"; else "held". */
  private static final String CLAIM =
      "if redis.call('EXISTS', KEYS[1]) == 1 then return 'completed' end "
          + "if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return 'acquired' end "
          + "return 'held'";

  private static final String RENEW =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then "
          + "return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end return 0";

  private static final String RELEASE =
      "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

  private static final String COMPLETE =
      "redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3]) "
          + "if redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end return 1";

  private final AbstractRedisClient client;
  private final List<RedisURI> uris;
  private final String ttlSeconds;
  private @Nullable StatefulConnection<String, String> connection; // guarded by this
  private @Nullable RedisClusterCommands<String, String> commands; // guarded by this
  private long lastConnectFailure = System.nanoTime() - RECONNECT_PAUSE_NANOS; // guarded by this

  RedisProcessedCommands(RedisTrackerOptions options, Duration ttl) {
    this.uris = options.redisUris();
    for (RedisURI u : uris) {
      u.setClientName(CLIENT_NAME);
    }
    // A worker waits for its answer anyway: while a connection (or a cluster node's, which
    // opens on first use) comes up, a command waits for it, bounded by the command timeout.
    this.client =
        RedisClients.create(uris, options, ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS);
    this.ttlSeconds = Long.toString(Math.max(1, ttl.getSeconds()));
  }

  static String completedKey(UUID commandId) {
    return "bloodbank:command:{" + commandId + "}:completed";
  }

  static String claimKey(UUID commandId) {
    return "bloodbank:command:{" + commandId + "}:claim";
  }

  private synchronized RedisClusterCommands<String, String> commands() {
    if (commands == null) {
      long now = System.nanoTime();
      if (now - lastConnectFailure < RECONNECT_PAUSE_NANOS) {
        // Every worker would otherwise wait out a connect timeout in turn during an outage.
        throw new IllegalStateException("Redis was unreachable less than a second ago");
      }
      lastConnectFailure = now;
      if (client instanceof RedisClusterClient cluster) {
        var c = cluster.connect();
        connection = c;
        commands = c.sync();
      } else {
        var c = ((RedisClient) client).connect(uris.get(0));
        connection = c;
        commands = c.sync();
      }
      lastConnectFailure = now - RECONNECT_PAUSE_NANOS;
    }
    return commands;
  }

  @Override
  public Claim claim(UUID commandId, Duration lease) {
    String token = UUID.randomUUID().toString();
    try {
      String answer =
          commands()
              .eval(
                  CLAIM,
                  ScriptOutputType.VALUE,
                  new String[] {completedKey(commandId), claimKey(commandId)},
                  token,
                  Long.toString(Math.max(1, lease.toMillis())));
      if ("completed".equals(answer)) {
        return new Claim(commandId, Claim.Status.COMPLETED, "");
      }
      if ("acquired".equals(answer)) {
        return new Claim(commandId, Claim.Status.ACQUIRED, token);
      }
      return new Claim(commandId, Claim.Status.HELD, "");
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot claim command {} in Redis ({}); running it without a claim",
          commandId,
          e.toString());
      return new Claim(commandId, Claim.Status.UNAVAILABLE, "");
    }
  }

  @Override
  public boolean renew(Claim claim, Duration lease) {
    if (claim.status() != Claim.Status.ACQUIRED) {
      return claim.status() == Claim.Status.UNAVAILABLE;
    }
    try {
      Long renewed =
          commands()
              .eval(
                  RENEW,
                  ScriptOutputType.INTEGER,
                  new String[] {claimKey(claim.commandId())},
                  claim.token(),
                  Long.toString(Math.max(1, lease.toMillis())));
      return renewed != null && renewed == 1;
    } catch (RuntimeException e) {
      LOG.warn("cannot renew the claim on command {}: {}", claim.commandId(), e.toString());
      // Not known to be lost: the lease may still hold.
      return true;
    }
  }

  @Override
  public void release(Claim claim) {
    if (claim.status() != Claim.Status.ACQUIRED) {
      return;
    }
    try {
      commands()
          .eval(
              RELEASE,
              ScriptOutputType.INTEGER,
              new String[] {claimKey(claim.commandId())},
              claim.token());
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot release the claim on command {} ({}); it lapses with its lease",
          claim.commandId(),
          e.toString());
    }
  }

  @Override
  public void complete(Claim claim) {
    try {
      commands()
          .eval(
              COMPLETE,
              ScriptOutputType.INTEGER,
              new String[] {completedKey(claim.commandId()), claimKey(claim.commandId())},
              claim.token(),
              Instant.now().toString(),
              ttlSeconds);
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot record in Redis that command {} completed: {}", claim.commandId(), e.toString());
    }
  }

  @Override
  public boolean isCompleted(UUID commandId) {
    try {
      return commands().exists(completedKey(commandId)) == 1;
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot ask Redis whether command {} completed ({}); running it",
          commandId,
          e.toString());
      return false;
    }
  }

  @Override
  public void markCompleted(UUID commandId) {
    complete(new Claim(commandId, Claim.Status.UNAVAILABLE, ""));
  }

  @Override
  public void close() {
    synchronized (this) {
      if (connection != null) {
        connection.close();
      }
    }
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
