package dev.bloodbank.command;

import dev.bloodbank.correlation.RedisTrackerOptions;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.SetArgs;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulRedisConnection;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** {@link ProcessedCommands} in Redis, one expiring key per completed command. */
final class RedisProcessedCommands implements ProcessedCommands {
  static final String PREFIX = "bloodbank:command:completed:";
  private static final Logger LOG = LoggerFactory.getLogger(RedisProcessedCommands.class);

  private final RedisClient client;
  private final RedisURI uri;
  private final long ttlSeconds;
  private @Nullable StatefulRedisConnection<String, String> connection;

  RedisProcessedCommands(RedisTrackerOptions options, Duration ttl) {
    this.uri = RedisURI.create(options.uri());
    uri.setTimeout(options.commandTimeout());
    uri.setClientName("bloodbank-commands");
    this.client = RedisClient.create();
    client.setOptions(
        ClientOptions.builder()
            .autoReconnect(true)
            .requestQueueSize(options.requestQueueSize())
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(options.commandTimeout()))
            .build());
    this.ttlSeconds = Math.max(1, ttl.getSeconds());
  }

  private synchronized StatefulRedisConnection<String, String> connection() {
    if (connection == null) {
      connection = client.connect(uri);
    }
    return connection;
  }

  @Override
  public boolean isCompleted(UUID commandId) {
    try {
      return connection().sync().exists(PREFIX + commandId) == 1;
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
    try {
      connection()
          .sync()
          .set(PREFIX + commandId, Instant.now().toString(), SetArgs.Builder.ex(ttlSeconds));
    } catch (RuntimeException e) {
      LOG.warn("cannot record in Redis that command {} completed: {}", commandId, e.toString());
    }
  }

  @Override
  public void close() {
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }
}
