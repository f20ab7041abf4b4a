package dev.bloodbank.correlation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.BloodbankException;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisFuture;
import io.lettuce.core.RedisURI;
import io.lettuce.core.TimeoutOptions;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.ClusterClientOptions;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;

/**
 * {@link CorrelationTracker} over Lettuce, in the key layout of the Python services:
 *
 * <ul>
 *   <li>{@code bloodbank:correlation:forward:<child>}: hash of {@code parent_ids} (JSON list),
 *       {@code timestamp} (ISO-8601 UTC) and {@code metadata} (JSON object);
 *   <li>{@code bloodbank:correlation:reverse:<parent>}: set of child ids.
 * </ul>
 *
 * Forward keys an older Python version wrote as a JSON string ({@code parent_event_ids}, {@code
 * created_at}, {@code metadata}) are read too. Connects in the background; commands fail at once
 * while Redis is unreachable (bounded queue, no buffering) and Lettuce reconnects by itself.
 */
final class RedisCorrelationTracker implements CorrelationTracker {
  static final String FORWARD = "bloodbank:correlation:forward:";
  static final String REVERSE = "bloodbank:correlation:reverse:";
  private static final long RECONNECT_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final RedisTrackerOptions options;
  private final AbstractRedisClient client;
  private final ObjectMapper json = new ObjectMapper();
  private final long ttlSeconds;
  private final Object lock = new Object();
  private final AtomicLong levelFetches = new AtomicLong();
  private volatile @Nullable CompletableFuture<StatefulConnection<String, String>> connection;
  private volatile long lastAttempt;
  private volatile boolean closed;

  RedisCorrelationTracker(RedisTrackerOptions options) {
    this.options = options;
    this.ttlSeconds = options.ttl().getSeconds();
    // Bounded queue and no buffering while disconnected: an outage must not grow the heap.
    ClientOptions clientOptions =
        ClientOptions.builder()
            .autoReconnect(true)
            .requestQueueSize(options.requestQueueSize())
            .disconnectedBehavior(ClientOptions.DisconnectedBehavior.REJECT_COMMANDS)
            .timeoutOptions(TimeoutOptions.enabled(options.commandTimeout()))
            .build();
    if (options.cluster()) {
      List<RedisURI> seeds = new ArrayList<>();
      for (String u : options.uri().split(",")) {
        seeds.add(uri(u.trim()));
      }
      RedisClusterClient c = RedisClusterClient.create(seeds);
      c.setOptions(ClusterClientOptions.builder(clientOptions).build());
      this.client = c;
    } else {
      RedisClient c = RedisClient.create(uri(options.uri()));
      c.setOptions(clientOptions);
      this.client = c;
    }
    connection();
  }

  private RedisURI uri(String u) {
    try {
      RedisURI r = RedisURI.create(u);
      r.setTimeout(options.commandTimeout());
      r.setClientName("bloodbank-correlation");
      return r;
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          "malformed Redis URI '" + RedisTrackerOptions.redact(u) + "': " + e.getMessage(), e);
    }
  }

  /** The connection, connecting (again) when there is none, at most once a second. */
  @SuppressWarnings("unchecked")
  private CompletableFuture<StatefulConnection<String, String>> connection() {
    CompletableFuture<StatefulConnection<String, String>> c = connection;
    if (c != null && !c.isCompletedExceptionally()) {
      return c;
    }
    synchronized (lock) {
      c = connection;
      if (closed) {
        return CompletableFuture.failedFuture(
            new BloodbankException("correlation tracker is closed"));
      }
      if (c != null && !c.isCompletedExceptionally()) {
        return c;
      }
      long now = System.nanoTime();
      if (c != null && now - lastAttempt < RECONNECT_PAUSE_NANOS) {
        return c;
      }
      lastAttempt = now;
      CompletableFuture<? extends StatefulConnection<String, String>> f;
      if (client instanceof RedisClusterClient cluster) {
        f = cluster.connectAsync(StringCodec.UTF8);
      } else {
        RedisClient single = (RedisClient) client;
        f = single.connectAsync(StringCodec.UTF8, uri(options.uri())).toCompletableFuture();
      }
      c = (CompletableFuture<StatefulConnection<String, String>>) f;
      connection = c;
      return c;
    }
  }

  @SuppressWarnings("unchecked")
  private static RedisClusterAsyncCommands<String, String> commands(
      StatefulConnection<String, String> c) {
    if (c instanceof StatefulRedisClusterConnection) {
      return ((StatefulRedisClusterConnection<String, String>) c).async();
    }
    return ((StatefulRedisConnection<String, String>) c).async();
  }

  private <T> CompletableFuture<T> withRedis(
      String what,
      java.util.function.Function<RedisClusterAsyncCommands<String, String>, CompletableFuture<T>>
          op) {
    return connection()
        .thenCompose(c -> op.apply(commands(c)))
        .handle(
            (v, t) -> {
              if (t == null) {
                return v;
              }
              Throwable cause =
                  t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
              if (cause instanceof BloodbankException be) {
                throw new CompletionException(be);
              }
              throw new CompletionException(
                  new BloodbankException(
                      "Redis "
                          + what
                          + " failed at "
                          + RedisTrackerOptions.redact(options.uri())
                          + ": "
                          + cause.getClass().getSimpleName()
                          + ": "
                          + cause.getMessage(),
                      cause));
            });
  }

  @Override
  public CompletableFuture<Void> addCorrelation(
      UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    if (parentIds.isEmpty()) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException("at least one parent id is required for " + childId));
    }
    String parents;
    String meta;
    try {
      List<String> ids = new ArrayList<>(parentIds.size());
      for (UUID p : parentIds) {
        ids.add(p.toString());
      }
      parents = json.writeValueAsString(ids);
      meta = json.writeValueAsString(metadata);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(
          new BloodbankException(
              "correlation metadata is not JSON-mappable: " + e.getOriginalMessage(), e));
    }
    Map<String, String> fields = new LinkedHashMap<>();
    fields.put("parent_ids", parents);
    fields.put("timestamp", Instant.now().toString());
    fields.put("metadata", meta);
    String child = childId.toString();
    return withRedis(
        "write",
        r -> {
          List<RedisFuture<?>> all = new ArrayList<>();
          all.add(r.hset(FORWARD + child, fields));
          all.add(r.expire(FORWARD + child, ttlSeconds));
          for (UUID p : parentIds) {
            all.add(r.sadd(REVERSE + p, child));
            all.add(r.expire(REVERSE + p, ttlSeconds));
          }
          return allOf(all).thenApply(v -> null);
        });
  }

  private static CompletableFuture<Void> allOf(List<RedisFuture<?>> futures) {
    CompletableFuture<?>[] cfs = new CompletableFuture<?>[futures.size()];
    for (int i = 0; i < cfs.length; i++) {
      cfs[i] = futures.get(i).toCompletableFuture();
    }
    return CompletableFuture.allOf(cfs);
  }

  @Override
  public CompletableFuture<List<UUID>> parents(UUID id) {
    return fetchParents(List.of(id)).thenApply(m -> m.getOrDefault(id, List.of()));
  }

  @Override
  public CompletableFuture<Set<UUID>> children(UUID id) {
    return fetchChildren(List.of(id))
        .thenApply(m -> new LinkedHashSet<>(m.getOrDefault(id, List.of())));
  }

  @Override
  public CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth) {
    return Traversal.run(
        id, CorrelationGraph.Direction.ANCESTORS, maxDepth, options.maxNodes(), this::fetchParents);
  }

  @Override
  public CompletableFuture<CorrelationGraph> descendants(UUID id, int maxDepth) {
    return Traversal.run(
        id,
        CorrelationGraph.Direction.DESCENDANTS,
        maxDepth,
        options.maxNodes(),
        this::fetchChildren);
  }

  /** How many level fetches (each one pipelined batch) traversals have made; for tests. */
  long levelFetches() {
    return levelFetches.get();
  }

  /** One pipelined batch of HGETALLs for a whole level; legacy string keys take one more. */
  private CompletableFuture<Map<UUID, List<UUID>>> fetchParents(Collection<UUID> level) {
    levelFetches.incrementAndGet();
    return forwardRecords(level)
        .thenApply(
            records -> {
              Map<UUID, List<UUID>> out = new HashMap<>();
              records.forEach((id, rec) -> out.put(id, rec.parents));
              return out;
            });
  }

  private CompletableFuture<Map<UUID, List<UUID>>> fetchChildren(Collection<UUID> level) {
    levelFetches.incrementAndGet();
    return withRedis(
        "read",
        r -> {
          Map<UUID, RedisFuture<Set<String>>> pending = new LinkedHashMap<>();
          for (UUID id : level) {
            pending.put(id, r.smembers(REVERSE + id));
          }
          return allOf(new ArrayList<>(pending.values()))
              .thenApply(
                  v -> {
                    Map<UUID, List<UUID>> out = new HashMap<>();
                    pending.forEach((id, f) -> out.put(id, uuids(f.toCompletableFuture().join())));
                    return out;
                  });
        });
  }

  private record ForwardRecord(
      List<UUID> parents,
      @Nullable Instant at,
      Map<String, Object> metadata,
      @Nullable Duration ttl) {}

  private static final ForwardRecord NONE = new ForwardRecord(List.of(), null, Map.of(), null);

  private CompletableFuture<Map<UUID, ForwardRecord>> forwardRecords(Collection<UUID> ids) {
    return withRedis(
        "read",
        r -> {
          Map<UUID, CompletableFuture<ForwardRecord>> pending = new LinkedHashMap<>();
          for (UUID id : ids) {
            String key = FORWARD + id;
            pending.put(
                id,
                r.hgetall(key)
                    .toCompletableFuture()
                    .thenApply(this::fromHash)
                    .exceptionallyCompose(
                        t -> isWrongType(t) ? legacy(r, key) : CompletableFuture.failedFuture(t)));
          }
          return CompletableFuture.allOf(pending.values().toArray(new CompletableFuture<?>[0]))
              .thenApply(
                  v -> {
                    Map<UUID, ForwardRecord> out = new LinkedHashMap<>();
                    pending.forEach((id, f) -> out.put(id, f.join()));
                    return out;
                  });
        });
  }

  private static boolean isWrongType(Throwable t) {
    Throwable c = t instanceof CompletionException && t.getCause() != null ? t.getCause() : t;
    return String.valueOf(c.getMessage()).startsWith("WRONGTYPE");
  }

  private ForwardRecord fromHash(Map<String, String> hash) {
    if (hash == null || hash.isEmpty()) {
      return NONE;
    }
    return new ForwardRecord(
        parseIds(hash.get("parent_ids")),
        parseInstant(hash.get("timestamp")),
        parseMap(hash.get("metadata")),
        null);
  }

  /** The older Python layout: a JSON string {parent_event_ids, created_at, metadata}. */
  private CompletableFuture<ForwardRecord> legacy(
      RedisClusterAsyncCommands<String, String> r, String key) {
    return r.get(key)
        .toCompletableFuture()
        .thenApply(
            s -> {
              if (s == null) {
                return NONE;
              }
              try {
                JsonNode n = json.readTree(s);
                return new ForwardRecord(
                    parseIds(n.path("parent_event_ids").toString()),
                    parseInstant(n.path("created_at").asText(null)),
                    n.path("metadata").isObject()
                        ? json.convertValue(n.get("metadata"), MAP)
                        : Map.of(),
                    null);
              } catch (JsonProcessingException e) {
                return NONE;
              }
            });
  }

  private List<UUID> parseIds(@Nullable String jsonList) {
    if (jsonList == null || jsonList.isBlank()) {
      return List.of();
    }
    try {
      JsonNode n = json.readTree(jsonList);
      List<UUID> out = new ArrayList<>();
      for (JsonNode e : n) {
        try {
          out.add(UUID.fromString(e.asText()));
        } catch (IllegalArgumentException bad) {
          // an id that is not a UUID cannot be an event of this bus; skip it
        }
      }
      return out;
    } catch (JsonProcessingException e) {
      return List.of();
    }
  }

  private static @Nullable Instant parseInstant(@Nullable String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (RuntimeException e) {
      try {
        // Python's datetime.utcnow().isoformat() has no zone: UTC.
        return java.time.LocalDateTime.parse(s).toInstant(java.time.ZoneOffset.UTC);
      } catch (RuntimeException again) {
        return null;
      }
    }
  }

  private Map<String, Object> parseMap(@Nullable String s) {
    if (s == null || s.isBlank()) {
      return Map.of();
    }
    try {
      Map<String, Object> m = json.readValue(s, MAP);
      return m == null ? Map.of() : m;
    } catch (JsonProcessingException e) {
      return Map.of();
    }
  }

  private static List<UUID> uuids(@Nullable Collection<String> ids) {
    if (ids == null) {
      return List.of();
    }
    List<UUID> out = new ArrayList<>(ids.size());
    for (String s : ids) {
      try {
        out.add(UUID.fromString(s));
      } catch (IllegalArgumentException e) {
        // not an event id of this bus
      }
    }
    out.sort(null);
    return out;
  }

  @Override
  public CompletableFuture<DebugDump> debugDump(UUID id) {
    return nodeInfos(List.of(id))
        .thenCompose(
            first -> {
              DebugDump.NodeInfo node = first.get(0);
              List<UUID> around = new ArrayList<>(node.parentIds());
              around.addAll(node.childIds());
              return nodeInfos(around)
                  .thenApply(
                      infos ->
                          new DebugDump(
                              node,
                              infos.subList(0, node.parentIds().size()),
                              infos.subList(node.parentIds().size(), infos.size())));
            });
  }

  private CompletableFuture<List<DebugDump.NodeInfo>> nodeInfos(List<UUID> ids) {
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    CompletableFuture<Map<UUID, ForwardRecord>> fwd = forwardRecords(ids);
    CompletableFuture<Map<UUID, List<UUID>>> rev = fetchChildren(ids);
    CompletableFuture<Map<UUID, Long>> ttls =
        withRedis(
            "read",
            r -> {
              Map<UUID, RedisFuture<Long>> p = new LinkedHashMap<>();
              for (UUID id : ids) {
                p.put(id, r.ttl(FORWARD + id));
              }
              return allOf(new ArrayList<>(p.values()))
                  .thenApply(
                      v -> {
                        Map<UUID, Long> out = new HashMap<>();
                        p.forEach((id, f) -> out.put(id, f.toCompletableFuture().join()));
                        return out;
                      });
            });
    return CompletableFuture.allOf(fwd, rev, ttls)
        .thenApply(
            v -> {
              List<DebugDump.NodeInfo> out = new ArrayList<>();
              for (UUID id : ids) {
                ForwardRecord f = fwd.join().getOrDefault(id, NONE);
                Long ttl = ttls.join().get(id);
                out.add(
                    new DebugDump.NodeInfo(
                        id,
                        f.parents,
                        new LinkedHashSet<>(rev.join().getOrDefault(id, List.of())),
                        f.at,
                        f.metadata,
                        ttl != null && ttl >= 0 ? Duration.ofSeconds(ttl) : null));
              }
              return out;
            });
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    // Shutting the client down closes its connections.
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }

  @Override
  public String toString() {
    return "RedisCorrelationTracker{" + options + "}";
  }
}
