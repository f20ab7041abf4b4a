package dev.bloodbank.correlation;

import io.lettuce.core.RedisURI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Where the causation graph lives in Redis, how long links live, and how the tracker behaves during
 * an outage.
 *
 * <p>The URI takes the forms Lettuce accepts: {@code redis://[[user]:password@]host[:port][/db]},
 * {@code rediss://} for TLS, {@code redis-sentinel://[:password@]host:26379,host2:26379/db#master}
 * for Sentinel. With {@link Builder#cluster(boolean)} the URI is a Redis Cluster seed list: {@code
 * redis://:pw@node1:7000,redis://node2:7001}, where a seed without a scheme ({@code
 * redis://:pw@node1:7000,node2:7001}) borrows the first seed's scheme and credentials.
 *
 * <p>Immutable and thread-safe. The password never appears in {@link #toString()} nor in the
 * messages of the exceptions this class throws.
 */
public final class RedisTrackerOptions {
  /** Default URI: {@value}. */
  public static final String DEFAULT_URI = "redis://127.0.0.1:6379/0";

  /**
   * Default client name, shown by {@code CLIENT LIST} so operators can tell the tracker's
   * connections apart: {@value}.
   */
  public static final String DEFAULT_CLIENT_NAME = "bloodbank-correlation";

  /** Default time to live of every key written: 30 days, refreshed on each write. */
  public static final Duration DEFAULT_TTL = Duration.ofDays(30);

  /** Default timeout of one Redis command, and the longest a caller waits for a connection: 1 s. */
  public static final Duration DEFAULT_COMMAND_TIMEOUT = Duration.ofSeconds(1);

  /** Default bound of Lettuce's request queue: 8,192 commands. */
  public static final int DEFAULT_REQUEST_QUEUE_SIZE = 8192;

  /** Default maximum number of events one traversal returns, the start included: 10,000. */
  public static final int DEFAULT_MAX_NODES = 10_000;

  /**
   * Default depth of traversals that do not name one: {@value
   * CorrelationTracker#DEFAULT_MAX_DEPTH}.
   */
  public static final int DEFAULT_MAX_DEPTH = CorrelationTracker.DEFAULT_MAX_DEPTH;

  /**
   * Default maximum recordings in flight before new ones are dropped and counted: 5,000, half a
   * second of links at 10,000 events/s (a few MB), so a short stall of Redis or of the machine
   * loses nothing; below the default request queue size, which bounds the same recordings.
   */
  public static final int DEFAULT_MAX_PENDING_RECORDINGS = 5000;

  private static final Duration MAX_TTL = Duration.ofDays(3650);
  private static final Duration MAX_COMMAND_TIMEOUT = Duration.ofMinutes(1);
  // A new seed or URI starts where a comma is followed by a scheme; commas elsewhere belong to a
  // Sentinel host list or, in theory, to a password.
  private static final Pattern URI_SEPARATOR = Pattern.compile(",(?=[A-Za-z][A-Za-z0-9+.-]*://)");

  private final String uri;
  private final boolean cluster;
  private final String clientName;
  private final Duration ttl;
  private final Duration commandTimeout;
  private final int requestQueueSize;
  private final int maxNodes;
  private final int maxDepth;
  private final int maxPendingRecordings;

  private RedisTrackerOptions(Builder b) {
    this.uri = b.uri;
    this.cluster = b.cluster;
    this.clientName = b.clientName;
    this.ttl = b.ttl;
    this.commandTimeout = b.commandTimeout;
    this.requestQueueSize = b.requestQueueSize;
    this.maxNodes = b.maxNodes;
    this.maxDepth = b.maxDepth;
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
   * Returns the defaults: Redis at {@value #DEFAULT_URI}, 30-day TTL.
   *
   * @return the options
   */
  public static RedisTrackerOptions defaults() {
    return builder().build();
  }

  /**
   * Returns a builder holding these options, to change some of them.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.uri = uri;
    b.cluster = cluster;
    b.clientName = clientName;
    b.ttl = ttl;
    b.commandTimeout = commandTimeout;
    b.requestQueueSize = requestQueueSize;
    b.maxNodes = maxNodes;
    b.maxDepth = maxDepth;
    b.maxPendingRecordings = maxPendingRecordings;
    return b;
  }

  /**
   * Reads the process environment; see {@link #fromEnvironment(Map)}.
   *
   * @return the options
   * @throws IllegalArgumentException naming the variable with a malformed value
   */
  public static RedisTrackerOptions fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Reads the variables the Python services use. Unset or blank variables keep the defaults.
   *
   * <ul>
   *   <li>{@code REDIS_URL}: the whole URI (see the class description); when set, the variables of
   *       the next item are ignored.
   *   <li>{@code REDIS_HOST} (default {@code 127.0.0.1}), {@code REDIS_PORT} (default 6379), {@code
   *       REDIS_DB} (default 0), {@code REDIS_PASSWORD} and {@code REDIS_USERNAME} (for Redis 6
   *       ACLs): the parts of a {@code redis://} URI.
   *   <li>{@code REDIS_CLUSTER}: {@code true} when the URI is a Redis Cluster.
   *   <li>{@code CORRELATION_TTL_DAYS}: the time to live in days, 1 to 3650.
   * </ul>
   *
   * @param env the variables
   * @return the options
   * @throws IllegalArgumentException naming the variable with a malformed value
   */
  public static RedisTrackerOptions fromEnvironment(Map<String, String> env) {
    Builder b = builder();
    String url = nonBlank(env, "REDIS_URL");
    if (url != null) {
      try {
        b.uri(url.trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("REDIS_URL: " + e.getMessage());
      }
    } else {
      String host = Objects.requireNonNullElse(nonBlank(env, "REDIS_HOST"), "127.0.0.1").trim();
      if (host.contains(":") && !host.startsWith("[")) {
        host = "[" + host + "]";
      }
      int port = intVar(env, "REDIS_PORT", 6379, 1, 65535);
      int db = intVar(env, "REDIS_DB", 0, 0, 1_000_000);
      String user = nonBlank(env, "REDIS_USERNAME");
      String password = env.get("REDIS_PASSWORD");
      String auth = "";
      if (password != null && !password.isEmpty()) {
        auth = (user == null ? "" : encode(user.trim())) + ":" + encode(password) + "@";
      }
      b.uri("redis://" + auth + host + ":" + port + "/" + db);
    }
    if (nonBlank(env, "CORRELATION_TTL_DAYS") != null) {
      b.ttl(Duration.ofDays(intVar(env, "CORRELATION_TTL_DAYS", 30, 1, 3650)));
    }
    String cluster = nonBlank(env, "REDIS_CLUSTER");
    if (cluster != null) {
      String c = cluster.trim().toLowerCase(Locale.ROOT);
      if (!c.equals("true") && !c.equals("false")) {
        throw new IllegalArgumentException(
            "REDIS_CLUSTER must be true or false, was '" + escape(cluster) + "'");
      }
      b.cluster(c.equals("true"));
    }
    try {
      return b.build();
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(
          (url != null ? "REDIS_URL: " : "REDIS_HOST/REDIS_PORT/REDIS_DB: ") + e.getMessage());
    }
  }

  private static String encode(String s) {
    // URLEncoder writes a space as '+', which URI decoding keeps as '+'.
    return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20");
  }

  private static @Nullable String nonBlank(Map<String, String> env, String name) {
    String v = env.get(name);
    return v == null || v.isBlank() ? null : v;
  }

  private static int intVar(Map<String, String> env, String name, int dflt, int min, int max) {
    String v = nonBlank(env, name);
    if (v == null) {
      return dflt;
    }
    int n;
    try {
      n = Integer.parseInt(v.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          name
              + " must be a whole number between "
              + min
              + " and "
              + max
              + ", was '"
              + escape(v)
              + "'",
          e);
    }
    if (n < min || n > max) {
      throw new IllegalArgumentException(
          name + " must be between " + min + " and " + max + ", was " + n);
    }
    return n;
  }

  /**
   * Returns the Redis URI as given. It may hold a password: never log it; use {@link #toString()}.
   *
   * @return the URI
   */
  public String uri() {
    return uri;
  }

  /**
   * Returns whether the URI is a Redis Cluster seed list.
   *
   * @return true for cluster mode; default false
   */
  public boolean cluster() {
    return cluster;
  }

  /**
   * Returns the client name the tracker's connections carry ({@code CLIENT SETNAME}).
   *
   * @return the name; default {@value #DEFAULT_CLIENT_NAME}
   */
  public String clientName() {
    return clientName;
  }

  /**
   * Returns the time to live of every key written, refreshed on each write.
   *
   * @return the TTL; default 30 days
   */
  public Duration ttl() {
    return ttl;
  }

  /**
   * Returns the timeout of one command; also the longest a call waits for a connection.
   *
   * @return the timeout; default 1 s
   */
  public Duration commandTimeout() {
    return commandTimeout;
  }

  /**
   * Returns the bound of the client's request queue, in commands.
   *
   * @return commands; default 8,192
   */
  public int requestQueueSize() {
    return requestQueueSize;
  }

  /**
   * Returns the maximum number of events one traversal returns, the start included.
   *
   * @return events; default 10,000
   */
  public int maxNodes() {
    return maxNodes;
  }

  /**
   * Returns the depth of {@link CorrelationTracker#ancestors(java.util.UUID)} and {@link
   * CorrelationTracker#descendants(java.util.UUID)}.
   *
   * @return levels; default {@value CorrelationTracker#DEFAULT_MAX_DEPTH}
   */
  public int maxDepth() {
    return maxDepth;
  }

  /**
   * Returns how many recordings from publishers may be in flight before new ones are dropped.
   *
   * @return recordings; default 1,000
   */
  public int maxPendingRecordings() {
    return maxPendingRecordings;
  }

  /**
   * Returns the Lettuce URIs these options name: the one server (or Sentinel set), or the cluster
   * seeds, each with the command timeout and client name set. For code that opens its own Lettuce
   * connection to the same Redis, like {@link dev.bloodbank.command.ProcessedCommands#redis}.
   *
   * @return one URI, or one per seed in cluster mode
   * @since 0.2.0
   */
  public List<RedisURI> redisUris() {
    List<RedisURI> out = new ArrayList<>();
    for (String s : cluster ? seeds(uri) : List.of(uri)) {
      RedisURI r = parse(s);
      r.setTimeout(commandTimeout);
      r.setClientName(clientName);
      out.add(r);
    }
    return out;
  }

  private static List<String> seeds(String uri) {
    String[] parts = URI_SEPARATOR.split(uri);
    if (parts.length > 1) {
      return List.of(parts);
    }
    // "redis://:pw@a:7000,b:7001": the seeds after the first borrow its scheme and credentials.
    int hostsAt = hostsStart(uri);
    List<String> out = new ArrayList<>();
    for (String h : uri.substring(hostsAt).split(",")) {
      out.add(uri.substring(0, hostsAt) + h.trim());
    }
    return out;
  }

  /** Where the host list starts: after the scheme and the user-info, if any. */
  private static int hostsStart(String uri) {
    int scheme = uri.indexOf("://") + 3;
    int at = uri.lastIndexOf('@');
    return at >= scheme ? at + 1 : scheme;
  }

  /** Parses with Lettuce; the message never shows the password and the cause is not kept. */
  private static RedisURI parse(String s) {
    try {
      return RedisURI.create(s);
    } catch (RuntimeException e) {
      // Lettuce's and java.net.URI's messages may quote the input, password included, so the
      // exception may not travel as a cause: only a masked copy of its message does.
      String why = String.valueOf(e.getMessage()).replace(s, redact(s));
      int userInfo = s.indexOf("://") + 3;
      int hosts = hostsStart(s);
      if (hosts - 1 > userInfo) {
        why = why.replace(s.substring(userInfo, hosts - 1), "****");
      }
      throw new IllegalArgumentException(
          "malformed Redis URI '" + escape(redact(s)) + "': " + escape(why));
    }
  }

  /** Describes the options with the password masked. */
  @Override
  public String toString() {
    return "RedisTrackerOptions{uri="
        + redact(uri)
        + ", cluster="
        + cluster
        + ", clientName="
        + clientName
        + ", ttl="
        + ttl
        + ", commandTimeout="
        + commandTimeout
        + ", requestQueueSize="
        + requestQueueSize
        + ", maxNodes="
        + maxNodes
        + ", maxDepth="
        + maxDepth
        + ", maxPendingRecordings="
        + maxPendingRecordings
        + "}";
  }

  /**
   * Masks the credentials of a Redis URI or seed list: {@code redis://user:pw@h} becomes {@code
   * redis://user:****@h}, {@code redis://:pw@h} becomes {@code redis://:****@h}, and {@code
   * redis://pw@h} (Lettuce reads a lone user-info as the password) becomes {@code redis://****@h}.
   */
  static String redact(String uri) {
    StringBuilder out = new StringBuilder(uri.length());
    String[] parts = URI_SEPARATOR.split(uri, -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        out.append(',');
      }
      out.append(redactOne(parts[i]));
    }
    return out.toString();
  }

  private static String redactOne(String uri) {
    // Everything up to the last '@' is user-info: passwords may hold '/', '@' or ','.
    int scheme = uri.indexOf("://");
    int start = scheme < 0 ? 0 : scheme + 3;
    int at = uri.lastIndexOf('@');
    if (at < start) {
      return uri;
    }
    int colon = uri.indexOf(':', start);
    return colon >= 0 && colon < at
        ? uri.substring(0, colon + 1) + "****" + uri.substring(at)
        : uri.substring(0, start) + "****" + uri.substring(at);
  }

  /** Escapes control characters so a value stays on one log line; cuts it at 200 characters. */
  static String escape(String s) {
    return escape(s, 200);
  }

  /** Escapes control characters so a value stays on one log line; cuts it at {@code max}. */
  static String escape(String s, int max) {
    StringBuilder b = new StringBuilder(Math.min(s.length(), max) + 16);
    for (int i = 0; i < s.length() && i < max; i++) {
      char c = s.charAt(i);
      if (c == '\n') {
        b.append("\\n");
      } else if (c == '\r') {
        b.append("\\r");
      } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029') {
        b.append(String.format("\\u%04x", (int) c));
      } else {
        b.append(c);
      }
    }
    if (s.length() > max) {
      b.append("...(").append(s.length()).append(" chars)");
    }
    return b.toString();
  }

  /** Builds {@link RedisTrackerOptions}. Not thread-safe. */
  public static final class Builder {
    private String uri = DEFAULT_URI;
    private boolean cluster;
    private String clientName = DEFAULT_CLIENT_NAME;
    private Duration ttl = DEFAULT_TTL;
    private Duration commandTimeout = DEFAULT_COMMAND_TIMEOUT;
    private int requestQueueSize = DEFAULT_REQUEST_QUEUE_SIZE;
    private int maxNodes = DEFAULT_MAX_NODES;
    private int maxDepth = DEFAULT_MAX_DEPTH;
    private int maxPendingRecordings = DEFAULT_MAX_PENDING_RECORDINGS;

    private Builder() {}

    /**
     * Sets the Redis URI; {@link #build()} checks that Lettuce can parse it. Default: {@value
     * RedisTrackerOptions#DEFAULT_URI}.
     *
     * @param uri a {@code redis://}, {@code rediss://}, {@code redis-sentinel://} or {@code
     *     redis-socket://} URI, or with {@link #cluster(boolean)} a comma-separated seed list
     * @return this builder
     * @throws IllegalArgumentException when the scheme is none of these; the message masks the
     *     password
     */
    public Builder uri(String uri) {
      Objects.requireNonNull(uri, "uri");
      int i = uri.indexOf("://");
      String scheme = i < 0 ? "" : uri.substring(0, i).toLowerCase(Locale.ROOT);
      switch (scheme) {
        case "redis", "rediss", "redis-sentinel", "rediss-sentinel", "redis-socket" -> {}
        default ->
            throw new IllegalArgumentException(
                "Redis URI '"
                    + escape(redact(uri))
                    + "' must start with redis://, rediss://, redis-sentinel:// or"
                    + " redis-socket://");
      }
      this.uri = uri.trim();
      return this;
    }

    /**
     * Treats the URI as a Redis Cluster seed list and connects with Lettuce's cluster client.
     * Default: off.
     *
     * @param cluster true for Redis Cluster
     * @return this builder
     */
    public Builder cluster(boolean cluster) {
      this.cluster = cluster;
      return this;
    }

    /**
     * Sets the name the tracker's connections carry, seen in {@code CLIENT LIST}. Default: {@value
     * RedisTrackerOptions#DEFAULT_CLIENT_NAME}.
     *
     * @param name 1 to 64 characters from {@code A-Z a-z 0-9 . _ : -}
     * @return this builder
     */
    public Builder clientName(String name) {
      Objects.requireNonNull(name, "name");
      if (!name.matches("[A-Za-z0-9._:-]{1,64}")) {
        throw new IllegalArgumentException(
            "clientName must be 1 to 64 characters from A-Z a-z 0-9 . _ : -, was '"
                + escape(name)
                + "'");
      }
      this.clientName = name;
      return this;
    }

    /**
     * Sets the time to live of every key written, refreshed on each write. Default: 30 days.
     *
     * @param ttl 1 s to 3650 days, whole seconds (a fraction of a second is dropped)
     * @return this builder
     */
    public Builder ttl(Duration ttl) {
      Objects.requireNonNull(ttl, "ttl");
      if (ttl.getSeconds() < 1 || ttl.compareTo(MAX_TTL) > 0) {
        throw new IllegalArgumentException("ttl must be between 1 s and 3650 days, was " + ttl);
      }
      this.ttl = Duration.ofSeconds(ttl.getSeconds());
      return this;
    }

    /**
     * Sets the timeout of one command, which is also the longest a call waits for a connection.
     * Every future the tracker returns completes within about this time per round trip. Default: 1
     * s.
     *
     * @param timeout 1 ms to 1 min
     * @return this builder
     */
    public Builder commandTimeout(Duration timeout) {
      Objects.requireNonNull(timeout, "timeout");
      if (timeout.toMillis() < 1 || timeout.compareTo(MAX_COMMAND_TIMEOUT) > 0) {
        throw new IllegalArgumentException(
            "commandTimeout must be between 1 ms and 1 min, was " + timeout);
      }
      this.commandTimeout = timeout;
      return this;
    }

    /**
     * Sets the bound of the client's request queue (Lettuce's {@code requestQueueSize}), so an
     * outage cannot grow the heap: beyond it commands fail at once. Default: 8,192.
     *
     * @param size 16 to 1,000,000 commands
     * @return this builder
     */
    public Builder requestQueueSize(int size) {
      this.requestQueueSize = range("requestQueueSize", size, 16, 1_000_000);
      return this;
    }

    /**
     * Sets the maximum number of events one traversal returns, the start included; a traversal that
     * reaches it stops and reports {@link CorrelationGraph.Limit#NODES}. Default: 10,000.
     *
     * @param nodes 1 to 1,000,000
     * @return this builder
     */
    public Builder maxNodes(int nodes) {
      this.maxNodes = range("maxNodes", nodes, 1, 1_000_000);
      return this;
    }

    /**
     * Sets the depth of traversals that do not name one. Default: {@value
     * CorrelationTracker#DEFAULT_MAX_DEPTH}.
     *
     * @param depth 1 to 10,000 levels
     * @return this builder
     */
    public Builder maxDepth(int depth) {
      this.maxDepth = range("maxDepth", depth, 1, 10_000);
      return this;
    }

    /**
     * Sets how many recordings from publishers may be in flight; beyond it they are dropped and
     * counted. Default: {@value #DEFAULT_MAX_PENDING_RECORDINGS}.
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
     * Builds the options, checking that Lettuce can parse the URI (every seed in cluster mode) and
     * that a Sentinel URI is not used in cluster mode.
     *
     * @return the options
     * @throws IllegalArgumentException naming the fault; the message masks the password
     */
    public RedisTrackerOptions build() {
      String scheme = uri.substring(0, uri.indexOf("://")).toLowerCase(Locale.ROOT);
      boolean sentinel = scheme.endsWith("-sentinel");
      if (cluster && (sentinel || scheme.equals("redis-socket"))) {
        throw new IllegalArgumentException(
            "cluster mode needs redis:// or rediss:// seeds, was '" + escape(redact(uri)) + "'");
      }
      if (!cluster
          && !sentinel
          && (URI_SEPARATOR.split(uri).length > 1
              || uri.substring(hostsStart(uri)).contains(","))) {
        throw new IllegalArgumentException(
            "several Redis URIs need cluster(true) (REDIS_CLUSTER=true), was '"
                + escape(redact(uri))
                + "'");
      }
      RedisTrackerOptions o = new RedisTrackerOptions(this);
      o.redisUris();
      return o;
    }
  }
}
