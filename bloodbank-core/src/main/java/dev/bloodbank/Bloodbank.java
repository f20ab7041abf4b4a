package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.Address;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.validation.SchemaValidationException;
import dev.bloodbank.validation.ValidationMode;
import dev.bloodbank.validation.Violation;
import java.io.IOException;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The entry point: a connection to the bus that hands out publishers and subscribers.
 *
 * <pre>{@code
 * try (Bloodbank bus = Bloodbank.connect(BloodbankOptions.fromEnvironment())) {
 *   bus.publisher().publish("fireflies.transcript.upload", payload).join();
 *   bus.subscribe(SubscriberOptions.builder("fireflies.#").build(), MyPayload.class, event -> ...);
 * }
 * }</pre>
 *
 * <p>It owns two AMQP connections with automatic recovery (one for publishing, one for consuming,
 * so that flow control on publishes never stalls deliveries) and declares the durable topic
 * exchange. Closing it closes every publisher and subscriber it made. Thread-safe.
 *
 * <p>With {@link Transport#embedded()} in the options the same publishers and subscribers run on an
 * in-process {@link EmbeddedBroker} instead, for tests and demos.
 */
public final class Bloodbank implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Bloodbank.class);

  private final BloodbankOptions options;
  private final EventCodec codec;
  private final EventRegistry registry;
  private final EventValidator validator;
  private final @Nullable CorrelationTracker tracker;
  private final boolean ownsTracker;
  private final @Nullable CorrelationRecorder recorder;
  private final ConnectionFactory factory;
  private final @Nullable EmbeddedBroker embedded;
  private final boolean ownsEmbedded;
  private volatile @Nullable Connection publishing;
  private volatile @Nullable String blockedReason;
  private final List<Runnable> connectedListeners = new CopyOnWriteArrayList<>();
  private final Set<WalPublisher> durablePublishers = ConcurrentHashMap.newKeySet();
  private volatile long lastConnectWarning;
  private volatile @Nullable Connection consuming;
  private final ScheduledExecutorService scheduler;
  private final ExecutorService callbacks;
  private final Set<AmqpPublisher> publishers = ConcurrentHashMap.newKeySet();
  private final Set<Subscriber> subscribers = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private volatile @Nullable AmqpPublisher defaultPublisher;
  private volatile @Nullable AmqpPublisher systemPublisher;
  private volatile boolean closed;

  private Bloodbank(BloodbankOptions options) {
    this.options = options;
    this.codec = EventCodec.create(options.decodeLimits());
    this.registry = EventRegistry.fromClasspath();
    this.validator = EventValidator.create(registry, codec.objectMapper());
    RedisTrackerOptions redis = options.correlation();
    CorrelationTracker given = options.correlationTracker();
    this.ownsTracker = given == null && redis != null;
    this.tracker = given != null ? given : redis != null ? CorrelationTracker.redis(redis) : null;
    this.recorder =
        tracker == null
            ? null
            : new CorrelationRecorder(
                tracker,
                redis != null
                    ? redis.maxPendingRecordings()
                    : RedisTrackerOptions.DEFAULT_MAX_PENDING_RECORDINGS);
    this.factory = connectionFactory(options);
    Transport transport = options.transport();
    this.ownsEmbedded = transport.isEmbedded() && transport.broker().isEmpty();
    this.embedded =
        transport.isEmbedded() ? transport.broker().orElseGet(EmbeddedBroker::create) : null;
    ScheduledThreadPoolExecutor s = new ScheduledThreadPoolExecutor(1, daemon("scheduler"));
    s.setRemoveOnCancelPolicy(true);
    this.scheduler = s;
    this.callbacks = Executors.newFixedThreadPool(2, daemon("callbacks"));
    Connection c = null;
    try {
      c = connect("publish");
      declareExchange(c);
    } catch (ConnectionException e) {
      if (!options.lazyConnect() || embedded != null) {
        shutDownAfterFailedStart();
        throw e;
      }
      LOG.warn("{}; connecting in the background (lazy connect)", e.getMessage());
      lastConnectWarning = System.nanoTime();
      c = null;
    } catch (RuntimeException e) {
      shutDownAfterFailedStart();
      throw e;
    }
    if (c != null) {
      connected(c);
    } else {
      long every = options.recoveryInterval().toMillis();
      scheduler.schedule(this::connectInBackground, every, TimeUnit.MILLISECONDS);
    }
    scheduler.scheduleWithFixedDelay(this::sweep, 50, 50, TimeUnit.MILLISECONDS);
  }

  private void shutDownAfterFailedStart() {
    scheduler.shutdownNow();
    callbacks.shutdownNow();
    if (ownsTracker && tracker != null) {
      tracker.close();
    }
    if (ownsEmbedded && embedded != null) {
      embedded.close();
    }
  }

  /** One attempt of a lazy connect; reschedules itself until connected or closed. */
  private void connectInBackground() {
    if (closed || publishing != null) {
      return;
    }
    try {
      Connection c = connect("publish");
      try {
        declareExchange(c);
      } catch (RuntimeException e) {
        closeQuietly(c);
        throw e;
      }
      synchronized (lock) {
        if (closed) {
          closeQuietly(c);
          return;
        }
      }
      LOG.info("connected to {} after a lazy start", options.addresses());
      connected(c);
    } catch (RuntimeException e) {
      long now = System.nanoTime();
      if (now - lastConnectWarning > TimeUnit.MINUTES.toNanos(1)) {
        lastConnectWarning = now;
        LOG.warn("{}; still trying every {}", e.getMessage(), options.recoveryInterval());
      } else {
        LOG.debug("lazy connect attempt failed: {}", e.getMessage());
      }
      if (!closed) {
        scheduler.schedule(
            this::connectInBackground,
            options.recoveryInterval().toMillis(),
            TimeUnit.MILLISECONDS);
      }
    }
  }

  /** Makes a new publishing connection current and tells whoever waits for one. */
  private void connected(Connection c) {
    c.addBlockedListener(
        new BlockedListener() {
          @Override
          public void handleBlocked(String reason) {
            blockedReason = reason;
            LOG.warn(
                "the broker blocked publishing on {}: {}",
                options.addresses(),
                LogSafe.escape(reason));
          }

          @Override
          public void handleUnblocked() {
            blockedReason = null;
            LOG.info("the broker unblocked publishing on {}", options.addresses());
          }
        });
    if (c instanceof Recoverable) {
      ((Recoverable) c)
          .addRecoveryListener(
              new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable recoverable) {
                  // A new socket starts unblocked; the broker says again if it still blocks.
                  blockedReason = null;
                  fireConnected();
                }

                @Override
                public void handleRecoveryStarted(Recoverable recoverable) {}
              });
    }
    publishing = c;
    fireConnected();
  }

  private void fireConnected() {
    for (Runnable r : connectedListeners) {
      try {
        callbacks.execute(r);
      } catch (java.util.concurrent.RejectedExecutionException e) {
        return; // closing
      }
    }
  }

  /**
   * Runs the listener (on a callback thread) each time the publishing connection comes up: after a
   * lazy connect and after each recovery; also once now if it is up already.
   */
  void onConnected(Runnable listener) {
    connectedListeners.add(listener);
    if (isConnected()) {
      callbacks.execute(listener);
    }
  }

  /**
   * Connects to the broker and declares the exchange.
   *
   * @param options where and how to connect
   * @return the connected bus
   * @throws ConnectionException if the broker cannot be reached, refuses the credentials or the TLS
   *     handshake fails; the message names the addresses and user, never the password
   * @throws BloodbankException if the exchange exists with another type
   */
  public static Bloodbank connect(BloodbankOptions options) {
    return new Bloodbank(Objects.requireNonNull(options, "options"));
  }

  /**
   * Connects with {@link BloodbankOptions#fromEnvironment()}.
   *
   * @return the connected bus
   * @throws ConnectionException if the broker cannot be reached
   */
  public static Bloodbank connect() {
    return connect(BloodbankOptions.fromEnvironment());
  }

  /**
   * Returns the options this bus was connected with.
   *
   * @return the options
   */
  public BloodbankOptions options() {
    return options;
  }

  /**
   * Returns the codec used for every event sent and received.
   *
   * @return the codec
   */
  public EventCodec codec() {
    return codec;
  }

  /**
   * Returns the event registry, filled from the schema catalogs on the classpath; register your own
   * events here.
   *
   * @return the registry
   */
  public EventRegistry registry() {
    return registry;
  }

  /**
   * Returns the validator publishers and subscribers use.
   *
   * @return the validator
   */
  public EventValidator validator() {
    return validator;
  }

  /**
   * Returns the causation tracker, when causation is tracked ({@link
   * BloodbankOptions#correlation()} or {@link BloodbankOptions#correlationTracker()}).
   *
   * @return the tracker, or empty
   */
  public Optional<CorrelationTracker> correlationTracker() {
    return Optional.ofNullable(tracker);
  }

  /**
   * Returns the recorder publishers hand their causation links to, with its counts of recorded and
   * lost links.
   *
   * @return the recorder, or empty when causation is not tracked
   */
  public Optional<CorrelationRecorder> correlationRecorder() {
    return Optional.ofNullable(recorder);
  }

  /**
   * Returns the shared publisher with {@link PublisherOptions#defaults()}, creating it once.
   *
   * @return the publisher; closing it is allowed and makes the next call create a new one
   */
  public Publisher publisher() {
    AmqpPublisher p = defaultPublisher;
    if (p == null || p.isClosed()) {
      synchronized (lock) {
        p = defaultPublisher;
        if (p == null || p.isClosed()) {
          p = newPublisher(PublisherOptions.defaults());
          defaultPublisher = p;
        }
      }
    }
    return p;
  }

  /**
   * Creates a publisher with its own channels and options.
   *
   * @param publisherOptions the options
   * @return a new publisher; close it when done, or let {@link #close()} do it
   */
  public Publisher publisher(PublisherOptions publisherOptions) {
    Objects.requireNonNull(publisherOptions, "publisherOptions");
    if (publisherOptions.durable() != null) {
      ensureOpen();
      if (embedded != null) {
        throw new BloodbankException(
            "durable publishers need RabbitMQ; the embedded transport keeps no messages on disk");
      }
      WalPublisher p = new WalPublisher(this, publisherOptions);
      durablePublishers.add(p);
      p.start();
      return p;
    }
    return newPublisher(publisherOptions);
  }

  /**
   * Returns why the broker blocks this bus's publishing connection (a memory or disk alarm), while
   * it does. Publishes then wait for their confirm timeout and fail with {@link
   * PublishException.Kind#TIMED_OUT}.
   *
   * @return the broker's reason, or empty when publishing is not blocked
   * @since 0.2.0
   */
  public Optional<String> blockedReason() {
    return Optional.ofNullable(blockedReason);
  }

  AmqpPublisher newPublisher(PublisherOptions publisherOptions) {
    ensureOpen();
    Connection publishing = this.publishing;
    if (publishing == null) {
      throw new ConnectionException(
          "not connected to " + options.addresses() + " yet (lazy connect still trying)", null);
    }
    ValidationMode mode =
        publisherOptions.validation() != null
            ? publisherOptions.validation()
            : options.validation();
    try {
      AmqpPublisher p =
          new AmqpPublisher(this, publishing, publisherOptions, new OutboundChecks(mode));
      publishers.add(p);
      return p;
    } catch (IOException | RuntimeException e) {
      throw new BloodbankException(
          "cannot open publisher channels on " + options.addresses() + ": " + e.getMessage(), e);
    }
  }

  /**
   * Starts a subscriber that hands each event to the handler with a typed payload.
   *
   * <p>Declares (idempotently) the durable queue, its retry queues and dead-letter queue, binds the
   * queue to the exchange with the options' patterns, and starts consuming.
   *
   * @param subscriberOptions patterns, queue and failure policy
   * @param payloadType the payload class; a payload that does not fit is dead-lettered
   * @param handler the handler
   * @param <T> the payload type
   * @return the running subscriber
   * @throws BloodbankException naming the queue and the broker's reply if the queues exist with
   *     other arguments
   */
  public <T> Subscriber subscribe(
      SubscriberOptions subscriberOptions, Class<T> payloadType, EventHandler<T> handler) {
    Objects.requireNonNull(handler, "handler");
    return subscribeWithDelivery(
        subscriberOptions, payloadType, (event, delivery) -> handler.handle(event));
  }

  /**
   * Starts a subscriber whose handler also sees each delivery's attempt number and redelivery flag;
   * otherwise like {@link #subscribe(SubscriberOptions, Class, EventHandler)}.
   *
   * @param subscriberOptions patterns, queue and failure policy
   * @param payloadType the payload class
   * @param handler the handler
   * @param <T> the payload type
   * @return the running subscriber
   */
  public <T> Subscriber subscribeWithDelivery(
      SubscriberOptions subscriberOptions, Class<T> payloadType, DeliveryHandler<T> handler) {
    Objects.requireNonNull(subscriberOptions, "subscriberOptions");
    Objects.requireNonNull(payloadType, "payloadType");
    Objects.requireNonNull(handler, "handler");
    ensureOpen();
    String queue =
        subscriberOptions.temporary()
            ? "(temporary)"
            : subscriberOptions.queueNameFor(options.serviceName());
    try {
      AmqpSubscriber<T> s =
          new AmqpSubscriber<>(
              this, consumingConnection(), subscriberOptions, payloadType, handler);
      subscribers.add(s);
      return s;
    } catch (IOException | ShutdownSignalException e) {
      throw new BloodbankException(
          "cannot set up subscriber queue '" + queue + "': " + brokerReply(e), e);
    }
  }

  /**
   * Starts a subscriber that hands each event to the handler with its payload as a JSON tree.
   *
   * @param subscriberOptions patterns, queue and failure policy
   * @param handler the handler
   * @return the running subscriber
   */
  public Subscriber subscribe(SubscriberOptions subscriberOptions, EventHandler<JsonNode> handler) {
    return subscribe(subscriberOptions, JsonNode.class, handler);
  }

  /**
   * Returns whether the bus is open (not closed by {@link #close()}); it may still be recovering a
   * lost connection.
   *
   * @return true until closed
   */
  public boolean isOpen() {
    return !closed;
  }

  /**
   * Returns whether the publishing connection is currently up.
   *
   * @return false while recovering or after close
   */
  public boolean isConnected() {
    Connection c = publishing;
    return c != null && c.isOpen();
  }

  /**
   * Closes subscribers (gracefully), publishers (waiting for confirms in flight), then the
   * connections. Idempotent.
   */
  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    for (Subscriber s : new ArrayList<>(subscribers)) {
      s.close();
    }
    for (WalPublisher p : new ArrayList<>(durablePublishers)) {
      p.close();
    }
    for (AmqpPublisher p : new ArrayList<>(publishers)) {
      p.close();
    }
    AmqpPublisher sys = systemPublisher;
    if (sys != null) {
      sys.close();
    }
    closeQuietly(consuming);
    closeQuietly(publishing);
    if (ownsEmbedded && embedded != null) {
      embedded.close();
    }
    if (ownsTracker && tracker != null) {
      tracker.close();
    }
    scheduler.shutdownNow();
    callbacks.shutdown();
    try {
      callbacks.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- package-private plumbing -----------------------------------------------------------

  ScheduledExecutorService scheduler() {
    return scheduler;
  }

  ExecutorService callbacks() {
    return callbacks;
  }

  /** The publisher subscribers use to move messages to retry and dead-letter queues. */
  AmqpPublisher systemPublisher() {
    AmqpPublisher p = systemPublisher;
    if (p == null) {
      synchronized (lock) {
        p = systemPublisher;
        if (p == null) {
          Connection publishing = this.publishing;
          if (publishing == null) {
            throw new ConnectionException(
                "not connected to " + options.addresses() + " yet (lazy connect still trying)",
                null);
          }
          try {
            p =
                new AmqpPublisher(
                    this,
                    publishing,
                    PublisherOptions.builder().channels(1).mandatory(true).build(),
                    null);
          } catch (IOException | RuntimeException e) {
            throw new BloodbankException(
                "cannot open the retry publisher channel: " + e.getMessage(), e);
          }
          systemPublisher = p;
        }
      }
    }
    return p;
  }

  /** Schema violations of a received event; empty when valid or when validation is off. */
  List<String> inboundViolations(EventEnvelope<JsonNode> event) {
    if (options.validation() == ValidationMode.SKIP) {
      return List.of();
    }
    List<Violation> found = validator.check(event, ValidationMode.PERMISSIVE);
    if (found.isEmpty()) {
      return List.of();
    }
    List<String> out = new ArrayList<>(found.size());
    for (Violation v : found) {
      out.add(v.envelopePointer() + ": " + v.message());
    }
    return out;
  }

  String inboundViolationClass() {
    return SchemaValidationException.class.getName();
  }

  /** What a publisher does around each event: schema validation before sending. */
  private final class OutboundChecks implements EventInterceptor {
    private final ValidationMode mode;

    OutboundChecks(ValidationMode mode) {
      this.mode = mode;
    }

    @Override
    public EventEnvelope<?> beforeSend(EventEnvelope<?> envelope) {
      if (mode == ValidationMode.SKIP) {
        return envelope;
      }
      // Validate the JSON tree and encode that same tree: the payload is serialized once.
      Object payload = envelope.payload();
      EventEnvelope<?> tree;
      if (payload instanceof JsonNode) {
        tree = envelope;
      } else {
        try {
          tree = envelope.withPayload(codec.objectMapper().<JsonNode>valueToTree(payload));
        } catch (IllegalArgumentException e) {
          throw new BloodbankException(
              "cannot serialize the payload of event '"
                  + envelope.eventType()
                  + "' ("
                  + payload.getClass().getName()
                  + "): "
                  + e.getMessage(),
              e);
        }
      }
      validator.validate(tree, mode);
      return tree;
    }

    @Override
    public void afterSend(EventEnvelope<?> envelope, @Nullable Throwable failure) {
      CorrelationRecorder r = recorder;
      if (failure == null && r != null && !envelope.correlationIds().isEmpty()) {
        Map<String, Object> metadata = new HashMap<>(4);
        metadata.put("event_type", envelope.eventType());
        if (envelope.source().app() != null) {
          metadata.put("source_app", envelope.source().app());
        }
        r.record(envelope.eventId(), envelope.correlationIds(), metadata);
      }
    }
  }

  /** The checks a publisher with this validation mode makes before sending. */
  EventInterceptor outboundChecks(ValidationMode mode) {
    return new OutboundChecks(mode);
  }

  void forget(AmqpPublisher p) {
    publishers.remove(p);
  }

  void forget(WalPublisher p) {
    durablePublishers.remove(p);
  }

  void forget(Subscriber s) {
    subscribers.remove(s);
  }

  private void sweep() {
    try {
      for (AmqpPublisher p : publishers) {
        p.sweep();
      }
      AmqpPublisher sys = systemPublisher;
      if (sys != null) {
        sys.sweep();
      }
    } catch (RuntimeException e) {
      LOG.warn("confirm timeout sweep failed", e);
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new BloodbankException("this Bloodbank is closed");
    }
  }

  private Connection consumingConnection() {
    Connection c = consuming;
    if (c == null) {
      synchronized (lock) {
        c = consuming;
        if (c == null) {
          c = connect("consume");
          consuming = c;
        }
      }
    }
    return c;
  }

  private Connection connect(String role) {
    EmbeddedBroker broker = embedded;
    if (broker != null) {
      try {
        return broker.newConnection(options.serviceName() + "-" + role);
      } catch (IllegalStateException e) {
        throw new ConnectionException("cannot connect to " + broker + ": " + e.getMessage(), e);
      }
    }
    List<Address> addresses = new ArrayList<>();
    for (BloodbankOptions.Address a : options.addresses()) {
      addresses.add(new Address(a.host(), a.port()));
    }
    String where =
        "RabbitMQ at "
            + options.addresses()
            + " (vhost '"
            + options.virtualHost()
            + "', user '"
            + options.username()
            + "')";
    try {
      Connection c = factory.newConnection(addresses, options.serviceName() + "-" + role);
      LOG.debug("connected to {} for {}", where, role);
      return c;
    } catch (PossibleAuthenticationFailureException e) {
      throw new ConnectionException(
          "authentication failed at " + where + ": check the user name and password", e);
    } catch (IOException | TimeoutException | RuntimeException e) {
      Throwable root = e;
      boolean tls = e instanceof SSLException;
      while (root.getCause() != null && root.getCause() != root) {
        root = root.getCause();
        tls |= root instanceof SSLException;
      }
      // A refused certificate ends in a validator exception under the SSLException: say TLS.
      String why =
          tls
              ? "TLS handshake failed: " + root.getMessage()
              : root.getClass().getSimpleName() + ": " + root.getMessage();
      throw new ConnectionException("cannot connect to " + where + ": " + why, e);
    }
  }

  private void declareExchange(Connection c) {
    try {
      Channel ch = c.createChannel();
      try {
        ch.exchangeDeclare(options.exchange(), "topic", true);
      } finally {
        if (ch.isOpen()) {
          ch.close();
        }
      }
    } catch (IOException | TimeoutException | ShutdownSignalException e) {
      closeQuietly(c);
      throw new BloodbankException(
          "cannot declare topic exchange '" + options.exchange() + "': " + brokerReply(e), e);
    }
  }

  static String brokerReply(Throwable e) {
    Throwable t = e;
    while (t != null) {
      if (t instanceof ShutdownSignalException) {
        Object reason = ((ShutdownSignalException) t).getReason();
        if (reason instanceof com.rabbitmq.client.AMQP.Channel.Close) {
          return ((com.rabbitmq.client.AMQP.Channel.Close) reason).getReplyText();
        }
        if (reason instanceof com.rabbitmq.client.AMQP.Connection.Close) {
          return ((com.rabbitmq.client.AMQP.Connection.Close) reason).getReplyText();
        }
      }
      t = t.getCause();
    }
    return String.valueOf(e.getMessage());
  }

  private static void closeQuietly(@Nullable Connection c) {
    if (c == null) {
      return;
    }
    try {
      if (c.isOpen()) {
        c.close(5000);
      } else {
        c.abort(1000);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing connection: {}", e.toString());
    }
  }

  private static ConnectionFactory connectionFactory(BloodbankOptions o) {
    ConnectionFactory f = new ConnectionFactory();
    f.setUsername(o.username());
    f.setPassword(o.password());
    f.setVirtualHost(o.virtualHost());
    f.setRequestedHeartbeat(requestedHeartbeatSeconds(o.heartbeat()));
    f.setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, o.connectionTimeout().toMillis()));
    f.setHandshakeTimeout((int) Math.min(Integer.MAX_VALUE, o.connectionTimeout().toMillis()));
    f.setShutdownTimeout(5000);
    f.setAutomaticRecoveryEnabled(true);
    f.setTopologyRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(o.recoveryInterval().toMillis());
    if (o.tls()) {
      try {
        SSLContext ctx = o.sslContext() != null ? o.sslContext() : SSLContext.getDefault();
        f.useSslProtocol(ctx);
      } catch (NoSuchAlgorithmException e) {
        throw new ConnectionException("no TLS implementation available in this JVM", e);
      }
      if (o.hostnameVerification()) {
        f.enableHostnameVerification();
      }
    }
    return f;
  }

  /**
   * The heartbeat to ask the broker for so that a silent peer is detected within two of the
   * configured heartbeats: amqp-client reads with a timeout of a quarter interval and gives up
   * after nine timeouts in a row, 2.25 intervals.
   */
  static int requestedHeartbeatSeconds(java.time.Duration heartbeat) {
    long s = heartbeat.getSeconds();
    if (s == 0) {
      return 0;
    }
    return (int) Math.max(1, s * 8 / 9);
  }

  private static ThreadFactory daemon(String name) {
    AtomicInteger n = new AtomicInteger();
    return r -> {
      Thread t = new Thread(r, "bloodbank-" + name + "-" + n.incrementAndGet());
      t.setDaemon(true);
      return t;
    };
  }
}
