package dev.bloodbank.embedded;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.BlockedCallback;
import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ExceptionHandler;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.UnblockedCallback;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.DefaultExceptionHandler;
import com.rabbitmq.client.impl.LongStringHelper;
import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process {@link Connection} to an {@link EmbeddedBroker}. Confirms, returns and error
 * notices of its channels run on one thread per connection, as the real client's I/O thread runs
 * them. Not a {@code RecoverableConnection}: it cannot fail, so it never recovers.
 */
final class EmbeddedConnection implements Connection {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedConnection.class);
  static final int CHANNEL_MAX = 2047;

  final EmbeddedBroker broker;
  private final String clientProvidedName;
  private final String label;
  private final Map<Integer, EmbeddedChannel> channels = new ConcurrentHashMap<>();
  private final List<ShutdownListener> shutdownListeners = new CopyOnWriteArrayList<>();
  private final List<BlockedListener> blockedListeners = new CopyOnWriteArrayList<>();
  private final ThreadPoolExecutor io;
  private final ExceptionHandler exceptionHandler = new DefaultExceptionHandler();
  private volatile boolean open = true;
  private volatile @Nullable ShutdownSignalException closeReason;
  private volatile String id;

  EmbeddedConnection(EmbeddedBroker broker, String clientProvidedName, int number) {
    this.broker = broker;
    this.clientProvidedName = clientProvidedName;
    this.label = broker.name() + "-c" + number;
    this.id = label;
    this.io = singleThread("bloodbank-" + label + "-io");
  }

  static ThreadPoolExecutor singleThread(String threadName) {
    ThreadPoolExecutor e =
        new ThreadPoolExecutor(
            1,
            1,
            1,
            TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(),
            r -> {
              Thread t = new Thread(r, threadName);
              t.setDaemon(true);
              return t;
            });
    e.allowCoreThreadTimeOut(true);
    return e;
  }

  String label() {
    return label;
  }

  /** Runs a callback on the connection's thread, after those queued before it. */
  void io(Runnable task) {
    try {
      io.execute(
          () -> {
            try {
              task.run();
            } catch (RuntimeException e) {
              LOG.warn("listener on embedded connection {} failed", label, e);
            }
          });
    } catch (RejectedExecutionException e) {
      // closed
    }
  }

  void forget(EmbeddedChannel ch) {
    channels.remove(ch.getChannelNumber(), ch);
  }

  private ShutdownSignalException ensureOpen() {
    ShutdownSignalException r = closeReason;
    if (!open && r != null) {
      throw new AlreadyClosedException(r);
    }
    return r == null ? new ShutdownSignalException(true, false, null, this) : r;
  }

  // ---- channels --------------------------------------------------------------------------

  @Override
  public @Nullable Channel createChannel() {
    synchronized (broker.lock) {
      ensureOpen();
      for (int n = 1; n <= CHANNEL_MAX; n++) {
        if (!channels.containsKey(n)) {
          return open(n);
        }
      }
      return null;
    }
  }

  @Override
  public @Nullable Channel createChannel(int channelNumber) {
    synchronized (broker.lock) {
      ensureOpen();
      if (channelNumber < 1 || channelNumber > CHANNEL_MAX || channels.containsKey(channelNumber)) {
        return null;
      }
      return open(channelNumber);
    }
  }

  private EmbeddedChannel open(int n) {
    EmbeddedChannel ch = new EmbeddedChannel(this, n);
    channels.put(n, ch);
    return ch;
  }

  // ---- close ---------------------------------------------------------------------------

  @Override
  public void close() {
    close(AMQP.REPLY_SUCCESS, "OK", -1);
  }

  @Override
  public void close(int closeCode, String closeMessage) {
    close(closeCode, closeMessage, -1);
  }

  @Override
  public void close(int timeout) {
    close(AMQP.REPLY_SUCCESS, "OK", timeout);
  }

  @Override
  public void close(int closeCode, String closeMessage, int timeout) {
    ensureOpen();
    shutdown(
        new ShutdownSignalException(
            true, true, new AMQImpl.Connection.Close(closeCode, closeMessage, 0, 0), this));
  }

  @Override
  public void abort() {
    abort(AMQP.REPLY_SUCCESS, "OK", -1);
  }

  @Override
  public void abort(int closeCode, String closeMessage) {
    abort(closeCode, closeMessage, -1);
  }

  @Override
  public void abort(int timeout) {
    abort(AMQP.REPLY_SUCCESS, "OK", timeout);
  }

  @Override
  public void abort(int closeCode, String closeMessage, int timeout) {
    if (open) {
      shutdown(
          new ShutdownSignalException(
              true, true, new AMQImpl.Connection.Close(closeCode, closeMessage, 0, 0), this));
    }
  }

  /** The broker went away: like a connection closed by the server. */
  void forceClose(ShutdownSignalException cause) {
    shutdown(cause);
  }

  private void shutdown(ShutdownSignalException cause) {
    List<Runnable> after = new ArrayList<>();
    List<EmbeddedChannel> closing;
    synchronized (broker.lock) {
      if (!open) {
        return;
      }
      open = false;
      closeReason = cause;
      closing = new ArrayList<>(channels.values());
      for (EmbeddedChannel ch : closing) {
        ch.closeLocked(cause, after);
      }
      broker.connectionClosedLocked(this, after);
    }
    EmbeddedBroker.runAll(after);
    for (EmbeddedChannel ch : closing) {
      ch.notifyListeners();
    }
    notifyListeners();
    io.shutdown();
    broker.forget(this);
  }

  // ---- notifier ------------------------------------------------------------------------

  @Override
  public void addShutdownListener(ShutdownListener listener) {
    shutdownListeners.add(listener);
    ShutdownSignalException r = closeReason;
    if (!open && r != null) {
      listener.shutdownCompleted(r);
    }
  }

  @Override
  public void removeShutdownListener(ShutdownListener listener) {
    shutdownListeners.remove(listener);
  }

  @Override
  public @Nullable ShutdownSignalException getCloseReason() {
    return closeReason;
  }

  @Override
  public void notifyListeners() {
    ShutdownSignalException r = closeReason;
    if (r == null) {
      return;
    }
    for (ShutdownListener l : shutdownListeners) {
      try {
        l.shutdownCompleted(r);
      } catch (RuntimeException e) {
        LOG.warn("shutdown listener of embedded connection {} failed", label, e);
      }
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  // ---- blocked listeners: accepted, never called (no flow control in memory) -------------

  @Override
  public void addBlockedListener(BlockedListener listener) {
    blockedListeners.add(listener);
  }

  @Override
  public BlockedListener addBlockedListener(
      BlockedCallback blockedCallback, UnblockedCallback unblockedCallback) {
    BlockedListener l =
        new BlockedListener() {
          @Override
          public void handleBlocked(String reason) throws java.io.IOException {
            blockedCallback.handle(reason);
          }

          @Override
          public void handleUnblocked() throws java.io.IOException {
            unblockedCallback.handle();
          }
        };
    blockedListeners.add(l);
    return l;
  }

  @Override
  public boolean removeBlockedListener(BlockedListener listener) {
    return blockedListeners.remove(listener);
  }

  @Override
  public void clearBlockedListeners() {
    blockedListeners.clear();
  }

  // ---- descriptive -----------------------------------------------------------------------

  @Override
  public InetAddress getAddress() {
    return InetAddress.getLoopbackAddress();
  }

  @Override
  public int getPort() {
    return 0;
  }

  @Override
  public int getChannelMax() {
    return CHANNEL_MAX;
  }

  @Override
  public int getFrameMax() {
    return 0;
  }

  @Override
  public int getHeartbeat() {
    return 0;
  }

  @Override
  public Map<String, Object> getClientProperties() {
    return Map.of("connection_name", LongStringHelper.asLongString(clientProvidedName));
  }

  @Override
  public String getClientProvidedName() {
    return clientProvidedName;
  }

  @Override
  public Map<String, Object> getServerProperties() {
    return Map.of(
        "product", LongStringHelper.asLongString("Bloodbank embedded broker (test only)"),
        "version", LongStringHelper.asLongString("embedded"));
  }

  @Override
  public ExceptionHandler getExceptionHandler() {
    return exceptionHandler;
  }

  @Override
  public String getId() {
    return id;
  }

  @Override
  public void setId(String id) {
    this.id = id;
  }

  @Override
  public String toString() {
    return "EmbeddedConnection{" + label + ", " + clientProvidedName + "}";
  }
}
