package dev.bloodbank;

import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.validation.ValidationMode;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executor;
import javax.net.ssl.SSLContext;
import org.jspecify.annotations.Nullable;

/**
 * How to reach the broker and which exchange the bus uses.
 *
 * <p>Immutable and thread-safe. Build with {@link #builder()}, read the environment with {@link
 * #fromEnvironment()}, or change a copy with {@link #mutate()}. The password never appears in
 * {@link #toString()}, logs or exception messages.
 */
public final class BloodbankOptions {
  /** Default exchange: {@value}, a durable topic exchange. */
  public static final String DEFAULT_EXCHANGE = "bloodbank.events.v1";

  /** Default broker host: {@value}. */
  public static final String DEFAULT_HOST = "localhost";

  /** Default AMQP port: {@value}. */
  public static final int DEFAULT_PORT = 5672;

  /** Default AMQPS (TLS) port: {@value}. */
  public static final int DEFAULT_TLS_PORT = 5671;

  /** Default user and password: {@value}. */
  public static final String DEFAULT_USERNAME = "guest";

  /** Default service name, used in queue names and as the source app: {@value}. */
  public static final String DEFAULT_SERVICE_NAME = "bloodbank-java";

  /** Default heartbeat: 20 s; a dead peer is detected within two heartbeats. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(20);

  /** Default TCP connect and AMQP handshake timeout: 10 s. */
  public static final Duration DEFAULT_CONNECTION_TIMEOUT = Duration.ofSeconds(10);

  /** Default pause between automatic recovery attempts: 2 s. */
  public static final Duration DEFAULT_RECOVERY_INTERVAL = Duration.ofSeconds(2);

  /**
   * Default bound on {@link Bloodbank#close()}: 30 s, after which whatever still runs is released
   * by force.
   */
  public static final Duration DEFAULT_SHUTDOWN_TIMEOUT = Duration.ofSeconds(30);

  private final List<Address> addresses;
  private final String virtualHost;
  private final String username;
  private final String password;
  private final boolean tls;
  private final @Nullable SSLContext sslContext;
  private final boolean hostnameVerification;
  private final String exchange;
  private final String serviceName;
  private final @Nullable String environment;
  private final Duration heartbeat;
  private final Duration connectionTimeout;
  private final Duration recoveryInterval;
  private final boolean lazyConnect;
  private final Duration shutdownTimeout;
  private final @Nullable Executor callbackExecutor;
  private final DecodeLimits decodeLimits;
  private final ValidationMode validation;
  private final @Nullable RedisTrackerOptions correlation;
  private final @Nullable CorrelationTracker correlationTracker;
  private final Transport transport;
  private final @Nullable BloodbankObservability observability;
  private final boolean logContext;

  private BloodbankOptions(Builder b) {
    this.addresses =
        b.addresses.isEmpty()
            ? List.of(new Address(DEFAULT_HOST, b.tls ? DEFAULT_TLS_PORT : DEFAULT_PORT))
            : List.copyOf(b.addresses);
    this.virtualHost = b.virtualHost;
    this.username = b.username;
    this.password = b.password;
    this.tls = b.tls;
    this.sslContext = b.sslContext;
    this.hostnameVerification = b.hostnameVerification;
    this.exchange = b.exchange;
    this.serviceName = b.serviceName;
    this.environment = b.environment;
    this.heartbeat = b.heartbeat;
    this.connectionTimeout = b.connectionTimeout;
    this.recoveryInterval = b.recoveryInterval;
    this.lazyConnect = b.lazyConnect;
    this.shutdownTimeout = b.shutdownTimeout;
    this.callbackExecutor = b.callbackExecutor;
    this.decodeLimits = b.decodeLimits;
    this.validation = b.validation;
    this.correlation = b.correlation;
    this.correlationTracker = b.correlationTracker;
    this.transport = b.transport;
    this.observability = b.observability;
    this.logContext = b.logContext;
  }

  /**
   * Returns a builder with every default: guest/guest at localhost:5672, exchange {@value
   * #DEFAULT_EXCHANGE}.
   *
   * @return a new builder
   */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Returns the defaults: guest/guest at localhost:5672.
   *
   * @return the options
   */
  public static BloodbankOptions defaults() {
    return builder().build();
  }

  /**
   * Reads the options from the process environment; see {@link #fromEnvironment(Map)}.
   *
   * @return the options
   * @throws IllegalArgumentException naming the variable whose value is malformed
   */
  public static BloodbankOptions fromEnvironment() {
    return fromEnvironment(System.getenv());
  }

  /**
   * Reads the options from environment variables, the ones the Python services use:
   *
   * <ul>
   *   <li>{@code RABBIT_URL} or {@code RABBITMQ_URL}: {@code amqp://user:pass@host:port/vhost},
   *       {@code amqps://} for TLS; several comma-separated URLs for a cluster.
   *   <li>Without a URL, its parts: {@code RABBIT_HOST} (or {@code RABBITMQ_HOST}), {@code
   *       RABBIT_PORT} ({@code RABBITMQ_PORT}), {@code RABBIT_USER} ({@code RABBITMQ_USER}), {@code
   *       RABBIT_PASSWORD} ({@code RABBITMQ_PASSWORD}, {@code RABBITMQ_PASS}) and {@code
   *       RABBITMQ_VHOST}; each unset part keeps its default ({@code localhost}, 5672, guest,
   *       guest, {@code /}). A URL wins over the parts.
   *   <li>{@code BLOODBANK_EXCHANGE} or {@code EXCHANGE_NAME}: the exchange.
   *   <li>{@code BLOODBANK_SERVICE_NAME} or {@code SERVICE_NAME}: the service name.
   *   <li>{@code BLOODBANK_ENVIRONMENT} or {@code ENVIRONMENT}: the deployment environment ({@link
   *       #environment()}).
   *   <li>{@code BLOODBANK_HEARTBEAT_SECONDS}: the heartbeat.
   *   <li>{@code BLOODBANK_VALIDATION}: {@code strict}, {@code permissive} or {@code skip}.
   *   <li>{@code REDIS_URL}, or {@code REDIS_HOST} with {@code REDIS_PORT}, {@code REDIS_PASSWORD},
   *       {@code REDIS_DB}: turns causation tracking on, see {@link
   *       RedisTrackerOptions#fromEnvironment(Map)}.
   * </ul>
   *
   * Unset variables keep the defaults. Where a Bloodbank name and a Python one are both set, the
   * one listed first wins. {@code BINDING_KEY} is read by {@link
   * SubscriberOptions#fromEnvironment()}.
   *
   * @param env the variables
   * @return the options
   * @throws IllegalArgumentException naming the variable whose value is malformed
   */
  public static BloodbankOptions fromEnvironment(Map<String, String> env) {
    Builder b = builder();
    String urlVar = firstSetName(env, "RABBIT_URL", "RABBITMQ_URL");
    if (urlVar != null) {
      try {
        b.uri(env.get(urlVar).trim());
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(urlVar + ": " + e.getMessage(), e);
      }
    }
    if (urlVar == null) {
      fromParts(env, b);
    }
    String exchange = firstSet(env, "BLOODBANK_EXCHANGE", "EXCHANGE_NAME");
    if (exchange != null) {
      b.exchange(exchange);
    }
    String service = firstSet(env, "BLOODBANK_SERVICE_NAME", "SERVICE_NAME");
    if (service != null) {
      b.serviceName(service);
    }
    String environment = firstSet(env, "BLOODBANK_ENVIRONMENT", "ENVIRONMENT");
    if (environment != null) {
      b.environment(environment);
    }
    String heartbeat = firstSet(env, "BLOODBANK_HEARTBEAT_SECONDS");
    if (heartbeat != null) {
      try {
        b.heartbeat(Duration.ofSeconds(Long.parseLong(heartbeat.trim())));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException(
            "BLOODBANK_HEARTBEAT_SECONDS must be a whole number of seconds, was '"
                + LogSafe.escape(heartbeat)
                + "'",
            e);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("BLOODBANK_HEARTBEAT_SECONDS: " + e.getMessage(), e);
      }
    }
    if (firstSet(env, "REDIS_URL", "REDIS_HOST") != null) {
      b.correlation(RedisTrackerOptions.fromEnvironment(env));
    }
    String validation = firstSet(env, "BLOODBANK_VALIDATION");
    if (validation != null) {
      try {
        b.validation(ValidationMode.valueOf(validation.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "BLOODBANK_VALIDATION must be strict, permissive or skip, was '"
                + LogSafe.escape(validation)
                + "'",
            e);
      }
    }
    return b.build();
  }

  /** The broker from {@code RABBIT_HOST}, {@code RABBIT_PORT}, ... as Python services set it. */
  private static void fromParts(Map<String, String> env, Builder b) {
    String host = firstSet(env, "RABBIT_HOST", "RABBITMQ_HOST");
    String portVar = firstSetName(env, "RABBIT_PORT", "RABBITMQ_PORT");
    if (host != null || portVar != null) {
      int port = DEFAULT_PORT;
      if (portVar != null) {
        String v = env.get(portVar).trim();
        try {
          port = Integer.parseInt(v);
        } catch (NumberFormatException e) {
          port = -1;
        }
        if (port < 1 || port > 65535) {
          throw new IllegalArgumentException(
              portVar + " must be a port number from 1 to 65535, was '" + LogSafe.escape(v) + "'");
        }
      }
      b.address(host != null ? host : "localhost", port);
    }
    String user = firstSet(env, "RABBIT_USER", "RABBITMQ_USER");
    String password = firstSetRaw(env, "RABBIT_PASSWORD", "RABBITMQ_PASSWORD", "RABBITMQ_PASS");
    if (user != null || password != null) {
      b.credentials(user != null ? user : DEFAULT_USERNAME, password != null ? password : "guest");
    }
    String vhost = firstSet(env, "RABBITMQ_VHOST");
    if (vhost != null) {
      b.virtualHost(vhost);
    }
  }

  /** Like {@link #firstSet}, without trimming: a password may begin or end with a blank. */
  private static @Nullable String firstSetRaw(Map<String, String> env, String... names) {
    for (String n : names) {
      String v = env.get(n);
      if (v != null && !v.isEmpty()) {
        return v;
      }
    }
    return null;
  }

  private static @Nullable String firstSetName(Map<String, String> env, String... names) {
    for (String n : names) {
      String v = env.get(n);
      if (v != null && !v.isBlank()) {
        return n;
      }
    }
    return null;
  }

  private static @Nullable String firstSet(Map<String, String> env, String... names) {
    for (String n : names) {
      String v = env.get(n);
      if (v != null && !v.isBlank()) {
        return v.trim();
      }
    }
    return null;
  }

  /**
   * Returns a builder holding these options, to derive changed ones.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder();
    b.addresses = new ArrayList<>(addresses);
    b.virtualHost = virtualHost;
    b.username = username;
    b.password = password;
    b.tls = tls;
    b.sslContext = sslContext;
    b.hostnameVerification = hostnameVerification;
    b.exchange = exchange;
    b.serviceName = serviceName;
    b.environment = environment;
    b.heartbeat = heartbeat;
    b.connectionTimeout = connectionTimeout;
    b.recoveryInterval = recoveryInterval;
    b.lazyConnect = lazyConnect;
    b.shutdownTimeout = shutdownTimeout;
    b.callbackExecutor = callbackExecutor;
    b.decodeLimits = decodeLimits;
    b.validation = validation;
    b.correlation = correlation;
    b.correlationTracker = correlationTracker;
    b.transport = transport;
    b.observability = observability;
    b.logContext = logContext;
    return b;
  }

  /**
   * Returns the broker addresses, tried in order.
   *
   * @return at least one address
   */
  public List<Address> addresses() {
    return addresses;
  }

  /**
   * Returns the virtual host.
   *
   * @return the vhost, {@code /} by default
   */
  public String virtualHost() {
    return virtualHost;
  }

  /**
   * Returns the user name.
   *
   * @return the user name
   */
  public String username() {
    return username;
  }

  /**
   * Returns the password. Never log it.
   *
   * @return the password
   */
  public String password() {
    return password;
  }

  /**
   * Returns whether connections use TLS.
   *
   * @return true for AMQPS
   */
  public boolean tls() {
    return tls;
  }

  /**
   * Returns the TLS context, when one was given.
   *
   * @return the context, or null to use the JVM's default trust store
   */
  public @Nullable SSLContext sslContext() {
    return sslContext;
  }

  /**
   * Returns whether TLS checks that the certificate matches the host name.
   *
   * @return true unless turned off
   */
  public boolean hostnameVerification() {
    return hostnameVerification;
  }

  /**
   * Returns the topic exchange events are published to and subscribed from.
   *
   * @return the exchange name
   */
  public String exchange() {
    return exchange;
  }

  /**
   * Returns this service's name: the default source app and the prefix of queue names.
   *
   * @return the name
   */
  public String serviceName() {
    return serviceName;
  }

  /**
   * Returns the deployment environment ({@code dev}, {@code staging}, {@code prod}, ...) as the
   * Python services' {@code ENVIRONMENT} names it. Not sent with events; for the application's own
   * use (logs, health, metric tags).
   *
   * @return the environment, or null when not set
   * @since 0.2.0
   */
  public @Nullable String environment() {
    return environment;
  }

  /**
   * Returns the AMQP heartbeat interval.
   *
   * @return the interval
   */
  public Duration heartbeat() {
    return heartbeat;
  }

  /**
   * Returns the connect and handshake timeout.
   *
   * @return the timeout
   */
  public Duration connectionTimeout() {
    return connectionTimeout;
  }

  /**
   * Returns the pause between automatic recovery attempts.
   *
   * @return the interval
   */
  public Duration recoveryInterval() {
    return recoveryInterval;
  }

  /**
   * Returns whether {@link Bloodbank#connect(BloodbankOptions)} returns without a broker and
   * connects in the background.
   *
   * @return true for a lazy connect
   * @since 0.2.0
   */
  public boolean lazyConnect() {
    return lazyConnect;
  }

  /**
   * Returns how long {@link Bloodbank#close()} may take in all.
   *
   * @return the bound
   * @since 0.2.0
   */
  public Duration shutdownTimeout() {
    return shutdownTimeout;
  }

  /**
   * Returns the executor the application gave for completing publish futures and other callbacks,
   * when it gave one.
   *
   * @return the executor, or null for the bus's own
   * @since 0.2.0
   */
  public @Nullable Executor callbackExecutor() {
    return callbackExecutor;
  }

  /**
   * Returns the limits applied when decoding received events.
   *
   * @return the limits
   */
  public DecodeLimits decodeLimits() {
    return decodeLimits;
  }

  /**
   * Returns how publishers check events against the schema catalog before sending. Subscribers
   * check received events of known types ({@link ValidationMode#PERMISSIVE}) unless this is {@link
   * ValidationMode#SKIP}.
   *
   * @return the mode
   */
  public ValidationMode validation() {
    return validation;
  }

  /**
   * Returns where the bus keeps the causation graph, when it tracks causation in Redis.
   *
   * @return the Redis options, or null
   */
  public @Nullable RedisTrackerOptions correlation() {
    return correlation;
  }

  /**
   * Returns the tracker the application gave, when it gave one (e.g. an in-memory one).
   *
   * @return the tracker, or null
   */
  public @Nullable CorrelationTracker correlationTracker() {
    return correlationTracker;
  }

  /**
   * Returns how the bus reaches its broker.
   *
   * @return {@link Transport#amqp()} unless changed
   */
  public Transport transport() {
    return transport;
  }

  /**
   * Returns where metrics and observations go.
   *
   * @return the configuration, or null when the bus reports none (the default)
   * @since 0.2.0
   */
  public @Nullable BloodbankObservability observability() {
    return observability;
  }

  /**
   * Returns whether handlers, commands and publish callbacks run with the event in SLF4J's MDC.
   *
   * @return true unless turned off
   * @since 0.2.0
   */
  public boolean logContext() {
    return logContext;
  }

  /** Describes the options; the password is never shown. */
  @Override
  public String toString() {
    return "BloodbankOptions{transport="
        + transport
        + ", addresses="
        + addresses
        + ", virtualHost="
        + virtualHost
        + ", username="
        + username
        + ", password=****"
        + ", tls="
        + tls
        + ", exchange="
        + exchange
        + ", serviceName="
        + serviceName
        + ", heartbeat="
        + heartbeat
        + ", lazyConnect="
        + lazyConnect
        + ", shutdownTimeout="
        + shutdownTimeout
        + ", validation="
        + validation
        + ", correlation="
        + (correlationTracker != null ? correlationTracker : correlation)
        + (observability == null ? "" : ", observability=" + observability)
        + "}";
  }

  /**
   * A broker host and port.
   *
   * @param host the host name or IP address
   * @param port the port, 1 to 65535
   */
  public record Address(String host, int port) {
    /** Validates the fields. */
    public Address {
      Config.notBlank("host", host);
      Config.inRange("port", port, 1, 65535);
    }

    @Override
    public String toString() {
      return host + ":" + port;
    }
  }

  /** Builds {@link BloodbankOptions}. Not thread-safe. */
  public static final class Builder {
    private List<Address> addresses = new ArrayList<>();
    private String virtualHost = "/";
    private String username = DEFAULT_USERNAME;
    private String password = DEFAULT_USERNAME;
    private boolean tls;
    private @Nullable SSLContext sslContext;
    private boolean hostnameVerification = true;
    private String exchange = DEFAULT_EXCHANGE;
    private String serviceName = DEFAULT_SERVICE_NAME;
    private @Nullable String environment;
    private Duration heartbeat = DEFAULT_HEARTBEAT;
    private Duration connectionTimeout = DEFAULT_CONNECTION_TIMEOUT;
    private Duration recoveryInterval = DEFAULT_RECOVERY_INTERVAL;
    private boolean lazyConnect;
    private Duration shutdownTimeout = DEFAULT_SHUTDOWN_TIMEOUT;
    private @Nullable Executor callbackExecutor;
    private DecodeLimits decodeLimits = DecodeLimits.defaults();
    private ValidationMode validation = ValidationMode.STRICT;
    private @Nullable RedisTrackerOptions correlation;
    private @Nullable CorrelationTracker correlationTracker;
    private Transport transport = Transport.amqp();
    private @Nullable BloodbankObservability observability;
    private boolean logContext = true;

    private Builder() {}

    /**
     * Sets addresses, credentials, vhost and TLS from AMQP URIs: {@code
     * amqp[s]://user:pass@host:port/vhost}, several separated by commas (credentials, vhost and
     * scheme are taken from the first). Percent-encoding is decoded; an empty path means vhost
     * {@code /}.
     *
     * @param uris one or more comma-separated URIs
     * @return this builder
     * @throws IllegalArgumentException naming the malformed URI (without its password)
     */
    public Builder uri(String uris) {
      Objects.requireNonNull(uris, "uris");
      List<Address> parsed = new ArrayList<>();
      boolean first = true;
      for (String raw : uris.split(",")) {
        String s = raw.trim();
        if (s.isEmpty()) {
          continue;
        }
        URI u;
        try {
          u = new URI(s);
        } catch (URISyntaxException e) {
          // Not chained: the parser's message quotes the whole URI, password included.
          throw new IllegalArgumentException(
              "malformed AMQP URI '"
                  + redact(s)
                  + "': "
                  + e.getReason()
                  + " at index "
                  + e.getIndex());
        }
        String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
          throw new IllegalArgumentException(
              "AMQP URI '" + redact(s) + "' must start with amqp:// or amqps://");
        }
        boolean secure = scheme.equals("amqps");
        if (u.getHost() == null) {
          throw new IllegalArgumentException("AMQP URI '" + redact(s) + "' has no host");
        }
        int port = u.getPort() > 0 ? u.getPort() : secure ? DEFAULT_TLS_PORT : DEFAULT_PORT;
        parsed.add(new Address(u.getHost(), port));
        if (first) {
          first = false;
          tls = secure;
          String userInfo = u.getRawUserInfo();
          if (userInfo != null) {
            int colon = userInfo.indexOf(':');
            username = decode(colon < 0 ? userInfo : userInfo.substring(0, colon));
            if (colon >= 0) {
              password = decode(userInfo.substring(colon + 1));
            }
          }
          String path = u.getRawPath();
          virtualHost =
              path == null || path.isEmpty() || path.equals("/") ? "/" : decode(path.substring(1));
        }
      }
      if (parsed.isEmpty()) {
        throw new IllegalArgumentException("no AMQP URI given");
      }
      addresses = parsed;
      return this;
    }

    private static String decode(String s) {
      return URLDecoder.decode(s.replace("+", "%2B"), StandardCharsets.UTF_8);
    }

    /** Masks the password: everything between the first ':' of the user info and the last '@'. */
    static String redact(String uri) {
      int scheme = uri.indexOf("://");
      int at = uri.lastIndexOf('@');
      if (scheme >= 0 && at > scheme) {
        int colon = uri.indexOf(':', scheme + 3);
        if (colon >= 0 && colon < at) {
          uri = uri.substring(0, colon + 1) + "****" + uri.substring(at);
        }
      }
      return LogSafe.escape(uri);
    }

    /**
     * Sets the broker addresses. Default: {@code localhost:5672}.
     *
     * @param addresses one or more addresses, tried in order
     * @return this builder
     */
    public Builder addresses(List<Address> addresses) {
      if (addresses.isEmpty()) {
        throw new IllegalArgumentException("at least one broker address is required");
      }
      this.addresses = new ArrayList<>(addresses);
      return this;
    }

    /**
     * Sets one broker address. Default: {@code localhost:5672}.
     *
     * @param host the host
     * @param port the port, 1 to 65535
     * @return this builder
     */
    public Builder address(String host, int port) {
      return addresses(List.of(new Address(host, port)));
    }

    /**
     * Sets the virtual host. Default: {@code /}.
     *
     * @param virtualHost the vhost
     * @return this builder
     */
    public Builder virtualHost(String virtualHost) {
      this.virtualHost = Objects.requireNonNull(virtualHost, "virtualHost");
      return this;
    }

    /**
     * Sets the credentials. Default: guest/guest.
     *
     * @param username the user
     * @param password the password; never logged
     * @return this builder
     */
    public Builder credentials(String username, String password) {
      this.username = Objects.requireNonNull(username, "username");
      this.password = Objects.requireNonNull(password, "password");
      return this;
    }

    /**
     * Turns TLS on or off. Default: off, or as the URI's scheme says. With TLS on and no {@link
     * #sslContext(SSLContext)}, the JVM's default trust store decides which certificates are
     * trusted, and host names are verified.
     *
     * @param tls true for AMQPS
     * @return this builder
     */
    public Builder tls(boolean tls) {
      this.tls = tls;
      return this;
    }

    /**
     * Sets the TLS context (trust store, client certificate) and turns TLS on. Default: the JVM's.
     *
     * @param sslContext the context
     * @return this builder
     */
    public Builder sslContext(SSLContext sslContext) {
      this.sslContext = Objects.requireNonNull(sslContext, "sslContext");
      this.tls = true;
      return this;
    }

    /**
     * Turns host name verification of the broker's certificate on or off. Default: on. Turn it off
     * only for tests.
     *
     * @param verify false to accept a certificate issued for another name
     * @return this builder
     */
    public Builder hostnameVerification(boolean verify) {
      this.hostnameVerification = verify;
      return this;
    }

    /**
     * Sets the exchange. Default: {@value BloodbankOptions#DEFAULT_EXCHANGE}.
     *
     * @param exchange a topic exchange name, not blank
     * @return this builder
     */
    public Builder exchange(String exchange) {
      this.exchange = Config.notBlank("exchange", exchange);
      return this;
    }

    /**
     * Sets the service name. Default: {@value BloodbankOptions#DEFAULT_SERVICE_NAME}.
     *
     * @param serviceName not blank
     * @return this builder
     */
    public Builder serviceName(String serviceName) {
      this.serviceName = Config.notBlank("serviceName", serviceName);
      return this;
    }

    /**
     * Sets the deployment environment. Default: none.
     *
     * @param environment e.g. {@code dev} or {@code prod}
     * @return this builder
     * @since 0.2.0
     */
    public Builder environment(String environment) {
      this.environment = Config.notBlank("environment", environment);
      return this;
    }

    /**
     * Sets the heartbeat, in whole seconds. Default: 20 s. Zero leaves the interval to the broker
     * (amqp-client takes the broker's value when either side asks for 0; RabbitMQ's default is 60
     * s), so heartbeats cannot be turned off from here.
     *
     * <p>A peer that sends nothing (a dead host, a blackholed route) is detected within two
     * heartbeats: the Java client gives up after 2.25 negotiated intervals, so the bus asks the
     * broker for {@code floor(heartbeat * 8 / 9)} seconds, at least 1 s (a 1 s heartbeat is
     * detected within 2.25 s).
     *
     * @param heartbeat 0, or 1 to 65535 s
     * @return this builder
     */
    public Builder heartbeat(Duration heartbeat) {
      Config.notNegative("heartbeat", heartbeat);
      if (!heartbeat.isZero() && heartbeat.getSeconds() == 0) {
        // Sent in whole seconds: 500 ms would become 0, the broker's interval, silently.
        throw new IllegalArgumentException(
            "heartbeat is in whole seconds, 0 or 1 to 65535 s, was "
                + heartbeat.toMillis()
                + " ms");
      }
      if (heartbeat.getSeconds() > 65535) {
        throw new IllegalArgumentException(
            "heartbeat must be at most 65535 s, was " + heartbeat.getSeconds() + " s");
      }
      this.heartbeat = heartbeat;
      return this;
    }

    /**
     * Sets the connect and handshake timeout. Default: 10 s.
     *
     * @param timeout positive
     * @return this builder
     */
    public Builder connectionTimeout(Duration timeout) {
      this.connectionTimeout = Config.positive("connectionTimeout", timeout);
      return this;
    }

    /**
     * Sets the pause between recovery attempts after a lost connection. Default: 2 s.
     *
     * @param interval positive
     * @return this builder
     */
    public Builder recoveryInterval(Duration interval) {
      this.recoveryInterval = Config.positive("recoveryInterval", interval);
      return this;
    }

    /**
     * Lets {@link Bloodbank#connect(BloodbankOptions)} return while the broker is unreachable: the
     * bus then connects in the background, retrying every {@link #recoveryInterval(Duration)}, and
     * logs each failed attempt at most once a minute. Until it is connected, {@link
     * Bloodbank#publisher()} and {@link Bloodbank#subscribe} fail with {@link ConnectionException},
     * while a durable publisher ({@link PublisherOptions.Builder#durable}) keeps accepting events
     * into its write-ahead log and sends them once connected. Default: off, {@code connect} fails
     * at once when the broker cannot be reached.
     *
     * @param lazy true to connect in the background
     * @return this builder
     * @since 0.2.0
     */
    public Builder lazyConnect(boolean lazy) {
      this.lazyConnect = lazy;
      return this;
    }

    /**
     * Sets how long {@link Bloodbank#close()} may take in all. Subscribers, publishers and
     * connections are closed side by side within this one deadline: subscribers let running
     * handlers finish (each at most its own {@link SubscriberOptions#shutdownTimeout()}),
     * publishers wait for the confirms in flight; past the deadline, connections are aborted and
     * whatever is still pending fails with {@link PublishException.Kind#CLOSED}. Default: 30 s.
     *
     * @param timeout positive
     * @return this builder
     * @since 0.2.0
     */
    public Builder shutdownTimeout(Duration timeout) {
      this.shutdownTimeout = Config.positive("shutdownTimeout", timeout);
      return this;
    }

    /**
     * Runs the completions of publish futures, command results and the bus's other callbacks to
     * application code on this executor, e.g. one that makes a virtual thread per task. The bus
     * never shuts it down. It must run each task eventually and may run them on any thread;
     * continuations that block are fine as long as it has threads to spare. A task it refuses (shut
     * down before the bus) runs on the Bloodbank thread that submitted it, so that its future still
     * completes; shut it down after the bus. Default: the bus's own pool ({@code
     * bloodbank-callbacks-N}), which grows a thread for each task that finds every other thread
     * busy, so a continuation that waits for another publish never stalls the completions it waits
     * for.
     *
     * @param executor the executor
     * @return this builder
     * @since 0.2.0
     */
    public Builder callbackExecutor(Executor executor) {
      this.callbackExecutor = Objects.requireNonNull(executor, "executor");
      return this;
    }

    /**
     * Sets the limits for decoding received events. Default: {@link DecodeLimits#defaults()}.
     *
     * @param limits the limits
     * @return this builder
     */
    public Builder decodeLimits(DecodeLimits limits) {
      this.decodeLimits = Objects.requireNonNull(limits, "limits");
      return this;
    }

    /**
     * Sets how publishers check events against the schema catalog. Default: {@link
     * ValidationMode#STRICT}: an event of a type the registry does not know, or that breaks its
     * schema, is never sent.
     *
     * @param mode the mode
     * @return this builder
     */
    public Builder validation(ValidationMode mode) {
      this.validation = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Tracks causation in Redis: publishing an event with correlation ids records the parent →
     * child links, without ever blocking or failing the publish. Default: off (unless {@code
     * REDIS_URL} or {@code REDIS_HOST} is set for {@link BloodbankOptions#fromEnvironment()}).
     *
     * @param redis where and how
     * @return this builder
     */
    public Builder correlation(RedisTrackerOptions redis) {
      this.correlation = Objects.requireNonNull(redis, "redis");
      this.correlationTracker = null;
      return this;
    }

    /**
     * Tracks causation in a tracker the application owns, e.g. {@link
     * CorrelationTracker#inMemory()} in tests; the bus does not close it.
     *
     * @param tracker the tracker
     * @return this builder
     */
    public Builder correlationTracker(CorrelationTracker tracker) {
      this.correlationTracker = Objects.requireNonNull(tracker, "tracker");
      this.correlation = null;
      return this;
    }

    /**
     * Sets how the bus reaches its broker. Default: {@link Transport#amqp()}, RabbitMQ at {@link
     * #addresses(List)}. {@link Transport#embedded()} runs an in-process broker instead, for tests
     * and demos; the addresses, credentials, TLS and recovery settings are then ignored.
     *
     * @param transport the transport
     * @return this builder
     */
    public Builder transport(Transport transport) {
      this.transport = Objects.requireNonNull(transport, "transport");
      return this;
    }

    /**
     * Sets where the bus reports metrics and observations (spans, with a tracing bridge). Default:
     * none, and then no Micrometer class is loaded.
     *
     * @param observability the registries
     * @return this builder
     * @since 0.2.0
     */
    public Builder observability(BloodbankObservability observability) {
      this.observability = Objects.requireNonNull(observability, "observability");
      return this;
    }

    /**
     * Puts the event in SLF4J's MDC while a handler, a command or a publish future's callbacks run
     * ({@code event_id}, {@code event_type}, {@code correlation_id}, {@code trace_id}), and takes
     * it out afterwards. Default: true.
     *
     * @param on whether to
     * @return this builder
     * @since 0.2.0
     */
    public Builder logContext(boolean on) {
      this.logContext = on;
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     */
    public BloodbankOptions build() {
      return new BloodbankOptions(this);
    }
  }
}
