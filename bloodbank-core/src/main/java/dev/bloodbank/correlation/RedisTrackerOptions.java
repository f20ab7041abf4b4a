package dev.bloodbank.correlation;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Where the causation graph lives in Redis and how the tracker behaves during an outage.
 *
 * <p>The URI takes every form Lettuce accepts: {@code redis://[:password@]host[:port][/db]}, {@code
 * rediss://} for TLS, {@code redis-sentinel://host:26379,host2:26379/db#master} for Sentinel; with
 * {@link Builder#cluster(boolean)} the URI (comma-separated seeds allowed) is a Redis Cluster.
 * Immutable and thread-safe; the password never appears in {@link #toString()}.
 */
public final class RedisTrackerOptions {
  /** Default URI: {@value}. */
  public static final String DEFAULT_URI = "redis://127.0.0.1:6379/0";

  /** Default time to live of every key: 30 days, refreshed on each write. */
  public static final Duration DEFAULT_TTL = Duration.ofDays(30);

  /** Default timeout of one Redis command: 1 s. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);

  /** Default bound of Lettuce's request queue: 8,192 commands. */
  public static final int DEFAULT_REQUEST_QUEUE_SIZE = 8192;

  /** Default maximum number of events a traversal visits: 10,000. */
  public static final int DEFAULT_MAX_NODES = 10_000;

  /** Default maximum recordings in flight before new ones are dropped and counted: 1,000. */
  public static final int DEFAULT_MAX_PENDING_RECORDINGS = 1000;

  private final String uri;
  private final boolean cluster;
  private final Duration ttl;
  private final Duration commandTimeout;
  private final int requestQueueSize;
  private final int maxNodes;
  private final int maxPendingRecordings;

  private RedisTrackerOptions(Builder b) {
    this.uri = b.uri;
    this.cluster = b.cluster;
    this.ttl = b.ttl;
    this.commandTimeout = b.commandTimeout;
    this.requestQueueSize = b.requestQueueSize;
    this.maxNodes = b.maxNodes;
    this.maxPendingRecordings = b.maxPendingRecordings;
  }

  /**
   * Returns a builder with the defaults.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the defaults: local Redis, 30-day TTL.
   *
   * @return the options
   */
  public static RedisTrackerOptions defaults() {
    return builder().build();
  }

  /**
   * Reads the process environment; see {@link #fromEnvironment(Map)}.
   *
   * @return the options
   */
  public static RedisTrackerOptions fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Reads {@code REDIS_URL}, or else {@code REDIS_HOST}, {@code REDIS_PORT}, {@code REDIS_PASSWORD}
   * and {@code REDIS_DB}; and {@code CORRELATION_TTL_DAYS} and {@code REDIS_CLUSTER} ({@code true}
   * for Redis Cluster).
   *
   * @param env the variables
   * @return the options
   * @throws IllegalArgumentException naming the variable with a malformed value
   */
  public static RedisTrackerOptions fromEnvironment(Map<String, String> env) {
    Builder b = builder();
    String url = env.get("REDIS_URL");
    if (url != null && !url.isBlank()) {
      b.uri(url.trim());
    } else {
      String host = env.getOrDefault("REDIS_HOST", "127.0.0.1").trim();
      int port = intVar(env, "REDIS_PORT", 6379, 1, 65535);
      int db = intVar(env, "REDIS_DB", 0, 0, 1_000_000);
      String password = env.get("REDIS_PASSWORD");
      String auth =
          password == null || password.isEmpty()
              ? ""
              : ":" + URLEncoder.encode(password, StandardCharsets.UTF_8) + "@";
      b.uri("redis://" + auth + host + ":" + port + "/" + db);
    }
    String days = env.get("CORRELATION_TTL_DAYS");
    if (days != null && !days.isBlank()) {
      b.ttl(Duration.ofDays(intVar(env, "CORRELATION_TTL_DAYS", 30, 1, 3650)));
    }
    String cluster = env.get("REDIS_CLUSTER");
    if (cluster != null) {
      b.cluster(Boolean.parseBoolean(cluster.trim()));
    }
    return b.build();
  }

  private static int intVar(Map<String, String> env, String name, int dflt, int min, int max) {
    String v = env.get(name);
    if (v == null || v.isBlank()) {
      return dflt;
    }
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min || n > max) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + max + ", was " + n);
      }
      return n;
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(name + " must be a whole number, was '" + v + "'", e);
    }
  }

  /**
   * Returns the Redis URI. It may hold a password: never log it; use {@link #toString()}.
   *
   * @return the URI
   */
  public String uri() {
    return uri;
  }

  /**
   * Returns whether the URI is a Redis Cluster.
   *
   * @return true for cluster mode
   */
  public boolean cluster() {
    return cluster;
  }

  /**
   * Returns the time to live of every key written.
   *
   * @return the TTL
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * Returns the timeout of one command.
   *
   * @return the timeout
   */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /**
   * Returns the bound of the client's request queue.
   *
   * @return commands
   */
  public int requestQueueSize() {
    return requestQueueSize;
  }

  /**
   * Returns the maximum number of events one traversal visits.
   *
   * @return nodes
   */
  public int maxNodes() {
    return maxNodes;
  }

  /**
   * Returns how many recordings from publishers may be in flight before new ones are dropped.
   *
   * @return recordings
   */
  public int maxPendingRecordings() {
    return maxPendingRecordings;
  }

  /** Describes the options with the password masked. */
  @Override
  public String toString() {
    return "RedisTrackerOptions{uri="
        + redact(uri)
        + ", cluster="
        + cluster
        + ", ttl="
        + ttl
        + ", commandTimeout="
        + commandTimeout
        + ", requestQueueSize="
        + requestQueueSize
        + "}";
  }

  /** Masks the password of a Redis URI. */
  static String redact(String uri) {
    // Everything between the first ':' of the user info and the last '@' (passwords may hold '/').
    int scheme = uri.indexOf("://");
    int at = uri.lastIndexOf('@');
    if (scheme < 0 || at <= scheme) {
      return uri;
    }
    int colon = uri.indexOf(':', scheme + 3);
    return colon >= 0 && colon < at
        ? uri.substring(0, colon + 1) + "****" + uri.substring(at)
        : uri.substring(0, scheme + 3) + "****" + uri.substring(at);
  }

  /** Builds {@link RedisTrackerOptions}. Not thread-safe. */
  public static final class Builder {
    private String uri = DEFAULT_URI;
    private boolean cluster;
    private Duration ttl = DEFAULT_TTL;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private int requestQueueSize = DEFAULT_REQUEST_QUEUE_SIZE;
    private int maxNodes = DEFAULT_MAX_NODES;
    private int maxPendingRecordings = DEFAULT_MAX_PENDING_RECORDINGS;

    private Builder() {}

    /**
     * Sets the Redis URI. Default: {@value RedisTrackerOptions#DEFAULT_URI}.
     *
     * @param uri a {@code redis://}, {@code rediss://} or {@code redis-sentinel://} URI
     * @return this builder
     */
    public Builder uri(String uri) {
      Objects.requireNonNull(uri, "uri");
      String scheme = uri.contains("://") ? uri.substring(0, uri.indexOf("://")) : "";
      switch (scheme.toLowerCase(Locale.ROOT)) {
        case "redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-socket" -> {}
        default ->
            throw new IllegalArgumentException(
                "Redis URI '"
                    + redact(uri)
                    + "' must start with redis://, rediss://, redis-sentinel:// or redis-socket://");
      }
      this.uri = uri;
      return this;
    }

    /**
     * Treats the URI as a Redis Cluster. Default: off.
     *
     * @param cluster true for Redis Cluster
     * @return this builder
     */
    public Builder cluster(boolean cluster) {
      this.cluster = cluster;
      return this;
    }

    /**
     * Sets the time to live of every key written. Default: 30 days.
     *
     * @param ttl 1 s to 10 years
     * @return this builder
     */
    public Builder ttl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.getSeconds() < 1 || ttl.compareTo(Duration.ofDays(3650)) > 0) {
        throw new IllegalArgumentException("ttl must be between 1 s and 3650 days, was " + ttl);
      }
      this.ttl = ttl;
      return this;
    }

    /**
     * Sets the timeout of one command. Default: 1 s.
     *
     * @param timeout 1 ms to 1 min
     * @return this builder
     */
    public Builder commandTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 1 || timeout.compareTo(Duration.ofMinutes(1)) > 0) {
        throw new IllegalArgumentException(
            "commandTimeout must be between 1 ms and 1 min, was " + timeout);
      }
      this.commandTimeout = timeout;
      return this;
    }

    /**
     * Sets the bound of the client's request queue, so an outage cannot grow the heap. Default:
     * 8,192.
     *
     * @param size 16 to 1,000,000
     * @return this builder
     */
    public Builder requestQueueSize(int size) {
      this.requestQueueSize = range("requestQueueSize", size, 16, 1_000_000);
      return this;
    }

    /**
     * Sets the maximum number of events one traversal visits. Default: 10,000.
     *
     * @param nodes 1 to 1,000,000
     * @return this builder
     */
    public Builder maxNodes(int nodes) {
      this.maxNodes = range("maxNodes", nodes, 1, 1_000_000);
      return this;
    }

    /**
     * Sets how many recordings from publishers may be in flight; beyond it they are dropped and
     * counted. Default: 1,000.
     *
     * @param recordings 1 to 1,000,000
     * @return this builder
     */
    public Builder maxPendingRecordings(int recordings) {
      this.maxPendingRecordings = range("maxPendingRecordings", recordings, 1, 1_000_000);
      return this;
    }

    private static int range(String name, int v, int min, int max) {
      if (v < min || v > max) {
        throw new IllegalArgumentException(
            name + " must be between " + min + " and " + max + ", was " + v);
      }
      return v;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public RedisTrackerOptions build() {
      return new RedisTrackerOptions(this);
    }
  }
}
