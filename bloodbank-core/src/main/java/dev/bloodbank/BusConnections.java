package dev.bloodbank;

import com.rabbitmq.client.Address;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.MissedHeartbeatException;
import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.SocketConfigurators;
import com.rabbitmq.client.impl.DefaultExceptionHandler;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.internal.LogSafe;
import java.io.IOException;
import java.net.Socket;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The bus's two AMQP connections: one for publishing and one for consuming, so that flow control on
 * publishes never stalls deliveries. Connects (at once or lazily in the background), declares the
 * exchange, follows the broker's memory and disk alarms on the publishing connection, and closes
 * within a deadline, aborting past it.
 *
 * <p>Under an alarm the broker stops reading the socket of a connection that publishes, and a write
 * to it then blocks until the alarm clears: publishers check {@link #isBlocked()} and hold their
 * sends instead of writing. A write that was already on its way and got stuck is released by {@link
 * #releaseStuckWrite}, which closes the socket (automatic recovery reconnects). Each connection's
 * socket is known for that reason: closing it is the only way to release a thread blocked in a
 * socket write, and {@code Connection.abort} would itself wait for that thread's lock. Thread-safe.
 */
final class BusConnections {
  private static final Logger LOG = LoggerFactory.getLogger(BusConnections.class);

  /** Longest wait for a channel-level reply from the broker (open, declare, consume). */
  static final Duration MIN_RPC_TIMEOUT = Duration.ofSeconds(30);

  private final BloodbankOptions options;
  private final BusThreads threads;
  private final @Nullable EmbeddedBroker embedded;
  private final Role publish;
  private final Role consume;
  private final List<Runnable> connectedListeners = new CopyOnWriteArrayList<>();
  private final List<Runnable> unblockedListeners = new CopyOnWriteArrayList<>();
  private final Object lock = new Object();
  private final AtomicBoolean releasing = new AtomicBoolean();
  private volatile @Nullable Connection publishing;
  private volatile @Nullable Connection consuming;
  private @Nullable CompletableFuture<Connection> consumingConnect; // guarded by lock
  private volatile @Nullable String blockedReason;
  private volatile long lastConnectWarning;
  private volatile boolean closed;
  // A socket was closed on purpose: the client's complaints about it are expected.
  private volatile boolean forced;

  /** One connection's factory and the socket it last opened. */
  private static final class Role {
    final String name;
    @Nullable ConnectionFactory factory; // set once in the constructor
    volatile @Nullable Socket socket;

    Role(String name) {
      this.name = name;
    }
  }

  BusConnections(BloodbankOptions options, BusThreads threads, @Nullable EmbeddedBroker embedded) {
    this(options, threads, embedded, null);
  }

  /**
   * @param metrics amqp-client's own metrics for both connections, or null
   */
  BusConnections(
      BloodbankOptions options,
      BusThreads threads,
      @Nullable EmbeddedBroker embedded,
      com.rabbitmq.client.@Nullable MetricsCollector metrics) {
    this.options = options;
    this.threads = threads;
    this.embedded = embedded;
    boolean amqp = embedded == null;
    this.publish = new Role("publish");
    this.consume = new Role("consume");
    // The publishing connection's threads read confirms: Bloodbank needs them to make progress.
    publish.factory = amqp ? connectionFactory(options, "publish", true, publish) : null;
    consume.factory = amqp ? connectionFactory(options, "consume", false, consume) : null;
    if (metrics != null) {
      for (Role r : List.of(publish, consume)) {
        if (r.factory != null) {
          r.factory.setMetricsCollector(metrics);
        }
      }
    }
  }

  /**
   * Opens the publishing connection and declares the exchange, or, with a lazy connect, starts
   * trying in the background.
   *
   * @throws ConnectionException when the broker cannot be reached and the connect is not lazy
   */
  void start() {
    Connection c;
    try {
      c = connect(publish);
      declareExchange(c);
    } catch (ConnectionException e) {
      if (!options.lazyConnect() || embedded != null) {
        throw e;
      }
      LOG.warn("{}; connecting in the background (lazy connect)", e.getMessage());
      lastConnectWarning = System.nanoTime();
      threads.later(this::connectInBackground, options.recoveryInterval().toNanos(), () -> {});
      return;
    }
    connected(c);
  }

  /** One attempt of a lazy connect; reschedules itself until connected or closed. */
  private void connectInBackground() {
    if (closed || publishing != null) {
      return;
    }
    try {
      Connection c = connect(publish);
      try {
        declareExchange(c);
      } catch (RuntimeException e) {
        closeQuietly(c, 1000);
        throw e;
      }
      synchronized (lock) {
        // Under the lock that close() takes first: either close sees this connection, or this
        // sees close.
        if (closed) {
          closeQuietly(c, 1000);
          return;
        }
        LOG.info("connected to {} after a lazy start", options.addresses());
        connected(c);
      }
    } catch (RuntimeException e) {
      long now = System.nanoTime();
      if (now - lastConnectWarning > TimeUnit.MINUTES.toNanos(1)) {
        lastConnectWarning = now;
        LOG.warn("{}; still trying every {}", e.getMessage(), options.recoveryInterval());
      } else {
        LOG.debug("lazy connect attempt failed: {}", e.getMessage());
      }
      if (!closed) {
        try {
          threads.later(this::connectInBackground, options.recoveryInterval().toNanos(), () -> {});
        } catch (java.util.concurrent.RejectedExecutionException closing) {
          // the bus is closing
        }
      }
    }
  }

  /** Makes a new publishing connection current and tells whoever waits for one. */
  private void connected(Connection c) {
    c.addBlockedListener(
        new BlockedListener() {
          @Override
          public void handleBlocked(String reason) {
            blocked(reason);
          }

          @Override
          public void handleUnblocked() {
            unblocked();
          }
        });
    if (c instanceof Recoverable) {
      ((Recoverable) c)
          .addRecoveryListener(
              new RecoveryListener() {
                @Override
                public void handleRecovery(Recoverable recoverable) {
                  forced = false;
                  // A new socket starts unblocked; the broker says again if it still blocks.
                  unblocked();
                  fire(connectedListeners);
                }

                @Override
                public void handleRecoveryStarted(Recoverable recoverable) {}
              });
    }
    publishing = c;
    fire(connectedListeners);
  }

  /** The broker stopped reading the publishing connection's socket (a memory or disk alarm). */
  void blocked(String reason) {
    blockedReason = reason;
    LOG.warn(
        "the broker blocked publishing on {}: {}; sends are held until it unblocks",
        options.addresses(),
        LogSafe.escape(reason));
  }

  /** The broker reads again, or a new connection replaced the blocked one. */
  void unblocked() {
    if (blockedReason != null) {
      blockedReason = null;
      LOG.info("the broker unblocked publishing on {}", options.addresses());
      fire(unblockedListeners);
    }
  }

  /** Runs internal listeners on the I/O pool: they may send, and this is a connection thread. */
  private void fire(List<Runnable> listeners) {
    for (Runnable r : listeners) {
      threads.io(r, () -> {});
    }
  }

  /**
   * Runs the listener (on an I/O thread) each time the publishing connection comes up: after a lazy
   * connect and after each recovery; also once now if it is up already. It must not block for long.
   */
  void onConnected(Runnable listener) {
    connectedListeners.add(listener);
    if (isConnected()) {
      threads.io(listener, () -> {});
    }
  }

  /** Runs the listener (on an I/O thread) each time the broker stops blocking publishing. */
  void onUnblocked(Runnable listener) {
    unblockedListeners.add(listener);
  }

  void removeListener(Runnable listener) {
    connectedListeners.remove(listener);
    unblockedListeners.remove(listener);
  }

  /** Whether the consuming connection is open (false before the first subscriber made it). */
  boolean isConsumingOpen() {
    Connection c = consuming;
    return c != null && c.isOpen();
  }

  /** The publishing connection, or null before a lazy connect succeeded. */
  @Nullable Connection publishing() {
    return publishing;
  }

  /**
   * The publishing connection.
   *
   * @throws ConnectionException before a lazy connect succeeded
   */
  Connection requirePublishing() {
    Connection c = publishing;
    if (c == null) {
      throw new ConnectionException(
          "not connected to " + options.addresses() + " yet (lazy connect still trying)", null);
    }
    return c;
  }

  /**
   * The consuming connection, opened on first use.
   *
   * @throws BloodbankException once closed
   */
  Connection consuming() {
    Connection c = consuming;
    if (c != null) {
      return c;
    }
    CompletableFuture<Connection> connecting;
    boolean mine = false;
    synchronized (lock) {
      if (closed) {
        throw new BloodbankException("this Bloodbank is closed");
      }
      if (consuming != null) {
        return consuming;
      }
      connecting = consumingConnect;
      if (connecting == null) {
        // Connected outside the lock, so that close() never waits for a connect.
        connecting = new CompletableFuture<>();
        consumingConnect = connecting;
        mine = true;
      }
    }
    if (!mine) {
      try {
        return connecting.get(2 * options.connectionTimeout().toMillis(), TimeUnit.MILLISECONDS);
      } catch (ExecutionException e) {
        throw e.getCause() instanceof RuntimeException r
            ? r
            : new ConnectionException("cannot connect: " + e.getCause(), e.getCause());
      } catch (TimeoutException e) {
        throw new ConnectionException(
            "no consuming connection to " + options.addresses() + " within the timeout", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new BloodbankException("interrupted while connecting", e);
      }
    }
    try {
      Connection made = connect(consume);
      synchronized (lock) {
        consumingConnect = null;
        if (closed) {
          closeQuietly(made, 1000);
          throw new BloodbankException("this Bloodbank is closed");
        }
        consuming = made;
      }
      connecting.complete(made);
      return made;
    } catch (RuntimeException e) {
      synchronized (lock) {
        consumingConnect = null;
      }
      connecting.completeExceptionally(e);
      throw e;
    }
  }

  boolean isConnected() {
    Connection c = publishing;
    return c != null && c.isOpen();
  }

  /**
   * Whether a connection of this bus is down and being brought back by amqp-client: it is
   * recoverable, it dropped without the application closing it (amqp-client's own rule for starting
   * a recovery), and the bus is open. False again once recovery swapped in the new connection.
   * Asked per send: one uncontended monitor in amqp-client, nothing else. (A shutdown listener
   * cannot tell: amqp-client runs the whole recovery inside its own listener, which comes first.)
   */
  boolean isRecovering(Connection c) {
    if (closed || !(c instanceof Recoverable)) {
      return false;
    }
    ShutdownSignalException cause = c.getCloseReason();
    return cause != null
        && (!cause.isInitiatedByApplication()
            || cause.getCause() instanceof MissedHeartbeatException);
  }

  /** Whether the broker blocks the publishing connection (a memory or disk alarm). */
  boolean isBlocked() {
    return blockedReason != null;
  }

  @Nullable String blockedReason() {
    return blockedReason;
  }

  /** The routing key of {@link #probeBlocked()}: on the default exchange no queue has it. */
  static final String PROBE_ROUTING_KEY = "bloodbank.blocked-probe.no-such-queue";

  private static final long PROBE_EVERY_NANOS = 1_000_000_000L;
  private final Object probeLock = new Object();
  private volatile long lastProbe = System.nanoTime() - PROBE_EVERY_NANOS;
  private com.rabbitmq.client.@Nullable Channel probeChannel; // guarded by probeLock
  // The connection the probe channel belongs to (the channel's own getConnection() names the
  // recovering connection's current delegate, so it cannot tell).
  private @Nullable Connection probeConnection; // guarded by probeLock

  /**
   * Sends an empty message to the default exchange under a key no queue has (the broker drops it),
   * at most once a second, so that a broker under a memory or disk alarm says so now: RabbitMQ
   * blocks a connection, and tells it, only once it publishes. Skipped while not connected or
   * already blocked (the answer is known); never throws.
   */
  void probeBlocked() {
    long now = System.nanoTime();
    if (now - lastProbe < PROBE_EVERY_NANOS || blockedReason != null || closed) {
      return;
    }
    lastProbe = now;
    Connection c = publishing;
    if (c == null || !c.isOpen()) {
      return;
    }
    synchronized (probeLock) {
      try {
        com.rabbitmq.client.Channel ch = probeChannel;
        if (ch == null || !ch.isOpen() || probeConnection != c) {
          ch = c.createChannel();
          probeChannel = ch;
          probeConnection = c;
        }
        if (ch != null) {
          ch.basicPublish("", PROBE_ROUTING_KEY, false, null, new byte[0]);
        }
      } catch (IOException | RuntimeException e) {
        LOG.debug("blocked-probe on {} failed: {}", options.addresses(), e.toString());
      }
    }
  }

  /**
   * Releases a thread stuck writing to the publishing connection: the broker has not read its
   * socket for longer than a confirm timeout. Closes that socket on an I/O thread; the connection
   * then recovers by itself, and whatever awaited a confirm on it fails as connection lost (and is
   * retried). At most one release at a time.
   */
  void releaseStuckWrite(Duration stuckFor) {
    if (!releasing.compareAndSet(false, true)) {
      return;
    }
    threads.io(
        () -> {
          try {
            Socket s = publish.socket;
            String why = blockedReason;
            LOG.warn(
                "a write to {} has been blocked for {} ms{}; closing the publishing connection to"
                    + " release it (it recovers by itself)",
                options.addresses(),
                stuckFor.toMillis(),
                why == null ? "" : " (the broker blocks publishing: " + LogSafe.escape(why) + ")");
            forced = true;
            closeSocket(s);
          } finally {
            releasing.set(false);
          }
        },
        () -> releasing.set(false));
  }

  /**
   * Opens a channel, failing with a reason when the connection has none left: amqp-client returns
   * null at {@code channel_max}, which a caller would only meet later as a NullPointerException.
   */
  static Channel openChannel(Connection connection) throws IOException {
    Channel ch = connection.createChannel();
    if (ch == null) {
      throw new IOException("the broker has no free channel (channel_max reached)");
    }
    return ch;
  }

  /** Closes a short-lived channel; one the broker closed already (after an error) is left be. */
  static void closeQuietly(Channel ch) {
    try {
      if (ch.isOpen()) {
        ch.close();
      } else {
        ch.abort(); // its connection is recovering: abort stops recovery from bringing it back
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      // closed by the broker's error already
    }
  }

  /**
   * Closes both connections within the deadline: gracefully first, then by closing their sockets,
   * which releases any thread stuck in a write. Nothing is opened afterwards.
   */
  void close(long deadlineNanos) {
    synchronized (lock) {
      closed = true;
    }
    connectedListeners.clear();
    unblockedListeners.clear();
    List<CompletableFuture<Void>> closing = new ArrayList<>(2);
    List<Role> roles = new ArrayList<>(2);
    for (Role role : List.of(consume, publish)) {
      Connection c = role == publish ? publishing : consuming;
      if (c == null) {
        continue;
      }
      roles.add(role);
      if (role == publish && isBlocked()) {
        // The broker reads nothing from a blocked connection: its close-ok would never come.
        LOG.info(
            "closing the publishing connection to {} by its socket: the broker blocks it",
            options.addresses());
        forced = true;
        closeSocket(role.socket);
      }
      // On their own threads: a graceful close can wait on a lock held by a stuck writer.
      CompletableFuture<Void> f = new CompletableFuture<>();
      Thread t =
          new Thread(
              () -> {
                closeQuietly(c, remainingMillis(deadlineNanos));
                f.complete(null);
              },
              "bloodbank-close-" + role.name);
      t.setDaemon(true);
      t.start();
      closing.add(f);
    }
    for (int i = 0; i < closing.size(); i++) {
      if (!awaitDone(closing.get(i), deadlineNanos)) {
        Role role = roles.get(i);
        LOG.warn(
            "the {} connection to {} did not close within the shutdown timeout; closing its socket",
            role.name,
            options.addresses());
        forced = true;
        closeSocket(role.socket);
        awaitDone(closing.get(i), System.nanoTime() + TimeUnit.SECONDS.toNanos(2));
      }
    }
  }

  private static boolean awaitDone(CompletableFuture<Void> f, long deadlineNanos) {
    try {
      f.get(Math.max(0, deadlineNanos - System.nanoTime()), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException | ExecutionException e) {
      return f.isDone();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private static int remainingMillis(long deadlineNanos) {
    long ms = TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime());
    return (int) Math.max(1, Math.min(Integer.MAX_VALUE, ms));
  }

  private static void closeSocket(@Nullable Socket s) {
    if (s == null) {
      return;
    }
    try {
      // No linger: a TLS socket's close otherwise sends close_notify under the lock a stuck writer
      // holds, and would wait for it.
      s.setSoLinger(true, 0);
    } catch (IOException | RuntimeException e) {
      LOG.debug("setting SO_LINGER: {}", e.toString());
    }
    try {
      s.close();
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing a socket: {}", e.toString());
    }
  }

  private Connection connect(Role role) {
    EmbeddedBroker broker = embedded;
    if (broker != null) {
      try {
        return broker.newConnection(options.serviceName() + "-" + role.name);
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
      ConnectionFactory f = java.util.Objects.requireNonNull(role.factory);
      Connection c = f.newConnection(addresses, options.serviceName() + "-" + role.name);
      LOG.debug("connected to {} for {}", where, role.name);
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
      closeQuietly(c, 1000);
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

  private static void closeQuietly(Connection c, int timeoutMillis) {
    try {
      if (c.isOpen()) {
        c.close(timeoutMillis);
      } else {
        // Stops automatic recovery of a connection that is down.
        c.abort(timeoutMillis);
      }
    } catch (IOException | RuntimeException e) {
      LOG.debug("closing connection: {}", e.toString());
      try {
        c.abort(1000);
      } catch (RuntimeException again) {
        LOG.debug("aborting connection: {}", again.toString());
      }
    }
  }

  private ConnectionFactory connectionFactory(
      BloodbankOptions o, String role, boolean needed, Role owner) {
    ConnectionFactory f = new ConnectionFactory();
    f.setExceptionHandler(
        new DefaultExceptionHandler() {
          @Override
          public void handleUnexpectedConnectionDriverException(Connection conn, Throwable e) {
            if (closed || forced) {
              LOG.debug("connection {} after its socket was closed: {}", conn, e.toString());
            } else {
              super.handleUnexpectedConnectionDriverException(conn, e);
            }
          }
        });
    f.setUsername(o.username());
    f.setPassword(o.password());
    f.setVirtualHost(o.virtualHost());
    f.setRequestedHeartbeat(requestedHeartbeatSeconds(o.heartbeat()));
    f.setConnectionTimeout((int) Math.min(Integer.MAX_VALUE, o.connectionTimeout().toMillis()));
    f.setHandshakeTimeout((int) Math.min(Integer.MAX_VALUE, o.connectionTimeout().toMillis()));
    f.setShutdownTimeout(5000);
    // amqp-client's default is 10 minutes.
    long rpc = Math.max(MIN_RPC_TIMEOUT.toMillis(), o.connectionTimeout().toMillis());
    f.setChannelRpcTimeout((int) Math.min(Integer.MAX_VALUE, rpc));
    f.setAutomaticRecoveryEnabled(true);
    f.setTopologyRecoveryEnabled(true);
    f.setNetworkRecoveryInterval(o.recoveryInterval().toMillis());
    f.setThreadFactory(BusThreads.factory("amqp-" + role, needed));
    f.setSocketConfigurator(
        SocketConfigurators.defaultConfigurator()
            .andThen(
                socket -> {
                  owner.socket = socket;
                }));
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
  static int requestedHeartbeatSeconds(Duration heartbeat) {
    long s = heartbeat.getSeconds();
    if (s == 0) {
      return 0;
    }
    return (int) Math.max(1, s * 8 / 9);
  }
}
