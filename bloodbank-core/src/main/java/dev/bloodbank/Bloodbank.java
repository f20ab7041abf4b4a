package dev.bloodbank;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ArchiveStats;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.correlation.CorrelationRecorder;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.deadletter.DeadLetters;
import dev.bloodbank.embedded.EmbeddedBroker;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.observability.BloodbankObservability;
import dev.bloodbank.registry.EventRegistry;
import dev.bloodbank.validation.EventValidator;
import dev.bloodbank.wal.DurablePublisher;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.Supplier;
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
 * so that flow control on publishes never stalls deliveries), declares the durable topic exchange,
 * and owns the threads its publishers and subscribers run on (see "Threads" in the {@linkplain
 * dev.bloodbank package documentation}). Closing it closes every publisher and subscriber it made,
 * within {@link BloodbankOptions#shutdownTimeout()}. Thread-safe.
 *
 * <p>With {@link Transport#embedded()} in the options the same publishers and subscribers run on an
 * in-process {@link EmbeddedBroker} instead, for tests and demos.
 */
public final class Bloodbank implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Bloodbank.class);
  private static final long SWEEP_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final BloodbankOptions options;
  private final EventRegistry registry;
  private final EventValidator validator;
  private final @Nullable CorrelationTracker tracker;
  private final @Nullable CorrelationRecorder recorder;
  private final BusThreads threads;
  private final BusConnections connections;
  private final BusContext ctx;
  private final boolean embedded;
  // What the bus owns beyond its children, released last-in first-out by close() and by a
  // constructor that fails half-way.
  private final Deque<Consumer<Long>> teardown = new ArrayDeque<>();
  private final Set<AmqpPublisher> publishers = ConcurrentHashMap.newKeySet();
  private final Set<WalPublisher> durablePublishers = ConcurrentHashMap.newKeySet();
  private final Set<AmqpSubscriber<?>> subscribers = ConcurrentHashMap.newKeySet();
  private final Set<StreamReplay<?>> replays = ConcurrentHashMap.newKeySet();
  private final Object lock = new Object();
  private final Object defaultLock = new Object();
  private final Object systemLock = new Object();
  private int creating; // guarded by lock: children being made right now
  private volatile @Nullable AmqpPublisher defaultPublisher;
  private volatile @Nullable AmqpPublisher systemPublisher;
  private volatile boolean closed;
  private final BusObserver observer;

  private Bloodbank(BloodbankOptions options) {
    this.options = options;
    EventCodec codec = EventCodec.create(options.decodeLimits());
    this.registry = EventRegistry.fromClasspath();
    this.validator = EventValidator.create(registry, codec.objectMapper());
    this.observer = BusObserver.of(options.observability(), registry::contains);
    try {
      this.threads = new BusThreads(options.callbackExecutor());
      teardown.push(threads::shutdown);
      Transport transport = options.transport();
      this.embedded = transport.isEmbedded();
      EmbeddedBroker broker = null;
      if (embedded) {
        broker = transport.broker().orElse(null);
        if (broker == null) {
          EmbeddedBroker own = EmbeddedBroker.create();
          teardown.push(deadline -> own.close());
          broker = own;
        }
      }
      // Before the Redis client: TLS set-up fails here, and nothing would release that client.
      this.connections = new BusConnections(options, threads, broker, observer.amqpMetrics());
      RedisTrackerOptions redis = options.correlation();
      CorrelationTracker given = options.correlationTracker();
      if (given != null) {
        this.tracker = given;
      } else if (redis != null) {
        CorrelationTracker own = CorrelationTracker.redis(redis);
        teardown.push(deadline -> own.close());
        this.tracker = own;
      } else {
        this.tracker = null;
      }
      this.recorder =
          tracker == null
              ? null
              : new CorrelationRecorder(
                  tracker,
                  redis != null
                      ? redis.maxPendingRecordings()
                      : RedisTrackerOptions.DEFAULT_MAX_PENDING_RECORDINGS);
      this.ctx =
          new BusContext(
              options,
              threads,
              connections,
              new EventChecks(codec, validator, options.validation(), recorder),
              observer);
      teardown.push(connections::close);
      teardown.push(deadline -> observer.close());
      bindMeters();
      connections.start();
      threads.every(this::sweep, SWEEP_NANOS);
    } catch (RuntimeException | Error e) {
      release(System.nanoTime() + options.shutdownTimeout().toNanos());
      throw e;
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
    return ctx.codec();
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
   * Returns the executor that completes publish futures and runs the bus's other callbacks to
   * application code: {@link BloodbankOptions#callbackExecutor()} when given, else the bus's own
   * growing pool. Code built on the bus (command clients, say) completes its own futures here too,
   * so that nothing an application runs in a continuation can stall a Bloodbank thread.
   *
   * @return the executor; it refuses tasks once the bus is closed (unless it is the application's)
   * @since 0.2.0
   */
  public Executor callbackExecutor() {
    return threads.callbacks();
  }

  /**
   * Returns the shared publisher with {@link PublisherOptions#defaults()}, creating it once.
   *
   * @return the publisher; closing it is allowed and makes the next call create a new one
   * @throws ConnectionException before a lazy connect succeeded
   * @throws BloodbankException once the bus is closed
   */
  public Publisher publisher() {
    AmqpPublisher p = defaultPublisher;
    if (p == null || p.isClosed()) {
      // Not the bus's lock: close() must never wait for channels to open.
      synchronized (defaultLock) {
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
   * Creates a publisher with its own channels and options; a durable one ({@link
   * PublisherOptions#durable()}) is a {@link DurablePublisher}.
   *
   * @param publisherOptions the options
   * @return a new publisher; close it when done, or let {@link #close()} do it
   * @throws ConnectionException before a lazy connect succeeded (not for a durable publisher, which
   *     logs events until the broker is there)
   * @throws BloodbankException once the bus is closed
   */
  public Publisher publisher(PublisherOptions publisherOptions) {
    Objects.requireNonNull(publisherOptions, "publisherOptions");
    if (publisherOptions.durable() != null) {
      return durablePublisher(publisherOptions);
    }
    return newPublisher(publisherOptions);
  }

  /**
   * Creates a durable publisher: each event is written to the write-ahead log of {@link
   * PublisherOptions#durable()} before it is sent, marked done once the broker confirmed it, and
   * sent again (with its id) whenever the publishing connection comes up while it is still in the
   * log.
   *
   * @param publisherOptions the options, with {@link PublisherOptions.Builder#durable} set
   * @return the publisher; closing it closes its log
   * @throws IllegalArgumentException if the options name no log
   * @throws dev.bloodbank.wal.WalException if the log cannot be opened
   * @throws BloodbankException on the embedded transport, which keeps nothing on disk, or once the
   *     bus is closed
   * @since 0.2.0
   */
  public DurablePublisher durablePublisher(PublisherOptions publisherOptions) {
    Objects.requireNonNull(publisherOptions, "publisherOptions");
    if (publisherOptions.durable() == null) {
      throw new IllegalArgumentException(
          "a durable publisher needs a write-ahead log: set PublisherOptions.builder().durable(...)");
    }
    if (embedded) {
      throw new BloodbankException(
          "durable publishers need RabbitMQ; the embedded transport keeps no messages on disk");
    }
    return create(
        "durable publisher",
        () -> new WalPublisher(ctx, publisherOptions, this::newInternalPublisher, this::forget),
        durablePublishers::add,
        p -> p.close(System.nanoTime()));
  }

  /**
   * Returns why the broker blocks this bus's publishing connection (a memory or disk alarm), while
   * it does. Publishes are then held without writing to the socket, and fail with {@link
   * PublishException.Kind#TIMED_OUT} when the alarm lasts longer than their attempts' confirm
   * timeouts.
   *
   * @return the broker's reason, or empty when publishing is not blocked
   * @since 0.2.0
   */
  public Optional<String> blockedReason() {
    return Optional.ofNullable(connections.blockedReason());
  }

  /**
   * Asks the broker now whether it blocks publishing, for readiness checks: RabbitMQ tells a
   * connection about a memory or disk alarm only once it publishes, so a bus that has not published
   * since an alarm began still reports nothing in {@link #blockedReason()}. This sends one empty
   * message to the default exchange under a routing key no queue has (the broker drops it), at most
   * once a second whatever the calls; the broker's answer reaches {@link #blockedReason()} within
   * moments. Does nothing while not connected or already blocked. Never throws.
   *
   * @since 0.2.0
   */
  public void probeBlocked() {
    connections.probeBlocked();
  }

  AmqpPublisher newPublisher(PublisherOptions publisherOptions) {
    return newAmqpPublisher(publisherOptions, false);
  }

  /** A publisher for the bus's own sends, whose futures complete on the I/O pool. */
  AmqpPublisher newInternalPublisher(PublisherOptions publisherOptions) {
    return newAmqpPublisher(publisherOptions, true);
  }

  private AmqpPublisher newAmqpPublisher(PublisherOptions publisherOptions, boolean internal) {
    return create(
        "publisher",
        () -> {
          try {
            AmqpPublisher[] self = new AmqpPublisher[1];
            self[0] =
                new AmqpPublisher(
                    ctx,
                    connections.requirePublishing(),
                    publisherOptions,
                    ctx.checks().outbound(publisherOptions.validation()),
                    internal,
                    () -> publishers.remove(self[0]));
            return self[0];
          } catch (IOException | RuntimeException e) {
            if (e instanceof ConnectionException) {
              throw (ConnectionException) e;
            }
            throw new BloodbankException(
                "cannot open publisher channels on " + options.addresses() + ": " + e.getMessage(),
                e);
          }
        },
        publishers::add,
        p -> p.close(System.nanoTime()));
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
   *     other arguments, or once the bus is closed
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
    String queue =
        subscriberOptions.temporary()
            ? "(temporary)"
            : subscriberOptions.queueNameFor(options.serviceName(), options.exchange());
    if (subscriberOptions.partitions() > 0) {
      return subscribePartitioned(subscriberOptions, payloadType, handler, queue);
    }
    return startSubscriber(subscriberOptions, payloadType, handler, queue, null);
  }

  /**
   * Creates and registers one queue's subscriber: the queue of a plain subscription, or one
   * partition of a partitioned one.
   */
  private <T> AmqpSubscriber<T> startSubscriber(
      SubscriberOptions subscriberOptions,
      Class<T> payloadType,
      DeliveryHandler<T> handler,
      String queue,
      AmqpSubscriber.@Nullable Partition partition) {
    String named = partition == null ? queue : partition.queue();
    return create(
        "subscriber",
        () -> {
          try {
            return new AmqpSubscriber<>(
                ctx,
                connections.consuming(),
                subscriberOptions,
                payloadType,
                handler,
                this::systemPublisher,
                this::forget,
                partition,
                System::nanoTime);
          } catch (IOException | ShutdownSignalException e) {
            throw new BloodbankException(
                "cannot set up subscriber queue '" + named + "': " + BusConnections.brokerReply(e),
                e);
          }
        },
        subscribers::add,
        s -> s.close(System.nanoTime()));
  }

  /** One subscriber per partition, each closed by the bus like any other, behind one view. */
  private <T> Subscriber subscribePartitioned(
      SubscriberOptions subscriberOptions,
      Class<T> payloadType,
      DeliveryHandler<T> handler,
      String queue) {
    ensureOpen();
    String exchange =
        PartitionedSubscriber.declareExchange(
            connections.consuming(), options.exchange(), subscriberOptions, queue);
    List<AmqpSubscriber<T>> parts = new ArrayList<>();
    try {
      for (int i = 0; i < subscriberOptions.partitions(); i++) {
        AmqpSubscriber.Partition partition =
            new AmqpSubscriber.Partition(
                PartitionedSubscriber.partitionQueue(queue, i), queue + ".dlq", exchange);
        parts.add(startSubscriber(subscriberOptions, payloadType, handler, queue, partition));
      }
    } catch (RuntimeException | Error e) {
      for (AmqpSubscriber<T> p : parts) {
        p.close(System.nanoTime());
      }
      throw e;
    }
    return new PartitionedSubscriber(queue, subscriberOptions, parts, threads.io());
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
   * Declares the archive: a durable stream queue ({@code x-queue-type=stream}) with the options'
   * retention, bound to the bus's exchange with their pattern, so that every event published from
   * now on is kept until retention deletes it. Idempotent: declaring it again with the same options
   * changes nothing. Needs RabbitMQ 3.9 or later.
   *
   * <p>Archiving makes the broker write every event once more, to the stream's segment files.
   *
   * @param archiveOptions queue name, retention, segment size and binding pattern
   * @return the archive, for its statistics
   * @throws BloodbankException naming the queue and the broker's reply when it exists with other
   *     arguments or as another type of queue ({@code PRECONDITION_FAILED}), on the embedded
   *     transport, or once the bus is closed
   * @since 0.2.0
   */
  public Archive archive(ArchiveOptions archiveOptions) {
    Objects.requireNonNull(archiveOptions, "archiveOptions");
    requireStreams("an archive");
    ensureOpen();
    return StreamArchive.declare(archiveOptions, options.exchange(), connections::consuming);
  }

  /**
   * Reads what a stream queue (an archive) holds now, without declaring it: the first and last
   * offsets with their event times, as {@link Archive#stats()} does, for tools that do not know the
   * archive's retention options.
   *
   * @param queue the stream queue, e.g. {@value ArchiveOptions#DEFAULT_QUEUE}
   * @return the statistics
   * @throws BloodbankException naming the queue when it is missing, not a stream, or cannot be read
   *     within the bus's RPC timeout; on the embedded transport; or once the bus is closed
   * @since 0.2.0
   */
  public ArchiveStats archiveStats(String queue) {
    Objects.requireNonNull(queue, "queue");
    requireStreams("an archive");
    ensureOpen();
    return StreamArchive.stats(connections.consuming(), queue);
  }

  /**
   * Replays a stream queue, usually the {@linkplain #archive archive}, handing each event to the
   * handler with a typed payload, decoded and checked as a subscriber's are; a message that cannot
   * be decoded or breaks its schema is skipped and logged with its offset.
   *
   * <p>Runs until the options' end (by default the last event present now), then {@link
   * Replay#completion()} completes. The handler runs one event at a time, in offset order; if it
   * throws, the replay stops and the completion fails with a {@link
   * dev.bloodbank.archive.ReplayException} naming the offset. A slow handler holds back the stream:
   * at most {@link ReplayOptions#prefetch()} events are delivered and not acknowledged.
   *
   * @param replayOptions the stream, start, end, patterns, credit and offset store
   * @param payloadType the payload class
   * @param handler the handler
   * @param <T> the payload type
   * @return the running replay
   * @throws BloodbankException naming the queue and the broker's reply when it is missing or not a
   *     stream, when the offset store cannot be read, on the embedded transport, or once the bus is
   *     closed
   * @since 0.2.0
   */
  public <T> Replay replay(
      ReplayOptions replayOptions, Class<T> payloadType, EventHandler<T> handler) {
    Objects.requireNonNull(handler, "handler");
    return replayWithDelivery(
        replayOptions, payloadType, (event, delivery) -> handler.handle(event));
  }

  /**
   * Replays a stream queue with a handler that also sees each event's offset ({@link
   * DeliveryInfo#offset()}, {@link DeliveryInfo#replayed()} true); otherwise like {@link
   * #replay(ReplayOptions, Class, EventHandler)}.
   *
   * @param replayOptions the stream, start, end, patterns, credit and offset store
   * @param payloadType the payload class
   * @param handler the handler
   * @param <T> the payload type
   * @return the running replay
   * @since 0.2.0
   */
  public <T> Replay replayWithDelivery(
      ReplayOptions replayOptions, Class<T> payloadType, DeliveryHandler<T> handler) {
    Objects.requireNonNull(replayOptions, "replayOptions");
    Objects.requireNonNull(payloadType, "payloadType");
    Objects.requireNonNull(handler, "handler");
    requireStreams("a replay");
    return create(
        "replay",
        () -> {
          try {
            return new StreamReplay<>(
                ctx, connections.consuming(), replayOptions, payloadType, handler, replays::remove);
          } catch (IOException | ShutdownSignalException e) {
            String reply = BusConnections.brokerReply(e);
            throw new BloodbankException(
                "cannot replay stream queue '"
                    + replayOptions.queue()
                    + "': "
                    + reply
                    + (reply.contains("invalid arg 'x-stream-offset'")
                        ? " (not a stream queue; nothing was taken from it)"
                        : ""),
                e);
          }
        },
        r -> {
          replays.add(r);
          if (r.finished()) {
            replays.remove(r); // ended already: an empty range
          }
        },
        r -> r.close(System.nanoTime()));
  }

  /**
   * Returns the dead-letter tools: a dead-letter queue's counts, its events shown without taking
   * them, moved back to the queues whose consumers failed (each removed only after the broker
   * confirmed its copy), or purged. Each call opens its own channels.
   *
   * @return the dead-letter tools of this bus
   * @throws BloodbankException on the embedded transport, which keeps no dead letters in queues, or
   *     once the bus is closed
   * @since 0.2.0
   */
  public DeadLetters deadLetters() {
    if (embedded) {
      throw new BloodbankException(
          "dead-letter queues need RabbitMQ; the embedded transport has none");
    }
    ensureOpen();
    return new AmqpDeadLetters(connections, () -> !closed);
  }

  private void requireStreams(String what) {
    if (embedded) {
      throw new BloodbankException(
          what + " needs RabbitMQ stream queues; the embedded transport has none");
    }
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
    return connections.isConnected();
  }

  /**
   * Closes everything the bus made, within {@link BloodbankOptions#shutdownTimeout()}: subscribers
   * first (running handlers finish and are acknowledged, each within its own shutdown timeout),
   * then publishers (confirms in flight are awaited), then the connections and threads. Past the
   * deadline connections are aborted, and every future still pending fails with {@link
   * PublishException.Kind#CLOSED}. Nothing is created afterwards: a {@code publisher()} or {@code
   * subscribe} racing with close either fails or is closed before close returns. Idempotent; a
   * second call returns at once.
   */
  @Override
  public void close() {
    long deadline = System.nanoTime() + options.shutdownTimeout().toNanos();
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      // Children being made now see `closed` when they are done and close themselves.
      long wait;
      while (creating > 0 && (wait = deadline - System.nanoTime()) > 0) {
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, wait);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    // Subscribers and replays before publishers: handlers finishing now still publish their side
    // effects.
    List<Runnable> consumers = new ArrayList<>();
    for (AmqpSubscriber<?> s : new ArrayList<>(subscribers)) {
      consumers.add(() -> s.close(deadline));
    }
    for (StreamReplay<?> r : new ArrayList<>(replays)) {
      consumers.add(() -> r.close(deadline));
    }
    closeAll(consumers, Runnable::run, deadline);
    List<Runnable> closing = new ArrayList<>();
    for (WalPublisher p : new ArrayList<>(durablePublishers)) {
      closing.add(() -> p.close(deadline));
    }
    for (AmqpPublisher p : new ArrayList<>(publishers)) {
      closing.add(() -> p.close(deadline));
    }
    closeAll(closing, Runnable::run, deadline);
    AmqpPublisher sys = systemPublisher;
    if (sys != null) {
      sys.close(deadline);
    }
    release(deadline);
  }

  /** Runs the teardown steps, newest first, each within what is left of the deadline. */
  private void release(long deadline) {
    while (!teardown.isEmpty()) {
      Consumer<Long> step = teardown.pop();
      try {
        step.accept(deadline);
      } catch (RuntimeException e) {
        LOG.warn("closing the bus: {}", e.toString(), e);
      }
    }
  }

  /**
   * Closes children side by side on I/O threads, waiting for all of them until the deadline; one
   * stuck on the broker past it is released when the connections close.
   */
  private <C> void closeAll(List<C> children, Consumer<C> close, long deadline) {
    if (children.isEmpty()) {
      return;
    }
    List<CompletableFuture<Void>> all = new ArrayList<>(children.size());
    for (C c : children) {
      CompletableFuture<Void> f = new CompletableFuture<>();
      Runnable task =
          () -> {
            try {
              close.accept(c);
            } finally {
              f.complete(null);
            }
          };
      threads.io(task, task);
      all.add(f);
    }
    try {
      CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0]))
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException | ExecutionException e) {
      LOG.warn("closing the bus: some publishers or subscribers did not close within the deadline");
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // ---- package-private plumbing -----------------------------------------------------------

  /**
   * Makes a child unless the bus is closed, and registers it; a child finished after close began is
   * closed again before this returns, so nothing outlives the bus.
   */
  private <C> C create(String what, Supplier<C> make, Consumer<C> register, Consumer<C> undo) {
    synchronized (lock) {
      ensureOpen();
      creating++;
    }
    C child = null;
    boolean orphan = false;
    try {
      child = make.get();
    } finally {
      synchronized (lock) {
        creating--;
        if (child != null) {
          if (closed) {
            orphan = true;
          } else {
            register.accept(child);
          }
        }
        lock.notifyAll();
      }
    }
    if (orphan) {
      undo.accept(child);
      throw new BloodbankException("this Bloodbank was closed while a " + what + " was made");
    }
    return child;
  }

  /** The publisher subscribers use to move messages to retry and dead-letter queues. */
  AmqpPublisher systemPublisher() {
    AmqpPublisher p = systemPublisher;
    if (p == null) {
      synchronized (systemLock) {
        p = systemPublisher;
        if (p == null) {
          p =
              create(
                  "retry publisher",
                  () -> {
                    try {
                      return new AmqpPublisher(
                          ctx,
                          connections.requirePublishing(),
                          PublisherOptions.builder()
                              .channels(1)
                              .mandatory(true)
                              .maxInFlight(PublisherOptions.MAX_IN_FLIGHT)
                              .build(),
                          null,
                          true,
                          () -> {});
                    } catch (IOException | RuntimeException e) {
                      if (e instanceof ConnectionException) {
                        throw (ConnectionException) e;
                      }
                      throw new BloodbankException(
                          "cannot open the retry publisher channel: " + e.getMessage(), e);
                    }
                  },
                  made -> systemPublisher = made,
                  made -> made.close(System.nanoTime()));
        }
      }
    }
    return p;
  }

  void forget(Subscriber s) {
    subscribers.remove(s);
  }

  void forget(WalPublisher p) {
    durablePublishers.remove(p);
  }

  /** On the timer: confirm deadlines, held sends, stuck writes. Never blocks. */
  /** The bus's gauges and counters, removed again when it closes. */
  private void bindMeters() {
    observer.gauge(
        BloodbankObservability.PUBLISH_IN_FLIGHT,
        "events awaiting a confirm",
        () -> {
          int n = 0;
          for (AmqpPublisher p : publishers) {
            n += p.inFlight();
          }
          return n;
        });
    observer.gauge(
        BloodbankObservability.CONNECTION_OPEN,
        "1 while the connection is open",
        () -> connections.isConnected() ? 1 : 0,
        "connection",
        "publish");
    observer.gauge(
        BloodbankObservability.CONNECTION_OPEN,
        "1 while the connection is open",
        () -> connections.isConsumingOpen() ? 1 : 0,
        "connection",
        "consume");
    observer.gauge(
        BloodbankObservability.CONNECTION_BLOCKED,
        "1 while the broker blocks publishing",
        () -> connections.isBlocked() ? 1 : 0);
    observer.gauge(
        BloodbankObservability.WAL_PENDING_RECORDS,
        "write-ahead log records not yet marked done",
        () -> {
          long n = 0;
          for (WalPublisher w : durablePublishers) {
            n += w.wal().pendingCount();
          }
          return n;
        });
    observer.gauge(
        BloodbankObservability.WAL_PENDING_BYTES,
        "bytes of the write-ahead log segments holding records not yet marked done",
        () -> {
          long n = 0;
          for (WalPublisher w : durablePublishers) {
            n += w.wal().pendingBytes();
          }
          return n;
        });
    CorrelationRecorder r = recorder;
    if (r != null) {
      observer.counter(
          BloodbankObservability.CAUSATION_LINKS,
          "causation links recorded in Redis or lost",
          r::recorded,
          "outcome",
          "recorded");
      observer.counter(
          BloodbankObservability.CAUSATION_LINKS,
          "causation links recorded in Redis or lost",
          r::lost,
          "outcome",
          "lost");
    }
  }

  private void sweep() {
    for (AmqpPublisher p : publishers) {
      p.sweep();
    }
    AmqpPublisher sys = systemPublisher;
    if (sys != null) {
      sys.sweep();
    }
  }

  private void ensureOpen() {
    if (closed) {
      throw new BloodbankException("this Bloodbank is closed");
    }
  }

  /** The connections, for the durable publisher and tests. */
  BusConnections connections() {
    return connections;
  }
}
