package dev.bloodbank.embedded;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Consumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.GetResponse;
import com.rabbitmq.client.LongString;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.LongStringHelper;
import dev.bloodbank.internal.TopicMatcher;
import java.io.IOException;
import java.math.BigDecimal;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Date;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * An in-process emulation of the RabbitMQ features Bloodbank relies on, <b>for tests and demos
 * only</b>.
 *
 * <p>It keeps exchanges, queues, bindings, consumers and messages in memory and hands out {@link
 * Connection}s that implement amqp-client's {@code Connection} and {@code Channel} interfaces, so
 * code written against amqp-client (the SDK's own publisher and subscriber included) runs on it
 * unchanged. Usually you do not call it directly: {@code Transport.embedded()} in {@code
 * BloodbankOptions} makes a bus use one.
 *
 * <p><b>Emulated</b>, with RabbitMQ 3.x's observable behaviour: the default exchange and {@code
 * topic}, {@code direct} and {@code fanout} exchanges (topic patterns with {@code *} and {@code
 * #}); durable, exclusive and auto-delete queues, classic and quorum ({@code x-queue-type}); the
 * arguments {@code x-message-ttl}, {@code x-dead-letter-exchange}, {@code
 * x-dead-letter-routing-key} and {@code x-delivery-limit} (quorum); per-message {@code expiration};
 * dead-lettering on reject, expiry and delivery limit with the {@code x-death} and {@code
 * x-first-death-*} headers; publisher confirms; {@code mandatory} returns ({@code 312 NO_ROUTE})
 * delivered before the confirm; manual and automatic acknowledgements, {@code nack}/{@code reject}
 * with and without requeue, the {@code redelivered} flag, and requeueing of unacknowledged
 * deliveries when a channel or connection closes; per-consumer prefetch ({@code basicQos(n)});
 * {@code basicGet}; broker-side cancel of consumers of a deleted queue; the channel errors RabbitMQ
 * raises for the same mistakes (404 {@code NOT_FOUND}, 405 {@code RESOURCE_LOCKED}, 406 {@code
 * PRECONDITION_FAILED} with an {@code inequivalent arg} text, unknown delivery tags); header values
 * as they come back from the wire ({@code String} becomes {@link LongString}, times lose their
 * milliseconds).
 *
 * <p><b>Not emulated</b>: durability across a restart (there is no restart, and nothing survives
 * the JVM), networking and TLS, authentication and virtual hosts, heartbeats, connection recovery
 * and topology recovery (nothing ever fails, so nothing recovers; a connection closed by {@link
 * #close()} stays closed), flow control and blocked connections (blocked listeners are accepted and
 * never called), publisher nacks (every routed or unroutable message is confirmed), headers and
 * exchange-to-exchange bindings, transactions, streams, global (per-channel) prefetch, queue length
 * limits and other queue arguments, consumer priorities. Methods for those throw {@link
 * UnsupportedOperationException} naming what is missing, rather than pretending.
 *
 * <p>Every operation takes one lock; callbacks (deliveries, confirms, returns, shutdown notices)
 * run on a thread per channel and one per connection, never under that lock, in the order the real
 * client gives. Thread-safe.
 */
public final class EmbeddedBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(EmbeddedBroker.class);

  /** How many {@link Event}s the broker keeps; older ones are forgotten. */
  public static final int JOURNAL_CAPACITY = 100_000;

  private static final Set<String> QUEUE_ARGUMENTS =
      Set.of(
          "x-queue-type",
          "x-message-ttl",
          "x-dead-letter-exchange",
          "x-dead-letter-routing-key",
          "x-delivery-limit");

  private static final AtomicInteger INSTANCES = new AtomicInteger();

  final Object lock = new Object();
  private final String name;
  private final Map<String, Exchange> exchanges = new HashMap<>();
  private final Map<String, QueueState> queues = new LinkedHashMap<>();
  private final Set<EmbeddedConnection> connections = ConcurrentHashMap.newKeySet();
  private final ArrayDeque<Event> journal = new ArrayDeque<>();
  private final AtomicLong messageSeq = new AtomicLong();
  private final AtomicInteger connectionSeq = new AtomicInteger();
  private final ScheduledExecutorService timer;
  private volatile boolean closed;

  private EmbeddedBroker() {
    this.name = "embedded-" + INSTANCES.incrementAndGet();
    ScheduledThreadPoolExecutor t =
        new ScheduledThreadPoolExecutor(
            1,
            r -> {
              Thread th = new Thread(r, "bloodbank-" + name + "-ttl");
              th.setDaemon(true);
              return th;
            });
    t.setRemoveOnCancelPolicy(true);
    this.timer = t;
    for (String type : List.of("direct", "fanout", "topic")) {
      exchanges.put("amq." + type, new Exchange("amq." + type, type, true, false));
    }
  }

  /**
   * Starts an empty broker: the default exchange and {@code amq.direct}, {@code amq.fanout}, {@code
   * amq.topic}, no queues.
   *
   * @return the broker; close it when done
   */
  public static EmbeddedBroker create() {
    return new EmbeddedBroker();
  }

  /**
   * Opens a connection to this broker.
   *
   * @param clientProvidedName the connection's name, as {@code ConnectionFactory.newConnection}
   *     takes it
   * @return an open connection; it does not recover, since it cannot fail
   * @throws IllegalStateException if the broker is closed
   */
  public Connection newConnection(String clientProvidedName) {
    Objects.requireNonNull(clientProvidedName, "clientProvidedName");
    if (closed) {
      throw new IllegalStateException("the embedded broker " + name + " is closed");
    }
    EmbeddedConnection c =
        new EmbeddedConnection(this, clientProvidedName, connectionSeq.incrementAndGet());
    connections.add(c);
    return c;
  }

  /**
   * Describes a queue.
   *
   * @param queue the queue name
   * @return its current state, or empty if there is no such queue
   */
  public Optional<QueueInfo> queue(String queue) {
    synchronized (lock) {
      QueueState q = queues.get(queue);
      return q == null ? Optional.empty() : Optional.of(q.info());
    }
  }

  /**
   * Describes every queue, in the order they were declared.
   *
   * @return a snapshot
   */
  public List<QueueInfo> queues() {
    synchronized (lock) {
      List<QueueInfo> out = new ArrayList<>(queues.size());
      for (QueueState q : queues.values()) {
        out.add(q.info());
      }
      return out;
    }
  }

  /**
   * Returns the messages ready in a queue, head first, without consuming them.
   *
   * @param queue the queue name
   * @return a snapshot, empty if there is no such queue
   */
  public List<Message> messages(String queue) {
    synchronized (lock) {
      QueueState q = queues.get(queue);
      if (q == null) {
        return List.of();
      }
      List<Message> out = new ArrayList<>(q.ready.size());
      for (Msg m : q.ready.values()) {
        out.add(new Message(m.exchange, m.routingKey, m.props, m.body, m.redelivered));
      }
      return out;
    }
  }

  /**
   * Returns what happened on the broker, oldest first: the last {@value #JOURNAL_CAPACITY} events.
   *
   * @return a snapshot
   */
  public List<Event> events() {
    synchronized (lock) {
      return List.copyOf(journal);
    }
  }

  /**
   * Returns whether {@link #close()} was not called yet.
   *
   * @return true while open
   */
  public boolean isOpen() {
    return !closed;
  }

  /**
   * Closes every connection (as a broker shutting down would: {@code 320 CONNECTION_FORCED}, not
   * initiated by the application) and drops all state. Idempotent.
   */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    for (EmbeddedConnection c : new ArrayList<>(connections)) {
      c.forceClose(
          new ShutdownSignalException(
              true,
              false,
              new AMQImpl.Connection.Close(
                  AMQP.CONNECTION_FORCED,
                  "CONNECTION_FORCED - broker forced connection closure with reason 'shutdown'",
                  0,
                  0),
              c));
    }
    timer.shutdownNow();
    synchronized (lock) {
      queues.clear();
      exchanges.clear();
    }
  }

  @Override
  public String toString() {
    return "EmbeddedBroker{" + name + "}";
  }

  String name() {
    return name;
  }

  void forget(EmbeddedConnection c) {
    connections.remove(c);
  }

  // ---- public views ------------------------------------------------------------------------

  /**
   * A queue's state.
   *
   * @param name the name
   * @param type {@code classic} or {@code quorum}
   * @param durable whether declared durable
   * @param exclusive whether exclusive to its declaring connection
   * @param autoDelete whether deleted when its last consumer goes
   * @param arguments the declared arguments, as they came back from the wire
   * @param messagesReady messages waiting for a consumer
   * @param messagesUnacknowledged messages delivered and not yet acknowledged
   * @param consumers consumers attached
   */
  public record QueueInfo(
      String name,
      String type,
      boolean durable,
      boolean exclusive,
      boolean autoDelete,
      Map<String, Object> arguments,
      int messagesReady,
      int messagesUnacknowledged,
      int consumers) {}

  /**
   * A message in a queue.
   *
   * @param exchange the exchange it was last published or dead-lettered to
   * @param routingKey the routing key it was last published or dead-lettered with
   * @param properties its properties, headers included
   * @param body its body; do not modify
   * @param redelivered whether it was delivered before
   */
  public record Message(
      String exchange,
      String routingKey,
      AMQP.BasicProperties properties,
      byte[] body,
      boolean redelivered) {}

  /**
   * Something that happened to a message on the broker.
   *
   * @param kind what happened
   * @param time when
   * @param exchange the exchange of the message
   * @param routingKey the routing key of the message
   * @param queue the queue concerned, or null for {@link Kind#PUBLISHED} and {@link Kind#RETURNED}
   * @param properties the message's properties
   * @param body the message's body; do not modify
   * @param detail for {@link Kind#PUBLISHED} the queues it was routed to, for {@link
   *     Kind#DEAD_LETTERED} and {@link Kind#DROPPED} the reason ({@code rejected}, {@code expired},
   *     {@code delivery_limit}); otherwise null
   */
  public record Event(
      Kind kind,
      Instant time,
      String exchange,
      String routingKey,
      @Nullable String queue,
      AMQP.BasicProperties properties,
      byte[] body,
      @Nullable String detail) {}

  /** What happened to a message. */
  public enum Kind {
    /** A client published it (before routing; {@code detail} lists the queues it reached). */
    PUBLISHED,
    /** It was unroutable and published with {@code mandatory}: returned to its publisher. */
    RETURNED,
    /** It was put in {@code queue}, by a publish or by dead-lettering. */
    ENQUEUED,
    /** It was delivered from {@code queue} to a consumer or by {@code basicGet}. */
    DELIVERED,
    /** Its delivery from {@code queue} was acknowledged (or auto-acknowledged). */
    ACKED,
    /** It went back to {@code queue} (nack or reject with requeue, or its channel closed). */
    REQUEUED,
    /** It left {@code queue} for the queue's dead-letter exchange. */
    DEAD_LETTERED,
    /** It left {@code queue} for nowhere (rejected or expired without a dead-letter exchange). */
    DROPPED
  }

  // ---- state ---------------------------------------------------------------------------

  private static final class Exchange {
    final String name;
    final String type;
    final boolean durable;
    final boolean autoDelete;
    final List<String[]> bindings = new ArrayList<>(); // {queue, key}

    Exchange(String name, String type, boolean durable, boolean autoDelete) {
      this.name = name;
      this.type = type;
      this.durable = durable;
      this.autoDelete = autoDelete;
    }

    boolean routes(String key, String routingKey) {
      switch (type) {
        case "fanout":
          return true;
        case "direct":
          return key.equals(routingKey);
        default:
          return TopicMatcher.matches(key, routingKey);
      }
    }
  }

  static final class Msg {
    final long seq;
    final String exchange;
    final String routingKey;
    AMQP.BasicProperties props;
    final byte[] body;
    boolean redelivered;
    long expiresAtNanos = Long.MAX_VALUE;
    int deliveryCount;

    Msg(long seq, String exchange, String routingKey, AMQP.BasicProperties props, byte[] body) {
      this.seq = seq;
      this.exchange = exchange;
      this.routingKey = routingKey;
      this.props = props;
      this.body = body;
    }
  }

  static final class QueueState {
    final String name;
    final boolean durable;
    final boolean exclusive;
    final boolean autoDelete;
    final Map<String, Object> args;
    final @Nullable EmbeddedConnection owner;
    final String type;
    final @Nullable Long messageTtl;
    final @Nullable String dlx;
    final @Nullable String dlrk;
    final int deliveryLimit;
    final TreeMap<Long, Msg> ready = new TreeMap<>();
    final List<ConsumerReg> consumers = new ArrayList<>();
    int unacked;
    int roundRobin;
    boolean hadConsumer;
    boolean deleted;

    QueueState(
        String name,
        boolean durable,
        boolean exclusive,
        boolean autoDelete,
        Map<String, Object> args,
        @Nullable EmbeddedConnection owner) {
      this.name = name;
      this.durable = durable;
      this.exclusive = exclusive;
      this.autoDelete = autoDelete;
      this.args = args;
      this.owner = owner;
      Object t = args.get("x-queue-type");
      this.type = t == null ? "classic" : t.toString();
      Object ttl = args.get("x-message-ttl");
      this.messageTtl = ttl == null ? null : ((Number) ttl).longValue();
      Object x = args.get("x-dead-letter-exchange");
      this.dlx = x == null ? null : x.toString();
      Object k = args.get("x-dead-letter-routing-key");
      this.dlrk = k == null ? null : k.toString();
      Object limit = args.get("x-delivery-limit");
      this.deliveryLimit =
          type.equals("quorum") && limit != null ? ((Number) limit).intValue() : Integer.MAX_VALUE;
    }

    QueueInfo info() {
      return new QueueInfo(
          name,
          type,
          durable,
          exclusive,
          autoDelete,
          Collections.unmodifiableMap(args),
          ready.size(),
          unacked,
          consumers.size());
    }
  }

  static final class ConsumerReg {
    final String tag;
    final EmbeddedChannel channel;
    final QueueState queue;
    final boolean autoAck;
    final int prefetch;
    final Consumer consumer;
    final boolean exclusive;
    int unacked;

    ConsumerReg(
        String tag,
        EmbeddedChannel channel,
        QueueState queue,
        boolean autoAck,
        int prefetch,
        Consumer consumer,
        boolean exclusive) {
      this.tag = tag;
      this.channel = channel;
      this.queue = queue;
      this.autoAck = autoAck;
      this.prefetch = prefetch;
      this.consumer = consumer;
      this.exclusive = exclusive;
    }

    boolean hasCapacity() {
      return autoAck || prefetch == 0 || unacked < prefetch;
    }
  }

  /** A delivery awaiting its acknowledgement, by delivery tag on its channel. */
  static final class Unacked {
    final QueueState queue;
    final Msg msg;
    final @Nullable ConsumerReg consumer;

    Unacked(QueueState queue, Msg msg, @Nullable ConsumerReg consumer) {
      this.queue = queue;
      this.msg = msg;
      this.consumer = consumer;
    }
  }

  // ---- errors ----------------------------------------------------------------------------

  /** A channel error as RabbitMQ raises it: the channel closes with this code and text. */
  static final class ChannelError extends Exception {
    private static final long serialVersionUID = 1L;
    final int code;
    final String text;
    final int classId;
    final int methodId;

    ChannelError(int code, String text, int classId, int methodId) {
      super(text, null, false, false);
      this.code = code;
      this.text = text;
      this.classId = classId;
      this.methodId = methodId;
    }
  }

  static ChannelError notFound(String what, int classId, int methodId) {
    return new ChannelError(
        AMQP.NOT_FOUND, "NOT_FOUND - no " + what + " in vhost '/'", classId, methodId);
  }

  static ChannelError precondition(String text, int classId, int methodId) {
    return new ChannelError(
        AMQP.PRECONDITION_FAILED, "PRECONDITION_FAILED - " + text, classId, methodId);
  }

  static UnsupportedOperationException unsupported(String what) {
    return new UnsupportedOperationException(
        what
            + " is not emulated by the embedded broker (a test-only stand-in for RabbitMQ);"
            + " use the AMQP transport and a real broker for it");
  }

  // ---- exchanges -------------------------------------------------------------------------

  void exchangeDeclare(
      EmbeddedChannel ch,
      String exchange,
      String type,
      boolean durable,
      boolean autoDelete,
      boolean internal,
      @Nullable Map<String, Object> arguments)
      throws ChannelError {
    String t = type.toLowerCase(java.util.Locale.ROOT);
    if (!t.equals("topic") && !t.equals("direct") && !t.equals("fanout")) {
      throw unsupported("exchange type '" + type + "'");
    }
    if (internal) {
      throw unsupported("internal exchanges");
    }
    if (arguments != null && !arguments.isEmpty()) {
      throw unsupported("exchange arguments " + arguments.keySet());
    }
    synchronized (lock) {
      ch.ensureOpen();
      if (exchange.isEmpty()) {
        throw new ChannelError(
            AMQP.ACCESS_REFUSED,
            "ACCESS_REFUSED - operation not permitted on the default exchange",
            40,
            10);
      }
      Exchange e = exchanges.get(exchange);
      if (e == null) {
        if (exchange.startsWith("amq.")) {
          throw new ChannelError(
              AMQP.ACCESS_REFUSED,
              "ACCESS_REFUSED - exchange name '" + exchange + "' contains reserved prefix 'amq.*'",
              40,
              10);
        }
        exchanges.put(exchange, new Exchange(exchange, t, durable, autoDelete));
        return;
      }
      if (!e.type.equals(t)) {
        throw precondition(
            "inequivalent arg 'type' for exchange '"
                + exchange
                + "' in vhost '/': received '"
                + t
                + "' but current is '"
                + e.type
                + "'",
            40,
            10);
      }
      if (e.durable != durable) {
        throw precondition(
            "inequivalent arg 'durable' for exchange '"
                + exchange
                + "' in vhost '/': received '"
                + durable
                + "' but current is '"
                + e.durable
                + "'",
            40,
            10);
      }
    }
  }

  void exchangeDeclarePassive(EmbeddedChannel ch, String exchange) throws ChannelError {
    synchronized (lock) {
      ch.ensureOpen();
      if (!exchange.isEmpty() && !exchanges.containsKey(exchange)) {
        throw notFound("exchange '" + exchange + "'", 40, 10);
      }
    }
  }

  void exchangeDelete(EmbeddedChannel ch, String exchange, boolean ifUnused) throws ChannelError {
    synchronized (lock) {
      ch.ensureOpen();
      if (exchange.isEmpty() || exchange.startsWith("amq.")) {
        throw new ChannelError(
            AMQP.ACCESS_REFUSED,
            "ACCESS_REFUSED - operation not permitted on exchange '" + exchange + "'",
            40,
            20);
      }
      Exchange e = exchanges.get(exchange);
      if (e == null) {
        return;
      }
      if (ifUnused && !e.bindings.isEmpty()) {
        throw precondition("exchange '" + exchange + "' in vhost '/' in use", 40, 20);
      }
      exchanges.remove(exchange);
    }
  }

  // ---- queues ----------------------------------------------------------------------------

  AMQP.Queue.DeclareOk queueDeclare(
      EmbeddedChannel ch,
      String queue,
      boolean durable,
      boolean exclusive,
      boolean autoDelete,
      @Nullable Map<String, Object> arguments)
      throws ChannelError {
    Map<String, Object> args = new LinkedHashMap<>();
    if (arguments != null) {
      for (Map.Entry<String, Object> a : arguments.entrySet()) {
        if (!QUEUE_ARGUMENTS.contains(a.getKey())) {
          throw unsupported("queue argument '" + a.getKey() + "'");
        }
        args.put(a.getKey(), wire(a.getValue()));
      }
    }
    Object type = args.get("x-queue-type");
    String typeName = type == null ? "classic" : type.toString();
    if (!typeName.equals("classic") && !typeName.equals("quorum")) {
      throw unsupported("queue type '" + typeName + "'");
    }
    for (String numeric : List.of("x-message-ttl", "x-delivery-limit")) {
      Object v = args.get(numeric);
      if (v != null && (!(v instanceof Number) || ((Number) v).longValue() < 0)) {
        throw precondition(
            "invalid arg '" + numeric + "' for queue '" + queue + "' in vhost '/': " + v, 50, 10);
      }
    }
    synchronized (lock) {
      ch.ensureOpen();
      String name = queue.isEmpty() ? "amq.gen-" + UUID.randomUUID() : queue;
      if (name.startsWith("amq.") && !queue.isEmpty() && !queues.containsKey(name)) {
        throw new ChannelError(
            AMQP.ACCESS_REFUSED,
            "ACCESS_REFUSED - queue name '" + name + "' contains reserved prefix 'amq.*'",
            50,
            10);
      }
      QueueState q = queues.get(name);
      if (q == null) {
        if (typeName.equals("quorum") && (exclusive || autoDelete || !durable)) {
          String bad = exclusive ? "exclusive" : autoDelete ? "auto-delete" : "non-durable";
          throw precondition(
              "invalid property '" + bad + "' for queue '" + name + "' in vhost '/'", 50, 10);
        }
        q = new QueueState(name, durable, exclusive, autoDelete, args, exclusive ? ch.conn : null);
        queues.put(name, q);
        return new AMQImpl.Queue.DeclareOk(name, 0, 0);
      }
      checkAccess(ch, q, 50, 10);
      if (q.durable != durable) {
        throw precondition(inequivalent("durable", name, durable, q.durable), 50, 10);
      }
      if (q.exclusive != exclusive) {
        throw precondition(inequivalent("exclusive", name, exclusive, q.exclusive), 50, 10);
      }
      if (q.autoDelete != autoDelete) {
        throw precondition(inequivalent("auto_delete", name, autoDelete, q.autoDelete), 50, 10);
      }
      Set<String> keys = new LinkedHashSet<>(q.args.keySet());
      keys.addAll(args.keySet());
      for (String k : keys) {
        Object had = q.args.get(k);
        Object now = args.get(k);
        if (k.equals("x-queue-type")) {
          had = had == null ? "classic" : had;
          now = now == null ? "classic" : now;
        }
        if (!sameArg(had, now)) {
          throw precondition(
              "inequivalent arg '"
                  + k
                  + "' for queue '"
                  + name
                  + "' in vhost '/': received "
                  + describeArg(now)
                  + " but current is "
                  + describeArg(had),
              50,
              10);
        }
      }
      return new AMQImpl.Queue.DeclareOk(name, q.ready.size(), q.consumers.size());
    }
  }

  private static String inequivalent(String arg, String queue, Object received, Object current) {
    return "inequivalent arg '"
        + arg
        + "' for queue '"
        + queue
        + "' in vhost '/': received '"
        + received
        + "' but current is '"
        + current
        + "'";
  }

  private static boolean sameArg(@Nullable Object a, @Nullable Object b) {
    if (a instanceof Number && b instanceof Number) {
      return ((Number) a).longValue() == ((Number) b).longValue();
    }
    if (a == null || b == null) {
      return a == b;
    }
    return a.toString().equals(b.toString());
  }

  private static String describeArg(@Nullable Object v) {
    if (v == null) {
      return "none";
    }
    String type = v instanceof Number ? (v instanceof Long ? "long" : "signedint") : "longstr";
    return "the value '" + v + "' of type '" + type + "'";
  }

  AMQP.Queue.DeclareOk queueDeclarePassive(EmbeddedChannel ch, String queue) throws ChannelError {
    synchronized (lock) {
      ch.ensureOpen();
      QueueState q = existing(ch, queue, 50, 10);
      return new AMQImpl.Queue.DeclareOk(q.name, q.ready.size(), q.consumers.size());
    }
  }

  private QueueState existing(EmbeddedChannel ch, String queue, int classId, int methodId)
      throws ChannelError {
    QueueState q = queues.get(queue);
    if (q == null) {
      throw notFound("queue '" + queue + "'", classId, methodId);
    }
    checkAccess(ch, q, classId, methodId);
    return q;
  }

  private static void checkAccess(EmbeddedChannel ch, QueueState q, int classId, int methodId)
      throws ChannelError {
    if (q.owner != null && q.owner != ch.conn) {
      throw new ChannelError(
          AMQP.RESOURCE_LOCKED,
          "RESOURCE_LOCKED - cannot obtain exclusive access to locked queue '"
              + q.name
              + "' in vhost '/'. It could be originally declared on another connection or the"
              + " exclusive property value does not match that of the original declaration.",
          classId,
          methodId);
    }
  }

  int queueDelete(EmbeddedChannel ch, String queue, boolean ifUnused, boolean ifEmpty)
      throws ChannelError {
    List<Runnable> after = new ArrayList<>();
    int count;
    synchronized (lock) {
      ch.ensureOpen();
      QueueState q = queues.get(queue);
      if (q == null) {
        return 0;
      }
      checkAccess(ch, q, 50, 40);
      if (ifUnused && !q.consumers.isEmpty()) {
        throw precondition("queue '" + queue + "' in vhost '/' in use", 50, 40);
      }
      if (ifEmpty && !q.ready.isEmpty()) {
        throw precondition("queue '" + queue + "' in vhost '/' is not empty", 50, 40);
      }
      count = q.ready.size();
      deleteLocked(q, after);
    }
    runAll(after);
    return count;
  }

  /** Removes a queue, its bindings and consumers; the consumers are told the broker cancelled. */
  private void deleteLocked(QueueState q, List<Runnable> after) {
    q.deleted = true;
    queues.remove(q.name);
    for (Exchange e : exchanges.values()) {
      e.bindings.removeIf(b -> b[0].equals(q.name));
    }
    for (ConsumerReg c : new ArrayList<>(q.consumers)) {
      c.channel.consumers.remove(c.tag);
      EmbeddedChannel channel = c.channel;
      channel.dispatch(() -> c.consumer.handleCancel(c.tag));
    }
    q.consumers.clear();
    q.ready.clear();
  }

  void queueBind(EmbeddedChannel ch, String queue, String exchange, String key, boolean bind)
      throws ChannelError {
    synchronized (lock) {
      ch.ensureOpen();
      int method = bind ? 20 : 50;
      if (exchange.isEmpty()) {
        throw new ChannelError(
            AMQP.ACCESS_REFUSED,
            "ACCESS_REFUSED - operation not permitted on the default exchange",
            50,
            method);
      }
      QueueState q = existing(ch, queue, 50, method);
      Exchange e = exchanges.get(exchange);
      if (e == null) {
        throw notFound("exchange '" + exchange + "'", 50, method);
      }
      e.bindings.removeIf(b -> b[0].equals(q.name) && b[1].equals(key));
      if (bind) {
        e.bindings.add(new String[] {q.name, key});
      }
    }
  }

  int queuePurge(EmbeddedChannel ch, String queue) throws ChannelError {
    synchronized (lock) {
      ch.ensureOpen();
      QueueState q = existing(ch, queue, 50, 30);
      int n = q.ready.size();
      q.ready.clear();
      return n;
    }
  }

  // ---- publish ---------------------------------------------------------------------------

  /**
   * Routes one message. Returns normally even for a missing exchange: like RabbitMQ, that closes
   * the channel asynchronously.
   */
  void publish(
      EmbeddedChannel ch,
      String exchange,
      String routingKey,
      boolean mandatory,
      AMQP.BasicProperties props,
      byte[] body) {
    AMQP.BasicProperties p = wire(props);
    byte[] b = body.clone();
    List<Runnable> after = new ArrayList<>();
    synchronized (lock) {
      ch.ensureOpen();
      long confirmSeq = ch.nextPublishSeq();
      try {
        if (p.getExpiration() != null) {
          parseExpiration(p.getExpiration());
        }
        Exchange e = exchange.isEmpty() ? null : exchanges.get(exchange);
        if (!exchange.isEmpty() && e == null) {
          throw notFound("exchange '" + exchange + "'", 60, 40);
        }
        List<QueueState> targets = route(exchange, e, routingKey);
        List<String> names = new ArrayList<>(targets.size());
        for (QueueState q : targets) {
          names.add(q.name);
        }
        record(Kind.PUBLISHED, exchange, routingKey, null, p, b, String.join(",", names));
        for (QueueState q : targets) {
          enqueue(q, new Msg(messageSeq.incrementAndGet(), exchange, routingKey, p, b));
        }
        if (targets.isEmpty() && mandatory) {
          record(Kind.RETURNED, exchange, routingKey, null, p, b, null);
          ch.deliverReturn(AMQP.NO_ROUTE, "NO_ROUTE", exchange, routingKey, p, b.clone(), after);
        }
        if (confirmSeq > 0) {
          ch.deliverAck(confirmSeq, after);
        }
        for (QueueState q : targets) {
          pump(q, after);
        }
      } catch (ChannelError err) {
        ch.closeByBrokerLocked(err, after);
      }
    }
    runAll(after);
  }

  private List<QueueState> route(String exchange, @Nullable Exchange e, String routingKey) {
    if (e == null) {
      QueueState q = exchange.isEmpty() ? queues.get(routingKey) : null;
      return q == null ? List.of() : List.of(q);
    }
    Set<String> names = new LinkedHashSet<>();
    for (String[] binding : e.bindings) {
      if (e.routes(binding[1], routingKey)) {
        names.add(binding[0]);
      }
    }
    List<QueueState> out = new ArrayList<>(names.size());
    for (String n : names) {
      QueueState q = queues.get(n);
      if (q != null) {
        out.add(q);
      }
    }
    return out;
  }

  private static long parseExpiration(String expiration) throws ChannelError {
    try {
      long v = Long.parseLong(expiration);
      if (v < 0) {
        throw new NumberFormatException();
      }
      return v;
    } catch (NumberFormatException e) {
      throw precondition("invalid expiration '" + expiration + "': no_integer", 60, 40);
    }
  }

  private void enqueue(QueueState q, Msg m) {
    long ttl = q.messageTtl == null ? Long.MAX_VALUE : q.messageTtl;
    if (m.props.getExpiration() != null) {
      try {
        ttl = Math.min(ttl, parseExpiration(m.props.getExpiration()));
      } catch (ChannelError e) {
        // checked at publish
      }
    }
    if (ttl != Long.MAX_VALUE) {
      m.expiresAtNanos = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(ttl);
      scheduleExpiry(q, ttl);
    }
    q.ready.put(m.seq, m);
    record(Kind.ENQUEUED, m.exchange, m.routingKey, q.name, m.props, m.body, null);
  }

  private void scheduleExpiry(QueueState q, long ttlMillis) {
    if (closed) {
      return;
    }
    try {
      timer.schedule(
          () -> {
            List<Runnable> after = new ArrayList<>();
            synchronized (lock) {
              if (!q.deleted) {
                pump(q, after);
              }
            }
            runAll(after);
          },
          // a millisecond late, so the message is surely due when the task looks
          ttlMillis + 1,
          TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.RejectedExecutionException e) {
      // closing
    }
  }

  /**
   * Expires due messages at the head (as RabbitMQ does: a message expires once it reaches the
   * head), then hands ready messages to consumers with spare prefetch, round robin.
   */
  void pump(QueueState q, List<Runnable> after) {
    while (true) {
      expireHead(q, after);
      if (q.ready.isEmpty() || q.consumers.isEmpty()) {
        return;
      }
      ConsumerReg chosen = null;
      int n = q.consumers.size();
      for (int i = 0; i < n; i++) {
        ConsumerReg c = q.consumers.get((q.roundRobin + i) % n);
        if (c.hasCapacity() && c.channel.isOpen()) {
          chosen = c;
          q.roundRobin = (q.roundRobin + i + 1) % n;
          break;
        }
      }
      if (chosen == null) {
        return;
      }
      Msg m = q.ready.pollFirstEntry().getValue();
      deliver(chosen, q, m, after);
    }
  }

  private void expireHead(QueueState q, List<Runnable> after) {
    long now = System.nanoTime();
    while (!q.ready.isEmpty()) {
      Msg head = q.ready.firstEntry().getValue();
      if (head.expiresAtNanos == Long.MAX_VALUE || head.expiresAtNanos - now > 0) {
        return;
      }
      q.ready.pollFirstEntry();
      deadLetter(q, head, "expired", after);
    }
  }

  private void deliver(ConsumerReg c, QueueState q, Msg m, List<Runnable> after) {
    EmbeddedChannel ch = c.channel;
    long tag = ch.nextDeliveryTag();
    AMQP.BasicProperties props = deliveredProps(q, m);
    Envelope env = new Envelope(tag, m.redelivered, m.exchange, m.routingKey);
    record(Kind.DELIVERED, m.exchange, m.routingKey, q.name, props, m.body, null);
    if (c.autoAck) {
      record(Kind.ACKED, m.exchange, m.routingKey, q.name, props, m.body, null);
    } else {
      ch.unacked.put(tag, new Unacked(q, m, c));
      c.unacked++;
      q.unacked++;
    }
    byte[] body = m.body.clone();
    // Handed to the channel's thread now, under the lock, not with the other after-actions: two
    // publishers' pumps run their after-actions concurrently, and a delivery queued later than one
    // with a higher tag would reach the consumer out of order (RabbitMQ delivers a channel's
    // messages in tag order; a consumer acknowledging "up to tag N" relies on it).
    ch.dispatch(
        () -> {
          if (ch.isOpen()) {
            c.consumer.handleDelivery(c.tag, env, props, body);
          }
        });
  }

  private static AMQP.BasicProperties deliveredProps(QueueState q, Msg m) {
    if (!q.type.equals("quorum") || m.deliveryCount == 0) {
      return m.props;
    }
    Map<String, Object> headers =
        m.props.getHeaders() == null ? new HashMap<>() : new HashMap<>(m.props.getHeaders());
    headers.put("x-delivery-count", (long) m.deliveryCount);
    return m.props.builder().headers(headers).build();
  }

  // ---- get, ack, nack ------------------------------------------------------------------

  @Nullable GetResponse basicGet(EmbeddedChannel ch, String queue, boolean autoAck)
      throws ChannelError {
    List<Runnable> after = new ArrayList<>();
    GetResponse response = null;
    synchronized (lock) {
      ch.ensureOpen();
      QueueState q = existing(ch, queue, 60, 70);
      expireHead(q, after);
      Map.Entry<Long, Msg> head = q.ready.pollFirstEntry();
      if (head != null) {
        Msg m = head.getValue();
        long tag = ch.nextDeliveryTag();
        AMQP.BasicProperties props = deliveredProps(q, m);
        record(Kind.DELIVERED, m.exchange, m.routingKey, q.name, props, m.body, null);
        if (autoAck) {
          record(Kind.ACKED, m.exchange, m.routingKey, q.name, props, m.body, null);
        } else {
          ch.unacked.put(tag, new Unacked(q, m, null));
          q.unacked++;
        }
        response =
            new GetResponse(
                new Envelope(tag, m.redelivered, m.exchange, m.routingKey),
                props,
                m.body.clone(),
                q.ready.size());
      }
    }
    runAll(after);
    return response;
  }

  /** Acknowledges ({@code ack}) or rejects deliveries; unknown tags close the channel. */
  void settle(EmbeddedChannel ch, long tag, boolean multiple, boolean ack, boolean requeue) {
    List<Runnable> after = new ArrayList<>();
    synchronized (lock) {
      ch.ensureOpen();
      List<Unacked> settled = new ArrayList<>();
      if (multiple) {
        Map<Long, Unacked> head = tag == 0 ? ch.unacked : ch.unacked.headMap(tag, true);
        settled.addAll(head.values());
        head.clear();
      } else {
        Unacked u = ch.unacked.remove(tag);
        if (u != null) {
          settled.add(u);
        }
      }
      if (settled.isEmpty() && !(multiple && tag == 0)) {
        ch.closeByBrokerLocked(
            precondition("unknown delivery tag " + tag, 60, ack ? 80 : 120), after);
      } else {
        Set<QueueState> touched = new LinkedHashSet<>();
        for (Unacked u : settled) {
          release(u);
          touched.add(u.queue);
          Msg m = u.msg;
          if (ack) {
            record(Kind.ACKED, m.exchange, m.routingKey, u.queue.name, m.props, m.body, null);
          } else if (requeue) {
            requeue(u.queue, m, after);
          } else {
            deadLetter(u.queue, m, "rejected", after);
          }
        }
        for (QueueState q : touched) {
          if (!q.deleted) {
            pump(q, after);
          }
        }
      }
    }
    runAll(after);
  }

  private static void release(Unacked u) {
    if (u.consumer != null) {
      u.consumer.unacked--;
    }
    u.queue.unacked--;
  }

  private void requeue(QueueState q, Msg m, List<Runnable> after) {
    if (q.deleted) {
      return;
    }
    m.redelivered = true;
    if (q.type.equals("quorum")) {
      m.deliveryCount++;
      if (m.deliveryCount > q.deliveryLimit) {
        deadLetter(q, m, "delivery_limit", after);
        return;
      }
    }
    q.ready.put(m.seq, m);
    record(Kind.REQUEUED, m.exchange, m.routingKey, q.name, m.props, m.body, null);
  }

  // ---- dead-lettering ------------------------------------------------------------------

  private void deadLetter(QueueState q, Msg m, String reason, List<Runnable> after) {
    if (q.dlx == null) {
      record(Kind.DROPPED, m.exchange, m.routingKey, q.name, m.props, m.body, reason);
      return;
    }
    Exchange e = q.dlx.isEmpty() ? null : exchanges.get(q.dlx);
    if (!q.dlx.isEmpty() && e == null) {
      LOG.debug("dead-letter exchange '{}' of queue '{}' does not exist", q.dlx, q.name);
      record(Kind.DROPPED, m.exchange, m.routingKey, q.name, m.props, m.body, reason);
      return;
    }
    String key = q.dlrk != null ? q.dlrk : m.routingKey;
    AMQP.BasicProperties props = deathProps(q, m, reason);
    record(Kind.DEAD_LETTERED, m.exchange, m.routingKey, q.name, props, m.body, reason);
    List<Map<String, Object>> deaths = deaths(props);
    for (QueueState target : route(q.dlx, e, key)) {
      if (isCycle(target.name, deaths)) {
        LOG.debug("dead-letter cycle through '{}' without a rejection: dropped", target.name);
        continue;
      }
      enqueue(target, new Msg(messageSeq.incrementAndGet(), q.dlx, key, props, m.body));
      pump(target, after);
    }
  }

  /**
   * RabbitMQ's cycle check: the message already died in the target queue, and no consumer rejected
   * it since (newest x-death entry first), so it would go round for ever.
   */
  private static boolean isCycle(String target, List<Map<String, Object>> deaths) {
    for (Map<String, Object> d : deaths) {
      if ("rejected".equals(String.valueOf(d.get("reason")))) {
        return false;
      }
      if (target.equals(String.valueOf(d.get("queue")))) {
        return true;
      }
    }
    return false;
  }

  @SuppressWarnings("unchecked")
  private static List<Map<String, Object>> deaths(AMQP.BasicProperties props) {
    Object d = props.getHeaders() == null ? null : props.getHeaders().get("x-death");
    return d instanceof List ? (List<Map<String, Object>>) d : List.of();
  }

  /** The properties RabbitMQ gives a dead-lettered message: x-death updated, expiration gone. */
  private static AMQP.BasicProperties deathProps(QueueState q, Msg m, String reason) {
    Map<String, Object> headers =
        m.props.getHeaders() == null ? new HashMap<>() : new HashMap<>(m.props.getHeaders());
    List<Map<String, Object>> deaths = new ArrayList<>(deaths(m.props));
    Map<String, Object> entry = null;
    for (Iterator<Map<String, Object>> it = deaths.iterator(); it.hasNext(); ) {
      Map<String, Object> d = it.next();
      if (q.name.equals(String.valueOf(d.get("queue")))
          && reason.equals(String.valueOf(d.get("reason")))) {
        entry = new HashMap<>(d);
        it.remove();
        break;
      }
    }
    if (entry == null) {
      entry = new HashMap<>();
      entry.put("queue", LongStringHelper.asLongString(q.name));
      entry.put("reason", LongStringHelper.asLongString(reason));
      entry.put("exchange", LongStringHelper.asLongString(m.exchange));
      entry.put("routing-keys", List.of(LongStringHelper.asLongString(m.routingKey)));
      entry.put("count", 0L);
      if (m.props.getExpiration() != null) {
        entry.put("original-expiration", LongStringHelper.asLongString(m.props.getExpiration()));
      }
    }
    entry.put("count", ((Number) entry.get("count")).longValue() + 1);
    entry.put("time", new Date(System.currentTimeMillis() / 1000 * 1000));
    deaths.add(0, entry);
    headers.put("x-death", deaths);
    headers.putIfAbsent("x-first-death-queue", LongStringHelper.asLongString(q.name));
    headers.putIfAbsent("x-first-death-reason", LongStringHelper.asLongString(reason));
    headers.putIfAbsent("x-first-death-exchange", LongStringHelper.asLongString(m.exchange));
    return m.props.builder().headers(headers).expiration(null).build();
  }

  // ---- consumers -------------------------------------------------------------------------

  String consume(
      EmbeddedChannel ch,
      String queue,
      boolean autoAck,
      String consumerTag,
      boolean exclusive,
      @Nullable Map<String, Object> arguments,
      Consumer consumer)
      throws ChannelError {
    if (arguments != null && !arguments.isEmpty()) {
      throw unsupported("consumer arguments " + arguments.keySet());
    }
    List<Runnable> after = new ArrayList<>();
    String tag;
    synchronized (lock) {
      ch.ensureOpen();
      QueueState q = existing(ch, queue, 60, 20);
      for (ConsumerReg c : q.consumers) {
        if (c.exclusive || exclusive) {
          throw new ChannelError(
              AMQP.ACCESS_REFUSED,
              "ACCESS_REFUSED - queue '" + q.name + "' in vhost '/' in exclusive use",
              60,
              20);
        }
      }
      tag = consumerTag.isEmpty() ? "amq.ctag-" + UUID.randomUUID() : consumerTag;
      if (ch.consumers.containsKey(tag)) {
        throw new ChannelError(
            AMQP.NOT_ALLOWED, "NOT_ALLOWED - attempt to reuse consumer tag '" + tag + "'", 60, 20);
      }
      ConsumerReg c = new ConsumerReg(tag, ch, q, autoAck, ch.prefetch, consumer, exclusive);
      ch.consumers.put(tag, c);
      q.consumers.add(c);
      q.hadConsumer = true;
      String t = tag;
      // Queued before its first delivery, as every channel callback is: in the lock's order.
      ch.dispatch(() -> consumer.handleConsumeOk(t));
      pump(q, after);
    }
    runAll(after);
    return tag;
  }

  void cancel(EmbeddedChannel ch, String consumerTag) throws IOException {
    List<Runnable> after = new ArrayList<>();
    synchronized (lock) {
      ch.ensureOpen();
      ConsumerReg c = ch.consumers.remove(consumerTag);
      if (c == null) {
        throw new IOException("Unknown consumerTag");
      }
      removeConsumerLocked(c, after);
      ch.dispatch(() -> c.consumer.handleCancelOk(consumerTag));
    }
    runAll(after);
  }

  private void removeConsumerLocked(ConsumerReg c, List<Runnable> after) {
    QueueState q = c.queue;
    q.consumers.remove(c);
    if (q.autoDelete && q.hadConsumer && q.consumers.isEmpty() && !q.deleted) {
      deleteLocked(q, after);
    }
  }

  void recover(EmbeddedChannel ch) {
    List<Runnable> after = new ArrayList<>();
    synchronized (lock) {
      ch.ensureOpen();
      requeueAllLocked(ch, after);
    }
    runAll(after);
  }

  private void requeueAllLocked(EmbeddedChannel ch, List<Runnable> after) {
    Set<QueueState> touched = new LinkedHashSet<>();
    for (Unacked u : ch.unacked.values()) {
      release(u);
      requeue(u.queue, u.msg, after);
      touched.add(u.queue);
    }
    ch.unacked.clear();
    for (QueueState q : touched) {
      if (!q.deleted) {
        pump(q, after);
      }
    }
  }

  /**
   * Takes a closing channel's consumers and unacknowledged deliveries back: the deliveries return
   * to their queues marked redelivered, as when a client goes away.
   */
  void channelClosedLocked(EmbeddedChannel ch, List<Runnable> after) {
    for (ConsumerReg c : new ArrayList<>(ch.consumers.values())) {
      removeConsumerLocked(c, after);
    }
    requeueAllLocked(ch, after);
  }

  /** Deletes the exclusive queues of a closing connection. */
  void connectionClosedLocked(EmbeddedConnection conn, List<Runnable> after) {
    for (QueueState q : new ArrayList<>(queues.values())) {
      if (q.owner == conn) {
        deleteLocked(q, after);
      }
    }
  }

  static void runAll(List<Runnable> actions) {
    for (Runnable r : actions) {
      try {
        r.run();
      } catch (RuntimeException e) {
        LOG.warn("embedded broker callback failed", e);
      }
    }
  }

  // ---- journal -------------------------------------------------------------------------

  private void record(
      Kind kind,
      String exchange,
      String routingKey,
      @Nullable String queue,
      AMQP.BasicProperties props,
      byte[] body,
      @Nullable String detail) {
    if (journal.size() >= JOURNAL_CAPACITY) {
      journal.pollFirst();
    }
    journal.addLast(
        new Event(kind, Instant.now(), exchange, routingKey, queue, props, body, detail));
  }

  // ---- wire fidelity ---------------------------------------------------------------------

  /** The properties as a consumer would read them back from the wire. */
  static AMQP.BasicProperties wire(AMQP.BasicProperties props) {
    AMQP.BasicProperties.Builder b = props.builder();
    if (props.getHeaders() != null) {
      @SuppressWarnings("unchecked")
      Map<String, Object> h = (Map<String, Object>) wire(props.getHeaders());
      b.headers(h);
    }
    if (props.getTimestamp() != null) {
      b.timestamp(new Date(props.getTimestamp().getTime() / 1000 * 1000));
    }
    return b.build();
  }

  /**
   * A header or argument value as the wire gives it back: strings become {@link LongString}, times
   * lose their milliseconds, arrays become lists; other types are refused as amqp-client refuses
   * them.
   */
  static @Nullable Object wire(@Nullable Object v) {
    if (v == null
        || v instanceof LongString
        || v instanceof Integer
        || v instanceof Long
        || v instanceof Short
        || v instanceof Byte
        || v instanceof Float
        || v instanceof Double
        || v instanceof Boolean
        || v instanceof BigDecimal) {
      return v;
    }
    if (v instanceof String) {
      return LongStringHelper.asLongString((String) v);
    }
    if (v instanceof Date) {
      return new Date(((Date) v).getTime() / 1000 * 1000);
    }
    if (v instanceof byte[]) {
      return ((byte[]) v).clone();
    }
    if (v instanceof Map) {
      Map<String, Object> out = new HashMap<>();
      for (Map.Entry<?, ?> e : ((Map<?, ?>) v).entrySet()) {
        out.put(String.valueOf(e.getKey()), wire(e.getValue()));
      }
      return out;
    }
    if (v instanceof List) {
      List<Object> out = new ArrayList<>();
      for (Object o : (List<?>) v) {
        out.add(wire(o));
      }
      return out;
    }
    if (v instanceof Object[]) {
      return wire(Arrays.asList((Object[]) v));
    }
    throw new IllegalArgumentException("Invalid value type: " + v.getClass().getName());
  }
}
