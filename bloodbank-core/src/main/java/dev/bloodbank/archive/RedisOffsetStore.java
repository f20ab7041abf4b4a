package dev.bloodbank.archive;

import dev.bloodbank.BloodbankException;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.internal.RedisClients;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.sync.RedisClusterCommands;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;
import org.jspecify.annotations.Nullable;

/** {@link OffsetStore#redis}: one string key, read with GET and written with SET. */
final class RedisOffsetStore implements OffsetStore {
  static final String CLIENT_NAME = "bloodbank-replay-offset";

  private final String key;
  private final List<RedisURI> uris;
  private final String where; // host:port of the first URI, never its credentials
  private final AbstractRedisClient client;
  private @Nullable StatefulConnection<String, String> connection; // guarded by this
  private @Nullable RedisClusterCommands<String, String> commands; // guarded by this
  private boolean closed; // guarded by this

  RedisOffsetStore(RedisTrackerOptions options, String key) {
    Objects.requireNonNull(options, "options");
    Objects.requireNonNull(key, "key");
    if (key.isBlank()) {
      throw new IllegalArgumentException("the offset key must not be blank");
    }
    this.key = key;
    this.uris = options.redisUris();
    for (RedisURI u : uris) {
      u.setClientName(CLIENT_NAME);
    }
    this.where = uris.get(0).getHost() + ":" + uris.get(0).getPort();
    // A replay waits for its store anyway: while the connection comes up, a command waits for it,
    // bounded by the command timeout.
    this.client =
        RedisClients.create(uris, options, ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS);
  }

  private synchronized RedisClusterCommands<String, String> commands() {
    if (closed) {
      throw new BloodbankException("the Redis offset store of key '" + key + "' is closed");
    }
    if (commands == null) {
      if (client instanceof RedisClusterClient cluster) {
        var c = cluster.connect();
        connection = c;
        commands = c.sync();
      } else {
        var c = ((RedisClient) client).connect(uris.get(0));
        connection = c;
        commands = c.sync();
      }
    }
    return commands;
  }

  @Override
  public OptionalLong load() {
    String value;
    try {
      value = commands().get(key);
    } catch (BloodbankException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BloodbankException(
          "cannot read offset key '" + key + "' from Redis at " + where + ": " + e, e);
    }
    if (value == null) {
      return OptionalLong.empty();
    }
    try {
      long offset = Long.parseLong(value.trim());
      if (offset < 0) {
        throw new NumberFormatException("negative");
      }
      return OptionalLong.of(offset);
    } catch (NumberFormatException e) {
      String shown = value.length() > 40 ? value.substring(0, 40) + "..." : value;
      throw new BloodbankException(
          "offset key '"
              + key
              + "' in Redis at "
              + where
              + " holds '"
              + shown.replaceAll("[^ -~]", "?")
              + "', not an offset",
          e);
    }
  }

  @Override
  public void store(long offset) {
    if (offset < 0) {
      throw new IllegalArgumentException("offset must be 0 or more, was " + offset);
    }
    try {
      commands().set(key, Long.toString(offset));
    } catch (BloodbankException e) {
      throw e;
    } catch (RuntimeException e) {
      throw new BloodbankException(
          "cannot store offset " + offset + " in key '" + key + "' of Redis at " + where + ": " + e,
          e);
    }
  }

  @Override
  public void close() {
    StatefulConnection<String, String> c;
    synchronized (this) {
      if (closed) {
        return;
      }
      closed = true;
      c = connection;
      connection = null;
      commands = null;
    }
    try {
      if (c != null) {
        c.close();
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Override
  public String toString() {
    return "OffsetStore.redis(" + where + ", " + key + ")";
  }
}
