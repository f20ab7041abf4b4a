package dev.bloodbank.internal;

import dev.bloodbank.correlation.RedisTrackerOptions;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import java.util.List;

/** Not API: the Lettuce client for a {@link RedisTrackerOptions}, standalone or cluster. */
public final class RedisClients {
  private RedisClients() {}

  /**
   * Makes a client that reconnects by itself, bounds its request queue and every command by the
   * options, and treats commands issued while disconnected as told.
   *
   * @param uris the URIs to use (the options' own, or copies with another client name)
   * @param options queue size, command timeout, cluster mode
   * @param whenDisconnected reject at once (callers that must never wait) or queue until the
   *     command timeout
   * @return a {@link RedisClusterClient} in cluster mode (seeded with every URI), else a {@link
   *     RedisClient} to connect to the first URI
   */
  public static AbstractRedisClient create(
      List<RedisURI> uris,
      RedisTrackerOptions options,
      ClientOptions.DisconnectedBehavior whenDisconnected) {
    ClientOptions clientOptions =
        ClientOptions.builder()
            .autoReconnect(true)
            .requestQueueSize(options.requestQueueSize())
            .disconnectedBehavior(whenDisconnected)
            .timeoutOptions(TimeoutOptions.enabled(options.commandTimeout()))
            .build();
    if (options.cluster()) {
      RedisClusterClient c = RedisClusterClient.create(uris);
      c.setOptions(ClusterClientOptions.builder(clientOptions).build());
      return c;
    }
    RedisClient c = RedisClient.create();
    c.setOptions(clientOptions);
    return c;
  }
}
