package dev.bloodbank.spring.boot;

import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.convert.DurationUnit;

/**
 * The {@code bloodbank.*} properties: one for each {@link dev.bloodbank.BloodbankOptions} setting
 * that a property can carry, plus the starter's own switches.
 *
 * <p>A property left unset keeps what the SDK's environment variables say ({@code RABBIT_URL},
 * {@code SERVICE_NAME}, {@code REDIS_URL}, ... see {@link
 * dev.bloodbank.BloodbankOptions#fromEnvironment()}), and without those the SDK's default. So the
 * precedence, highest first: a {@code bloodbank.*} property from any Spring property source
 * (command line, {@code BLOODBANK_EXCHANGE}-style variables that spell the property's own name,
 * {@code application.properties}), then the SDK's variables, then {@code spring.application.name}
 * for the service name, then the SDK's defaults. Settings that no property can carry (an executor,
 * an {@code SSLContext} object, a tracker object) go through a {@link BloodbankOptionsCustomizer}.
 *
 * <p>A mutable bean, as Spring's binder and the configuration processor expect; the options built
 * from it are immutable. Not thread-safe; bound once while the context starts.
 *
 * @since 0.2.0
 */
@ConfigurationProperties(prefix = "bloodbank")
public class BloodbankProperties {

  /** How the bus reaches its broker. */
  public enum TransportKind {
    /** RabbitMQ over AMQP 0-9-1, the default. */
    AMQP,
    /** An in-process broker, for tests and demos (see dev.bloodbank.embedded.EmbeddedBroker). */
    EMBEDDED
  }

  /**
   * Whether the starter configures a bus at all; false leaves Bloodbank out of the context.
   * Default: true.
   */
  private boolean enabled = true;

  /**
   * Whether the SDK's environment variables (RABBIT_URL, SERVICE_NAME, REDIS_URL, ...) are read
   * beneath the properties. Default: true.
   */
  private boolean useEnvironmentVariables = true;

  /**
   * AMQP URI(s), amqp[s]://user:pass@host:port/vhost, comma-separated for a cluster. Sets the
   * addresses, credentials, virtual host and TLS. Default: RABBIT_URL, else
   * amqp://guest:guest@localhost:5672/.
   */
  private @Nullable String uri;

  /** Broker addresses as host:port, tried in order; win over the URI's. Default: localhost:5672. */
  private List<String> addresses = new ArrayList<>();

  /** Virtual host. Default: the URI's, else "/". */
  private @Nullable String virtualHost;

  /** User name. Default: the URI's, else guest. */
  private @Nullable String username;

  /** Password; never logged. Default: the URI's, else guest. */
  private @Nullable String password;

  /** Whether to use TLS (AMQPS). Default: as the URI's scheme says, else false. */
  private @Nullable Boolean tls;

  /** Whether TLS checks that the broker's certificate matches its host name. Default: true. */
  private @Nullable Boolean hostnameVerification;

  /** Topic exchange events are published to and subscribed from. Default: bloodbank.events.v1. */
  private @Nullable String exchange;

  /**
   * This service's name: the source app of its events and the prefix of its queue names. Default:
   * BLOODBANK_SERVICE_NAME or SERVICE_NAME, else spring.application.name, else bloodbank-java.
   */
  private @Nullable String serviceName;

  /** Deployment environment (dev, staging, prod), not sent with events. Default: none. */
  private @Nullable String environment;

  /**
   * AMQP heartbeat in whole seconds (a bare number is seconds), 1 to 65535; 0 leaves the interval
   * to the broker (RabbitMQ's own default is 60 s). Default: 20s.
   */
  @DurationUnit(ChronoUnit.SECONDS)
  private @Nullable Duration heartbeat;

  /** TCP connect and AMQP handshake timeout. Default: 10s. */
  private @Nullable Duration connectionTimeout;

  /** Pause between automatic recovery attempts. Default: 2s. */
  private @Nullable Duration recoveryInterval;

  /**
   * Whether the context starts while the broker is unreachable, the bus connecting in the
   * background. Default: false (startup fails without a broker).
   */
  private @Nullable Boolean lazyConnect;

  /** Bound on closing the bus when the context closes. Default: 30s. */
  private @Nullable Duration shutdownTimeout;

  /** How publishers check events against the schema catalog. Default: strict. */
  private @Nullable ValidationMode validation;

  /** Whether handlers and callbacks run with the event in SLF4J's MDC. Default: true. */
  private @Nullable Boolean logContext;

  /** How the bus reaches its broker. Default: amqp. */
  private TransportKind transport = TransportKind.AMQP;

  /** TLS material. */
  private final Ssl ssl = new Ssl();

  /** Limits for decoding received events. */
  private final DecodeLimits decodeLimits = new DecodeLimits();

  /** Causation tracking in Redis. */
  private final Correlation correlation = new Correlation();

  /** Metrics and observations. */
  private final Observability observability = new Observability();

  /** {@code @BloodbankListener} methods. */
  private final Listener listener = new Listener();

  /** The command processor and client. */
  private final Commands commands = new Commands();

  /**
   * Returns whether the starter configures a bus.
   *
   * @return true by default
   */
  public boolean isEnabled() {
    return enabled;
  }

  /**
   * Sets whether the starter configures a bus.
   *
   * @param enabled false to leave Bloodbank out of the context
   */
  public void setEnabled(boolean enabled) {
    this.enabled = enabled;
  }

  /**
   * Returns whether the SDK's environment variables are read.
   *
   * @return true by default
   */
  public boolean isUseEnvironmentVariables() {
    return useEnvironmentVariables;
  }

  /**
   * Sets whether the SDK's environment variables are read.
   *
   * @param use false to build the options from the properties and defaults only
   */
  public void setUseEnvironmentVariables(boolean use) {
    this.useEnvironmentVariables = use;
  }

  /**
   * Returns the AMQP URI(s).
   *
   * @return the URIs, or null when unset
   */
  public @Nullable String getUri() {
    return uri;
  }

  /**
   * Sets the AMQP URI(s).
   *
   * @param uri one or more comma-separated URIs
   */
  public void setUri(@Nullable String uri) {
    this.uri = uri;
  }

  /**
   * Returns the broker addresses.
   *
   * @return host:port entries, empty when unset
   */
  public List<String> getAddresses() {
    return addresses;
  }

  /**
   * Sets the broker addresses.
   *
   * @param addresses host:port entries
   */
  public void setAddresses(List<String> addresses) {
    this.addresses = addresses;
  }

  /**
   * Returns the virtual host.
   *
   * @return the vhost, or null when unset
   */
  public @Nullable String getVirtualHost() {
    return virtualHost;
  }

  /**
   * Sets the virtual host.
   *
   * @param virtualHost the vhost
   */
  public void setVirtualHost(@Nullable String virtualHost) {
    this.virtualHost = virtualHost;
  }

  /**
   * Returns the user name.
   *
   * @return the user, or null when unset
   */
  public @Nullable String getUsername() {
    return username;
  }

  /**
   * Sets the user name.
   *
   * @param username the user
   */
  public void setUsername(@Nullable String username) {
    this.username = username;
  }

  /**
   * Returns the password.
   *
   * @return the password, or null when unset
   */
  public @Nullable String getPassword() {
    return password;
  }

  /**
   * Sets the password.
   *
   * @param password the password; never logged
   */
  public void setPassword(@Nullable String password) {
    this.password = password;
  }

  /**
   * Returns whether TLS is on.
   *
   * @return the flag, or null when unset
   */
  public @Nullable Boolean getTls() {
    return tls;
  }

  /**
   * Sets whether TLS is on.
   *
   * @param tls the flag
   */
  public void setTls(@Nullable Boolean tls) {
    this.tls = tls;
  }

  /**
   * Returns whether host names are verified.
   *
   * @return the flag, or null when unset
   */
  public @Nullable Boolean getHostnameVerification() {
    return hostnameVerification;
  }

  /**
   * Sets whether host names are verified.
   *
   * @param verify the flag
   */
  public void setHostnameVerification(@Nullable Boolean verify) {
    this.hostnameVerification = verify;
  }

  /**
   * Returns the exchange.
   *
   * @return the name, or null when unset
   */
  public @Nullable String getExchange() {
    return exchange;
  }

  /**
   * Sets the exchange.
   *
   * @param exchange the name
   */
  public void setExchange(@Nullable String exchange) {
    this.exchange = exchange;
  }

  /**
   * Returns the service name.
   *
   * @return the name, or null when unset
   */
  public @Nullable String getServiceName() {
    return serviceName;
  }

  /**
   * Sets the service name.
   *
   * @param serviceName the name
   */
  public void setServiceName(@Nullable String serviceName) {
    this.serviceName = serviceName;
  }

  /**
   * Returns the deployment environment.
   *
   * @return the environment, or null when unset
   */
  public @Nullable String getEnvironment() {
    return environment;
  }

  /**
   * Sets the deployment environment.
   *
   * @param environment e.g. prod
   */
  public void setEnvironment(@Nullable String environment) {
    this.environment = environment;
  }

  /**
   * Returns the heartbeat.
   *
   * @return the interval, or null when unset
   */
  public @Nullable Duration getHeartbeat() {
    return heartbeat;
  }

  /**
   * Sets the heartbeat.
   *
   * @param heartbeat 0 to 65535 s
   */
  public void setHeartbeat(@Nullable Duration heartbeat) {
    this.heartbeat = heartbeat;
  }

  /**
   * Returns the connection timeout.
   *
   * @return the timeout, or null when unset
   */
  public @Nullable Duration getConnectionTimeout() {
    return connectionTimeout;
  }

  /**
   * Sets the connection timeout.
   *
   * @param connectionTimeout positive
   */
  public void setConnectionTimeout(@Nullable Duration connectionTimeout) {
    this.connectionTimeout = connectionTimeout;
  }

  /**
   * Returns the recovery interval.
   *
   * @return the interval, or null when unset
   */
  public @Nullable Duration getRecoveryInterval() {
    return recoveryInterval;
  }

  /**
   * Sets the recovery interval.
   *
   * @param recoveryInterval positive
   */
  public void setRecoveryInterval(@Nullable Duration recoveryInterval) {
    this.recoveryInterval = recoveryInterval;
  }

  /**
   * Returns whether the bus connects in the background.
   *
   * @return the flag, or null when unset
   */
  public @Nullable Boolean getLazyConnect() {
    return lazyConnect;
  }

  /**
   * Sets whether the bus connects in the background.
   *
   * @param lazyConnect the flag
   */
  public void setLazyConnect(@Nullable Boolean lazyConnect) {
    this.lazyConnect = lazyConnect;
  }

  /**
   * Returns the shutdown timeout.
   *
   * @return the bound, or null when unset
   */
  public @Nullable Duration getShutdownTimeout() {
    return shutdownTimeout;
  }

  /**
   * Sets the shutdown timeout.
   *
   * @param shutdownTimeout positive
   */
  public void setShutdownTimeout(@Nullable Duration shutdownTimeout) {
    this.shutdownTimeout = shutdownTimeout;
  }

  /**
   * Returns the validation mode.
   *
   * @return the mode, or null when unset
   */
  public @Nullable ValidationMode getValidation() {
    return validation;
  }

  /**
   * Sets the validation mode.
   *
   * @param validation strict, permissive or skip
   */
  public void setValidation(@Nullable ValidationMode validation) {
    this.validation = validation;
  }

  /**
   * Returns whether the MDC carries the event.
   *
   * @return the flag, or null when unset
   */
  public @Nullable Boolean getLogContext() {
    return logContext;
  }

  /**
   * Sets whether the MDC carries the event.
   *
   * @param logContext the flag
   */
  public void setLogContext(@Nullable Boolean logContext) {
    this.logContext = logContext;
  }

  /**
   * Returns the transport.
   *
   * @return amqp by default
   */
  public TransportKind getTransport() {
    return transport;
  }

  /**
   * Sets the transport.
   *
   * @param transport amqp or embedded
   */
  public void setTransport(TransportKind transport) {
    this.transport = transport;
  }

  /**
   * Returns the TLS material settings.
   *
   * @return the settings
   */
  public Ssl getSsl() {
    return ssl;
  }

  /**
   * Returns the decoding limits.
   *
   * @return the limits
   */
  public DecodeLimits getDecodeLimits() {
    return decodeLimits;
  }

  /**
   * Returns the causation tracking settings.
   *
   * @return the settings
   */
  public Correlation getCorrelation() {
    return correlation;
  }

  /**
   * Returns the observability settings.
   *
   * @return the settings
   */
  public Observability getObservability() {
    return observability;
  }

  /**
   * Returns the listener settings.
   *
   * @return the settings
   */
  public Listener getListener() {
    return listener;
  }

  /**
   * Returns the command settings.
   *
   * @return the settings
   */
  public Commands getCommands() {
    return commands;
  }

  /**
   * TLS material from Spring Boot's SSL bundles ({@code spring.ssl.bundle.*}).
   *
   * @since 0.2.0
   */
  public static class Ssl {
    /**
     * Name of the SSL bundle (spring.ssl.bundle.*) whose trust store and key store the broker
     * connection uses; turns TLS on. Default: none (the JVM's trust store when TLS is on).
     */
    private @Nullable String bundle;

    /**
     * Returns the bundle name.
     *
     * @return the name, or null when unset
     */
    public @Nullable String getBundle() {
      return bundle;
    }

    /**
     * Sets the bundle name.
     *
     * @param bundle a spring.ssl.bundle name
     */
    public void setBundle(@Nullable String bundle) {
      this.bundle = bundle;
    }
  }

  /**
   * Limits for decoding received events; each unset one keeps the SDK's default.
   *
   * @since 0.2.0
   */
  public static class DecodeLimits {
    /** Largest document in bytes. Default: 8388608 (8 MiB). */
    private @Nullable Integer maxDocumentBytes;

    /** Deepest nesting of objects and arrays. Default: 64. */
    private @Nullable Integer maxNestingDepth;

    /** Longest string value in characters. Default: 4194304. */
    private @Nullable Integer maxStringLength;

    /** Longest number in characters. Default: 100. */
    private @Nullable Integer maxNumberLength;

    /** Longest object key in characters. Default: 1024. */
    private @Nullable Integer maxNameLength;

    /**
     * Returns the largest document.
     *
     * @return bytes, or null when unset
     */
    public @Nullable Integer getMaxDocumentBytes() {
      return maxDocumentBytes;
    }

    /**
     * Sets the largest document.
     *
     * @param bytes positive
     */
    public void setMaxDocumentBytes(@Nullable Integer bytes) {
      this.maxDocumentBytes = bytes;
    }

    /**
     * Returns the deepest nesting.
     *
     * @return levels, or null when unset
     */
    public @Nullable Integer getMaxNestingDepth() {
      return maxNestingDepth;
    }

    /**
     * Sets the deepest nesting.
     *
     * @param depth positive
     */
    public void setMaxNestingDepth(@Nullable Integer depth) {
      this.maxNestingDepth = depth;
    }

    /**
     * Returns the longest string.
     *
     * @return characters, or null when unset
     */
    public @Nullable Integer getMaxStringLength() {
      return maxStringLength;
    }

    /**
     * Sets the longest string.
     *
     * @param chars positive
     */
    public void setMaxStringLength(@Nullable Integer chars) {
      this.maxStringLength = chars;
    }

    /**
     * Returns the longest number.
     *
     * @return characters, or null when unset
     */
    public @Nullable Integer getMaxNumberLength() {
      return maxNumberLength;
    }

    /**
     * Sets the longest number.
     *
     * @param chars positive
     */
    public void setMaxNumberLength(@Nullable Integer chars) {
      this.maxNumberLength = chars;
    }

    /**
     * Returns the longest key.
     *
     * @return characters, or null when unset
     */
    public @Nullable Integer getMaxNameLength() {
      return maxNameLength;
    }

    /**
     * Sets the longest key.
     *
     * @param chars positive
     */
    public void setMaxNameLength(@Nullable Integer chars) {
      this.maxNameLength = chars;
    }
  }

  /**
   * Causation tracking in Redis ({@link dev.bloodbank.correlation.RedisTrackerOptions}).
   *
   * @since 0.2.0
   */
  public static class Correlation {
    /**
     * Whether causation is tracked in Redis. Default: when REDIS_URL or REDIS_HOST is set, or when
     * bloodbank.correlation.uri is; false turns it off even then.
     */
    private @Nullable Boolean enabled;

    /**
     * Redis URI: redis://, rediss:// (TLS), redis-sentinel://; comma-separated seeds for a cluster.
     * Default: REDIS_URL, else redis://127.0.0.1:6379/0.
     */
    private @Nullable String uri;

    /** Whether the URI names a Redis Cluster. Default: REDIS_CLUSTER, else false. */
    private @Nullable Boolean cluster;

    /** Client name Redis shows for the connection. Default: bloodbank-correlation. */
    private @Nullable String clientName;

    /** Lifetime of causation links. Default: CORRELATION_TTL_DAYS, else 30d. */
    private @Nullable Duration ttl;

    /** Timeout of one Redis command. Default: 1s. */
    private @Nullable Duration commandTimeout;

    /** Commands queued while Redis is unreachable. Default: 8192. */
    private @Nullable Integer requestQueueSize;

    /** Most nodes one graph query returns. Default: 10000. */
    private @Nullable Integer maxNodes;

    /** Deepest traversal of one graph query. Default: 10. */
    private @Nullable Integer maxDepth;

    /** Causation links waiting to be recorded before new ones are dropped. Default: 5000. */
    private @Nullable Integer maxPendingRecordings;

    /**
     * Returns whether tracking is on.
     *
     * @return the flag, or null when unset
     */
    public @Nullable Boolean getEnabled() {
      return enabled;
    }

    /**
     * Sets whether tracking is on.
     *
     * @param enabled the flag
     */
    public void setEnabled(@Nullable Boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns the Redis URI.
     *
     * @return the URI, or null when unset
     */
    public @Nullable String getUri() {
      return uri;
    }

    /**
     * Sets the Redis URI.
     *
     * @param uri the URI
     */
    public void setUri(@Nullable String uri) {
      this.uri = uri;
    }

    /**
     * Returns whether Redis is a cluster.
     *
     * @return the flag, or null when unset
     */
    public @Nullable Boolean getCluster() {
      return cluster;
    }

    /**
     * Sets whether Redis is a cluster.
     *
     * @param cluster the flag
     */
    public void setCluster(@Nullable Boolean cluster) {
      this.cluster = cluster;
    }

    /**
     * Returns the client name.
     *
     * @return the name, or null when unset
     */
    public @Nullable String getClientName() {
      return clientName;
    }

    /**
     * Sets the client name.
     *
     * @param clientName the name
     */
    public void setClientName(@Nullable String clientName) {
      this.clientName = clientName;
    }

    /**
     * Returns the link lifetime.
     *
     * @return the TTL, or null when unset
     */
    public @Nullable Duration getTtl() {
      return ttl;
    }

    /**
     * Sets the link lifetime.
     *
     * @param ttl positive
     */
    public void setTtl(@Nullable Duration ttl) {
      this.ttl = ttl;
    }

    /**
     * Returns the command timeout.
     *
     * @return the timeout, or null when unset
     */
    public @Nullable Duration getCommandTimeout() {
      return commandTimeout;
    }

    /**
     * Sets the command timeout.
     *
     * @param commandTimeout positive
     */
    public void setCommandTimeout(@Nullable Duration commandTimeout) {
      this.commandTimeout = commandTimeout;
    }

    /**
     * Returns the request queue size.
     *
     * @return the size, or null when unset
     */
    public @Nullable Integer getRequestQueueSize() {
      return requestQueueSize;
    }

    /**
     * Sets the request queue size.
     *
     * @param size positive
     */
    public void setRequestQueueSize(@Nullable Integer size) {
      this.requestQueueSize = size;
    }

    /**
     * Returns the node limit of a query.
     *
     * @return the limit, or null when unset
     */
    public @Nullable Integer getMaxNodes() {
      return maxNodes;
    }

    /**
     * Sets the node limit of a query.
     *
     * @param maxNodes positive
     */
    public void setMaxNodes(@Nullable Integer maxNodes) {
      this.maxNodes = maxNodes;
    }

    /**
     * Returns the depth limit of a query.
     *
     * @return the limit, or null when unset
     */
    public @Nullable Integer getMaxDepth() {
      return maxDepth;
    }

    /**
     * Sets the depth limit of a query.
     *
     * @param maxDepth positive
     */
    public void setMaxDepth(@Nullable Integer maxDepth) {
      this.maxDepth = maxDepth;
    }

    /**
     * Returns the bound on pending recordings.
     *
     * @return the bound, or null when unset
     */
    public @Nullable Integer getMaxPendingRecordings() {
      return maxPendingRecordings;
    }

    /**
     * Sets the bound on pending recordings.
     *
     * @param max positive
     */
    public void setMaxPendingRecordings(@Nullable Integer max) {
      this.maxPendingRecordings = max;
    }
  }

  /**
   * Where the bus reports metrics and observations.
   *
   * @since 0.2.0
   */
  public static class Observability {
    /**
     * Whether the context's MeterRegistry and ObservationRegistry (Actuator's) receive the bus's
     * meters and observations. Default: true.
     */
    private boolean enabled = true;

    /** Whether amqp-client's own metrics are registered under bloodbank.amqp. Default: true. */
    private boolean amqpClientMetrics = true;

    /**
     * Returns whether observability is wired.
     *
     * @return true by default
     */
    public boolean isEnabled() {
      return enabled;
    }

    /**
     * Sets whether observability is wired.
     *
     * @param enabled the flag
     */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns whether amqp-client metrics are registered.
     *
     * @return true by default
     */
    public boolean isAmqpClientMetrics() {
      return amqpClientMetrics;
    }

    /**
     * Sets whether amqp-client metrics are registered.
     *
     * @param on the flag
     */
    public void setAmqpClientMetrics(boolean on) {
      this.amqpClientMetrics = on;
    }
  }

  /**
   * {@link BloodbankListener} methods.
   *
   * @since 0.2.0
   */
  public static class Listener {
    /**
     * Whether listener subscribers start with the context; when false, start them through the
     * SmartLifecycle bean bloodbankListeners. Default: true.
     */
    private boolean autoStartup = true;

    /**
     * Returns whether listeners start with the context.
     *
     * @return true by default
     */
    public boolean isAutoStartup() {
      return autoStartup;
    }

    /**
     * Sets whether listeners start with the context.
     *
     * @param autoStartup the flag
     */
    public void setAutoStartup(boolean autoStartup) {
      this.autoStartup = autoStartup;
    }
  }

  /**
   * The {@link dev.bloodbank.command.CommandProcessor}: which commands this service executes.
   *
   * @since 0.2.0
   */
  public static class Commands {
    /** Whether a command processor consumes and executes commands. Default: false. */
    private boolean enabled;

    /**
     * Invokable classes to bind, each to the command type of its nearest superclass the registry
     * knows (e.g. a class extending the generated ThreadPrompt binds to agent.thread.prompt).
     */
    private List<Class<?>> invokables = new ArrayList<>();

    /**
     * Invokable classes by command type, for a class whose superclass the registry does not know:
     * bloodbank.commands.bindings[agent.thread.prompt]=com.example.Prompt.
     */
    private Map<String, Class<?>> bindings = new LinkedHashMap<>();

    /** Command types to consume. Default: every command type of the registry. */
    private List<String> commandTypes = new ArrayList<>();

    /** Queue name. Default: {service-name}_commands. */
    private @Nullable String queueName;

    /** Whether to share the Python command processor's queue and arguments. Default: false. */
    private boolean sharedWithPython;

    /** Commands executed at once. Default: 4. */
    private @Nullable Integer concurrency;

    /** Attempts before a command is dead-lettered. Default: 3. */
    private @Nullable Integer maxAttempts;

    /** Delays before each retry; the last repeats. Default: 1s, 5s, 30s. */
    private List<Duration> retryDelays = new ArrayList<>();

    /** Time a command may run after it was sent. Default: 5m. */
    private @Nullable Duration commandTimeout;

    /** Lease of a processor's claim on a running command. Default: 30s. */
    private @Nullable Duration claimLease;

    /**
     * Returns whether the processor runs.
     *
     * @return false by default
     */
    public boolean isEnabled() {
      return enabled;
    }

    /**
     * Sets whether the processor runs.
     *
     * @param enabled the flag
     */
    public void setEnabled(boolean enabled) {
      this.enabled = enabled;
    }

    /**
     * Returns the Invokable classes bound by superclass.
     *
     * @return the classes
     */
    public List<Class<?>> getInvokables() {
      return invokables;
    }

    /**
     * Sets the Invokable classes bound by superclass.
     *
     * @param invokables the classes
     */
    public void setInvokables(List<Class<?>> invokables) {
      this.invokables = invokables;
    }

    /**
     * Returns the Invokable classes by command type.
     *
     * @return the bindings
     */
    public Map<String, Class<?>> getBindings() {
      return bindings;
    }

    /**
     * Sets the Invokable classes by command type.
     *
     * @param bindings the bindings
     */
    public void setBindings(Map<String, Class<?>> bindings) {
      this.bindings = bindings;
    }

    /**
     * Returns the command types consumed.
     *
     * @return the types, empty for all
     */
    public List<String> getCommandTypes() {
      return commandTypes;
    }

    /**
     * Sets the command types consumed.
     *
     * @param commandTypes the types
     */
    public void setCommandTypes(List<String> commandTypes) {
      this.commandTypes = commandTypes;
    }

    /**
     * Returns the queue name.
     *
     * @return the name, or null for the default
     */
    public @Nullable String getQueueName() {
      return queueName;
    }

    /**
     * Sets the queue name.
     *
     * @param queueName the name
     */
    public void setQueueName(@Nullable String queueName) {
      this.queueName = queueName;
    }

    /**
     * Returns whether the Python processor's queue is shared.
     *
     * @return false by default
     */
    public boolean isSharedWithPython() {
      return sharedWithPython;
    }

    /**
     * Sets whether the Python processor's queue is shared.
     *
     * @param shared the flag
     */
    public void setSharedWithPython(boolean shared) {
      this.sharedWithPython = shared;
    }

    /**
     * Returns the concurrency.
     *
     * @return workers, or null for the default
     */
    public @Nullable Integer getConcurrency() {
      return concurrency;
    }

    /**
     * Sets the concurrency.
     *
     * @param concurrency positive
     */
    public void setConcurrency(@Nullable Integer concurrency) {
      this.concurrency = concurrency;
    }

    /**
     * Returns the attempts.
     *
     * @return attempts, or null for the default
     */
    public @Nullable Integer getMaxAttempts() {
      return maxAttempts;
    }

    /**
     * Sets the attempts.
     *
     * @param maxAttempts positive
     */
    public void setMaxAttempts(@Nullable Integer maxAttempts) {
      this.maxAttempts = maxAttempts;
    }

    /**
     * Returns the retry delays.
     *
     * @return the delays, empty for the default
     */
    public List<Duration> getRetryDelays() {
      return retryDelays;
    }

    /**
     * Sets the retry delays.
     *
     * @param retryDelays the delays
     */
    public void setRetryDelays(List<Duration> retryDelays) {
      this.retryDelays = retryDelays;
    }

    /**
     * Returns the command timeout.
     *
     * @return the timeout, or null for the default
     */
    public @Nullable Duration getCommandTimeout() {
      return commandTimeout;
    }

    /**
     * Sets the command timeout.
     *
     * @param commandTimeout positive
     */
    public void setCommandTimeout(@Nullable Duration commandTimeout) {
      this.commandTimeout = commandTimeout;
    }

    /**
     * Returns the claim lease.
     *
     * @return the lease, or null for the default
     */
    public @Nullable Duration getClaimLease() {
      return claimLease;
    }

    /**
     * Sets the claim lease.
     *
     * @param claimLease positive
     */
    public void setClaimLease(@Nullable Duration claimLease) {
      this.claimLease = claimLease;
    }
  }
}
