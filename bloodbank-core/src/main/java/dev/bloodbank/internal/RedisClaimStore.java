package dev.bloodbank.internal;

import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.RedisTrackerOptions;
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
 * {@link ProcessedCommands} in Redis: an expiring key per completed id and a leased claim per
 * running one. With {@link Keys#COMMANDS} both keys of an id are in one hash slot ({@code {<id>}}),
 * so each step is one atomic script, also on Redis Cluster. With {@link Keys#PYTHON_EVENTS} the
 * completed key is the Python guide's {@code processed:<id>} (value {@code 1}), which has no hash
 * tag, so the steps are single-key commands in an order that keeps the same guarantees: a claim is
 * taken only while nobody holds one, and a holder writes the completed key before it gives its
 * claim up, so a claim taken after that sees the completed key.
 */
public final class RedisClaimStore implements ProcessedCommands {
  /** Where a store keeps its keys. */
  public enum Keys {
    /** {@code bloodbank:command:{<id>}:completed} and {@code bloodbank:command:{<id>}:claim}. */
    COMMANDS {
      @Override
      public String completed(UUID id) {
        return "bloodbank:command:{" + id + "}:completed";
      }

      @Override
      public String claim(UUID id) {
        return "bloodbank:command:{" + id + "}:claim";
      }
    },
    /** {@code processed:<id>} and {@code processed:<id>:claim}, the Python services' layout. */
    PYTHON_EVENTS {
      @Override
      public String completed(UUID id) {
        return "processed:" + id;
      }

      @Override
      public String claim(UUID id) {
        return "processed:" + id + ":claim";
      }
    };

    /**
     * Returns the key that says an id completed.
     *
     * @param id the command's or event's id
     * @return the key
     */
    public abstract String completed(UUID id);

    /**
     * Returns the key of the claim on an id.
     *
     * @param id the command's or event's id
     * @return the key
     */
    public abstract String claim(UUID id);
  }

  private static final Logger LOG = LoggerFactory.getLogger(RedisClaimStore.class);
  private static final String CLIENT_NAME = "bloodbank-claims";
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

  private final Keys keys;
  private final String noun;
  private final AbstractRedisClient client;
  private final List<RedisURI> uris;
  private final String ttlSeconds;
  private @Nullable StatefulConnection<String, String> connection; // guarded by this
  private @Nullable RedisClusterCommands<String, String> commands; // guarded by this
  private long lastConnectFailure = System.nanoTime() - RECONNECT_PAUSE_NANOS; // guarded by this

  /**
   * Creates a store; it connects lazily and reconnects by itself.
   *
   * @param options where Redis is
   * @param ttl how long a completed id is remembered
   * @param keys where the keys are
   */
  public RedisClaimStore(RedisTrackerOptions options, Duration ttl, Keys keys) {
    this.keys = keys;
    this.noun = keys == Keys.COMMANDS ? "command" : "event";
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
    String leaseMillis = Long.toString(Math.max(1, lease.toMillis()));
    try {
      String answer =
          keys == Keys.COMMANDS
              ? commands()
                  .eval(
                      CLAIM,
                      ScriptOutputType.VALUE,
                      new String[] {keys.completed(commandId), keys.claim(commandId)},
                      token,
                      leaseMillis)
              : claimInSteps(commandId, token, lease);
      if ("completed".equals(answer)) {
        return new Claim(commandId, Claim.Status.COMPLETED, "");
      }
      if ("acquired".equals(answer)) {
        return new Claim(commandId, Claim.Status.ACQUIRED, token);
      }
      return new Claim(commandId, Claim.Status.HELD, "");
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot claim {} {} in Redis ({}); running it without a claim",
          noun,
          commandId,
          e.toString());
      return new Claim(commandId, Claim.Status.UNAVAILABLE, "");
    }
  }

  /** {@link #CLAIM} without a script across two hash slots; see the class comment. */
  private String claimInSteps(UUID id, String token, Duration lease) {
    RedisClusterCommands<String, String> c = commands();
    if (c.exists(keys.completed(id)) == 1) {
      return "completed";
    }
    String set =
        c.set(
            keys.claim(id),
            token,
            io.lettuce.core.SetArgs.Builder.nx().px(Math.max(1, lease.toMillis())));
    if (!"OK".equals(set)) {
      return c.exists(keys.completed(id)) == 1 ? "completed" : "held";
    }
    // Completed between the first look and the claim: its holder wrote the key before letting go.
    if (c.exists(keys.completed(id)) == 1) {
      releaseIfHeld(id, token);
      return "completed";
    }
    return "acquired";
  }

  /** Deletes the claim on {@code id} if {@code token} still holds it. */
  private void releaseIfHeld(UUID id, String token) {
    commands().eval(RELEASE, ScriptOutputType.INTEGER, new String[] {keys.claim(id)}, token);
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
                  new String[] {keys.claim(claim.commandId())},
                  claim.token(),
                  Long.toString(Math.max(1, lease.toMillis())));
      return renewed != null && renewed == 1;
    } catch (RuntimeException e) {
      LOG.warn("cannot renew the claim on {} {}: {}", noun, claim.commandId(), e.toString());
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
      releaseIfHeld(claim.commandId(), claim.token());
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot release the claim on {} {} ({}); it lapses with its lease",
          noun,
          claim.commandId(),
          e.toString());
    }
  }

  @Override
  public void complete(Claim claim) {
    try {
      if (keys == Keys.COMMANDS) {
        commands()
            .eval(
                COMPLETE,
                ScriptOutputType.INTEGER,
                new String[] {keys.completed(claim.commandId()), keys.claim(claim.commandId())},
                claim.token(),
                Instant.now().toString(),
                ttlSeconds);
      } else {
        // The completed key first, then the claim goes: see the class comment.
        commands().setex(keys.completed(claim.commandId()), Long.parseLong(ttlSeconds), "1");
        if (claim.status() == Claim.Status.ACQUIRED) {
          releaseIfHeld(claim.commandId(), claim.token());
        }
      }
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot record in Redis that {} {} completed: {}", noun, claim.commandId(), e.toString());
    }
  }

  @Override
  public boolean isCompleted(UUID commandId) {
    try {
      return commands().exists(keys.completed(commandId)) == 1;
    } catch (RuntimeException e) {
      LOG.warn(
          "cannot ask Redis whether {} {} completed ({}); running it",
          noun,
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
