package dev.bloodbank.embedded;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.CancelCallback;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Command;
import com.rabbitmq.client.ConfirmCallback;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Consumer;
import com.rabbitmq.client.ConsumerShutdownSignalCallback;
import com.rabbitmq.client.DeliverCallback;
import com.rabbitmq.client.Delivery;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.Method;
import com.rabbitmq.client.ReturnCallback;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import dev.bloodbank.embedded.EmbeddedBroker.ChannelError;
import dev.bloodbank.embedded.EmbeddedBroker.ConsumerReg;
import dev.bloodbank.embedded.EmbeddedBroker.Unacked;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process {@link Channel} on an {@link EmbeddedConnection}. Consumer callbacks run in order
 * on one thread per channel, like the real client's dispatch; a consumer that throws closes the
 * channel, as the real client's default exception handler does. Methods of features the broker does
 * not emulate throw {@link UnsupportedOperationException}.
 */
final class EmbeddedChannel implements Channel {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedChannel.class);

  /** A consumer callback, which may throw like {@link Consumer}'s methods do. */
  interface Callback {
    void run() throws Exception;
  }

  /** An operation that may raise a channel error. */
  private interface Op<T> {
    T run() throws ChannelError, IOException;
  }

  final EmbeddedConnection conn;
  private final EmbeddedBroker broker;
  private final int number;
  private final ThreadPoolExecutor dispatcher;
  private final List<ConfirmListener> confirmListeners = new CopyOnWriteArrayList<>();
  private final List<ReturnListener> returnListeners = new CopyOnWriteArrayList<>();
  private final List<ShutdownListener> shutdownListeners = new CopyOnWriteArrayList<>();
  private final Object confirmMonitor = new Object();

  // guarded by broker.lock
  final TreeMap<Long, Unacked> unacked = new TreeMap<>();
  final Map<String, ConsumerReg> consumers = new LinkedHashMap<>();
  int prefetch;
  private long deliveryTag;
  private boolean confirmMode;
  private long nextPublishSeqNo;

  // guarded by confirmMonitor
  private long unconfirmed;

  private volatile boolean open = true;
  private volatile @Nullable ShutdownSignalException closeReason;
  private volatile @Nullable Consumer defaultConsumer;

  EmbeddedChannel(EmbeddedConnection conn, int number) {
    this.conn = conn;
    this.broker = conn.broker;
    this.number = number;
    this.dispatcher =
        EmbeddedConnection.singleThread("bloodbank-" + conn.label() + "-ch" + number + "-dispatch");
  }

  // ---- plumbing for the broker -------------------------------------------------------------

  void ensureOpen() {
    if (!open) {
      ShutdownSignalException r = closeReason;
      throw new AlreadyClosedException(
          r != null ? r : new ShutdownSignalException(false, true, null, this));
    }
  }

  long nextDeliveryTag() {
    return ++deliveryTag;
  }

  /** The publish sequence number of this publish, or 0 outside confirm mode. */
  long nextPublishSeq() {
    if (!confirmMode) {
      return 0;
    }
    synchronized (confirmMonitor) {
      unconfirmed++;
    }
    return nextPublishSeqNo++;
  }

  void deliverAck(long seq, List<Runnable> after) {
    after.add(
        () ->
            conn.io(
                () -> {
                  if (open) {
                    for (ConfirmListener l : confirmListeners) {
                      try {
                        l.handleAck(seq, false);
                      } catch (IOException | RuntimeException e) {
                        LOG.warn("confirm listener failed", e);
                      }
                    }
                  }
                  synchronized (confirmMonitor) {
                    unconfirmed--;
                    confirmMonitor.notifyAll();
                  }
                }));
  }

  void deliverReturn(
      int code,
      String text,
      String exchange,
      String routingKey,
      AMQP.BasicProperties props,
      byte[] body,
      List<Runnable> after) {
    after.add(
        () ->
            conn.io(
                () -> {
                  if (!open) {
                    return;
                  }
                  for (ReturnListener l : returnListeners) {
                    try {
                      l.handleReturn(code, text, exchange, routingKey, props, body);
                    } catch (IOException | RuntimeException e) {
                      LOG.warn("return listener failed", e);
                    }
                  }
                }));
  }

  /** Runs a consumer callback on this channel's thread, in order. */
  void dispatch(Callback task) {
    try {
      dispatcher.execute(
          () -> {
            try {
              task.run();
            } catch (Exception | Error e) {
              if (e instanceof VirtualMachineError) {
                throw (Error) e;
              }
              LOG.warn(
                  "consumer on embedded channel {} threw; closing the channel as the real client"
                      + " does",
                  number,
                  e);
              try {
                close(AMQP.REPLY_SUCCESS, "Closed due to exception from Consumer");
              } catch (RuntimeException closing) {
                // already closed
              }
            }
          });
    } catch (RejectedExecutionException e) {
      // the channel closed; whatever was not acknowledged went back to its queue
    }
  }

  /** Closes this channel for a channel error; the shutdown notice follows on the I/O thread. */
  ShutdownSignalException closeByBrokerLocked(ChannelError err, List<Runnable> after) {
    ShutdownSignalException sse =
        new ShutdownSignalException(
            false,
            false,
            new AMQImpl.Channel.Close(err.code, err.text, err.classId, err.methodId),
            this);
    if (open) {
      closeLocked(sse, after);
      after.add(() -> conn.io(this::notifyListeners));
    }
    return sse;
  }

  /** Marks the channel closed and gives its deliveries back; consumers hear of it in order. */
  void closeLocked(ShutdownSignalException cause, List<Runnable> after) {
    open = false;
    closeReason = cause;
    List<ConsumerReg> gone = new ArrayList<>(consumers.values());
    broker.channelClosedLocked(this, after);
    consumers.clear();
    conn.forget(this);
    after.add(
        () -> {
          for (ConsumerReg c : gone) {
            dispatchAnyway(() -> c.consumer.handleShutdownSignal(c.tag, cause));
          }
          dispatcher.shutdown();
          synchronized (confirmMonitor) {
            confirmMonitor.notifyAll();
          }
        });
  }

  private void dispatchAnyway(Callback task) {
    try {
      dispatcher.execute(
          () -> {
            try {
              task.run();
            } catch (Exception e) {
              LOG.debug("consumer shutdown callback failed", e);
            }
          });
    } catch (RejectedExecutionException e) {
      // shut down
    }
  }

  private <T> T call(Op<T> op) throws IOException {
    try {
      return op.run();
    } catch (ChannelError e) {
      List<Runnable> after = new ArrayList<>();
      ShutdownSignalException sse;
      synchronized (broker.lock) {
        sse = closeByBrokerLocked(e, after);
      }
      EmbeddedBroker.runAll(after);
      throw new IOException(sse.getMessage(), sse);
    }
  }

  // ---- identity and lifecycle --------------------------------------------------------------

  @Override
  public int getChannelNumber() {
    return number;
  }

  @Override
  public Connection getConnection() {
    return conn;
  }

  @Override
  public void close() {
    close(AMQP.REPLY_SUCCESS, "OK");
  }

  @Override
  public void close(int closeCode, String closeMessage) {
    ShutdownSignalException sse =
        new ShutdownSignalException(
            false, true, new AMQImpl.Channel.Close(closeCode, closeMessage, 0, 0), this);
    List<Runnable> after = new ArrayList<>();
    synchronized (broker.lock) {
      ensureOpen();
      closeLocked(sse, after);
    }
    EmbeddedBroker.runAll(after);
    notifyListeners();
  }

  @Override
  public void abort() {
    abort(AMQP.REPLY_SUCCESS, "OK");
  }

  @Override
  public void abort(int closeCode, String closeMessage) {
    try {
      close(closeCode, closeMessage);
    } catch (AlreadyClosedException e) {
      // abort ignores it
    }
  }

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
        LOG.warn("shutdown listener of embedded channel {} failed", number, e);
      }
    }
  }

  @Override
  public boolean isOpen() {
    return open;
  }

  @Override
  public String toString() {
    return "EmbeddedChannel{" + conn.label() + "#" + number + "}";
  }

  // ---- listeners ---------------------------------------------------------------------------

  @Override
  public void addReturnListener(ReturnListener listener) {
    returnListeners.add(listener);
  }

  @Override
  public ReturnListener addReturnListener(ReturnCallback returnCallback) {
    ReturnListener l =
        (code, text, exchange, key, props, body) ->
            returnCallback.handle(
                new com.rabbitmq.client.Return(code, text, exchange, key, props, body));
    returnListeners.add(l);
    return l;
  }

  @Override
  public boolean removeReturnListener(ReturnListener listener) {
    return returnListeners.remove(listener);
  }

  @Override
  public void clearReturnListeners() {
    returnListeners.clear();
  }

  @Override
  public void addConfirmListener(ConfirmListener listener) {
    confirmListeners.add(listener);
  }

  @Override
  public ConfirmListener addConfirmListener(
      ConfirmCallback ackCallback, ConfirmCallback nackCallback) {
    ConfirmListener l =
        new ConfirmListener() {
          @Override
          public void handleAck(long deliveryTag, boolean multiple) throws IOException {
            ackCallback.handle(deliveryTag, multiple);
          }

          @Override
          public void handleNack(long deliveryTag, boolean multiple) throws IOException {
            nackCallback.handle(deliveryTag, multiple);
          }
        };
    confirmListeners.add(l);
    return l;
  }

  @Override
  public boolean removeConfirmListener(ConfirmListener listener) {
    return confirmListeners.remove(listener);
  }

  @Override
  public void clearConfirmListeners() {
    confirmListeners.clear();
  }

  @Override
  public @Nullable Consumer getDefaultConsumer() {
    return defaultConsumer;
  }

  @Override
  public void setDefaultConsumer(@Nullable Consumer consumer) {
    this.defaultConsumer = consumer;
  }

  // ---- qos and publish -------------------------------------------------------------------

  @Override
  public void basicQos(int prefetchSize, int prefetchCount, boolean global) {
    if (prefetchSize != 0) {
      throw EmbeddedBroker.unsupported("basicQos with a prefetch size (RabbitMQ refuses it too)");
    }
    if (global) {
      throw EmbeddedBroker.unsupported("global (per-channel) prefetch");
    }
    if (prefetchCount < 0 || prefetchCount > 65535) {
      throw new IllegalArgumentException(
          "Prefetch count must be between 0 and 65535, was " + prefetchCount);
    }
    synchronized (broker.lock) {
      ensureOpen();
      prefetch = prefetchCount;
    }
  }

  @Override
  public void basicQos(int prefetchCount, boolean global) {
    basicQos(0, prefetchCount, global);
  }

  @Override
  public void basicQos(int prefetchCount) {
    basicQos(0, prefetchCount, false);
  }

  @Override
  public void basicPublish(
      String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
    basicPublish(exchange, routingKey, false, false, props, body);
  }

  @Override
  public void basicPublish(
      String exchange,
      String routingKey,
      boolean mandatory,
      AMQP.BasicProperties props,
      byte[] body) {
    basicPublish(exchange, routingKey, mandatory, false, props, body);
  }

  @Override
  public void basicPublish(
      String exchange,
      String routingKey,
      boolean mandatory,
      boolean immediate,
      AMQP.BasicProperties props,
      byte[] body) {
    if (immediate) {
      throw EmbeddedBroker.unsupported("the immediate flag (RabbitMQ refuses it too)");
    }
    broker.publish(
        this,
        exchange,
        routingKey,
        mandatory,
        props == null ? new AMQP.BasicProperties() : props,
        body);
  }

  // ---- exchanges -------------------------------------------------------------------------

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(String exchange, String type) throws IOException {
    return exchangeDeclare(exchange, type, false, false, false, null);
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(String exchange, BuiltinExchangeType type)
      throws IOException {
    return exchangeDeclare(exchange, type.getType());
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(String exchange, String type, boolean durable)
      throws IOException {
    return exchangeDeclare(exchange, type, durable, false, false, null);
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(
      String exchange, BuiltinExchangeType type, boolean durable) throws IOException {
    return exchangeDeclare(exchange, type.getType(), durable);
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(
      String exchange,
      String type,
      boolean durable,
      boolean autoDelete,
      Map<String, Object> arguments)
      throws IOException {
    return exchangeDeclare(exchange, type, durable, autoDelete, false, arguments);
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(
      String exchange,
      BuiltinExchangeType type,
      boolean durable,
      boolean autoDelete,
      Map<String, Object> arguments)
      throws IOException {
    return exchangeDeclare(exchange, type.getType(), durable, autoDelete, false, arguments);
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(
      String exchange,
      String type,
      boolean durable,
      boolean autoDelete,
      boolean internal,
      @Nullable Map<String, Object> arguments)
      throws IOException {
    return call(
        () -> {
          broker.exchangeDeclare(this, exchange, type, durable, autoDelete, internal, arguments);
          return new AMQImpl.Exchange.DeclareOk();
        });
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclare(
      String exchange,
      BuiltinExchangeType type,
      boolean durable,
      boolean autoDelete,
      boolean internal,
      Map<String, Object> arguments)
      throws IOException {
    return exchangeDeclare(exchange, type.getType(), durable, autoDelete, internal, arguments);
  }

  @Override
  public void exchangeDeclareNoWait(
      String exchange,
      String type,
      boolean durable,
      boolean autoDelete,
      boolean internal,
      Map<String, Object> arguments) {
    noWait(() -> exchangeDeclare(exchange, type, durable, autoDelete, internal, arguments));
  }

  @Override
  public void exchangeDeclareNoWait(
      String exchange,
      BuiltinExchangeType type,
      boolean durable,
      boolean autoDelete,
      boolean internal,
      Map<String, Object> arguments) {
    exchangeDeclareNoWait(exchange, type.getType(), durable, autoDelete, internal, arguments);
  }

  /** A no-wait method reports errors only by closing the channel, as on the wire. */
  private void noWait(Op<?> op) {
    try {
      op.run();
    } catch (IOException | ChannelError e) {
      // the channel is closed; its shutdown listeners were told
    }
  }

  @Override
  public AMQP.Exchange.DeclareOk exchangeDeclarePassive(String name) throws IOException {
    return call(
        () -> {
          broker.exchangeDeclarePassive(this, name);
          return new AMQImpl.Exchange.DeclareOk();
        });
  }

  @Override
  public AMQP.Exchange.DeleteOk exchangeDelete(String exchange, boolean ifUnused)
      throws IOException {
    return call(
        () -> {
          broker.exchangeDelete(this, exchange, ifUnused);
          return new AMQImpl.Exchange.DeleteOk();
        });
  }

  @Override
  public void exchangeDeleteNoWait(String exchange, boolean ifUnused) {
    noWait(() -> exchangeDelete(exchange, ifUnused));
  }

  @Override
  public AMQP.Exchange.DeleteOk exchangeDelete(String exchange) throws IOException {
    return exchangeDelete(exchange, false);
  }

  @Override
  public AMQP.Exchange.BindOk exchangeBind(String destination, String source, String routingKey) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  @Override
  public AMQP.Exchange.BindOk exchangeBind(
      String destination, String source, String routingKey, Map<String, Object> arguments) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  @Override
  public void exchangeBindNoWait(
      String destination, String source, String routingKey, Map<String, Object> arguments) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  @Override
  public AMQP.Exchange.UnbindOk exchangeUnbind(
      String destination, String source, String routingKey) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  @Override
  public AMQP.Exchange.UnbindOk exchangeUnbind(
      String destination, String source, String routingKey, Map<String, Object> arguments) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  @Override
  public void exchangeUnbindNoWait(
      String destination, String source, String routingKey, Map<String, Object> arguments) {
    throw EmbeddedBroker.unsupported("exchange-to-exchange binding");
  }

  // ---- queues ----------------------------------------------------------------------------

  @Override
  public AMQP.Queue.DeclareOk queueDeclare() throws IOException {
    return queueDeclare("", false, true, true, null);
  }

  @Override
  public AMQP.Queue.DeclareOk queueDeclare(
      String queue,
      boolean durable,
      boolean exclusive,
      boolean autoDelete,
      @Nullable Map<String, Object> arguments)
      throws IOException {
    return call(() -> broker.queueDeclare(this, queue, durable, exclusive, autoDelete, arguments));
  }

  @Override
  public void queueDeclareNoWait(
      String queue,
      boolean durable,
      boolean exclusive,
      boolean autoDelete,
      Map<String, Object> arguments) {
    noWait(() -> queueDeclare(queue, durable, exclusive, autoDelete, arguments));
  }

  @Override
  public AMQP.Queue.DeclareOk queueDeclarePassive(String queue) throws IOException {
    return call(() -> broker.queueDeclarePassive(this, queue));
  }

  @Override
  public AMQP.Queue.DeleteOk queueDelete(String queue) throws IOException {
    return queueDelete(queue, false, false);
  }

  @Override
  public AMQP.Queue.DeleteOk queueDelete(String queue, boolean ifUnused, boolean ifEmpty)
      throws IOException {
    return call(
        () -> new AMQImpl.Queue.DeleteOk(broker.queueDelete(this, queue, ifUnused, ifEmpty)));
  }

  @Override
  public void queueDeleteNoWait(String queue, boolean ifUnused, boolean ifEmpty) {
    noWait(() -> queueDelete(queue, ifUnused, ifEmpty));
  }

  @Override
  public AMQP.Queue.BindOk queueBind(String queue, String exchange, String routingKey)
      throws IOException {
    return queueBind(queue, exchange, routingKey, null);
  }

  @Override
  public AMQP.Queue.BindOk queueBind(
      String queue, String exchange, String routingKey, @Nullable Map<String, Object> arguments)
      throws IOException {
    if (arguments != null && !arguments.isEmpty()) {
      throw EmbeddedBroker.unsupported("binding arguments " + arguments.keySet());
    }
    return call(
        () -> {
          broker.queueBind(this, queue, exchange, routingKey, true);
          return new AMQImpl.Queue.BindOk();
        });
  }

  @Override
  public void queueBindNoWait(
      String queue, String exchange, String routingKey, Map<String, Object> arguments) {
    noWait(() -> queueBind(queue, exchange, routingKey, arguments));
  }

  @Override
  public AMQP.Queue.UnbindOk queueUnbind(String queue, String exchange, String routingKey)
      throws IOException {
    return queueUnbind(queue, exchange, routingKey, null);
  }

  @Override
  public AMQP.Queue.UnbindOk queueUnbind(
      String queue, String exchange, String routingKey, @Nullable Map<String, Object> arguments)
      throws IOException {
    return call(
        () -> {
          broker.queueBind(this, queue, exchange, routingKey, false);
          return new AMQImpl.Queue.UnbindOk();
        });
  }

  @Override
  public AMQP.Queue.PurgeOk queuePurge(String queue) throws IOException {
    return call(() -> new AMQImpl.Queue.PurgeOk(broker.queuePurge(this, queue)));
  }

  @Override
  public long messageCount(String queue) throws IOException {
    return queueDeclarePassive(queue).getMessageCount();
  }

  @Override
  public long consumerCount(String queue) throws IOException {
    return queueDeclarePassive(queue).getConsumerCount();
  }

  // ---- get, ack ----------------------------------------------------------------------------

  @Override
  public @Nullable GetResponse basicGet(String queue, boolean autoAck) throws IOException {
    return call(() -> broker.basicGet(this, queue, autoAck));
  }

  @Override
  public void basicAck(long deliveryTag, boolean multiple) {
    broker.settle(this, deliveryTag, multiple, true, false);
  }

  @Override
  public void basicNack(long deliveryTag, boolean multiple, boolean requeue) {
    broker.settle(this, deliveryTag, multiple, false, requeue);
  }

  @Override
  public void basicReject(long deliveryTag, boolean requeue) {
    broker.settle(this, deliveryTag, false, false, requeue);
  }

  @Override
  public AMQP.Basic.RecoverOk basicRecover() {
    return basicRecover(true);
  }

  @Override
  public AMQP.Basic.RecoverOk basicRecover(boolean requeue) {
    if (!requeue) {
      throw EmbeddedBroker.unsupported("basic.recover without requeue");
    }
    broker.recover(this);
    return new AMQImpl.Basic.RecoverOk();
  }

  // ---- consume ---------------------------------------------------------------------------

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      boolean noLocal,
      boolean exclusive,
      @Nullable Map<String, Object> arguments,
      Consumer callback)
      throws IOException {
    return call(
        () -> broker.consume(this, queue, autoAck, consumerTag, exclusive, arguments, callback));
  }

  private static Consumer adapt(
      DeliverCallback deliver,
      @Nullable CancelCallback cancel,
      @Nullable ConsumerShutdownSignalCallback shutdown) {
    return new Consumer() {
      @Override
      public void handleConsumeOk(String consumerTag) {}

      @Override
      public void handleCancelOk(String consumerTag) {}

      @Override
      public void handleCancel(String consumerTag) throws IOException {
        if (cancel != null) {
          cancel.handle(consumerTag);
        }
      }

      @Override
      public void handleShutdownSignal(String consumerTag, ShutdownSignalException sig) {
        if (shutdown != null) {
          shutdown.handleShutdownSignal(consumerTag, sig);
        }
      }

      @Override
      public void handleRecoverOk(String consumerTag) {}

      @Override
      public void handleDelivery(
          String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
          throws IOException {
        deliver.handle(consumerTag, new Delivery(envelope, properties, body));
      }
    };
  }

  @Override
  public String basicConsume(String queue, Consumer callback) throws IOException {
    return basicConsume(queue, false, callback);
  }

  @Override
  public String basicConsume(
      String queue, DeliverCallback deliverCallback, CancelCallback cancelCallback)
      throws IOException {
    return basicConsume(queue, false, deliverCallback, cancelCallback);
  }

  @Override
  public String basicConsume(
      String queue,
      DeliverCallback deliverCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(queue, false, deliverCallback, shutdownSignalCallback);
  }

  @Override
  public String basicConsume(
      String queue,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(queue, false, deliverCallback, cancelCallback, shutdownSignalCallback);
  }

  @Override
  public String basicConsume(String queue, boolean autoAck, Consumer callback) throws IOException {
    return basicConsume(queue, autoAck, "", false, false, null, callback);
  }

  @Override
  public String basicConsume(
      String queue, boolean autoAck, DeliverCallback deliverCallback, CancelCallback cancelCallback)
      throws IOException {
    return basicConsume(queue, autoAck, adapt(deliverCallback, cancelCallback, null));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      DeliverCallback deliverCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(queue, autoAck, adapt(deliverCallback, null, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue, autoAck, adapt(deliverCallback, cancelCallback, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue, boolean autoAck, Map<String, Object> arguments, Consumer callback)
      throws IOException {
    return basicConsume(queue, autoAck, "", false, false, arguments, callback);
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback)
      throws IOException {
    return basicConsume(
        queue, autoAck, "", false, false, arguments, adapt(deliverCallback, cancelCallback, null));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        "",
        false,
        false,
        arguments,
        adapt(deliverCallback, null, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        "",
        false,
        false,
        arguments,
        adapt(deliverCallback, cancelCallback, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(String queue, boolean autoAck, String consumerTag, Consumer callback)
      throws IOException {
    return basicConsume(queue, autoAck, consumerTag, false, false, null, callback);
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback)
      throws IOException {
    return basicConsume(queue, autoAck, consumerTag, adapt(deliverCallback, cancelCallback, null));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      DeliverCallback deliverCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue, autoAck, consumerTag, adapt(deliverCallback, null, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        consumerTag,
        adapt(deliverCallback, cancelCallback, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      boolean noLocal,
      boolean exclusive,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        consumerTag,
        noLocal,
        exclusive,
        arguments,
        adapt(deliverCallback, cancelCallback, null));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      boolean noLocal,
      boolean exclusive,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        consumerTag,
        noLocal,
        exclusive,
        arguments,
        adapt(deliverCallback, null, shutdownSignalCallback));
  }

  @Override
  public String basicConsume(
      String queue,
      boolean autoAck,
      String consumerTag,
      boolean noLocal,
      boolean exclusive,
      Map<String, Object> arguments,
      DeliverCallback deliverCallback,
      CancelCallback cancelCallback,
      ConsumerShutdownSignalCallback shutdownSignalCallback)
      throws IOException {
    return basicConsume(
        queue,
        autoAck,
        consumerTag,
        noLocal,
        exclusive,
        arguments,
        adapt(deliverCallback, cancelCallback, shutdownSignalCallback));
  }

  @Override
  public void basicCancel(String consumerTag) throws IOException {
    broker.cancel(this, consumerTag);
  }

  // ---- confirms --------------------------------------------------------------------------

  @Override
  public AMQP.Confirm.SelectOk confirmSelect() {
    synchronized (broker.lock) {
      ensureOpen();
      if (!confirmMode) {
        confirmMode = true;
        nextPublishSeqNo = 1;
      }
    }
    return new AMQImpl.Confirm.SelectOk();
  }

  @Override
  public long getNextPublishSeqNo() {
    synchronized (broker.lock) {
      return confirmMode ? nextPublishSeqNo : 0;
    }
  }

  @Override
  public boolean waitForConfirms() throws InterruptedException {
    try {
      return waitForConfirms(0);
    } catch (TimeoutException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public boolean waitForConfirms(long timeout) throws InterruptedException, TimeoutException {
    synchronized (broker.lock) {
      if (!confirmMode) {
        throw new IllegalStateException("Confirms not selected on a channel");
      }
    }
    long deadline = timeout > 0 ? System.nanoTime() + timeout * 1_000_000L : Long.MAX_VALUE;
    synchronized (confirmMonitor) {
      while (unconfirmed > 0) {
        ShutdownSignalException r = closeReason;
        if (!open && r != null) {
          throw r;
        }
        long left = deadline - System.nanoTime();
        if (timeout > 0 && left <= 0) {
          throw new TimeoutException("timed out waiting for confirms");
        }
        confirmMonitor.wait(timeout > 0 ? Math.max(1, left / 1_000_000L) : 100);
      }
    }
    return true;
  }

  @Override
  public void waitForConfirmsOrDie() throws InterruptedException {
    waitForConfirms();
  }

  @Override
  public void waitForConfirmsOrDie(long timeout) throws InterruptedException, TimeoutException {
    waitForConfirms(timeout);
  }

  // ---- not emulated ------------------------------------------------------------------------

  @Override
  public AMQP.Tx.SelectOk txSelect() {
    throw EmbeddedBroker.unsupported("transactions (tx.select)");
  }

  @Override
  public AMQP.Tx.CommitOk txCommit() {
    throw EmbeddedBroker.unsupported("transactions (tx.commit)");
  }

  @Override
  public AMQP.Tx.RollbackOk txRollback() {
    throw EmbeddedBroker.unsupported("transactions (tx.rollback)");
  }

  @Override
  public void asyncRpc(Method method) {
    throw EmbeddedBroker.unsupported("raw AMQP methods (asyncRpc)");
  }

  @Override
  public Command rpc(Method method) {
    throw EmbeddedBroker.unsupported("raw AMQP methods (rpc)");
  }

  @Override
  public CompletableFuture<Command> asyncCompletableRpc(Method method) {
    throw EmbeddedBroker.unsupported("raw AMQP methods (asyncCompletableRpc)");
  }
}
