package dev.bloodbank.correlation;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import dev.bloodbank.BloodbankException;
import dev.bloodbank.ConnectionException;
import dev.bloodbank.internal.RedisClients;
import io.lettuce.core.AbstractRedisClient;
import io.lettuce.core.ClientOptions;
import io.lettuce.core.RedisClient;
import io.lettuce.core.RedisCommandExecutionException;
import io.lettuce.core.RedisCommandTimeoutException;
import io.lettuce.core.RedisConnectionException;
import io.lettuce.core.RedisException;
import io.lettuce.core.RedisURI;
import io.lettuce.core.ScriptOutputType;
import io.lettuce.core.api.StatefulConnection;
import io.lettuce.core.api.StatefulRedisConnection;
import io.lettuce.core.cluster.RedisClusterClient;
import io.lettuce.core.cluster.api.StatefulRedisClusterConnection;
import io.lettuce.core.cluster.api.async.RedisClusterAsyncCommands;
import io.lettuce.core.codec.StringCodec;
import io.lettuce.core.event.command.CommandListener;
import io.lettuce.core.output.CommandOutput;
import io.lettuce.core.output.IntegerOutput;
import io.lettuce.core.output.MapOutput;
import io.lettuce.core.output.ValueOutput;
import io.lettuce.core.output.ValueSetOutput;
import io.lettuce.core.protocol.AsyncCommand;
import io.lettuce.core.protocol.Command;
import io.lettuce.core.protocol.CommandArgs;
import io.lettuce.core.protocol.CommandType;
import io.lettuce.core.protocol.RedisCommand;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.jspecify.annotations.Nullable;

/**
 * {@link CorrelationTracker} over Lettuce's asynchronous API, in the key layout of the Python
 * services (see the package description).
 *
 * <p>One connection, shared by all callers (Lettuce multiplexes it). It is opened in the background
 * and, once open, re-opened by Lettuce after a failure; while there is none, commands fail at once
 * ({@code REJECT_COMMANDS}), and the request queue is bounded, so an outage cannot grow the heap.
 * If the first connect fails, the next call made a second or more later tries again.
 *
 * <p>Writes on a standalone Redis are batched: one Lua script call carries every recording made
 * while the previous call was in flight (up to {@value #MAX_BATCH}), each with its own outcome, so
 * under load a recording costs a fraction of a call and a round trip; when idle a recording is sent
 * at once. Recordings waiting for a batch count against {@link
 * RedisTrackerOptions#requestQueueSize()} and fail at once beyond it, as commands do. In cluster
 * mode a write is one script per key, since the keys lie in different hash slots, sent without
 * waiting for anything else. A traversal level is one batch of commands handed to the connection at
 * once, so they are written together before any reply is read: one round trip (per cluster node
 * involved).
 */
final class RedisCorrelationTracker implements CorrelationTracker {
  static final String FORWARD = "bloodbank:correlation:forward:";
  static final String REVERSE = "bloodbank:correlation:reverse:";

  /**
   * Merges the new parents into the child's forward hash (or converts the legacy JSON string into
   * one), refreshes its TTL, and adds the child to each parent's reverse set. Atomic per call.
   */
  static final String RECORD_SCRIPT =
      """
      -- ARGV: ttl seconds, child id, '1' when KEYS[1] is the child's forward key (else '0'),
      --       then with '1': parent ids (JSON list), timestamp, metadata (JSON object).
      -- KEYS: [forward key of the child,] reverse keys of the parents.
      local ttl = tonumber(ARGV[1])
      local first = 1
      if ARGV[3] == '1' then
        first = 2
        local key = KEYS[1]
        local kind = redis.call('TYPE', key)['ok']
        local merged, seen = {}, {}
        local function add(list)
          if type(list) ~= 'table' then
            return
          end
          for _, id in ipairs(list) do
            if type(id) == 'string' and not seen[id] then
              seen[id] = true
              merged[#merged + 1] = id
            end
          end
        end
        local old
        if kind == 'hash' then
          old = redis.call('HGET', key, 'parent_ids')
          if old then
            local ok, list = pcall(cjson.decode, old)
            if ok then
              add(list)
            end
          end
        elseif kind == 'string' then
          local ok, legacy = pcall(cjson.decode, redis.call('GET', key))
          if ok and type(legacy) == 'table' then
            add(legacy['parent_event_ids'])
          end
          redis.call('DEL', key)
        elseif kind ~= 'none' then
          return redis.error_reply('WRONGTYPE ' .. key .. ' holds a ' .. kind .. ', not a hash')
        end
        local count = #merged
        add(cjson.decode(ARGV[4]))
        local parents = ARGV[4]
        if count > 0 then
          parents = (#merged == count and kind == 'hash') and old or cjson.encode(merged)
        end
        redis.call('HSET', key, 'parent_ids', parents, 'timestamp', ARGV[5], 'metadata', ARGV[6])
        redis.call('EXPIRE', key, ttl)
      end
      for i = first, #KEYS do
        redis.call('SADD', KEYS[i], ARGV[2])
        redis.call('EXPIRE', KEYS[i], ttl)
      end
      return #KEYS
      """;

  static final String RECORD_SHA = sha1(RECORD_SCRIPT);

  /**
   * {@link #RECORD_SCRIPT} for several recordings in one call (standalone Redis, where all keys
   * share the one node): the same end state, each recording with its own outcome, so one
   * recording's error (a key of another type) fails only the recordings that touch that key.
   *
   * <p>Cheaper per link than the single script, since Redis's CPU is shared with the broker on
   * small machines: a new child's parents are written as given without decoding them, the type of
   * the forward key is asked only when reading it as a hash fails, and each reverse key gets one
   * SADD of all its new children and one EXPIRE per call instead of one each per link.
   */
  static final String RECORD_BATCH_SCRIPT =
      """
      -- ARGV: ttl seconds, then per recording: child id, number of parents n,
      --       parent ids (JSON list), timestamp, metadata (JSON object).
      -- KEYS: per recording: forward key of the child, then the reverse keys of its n parents.
      -- Returns per recording the number of its keys, or an error message.
      local ttl = tonumber(ARGV[1])
      local function message(err)
        return type(err) == 'table' and (err['err'] or 'ERR') or tostring(err)
      end
      local function forward(key, parents_json, timestamp, metadata)
        local ok, old = pcall(redis.call, 'HGET', key, 'parent_ids')
        local merged, seen = {}, {}
        local function add(list)
          if type(list) ~= 'table' then
            return
          end
          for _, id in ipairs(list) do
            if type(id) == 'string' and not seen[id] then
              seen[id] = true
              merged[#merged + 1] = id
            end
          end
        end
        local parents = parents_json
        if ok and old then
          local decoded, list = pcall(cjson.decode, old)
          if decoded then
            add(list)
          end
          local count = #merged
          add(cjson.decode(parents_json))
          if count > 0 then
            parents = #merged == count and old or cjson.encode(merged)
          end
        elseif not ok then
          local kind = redis.call('TYPE', key)['ok']
          if kind ~= 'string' then
            return 'WRONGTYPE ' .. key .. ' holds a ' .. kind .. ', not a hash'
          end
          local decoded, legacy = pcall(cjson.decode, redis.call('GET', key))
          if decoded and type(legacy) == 'table' then
            add(legacy['parent_event_ids'])
          end
          redis.call('DEL', key)
          local count = #merged
          add(cjson.decode(parents_json))
          if count > 0 then
            parents = cjson.encode(merged)
          end
        end
        redis.call('HSET', key, 'parent_ids', parents, 'timestamp', timestamp, 'metadata', metadata)
        redis.call('EXPIRE', key, ttl)
        return nil
      end
      local results = {}
      local reverse, order = {}, {}
      local k = 1
      for a = 2, #ARGV, 5 do
        local index = #results + 1
        local n = tonumber(ARGV[a + 1])
        local ok, err = pcall(forward, KEYS[k], ARGV[a + 2], ARGV[a + 3], ARGV[a + 4])
        if not ok or err then
          results[index] = ok and err or message(err)
        else
          results[index] = n + 1
          for i = k + 1, k + n do
            local key = KEYS[i]
            local r = reverse[key]
            if not r then
              r = {children = {}, recordings = {}}
              reverse[key] = r
              order[#order + 1] = key
            end
            r.children[#r.children + 1] = ARGV[a]
            r.recordings[#r.recordings + 1] = index
          end
        end
        k = k + 1 + n
      end
      for _, key in ipairs(order) do
        local r = reverse[key]
        local ok, err = pcall(redis.call, 'SADD', key, unpack(r.children))
        if ok then
          redis.call('EXPIRE', key, ttl)
        else
          for _, index in ipairs(r.recordings) do
            results[index] = message(err)
          end
        end
      end
      return results
      """;

  static final String RECORD_BATCH_SHA = sha1(RECORD_BATCH_SCRIPT);

  /**
   * Recordings per batch call at most: enough to amortize a call under load, few enough that the
   * script never holds Redis for long.
   */
  static final int MAX_BATCH = 128;

  /**
   * What Python's {@code datetime.now(timezone.utc).isoformat()} writes, which every Python 3
   * {@code datetime.fromisoformat} reads back (unlike a trailing {@code Z} before 3.11).
   */
  static final DateTimeFormatter TIMESTAMP =
      DateTimeFormatter.ofPattern("uuuu-MM-dd'T'HH:mm:ss.SSSSSSxxx").withZone(ZoneOffset.UTC);

  private static final long RECONNECT_PAUSE_NANOS = TimeUnit.SECONDS.toNanos(1);
  private static final TypeReference<Map<String, Object>> MAP = new TypeReference<>() {};

  private final RedisTrackerOptions options;
  private final List<RedisURI> uris;
  private final AbstractRedisClient client;
  private final String where;
  private final String ttlSeconds;
  private final Clock clock = Clock.systemUTC();
  private final ObjectMapper json =
      new ObjectMapper()
          .registerModule(new JavaTimeModule())
          .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS);
  private final Object lock = new Object();
  // Recordings waiting for the batch in flight (standalone Redis only); at most one batch is sent
  // at a time, so recordings made meanwhile go together in the next.
  private final ConcurrentLinkedQueue<Recording> waiting = new ConcurrentLinkedQueue<>();
  private final AtomicInteger waitingCount = new AtomicInteger();
  private final AtomicBoolean sending = new AtomicBoolean();
  private volatile @Nullable CompletableFuture<StatefulConnection<String, String>> connection;
  private volatile long lastAttempt;
  private volatile boolean closed;

  RedisCorrelationTracker(RedisTrackerOptions options) {
    this(options, List.of());
  }

  /** With command listeners, which must be known before the connection opens; for tests. */
  RedisCorrelationTracker(RedisTrackerOptions options, List<CommandListener> listeners) {
    this.options = options;
    this.uris = options.redisUris();
    this.where =
        "Redis at " + RedisTrackerOptions.escape(RedisTrackerOptions.redact(options.uri()));
    this.ttlSeconds = Long.toString(options.ttl().getSeconds());
    // A cluster connection opens each node's connection on first use (and a promoted replica's
    // after a failover): rejecting while that one connects would fail the first command for every
    // node. There, commands wait for it, bounded by the command timeout.
    this.client =
        RedisClients.create(
            uris,
            options,
            options.cluster()
                ? ClientOptions.DisconnectedBehavior.ACCEPT_COMMANDS
                : ClientOptions.DisconnectedBehavior.REJECT_COMMANDS);
    listeners.forEach(client::addListener);
    connection();
  }

  private static String sha1(String script) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-1");
      return HexFormat.of().formatHex(d.digest(script.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java runtime has SHA-1", e);
    }
  }

  /** The connection; opens one when there is none, at most once a second after a failure. */
  private CompletableFuture<StatefulConnection<String, String>> connection() {
    CompletableFuture<StatefulConnection<String, String>> c = connection;
    if (c != null && !c.isCompletedExceptionally()) {
      return c;
    }
    synchronized (lock) {
      c = connection;
      if (c != null && !c.isCompletedExceptionally()) {
        return c;
      }
      long now = System.nanoTime();
      if (c != null && now - lastAttempt < RECONNECT_PAUSE_NANOS) {
        return c;
      }
      lastAttempt = now;
      try {
        c = connect();
      } catch (RuntimeException e) {
        c = CompletableFuture.failedFuture(e);
      }
      connection = c;
      return c;
    }
  }

  @SuppressWarnings("unchecked")
  private CompletableFuture<StatefulConnection<String, String>> connect() {
    CompletableFuture<? extends StatefulConnection<String, String>> f =
        client instanceof RedisClusterClient cluster
            // connectAsync needs the topology loaded first: without it every connect failed
            // ("Partitions not initialized"), so REDIS_CLUSTER=true never tracked anything.
            ? cluster
                .refreshPartitionsAsync()
                .toCompletableFuture()
                .thenCompose(loaded -> cluster.connectAsync(StringCodec.UTF8))
            : ((RedisClient) client)
                .connectAsync(StringCodec.UTF8, uris.get(0))
                .toCompletableFuture();
    return (CompletableFuture<StatefulConnection<String, String>>) f;
  }

  @SuppressWarnings("unchecked")
  private static RedisClusterAsyncCommands<String, String> commands(
      StatefulConnection<String, String> c) {
    if (c instanceof StatefulRedisClusterConnection) {
      return ((StatefulRedisClusterConnection<String, String>) c).async();
    }
    return ((StatefulRedisConnection<String, String>) c).async();
  }

  /**
   * Runs {@code op} on the connection; the result fails with a {@link BloodbankException} naming
   * Redis (password masked) and keeping the client's exception as the cause.
   */
  private <T> CompletableFuture<T> withRedis(
      String what, Function<StatefulConnection<String, String>, CompletableFuture<T>> op) {
    if (closed) {
      return CompletableFuture.failedFuture(closedFailure(what));
    }
    CompletableFuture<StatefulConnection<String, String>> c = boundedConnection();
    CompletableFuture<T> result = new CompletableFuture<>();
    c.thenCompose(op)
        .whenComplete(
            (v, t) -> {
              if (t == null) {
                result.complete(v);
              } else {
                result.completeExceptionally(wrap(what, t));
              }
            });
    return result;
  }

  private static BloodbankException closedFailure(String what) {
    return new BloodbankException("cannot " + what + ": the correlation tracker is closed");
  }

  /** The connection, or a failure once a connect has taken longer than a command may. */
  private CompletableFuture<StatefulConnection<String, String>> boundedConnection() {
    CompletableFuture<StatefulConnection<String, String>> c = connection();
    if (!c.isDone()) {
      // A connect that hangs (an address that drops packets) must not hold callers longer than a
      // command would; the connect itself goes on.
      c = c.copy().orTimeout(options.commandTimeout().toMillis(), TimeUnit.MILLISECONDS);
    }
    return c;
  }

  private Throwable wrap(String what, Throwable t) {
    Throwable cause = unwrap(t);
    if (cause instanceof BloodbankException || cause instanceof IllegalArgumentException) {
      return cause;
    }
    String message = cause.getClass().getSimpleName() + ": " + safe(cause.getMessage());
    if (cause instanceof TimeoutException) {
      // Only the wait for a connection times out this way; commands time out in Lettuce.
      return new ConnectionException(
          "cannot "
              + what
              + ": no connection to "
              + where
              + " within "
              + options.commandTimeout().toMillis()
              + " ms",
          cause);
    }
    if (cause instanceof RedisCommandTimeoutException) {
      return new BloodbankException(
          "cannot "
              + what
              + ": "
              + where
              + " did not answer within "
              + options.commandTimeout().toMillis()
              + " ms ("
              + message
              + ")",
          cause);
    }
    if (isConnectionProblem(cause)) {
      return new ConnectionException(
          "cannot " + what + ": " + where + " is unreachable (" + message + ")", cause);
    }
    return new BloodbankException(
        "cannot " + what + ": " + where + " failed (" + message + ")", cause);
  }

  private static boolean isConnectionProblem(Throwable t) {
    if (t instanceof RedisConnectionException || t instanceof IOException) {
      return true;
    }
    // Lettuce's words for "no connection right now" while it reconnects, or after a close.
    String m = String.valueOf(t.getMessage());
    return t instanceof RedisException
        && (m.contains("not connected")
            || m.contains("Connection closed")
            || m.contains("Connection is closed")
            || m.contains("Connection reset"));
  }

  static Throwable unwrap(Throwable t) {
    Throwable c = t;
    while ((c instanceof CompletionException || c instanceof ExecutionException)
        && c.getCause() != null) {
      c = c.getCause();
    }
    return c;
  }

  private static String safe(@Nullable String s) {
    return s == null ? "" : RedisTrackerOptions.escape(s);
  }

  @Override
  public CompletableFuture<Void> addCorrelation(
      UUID childId, List<UUID> parentIds, Map<String, Object> metadata) {
    try {
      LinkArguments.check(childId, parentIds, metadata);
    } catch (IllegalArgumentException e) {
      return CompletableFuture.failedFuture(e);
    }
    Set<String> parents = new LinkedHashSet<>();
    for (UUID p : parentIds) {
      parents.add(p.toString());
    }
    String parentsJson = jsonList(parents);
    String meta;
    try {
      meta = metadata.isEmpty() ? "{}" : json.writeValueAsString(metadata);
    } catch (JsonProcessingException e) {
      return CompletableFuture.failedFuture(
          new IllegalArgumentException(
              "correlation metadata of "
                  + childId
                  + " is not JSON-mappable: "
                  + safe(e.getOriginalMessage()),
              e));
    }
    String child = childId.toString();
    String timestamp = timestamp(clock.instant());
    if (!options.cluster()) {
      return enqueue(new Recording(child, parents, parentsJson, timestamp, meta));
    }
    String[] forwardArgs = {ttlSeconds, child, "1", parentsJson, timestamp, meta};
    return withRedis(
        "record the parents of " + child,
        conn -> {
          RedisClusterAsyncCommands<String, String> r = commands(conn);
          // The keys lie in different hash slots: one script per key, all sent at once.
          List<CompletableFuture<?>> all = new ArrayList<>(1 + parents.size());
          all.add(record(r, new String[] {FORWARD + child}, forwardArgs));
          String[] reverseArgs = {ttlSeconds, child, "0"};
          for (String p : parents) {
            all.add(record(r, new String[] {REVERSE + p}, reverseArgs));
          }
          return CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]));
        });
  }

  /** One link waiting to be written, and whoever waits for it. */
  private record Recording(
      String child,
      Set<String> parents,
      String parentsJson,
      String timestamp,
      String metadata,
      CompletableFuture<Void> done) {
    Recording(
        String child, Set<String> parents, String parentsJson, String timestamp, String metadata) {
      this(child, parents, parentsJson, timestamp, metadata, new CompletableFuture<>());
    }

    String what() {
      return "record the parents of " + child;
    }
  }

  private CompletableFuture<Void> enqueue(Recording r) {
    if (closed) {
      return CompletableFuture.failedFuture(closedFailure(r.what()));
    }
    int limit = options.requestQueueSize();
    if (waitingCount.incrementAndGet() > limit) {
      waitingCount.decrementAndGet();
      // What Lettuce answers when its own request queue is full.
      return CompletableFuture.failedFuture(
          wrap(
              r.what(),
              new RedisException(
                  "Request queue size exceeded: "
                      + limit
                      + ". Commands are not accepted until the queue size drops.")));
    }
    waiting.add(r);
    if (closed) {
      failWaiting();
    } else if (sending.compareAndSet(false, true)) {
      sendWaiting();
    }
    return r.done;
  }

  /**
   * Sends the waiting recordings, a batch at a time, until none is left; called by whoever set
   * {@code sending}, and again when the batch in flight is answered. Never waits.
   */
  private void sendWaiting() {
    while (true) {
      List<Recording> batch = new ArrayList<>(Math.min(MAX_BATCH, waitingCount.get() + 1));
      Recording r;
      while (batch.size() < MAX_BATCH && (r = waiting.poll()) != null) {
        batch.add(r);
      }
      if (batch.isEmpty()) {
        sending.set(false);
        // A recording added after the poll and before the flag was cleared found it set.
        if (waiting.isEmpty() || !sending.compareAndSet(false, true)) {
          return;
        }
        continue;
      }
      waitingCount.addAndGet(-batch.size());
      CompletableFuture<Void> answered = sendBatch(batch);
      if (!answered.isDone()) {
        answered.whenComplete((v, t) -> sendWaiting());
        return;
      }
    }
  }

  /** One script call for the batch; completes when every recording in it is completed. */
  private CompletableFuture<Void> sendBatch(List<Recording> batch) {
    if (closed) {
      for (Recording r : batch) {
        r.done.completeExceptionally(closedFailure(r.what()));
      }
      return CompletableFuture.completedFuture(null);
    }
    int keyCount = 0;
    for (Recording r : batch) {
      keyCount += 1 + r.parents.size();
    }
    String[] keys = new String[keyCount];
    String[] args = new String[1 + 5 * batch.size()];
    args[0] = ttlSeconds;
    int k = 0;
    int a = 1;
    for (Recording r : batch) {
      keys[k++] = FORWARD + r.child;
      for (String p : r.parents) {
        keys[k++] = REVERSE + p;
      }
      args[a++] = r.child;
      args[a++] = Integer.toString(r.parents.size());
      args[a++] = r.parentsJson;
      args[a++] = r.timestamp;
      args[a++] = r.metadata;
    }
    CompletableFuture<Void> answered = new CompletableFuture<>();
    CompletableFuture<List<Object>> reply;
    try {
      reply =
          boundedConnection()
              .thenCompose(
                  conn ->
                      script(commands(conn), RECORD_BATCH_SHA, RECORD_BATCH_SCRIPT, keys, args));
    } catch (RuntimeException e) {
      reply = CompletableFuture.failedFuture(e);
    }
    reply.whenComplete(
        (results, t) -> {
          try {
            for (int i = 0; i < batch.size(); i++) {
              Recording r = batch.get(i);
              Object result =
                  t == null && results != null && i < results.size() ? results.get(i) : null;
              if (result instanceof Long) {
                r.done.complete(null);
              } else {
                Throwable cause =
                    t != null
                        ? t
                        : new RedisCommandExecutionException(
                            result == null ? "no answer for this recording" : result.toString());
                r.done.completeExceptionally(wrap(r.what(), cause));
              }
            }
          } finally {
            answered.complete(null);
          }
        });
    return answered;
  }

  /** Fails the recordings still waiting, once closed. */
  private void failWaiting() {
    Recording r;
    while ((r = waiting.poll()) != null) {
      waitingCount.decrementAndGet();
      r.done.completeExceptionally(closedFailure(r.what()));
    }
  }

  /** A JSON list of UUID strings, as Jackson writes it (they need no escaping). */
  static String jsonList(Collection<String> ids) {
    StringBuilder b = new StringBuilder(2 + ids.size() * 39).append('[');
    for (String id : ids) {
      if (b.length() > 1) {
        b.append(',');
      }
      b.append('"').append(id).append('"');
    }
    return b.append(']').toString();
  }

  /** {@link #TIMESTAMP} without a formatter for the years it writes with four digits. */
  static String timestamp(Instant t) {
    LocalDateTime d = LocalDateTime.ofEpochSecond(t.getEpochSecond(), t.getNano(), ZoneOffset.UTC);
    int year = d.getYear();
    if (year < 0 || year > 9999) {
      return TIMESTAMP.format(t);
    }
    char[] out = new char[32];
    digits(out, 0, year, 4);
    out[4] = '-';
    digits(out, 5, d.getMonthValue(), 2);
    out[7] = '-';
    digits(out, 8, d.getDayOfMonth(), 2);
    out[10] = 'T';
    digits(out, 11, d.getHour(), 2);
    out[13] = ':';
    digits(out, 14, d.getMinute(), 2);
    out[16] = ':';
    digits(out, 17, d.getSecond(), 2);
    out[19] = '.';
    digits(out, 20, d.getNano() / 1000, 6);
    out[26] = '+';
    out[27] = '0';
    out[28] = '0';
    out[29] = ':';
    out[30] = '0';
    out[31] = '0';
    return new String(out);
  }

  private static void digits(char[] out, int at, int value, int width) {
    for (int i = at + width - 1; i >= at; i--) {
      out[i] = (char) ('0' + value % 10);
      value /= 10;
    }
  }

  /** Runs a script by its digest, sending its text when Redis does not know it yet. */
  private static CompletableFuture<List<Object>> script(
      RedisClusterAsyncCommands<String, String> r,
      String sha,
      String text,
      String[] keys,
      String[] args) {
    return r.<List<Object>>evalsha(sha, ScriptOutputType.MULTI, keys, args)
        .toCompletableFuture()
        .exceptionallyCompose(
            t ->
                String.valueOf(unwrap(t).getMessage()).startsWith("NOSCRIPT")
                    ? r.<List<Object>>eval(text, ScriptOutputType.MULTI, keys, args)
                        .toCompletableFuture()
                    : CompletableFuture.failedFuture(t));
  }

  /** Runs the record script by its digest, sending its text when Redis does not know it yet. */
  private static CompletableFuture<Long> record(
      RedisClusterAsyncCommands<String, String> r, String[] keys, String[] args) {
    return r.<Long>evalsha(RECORD_SHA, ScriptOutputType.INTEGER, keys, args)
        .toCompletableFuture()
        .exceptionallyCompose(
            t ->
                String.valueOf(unwrap(t).getMessage()).startsWith("NOSCRIPT")
                    ? r.<Long>eval(RECORD_SCRIPT, ScriptOutputType.INTEGER, keys, args)
                        .toCompletableFuture()
                    : CompletableFuture.failedFuture(t));
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
  public CompletableFuture<CorrelationGraph> ancestors(UUID id) {
    return ancestors(id, options.maxDepth());
  }

  @Override
  public CompletableFuture<CorrelationGraph> ancestors(UUID id, int maxDepth) {
    return Traversal.run(
        id, CorrelationGraph.Direction.ANCESTORS, maxDepth, options.maxNodes(), this::fetchParents);
  }

  @Override
  public CompletableFuture<CorrelationGraph> descendants(UUID id) {
    return descendants(id, options.maxDepth());
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

  /**
   * Builds a command for {@link #batch}; the first argument is the key, which routes it in a
   * cluster.
   */
  private static <T> AsyncCommand<String, String, T> command(
      CommandType type, CommandOutput<String, String, T> output, String key, String... fields) {
    CommandArgs<String, String> args = new CommandArgs<>(StringCodec.UTF8).addKey(key);
    for (String f : fields) {
      args.addKey(f);
    }
    return new AsyncCommand<>(new Command<>(type, output, args));
  }

  /**
   * Sends commands as one batch, written to the socket together without waiting for any reply: one
   * round trip, whatever thread this runs on (the asynchronous API would hand each command to the
   * I/O thread separately, which may read replies in between).
   */
  private static void batch(
      StatefulConnection<String, String> conn,
      List<? extends RedisCommand<String, String, ?>> cmds) {
    if (!cmds.isEmpty()) {
      conn.dispatch(cmds);
    }
  }

  /** The parents of a whole level: one HGET each, in one batch; legacy string keys take a GET. */
  private CompletableFuture<Map<UUID, List<UUID>>> fetchParents(List<UUID> level) {
    return withRedis(
        "read parents",
        conn -> {
          List<AsyncCommand<String, String, String>> cmds = new ArrayList<>(level.size());
          for (UUID id : level) {
            cmds.add(
                command(
                    CommandType.HGET,
                    new ValueOutput<>(StringCodec.UTF8),
                    FORWARD + id,
                    "parent_ids"));
          }
          batch(conn, cmds);
          List<CompletableFuture<List<UUID>>> replies = new ArrayList<>(level.size());
          for (int i = 0; i < level.size(); i++) {
            String key = FORWARD + level.get(i);
            replies.add(
                cmds.get(i)
                    .thenApply(this::parseIds)
                    .exceptionallyCompose(
                        t ->
                            isWrongType(t)
                                ? legacy(commands(conn), key).thenApply(ForwardRecord::parents)
                                : CompletableFuture.failedFuture(t)));
          }
          return collect(level, replies);
        });
  }

  /** The children of a whole level: one SMEMBERS each, in one batch. */
  private CompletableFuture<Map<UUID, List<UUID>>> fetchChildren(List<UUID> level) {
    return withRedis(
        "read children",
        conn -> {
          List<AsyncCommand<String, String, Set<String>>> cmds = new ArrayList<>(level.size());
          for (UUID id : level) {
            cmds.add(
                command(
                    CommandType.SMEMBERS, new ValueSetOutput<>(StringCodec.UTF8), REVERSE + id));
          }
          batch(conn, cmds);
          List<CompletableFuture<List<UUID>>> replies = new ArrayList<>(level.size());
          for (AsyncCommand<String, String, Set<String>> c : cmds) {
            replies.add(c.thenApply(this::uuids));
          }
          return collect(level, replies);
        });
  }

  private static <T> CompletableFuture<Map<UUID, T>> collect(
      List<UUID> ids, List<CompletableFuture<T>> replies) {
    return CompletableFuture.allOf(replies.toArray(new CompletableFuture<?>[0]))
        .thenApply(
            v -> {
              Map<UUID, T> out = new HashMap<>();
              for (int i = 0; i < ids.size(); i++) {
                out.put(ids.get(i), replies.get(i).join());
              }
              return out;
            });
  }

  private static boolean isWrongType(Throwable t) {
    return String.valueOf(unwrap(t).getMessage()).startsWith("WRONGTYPE");
  }

  private record ForwardRecord(
      List<UUID> parents, @Nullable Instant at, Map<String, Object> metadata) {}

  private static final ForwardRecord NONE = new ForwardRecord(List.of(), null, Map.of());

  private ForwardRecord fromHash(@Nullable Map<String, String> hash) {
    if (hash == null || hash.isEmpty()) {
      return NONE;
    }
    return new ForwardRecord(
        parseIds(hash.get("parent_ids")),
        parseInstant(hash.get("timestamp")),
        parseMap(hash.get("metadata")));
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
                JsonNode meta = n.path("metadata");
                return new ForwardRecord(
                    ids(n.path("parent_event_ids")),
                    parseInstant(n.path("created_at").asText(null)),
                    meta.isObject() ? json.convertValue(meta, MAP) : Map.of());
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
      return ids(json.readTree(jsonList));
    } catch (JsonProcessingException e) {
      return List.of();
    }
  }

  /** The UUIDs of a JSON list, in order, without duplicates; other entries are skipped. */
  private static List<UUID> ids(JsonNode list) {
    Set<UUID> out = new LinkedHashSet<>();
    if (list.isArray()) {
      for (JsonNode e : list) {
        UUID id = uuid(e.asText());
        if (id != null) {
          out.add(id);
        }
      }
    }
    return List.copyOf(out);
  }

  private static @Nullable UUID uuid(String s) {
    try {
      return UUID.fromString(s);
    } catch (IllegalArgumentException notAnEventOfThisBus) {
      return null;
    }
  }

  /** Set members as UUIDs, sorted by their text so results do not depend on Redis's order. */
  private List<UUID> uuids(@Nullable Collection<String> members) {
    if (members == null || members.isEmpty()) {
      return List.of();
    }
    List<String> sorted = new ArrayList<>(members);
    sorted.sort(null);
    List<UUID> out = new ArrayList<>(sorted.size());
    for (String s : sorted) {
      UUID id = uuid(s);
      if (id != null) {
        out.add(id);
      }
    }
    return out;
  }

  /** ISO-8601 with Z or an offset; without a zone (Python's {@code utcnow()}) it is UTC. */
  static @Nullable Instant parseInstant(@Nullable String s) {
    if (s == null || s.isBlank()) {
      return null;
    }
    try {
      return Instant.parse(s);
    } catch (RuntimeException e) {
      try {
        return LocalDateTime.parse(s).toInstant(ZoneOffset.UTC);
      } catch (RuntimeException notIsoEither) {
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

  @Override
  public CompletableFuture<DebugDump> debugDump(UUID id) {
    return nodeInfos(List.of(id))
        .thenCompose(
            first -> {
              DebugDump.NodeInfo node = first.get(0);
              List<UUID> parents = cap(node.parentIds());
              List<UUID> children = new ArrayList<>(node.childIds());
              children.sort(null);
              children = cap(children);
              List<UUID> around = new ArrayList<>(parents);
              around.addAll(children);
              int split = parents.size();
              return nodeInfos(around)
                  .thenApply(
                      infos ->
                          new DebugDump(
                              node, infos.subList(0, split), infos.subList(split, infos.size())));
            });
  }

  private List<UUID> cap(List<UUID> ids) {
    return ids.size() <= options.maxNodes() ? ids : ids.subList(0, options.maxNodes());
  }

  /**
   * For each event: HGETALL and PTTL of its forward key, SMEMBERS of its reverse key; one batch.
   */
  private CompletableFuture<List<DebugDump.NodeInfo>> nodeInfos(List<UUID> ids) {
    if (ids.isEmpty()) {
      return CompletableFuture.completedFuture(List.of());
    }
    return withRedis(
        "read the links of " + ids.get(0),
        conn -> {
          List<RedisCommand<String, String, ?>> cmds = new ArrayList<>(ids.size() * 3);
          List<CompletableFuture<DebugDump.NodeInfo>> infos = new ArrayList<>(ids.size());
          for (UUID id : ids) {
            String key = FORWARD + id;
            AsyncCommand<String, String, Map<String, String>> hash =
                command(CommandType.HGETALL, new MapOutput<>(StringCodec.UTF8), key);
            AsyncCommand<String, String, Long> ttl =
                command(CommandType.PTTL, new IntegerOutput<>(StringCodec.UTF8), key);
            AsyncCommand<String, String, Set<String>> members =
                command(CommandType.SMEMBERS, new ValueSetOutput<>(StringCodec.UTF8), REVERSE + id);
            cmds.add(hash);
            cmds.add(ttl);
            cmds.add(members);
            CompletableFuture<ForwardRecord> forward =
                hash.thenApply(this::fromHash)
                    .exceptionallyCompose(
                        t ->
                            isWrongType(t)
                                ? legacy(commands(conn), key)
                                : CompletableFuture.failedFuture(t));
            CompletableFuture<List<UUID>> children = members.thenApply(this::uuids);
            infos.add(
                CompletableFuture.allOf(forward, ttl, children)
                    .thenApply(
                        v -> {
                          ForwardRecord f = forward.join();
                          Long ms = ttl.join();
                          return new DebugDump.NodeInfo(
                              id,
                              f.parents(),
                              new LinkedHashSet<>(children.join()),
                              f.at(),
                              f.metadata(),
                              f != NONE && ms != null && ms >= 0 ? Duration.ofMillis(ms) : null);
                        }));
          }
          batch(conn, cmds);
          return CompletableFuture.allOf(infos.toArray(new CompletableFuture<?>[0]))
              .thenApply(v -> infos.stream().map(CompletableFuture::join).toList());
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
    failWaiting();
    // Shutting the client down closes its connections and its threads.
    client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
  }

  @Override
  public String toString() {
    return "RedisCorrelationTracker{" + options + "}";
  }
}
