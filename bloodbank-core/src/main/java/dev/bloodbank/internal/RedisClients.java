package dev.bloodbank.internal;

import dev.bloodbank.correlation.RedisTrackerOptions;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.ClusterTopologyRefreshOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import java.time.Duration;
import java.util.List;

/** Not API: the Lettuce client for a {@link RedisTrackerOptions}, standalone or cluster. */
public final class RedisClients {
  /**
   * How often a cluster client re-reads the topology even when nothing went wrong: a failover that
   * no command of this client ran into (a replica promoted elsewhere) is learnt this late.
   */
  static final Duration TOPOLOGY_REFRESH_PERIOD = Duration.ofSeconds(30);

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
      // Lettuce reads the topology once by default: after a master fails over, commands for its
      // slots keep going to the dead node until the client is restarted. The adaptive triggers
      // (MOVED, ASK, repeated reconnects, an uncovered slot) refresh it on the first sign.
      ClusterTopologyRefreshOptions refresh =
          ClusterTopologyRefreshOptions.builder()
              .enablePeriodicRefresh(TOPOLOGY_REFRESH_PERIOD)
              .enableAdaptiveRefreshTrigger(ClusterTopologyRefreshOptions.RefreshTrigger.values())
              .adaptiveRefreshTriggersTimeout(Duration.ofSeconds(1))
              .refreshTriggersReconnectAttempts(2)
              .build();
      c.setOptions(
          ClusterClientOptions.builder(clientOptions).topologyRefreshOptions(refresh).build());
      return c;
    }
    RedisClient c = RedisClient.create();
    c.setOptions(clientOptions);
    return c;
  }
}
