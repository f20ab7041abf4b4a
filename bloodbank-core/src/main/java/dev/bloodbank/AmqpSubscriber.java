package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.internal.LogSafe;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongSupplier;
import java.util.function.Supplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Subscriber} on its own channel of the bus's consuming connection.
 *
 * <p>Handlers run on the channel's dispatch thread (concurrency 1) or on the subscriber's own
 * workers ({@code bloodbank-<queue>-N}). Retry and dead-letter copies are sent without waiting: the
 * delivery is settled once the copy is confirmed, on a Bloodbank I/O thread, so a broker that
 * blocks publishing never stalls a delivery thread. Grouped acknowledgements due later are sent
 * from an I/O thread too; the bus's timer only hands them over.
 */
final class AmqpSubscriber<T> implements Subscriber {
  private static final Logger LOG = LoggerFactory.getLogger(AmqpSubscriber.class);

  /**
   * One partition of a partitioned subscription: its queue, the dead-letter queue the partitions
   * share, and the consistent-hash exchange the queue is bound to instead of the bus exchange.
   */
  record Partition(String queue, String dlq, String exchange) {}

  private final BusContext ctx;
  private final BusThreads threads;
  private final Supplier<AmqpPublisher> systemPublisher;
  private final java.util.function.Consumer<Subscriber> forget;
  private final SubscriberOptions options;
  private final Class<T> payloadType;
  private final DeliveryHandler<T> handler;
  private final String queue;
  private final String dlq;
  private final String metricsTag;
  private final @Nullable String dlx; // the queue's own dead-letter exchange, else null for dlq
  private final @Nullable Partition partition;
  private final Channel channel;
  private final ExecutorService workers;
  private final boolean inline;
  // A lock the timer can try without waiting (an acknowledgement is written while it is held).
  private final ReentrantLock ackLock = new ReentrantLock();
  // An event handled this long after the previous one is acknowledged at once, with any waiting.
  private static final long ACK_ALONE_AFTER_NANOS = TimeUnit.MICROSECONDS.toNanos(200);
  // Acknowledgements in groups (inline only): handled deliveries up to ackUpTo wait to be
  // acknowledged together with basic.ack(multiple). Only a delivery being moved to a retry or
  // dead-letter queue can be unsettled below a handled one, and while one is, nothing waits.
  private final int ackBatch;
  private long ackUpTo; // guarded by ackLock
  private int acksWaiting; // guarded by ackLock
  private long firstAckWaitingAt; // guarded by ackLock: when acksWaiting last went from 0 to 1
  private boolean ackFlushScheduled; // guarded by ackLock
  private long lastAckAt; // guarded by ackLock: when the last handled delivery was acknowledged
  private final LongSupplier ackClock;
  private final AtomicInteger moving = new AtomicInteger();
  private final AtomicInteger inFlight = new AtomicInteger();
  private final AtomicLong handled = new AtomicLong();
  private final AtomicLong retried = new AtomicLong();
  private final AtomicLong deadLettered = new AtomicLong();
  private volatile @Nullable String consumerTag;
  private volatile boolean cancelledByBroker;
  private volatile boolean closing;
  private volatile @Nullable Thread inlineHandler;
  private volatile @Nullable String lastError;
  private volatile @Nullable Instant lastErrorAt;

  /**
   * @param ackClock the time grouped acknowledgements are timed by, {@link System#nanoTime} but in
   *     tests
   */
  AmqpSubscriber(
      BusContext ctx,
      Connection connection,
      SubscriberOptions options,
      Class<T> payloadType,
      DeliveryHandler<T> handler,
      Supplier<AmqpPublisher> systemPublisher,
      java.util.function.Consumer<Subscriber> forget,
      @Nullable Partition partition,
      LongSupplier ackClock)
      throws IOException {
    this.ackClock = ackClock;
    this.lastAckAt = ackClock.getAsLong();
    this.ctx = ctx;
    this.partition = partition;
    this.threads = ctx.threads();
    this.systemPublisher = systemPublisher;
    this.forget = forget;
    this.options = options;
    this.payloadType = payloadType;
    this.handler = handler;
    this.queue =
        partition != null
            ? partition.queue()
            : options.temporary()
                ? ctx.options().serviceName() + ".tmp." + java.util.UUID.randomUUID()
                : options.queueNameFor(ctx.options().serviceName(), ctx.options().exchange());
    this.dlq = partition != null ? partition.dlq() : queue + ".dlq";
    // A temporary queue's name is random: its patterns name it in metrics, keeping series few.
    this.metricsTag =
        options.temporary() ? "temporary:" + String.join(",", options.patterns()) : queue;
    this.dlx = options.deadLetterExchange();
    this.channel = BusConnections.openChannel(connection);
    this.inline = options.concurrency() == 1;
    this.ackBatch = inline ? options.ackBatchSize() : 1;
    AtomicInteger threadNo = new AtomicInteger();
    this.workers =
        Executors.newFixedThreadPool(
            options.concurrency(),
            r -> {
              Thread t = new Thread(r, "bloodbank-" + queue + "-" + threadNo.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    try {
      declareTopology();
      channel.basicQos(options.prefetch());
      consumerTag = channel.basicConsume(queue, false, new Consumer(channel));
    } catch (IOException | RuntimeException e) {
      workers.shutdownNow();
      closeQuietly();
      throw e;
    }
  }

  private void declareTopology() throws IOException {
    String exchange = ctx.options().exchange();
    if (options.temporary()) {
      // Exclusive and auto-deleted: gone with its connection or its consumer, nothing left behind.
      channel.queueDeclare(queue, false, true, true, null);
      for (String pattern : options.patterns()) {
        channel.queueBind(queue, exchange, pattern);
      }
      return;
    }
    if (dlx != null && !dlx.isEmpty()) {
      // Dead letters would vanish into a missing exchange: NOT_FOUND now, naming it, and before
      // a new queue is left behind that points at it.
      channel.exchangeDeclarePassive(dlx);
    }
    if (options.existingQueue()) {
      // As another service declared it; a missing one fails with the broker's NOT_FOUND.
      channel.queueDeclarePassive(queue);
    } else {
      Map<String, Object> mainArgs;
      if (options.queueArguments() != null) {
        mainArgs = new HashMap<>(options.queueArguments());
      } else {
        mainArgs = typeArgs(true);
        mainArgs.put("x-dead-letter-exchange", "");
        mainArgs.put("x-dead-letter-routing-key", dlq);
      }
      if (partition != null) {
        // One consumer at a time per partition, whichever instance: the key's order holds.
        mainArgs.put("x-single-active-consumer", true);
      }
      if (dlx == null) {
        channel.queueDeclare(dlq, true, false, false, typeArgs(false));
      }
      channel.queueDeclare(queue, true, false, false, mainArgs);
    }
    if (dlx == null && options.existingQueue()) {
      channel.queueDeclare(dlq, true, false, false, typeArgs(false));
    }
    Set<Long> delays = new LinkedHashSet<>();
    for (Duration d : options.retryDelays()) {
      delays.add(d.toMillis());
    }
    // An event another consumer holds (idempotent) waits out the first delay, even without retries.
    if (options.maxAttempts() > 1 || options.idempotency() != null) {
      for (long ms : delays) {
        Map<String, Object> args = typeArgs(false);
        args.put("x-message-ttl", ms);
        args.put("x-dead-letter-exchange", "");
        args.put("x-dead-letter-routing-key", queue);
        channel.queueDeclare(retryQueue(ms), true, false, false, args);
      }
    }
    if (partition != null) {
      // An equal weight on the consistent-hash exchange, which the bus exchange feeds.
      channel.queueBind(queue, partition.exchange(), "1");
      return;
    }
    for (String pattern : options.patterns()) {
      channel.queueBind(queue, exchange, pattern);
    }
    for (String other : options.additionalExchanges()) {
      channel.exchangeDeclare(other, "topic", true);
      for (String pattern : options.patterns()) {
        channel.queueBind(queue, other, pattern);
      }
    }
  }

  private Map<String, Object> typeArgs(boolean main) {
    Map<String, Object> args = new HashMap<>();
    args.put("x-queue-type", options.queueType().argument());
    if (main && options.queueType() == QueueType.QUORUM) {
      args.put("x-delivery-limit", options.deliveryLimit());
    }
    return args;
  }

  private String retryQueue(long millis) {
    return queue + ".retry." + millis;
  }

  @Override
  public String queueName() {
    return queue;
  }

  @Override
  public String deadLetterQueueName() {
    return dlq;
  }

  @Override
  public SubscriberOptions options() {
    return options;
  }

  @Override
  public SubscriberHealth health() {
    boolean connected = channel.isOpen();
    return new SubscriberHealth(
        connected,
        connected && !closing && !cancelledByBroker && consumerTag != null,
        lastError,
        lastErrorAt,
        handled.get(),
        retried.get(),
        deadLettered.get());
  }

  private void noteError(String what) {
    lastError = what;
    lastErrorAt = Instant.now();
  }

  // ---- delivery ------------------------------------------------------------------------

  private final class Consumer extends DefaultConsumer {
    Consumer(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
      inFlight.incrementAndGet();
      if (inline) {
        // One worker: the channel's own dispatch thread is that worker, without a hand-off.
        if (closing && partition != null) {
          // Left unacknowledged: closing the channel gives it back ahead of every later event of
          // the partition, for the next consumer. A requeue now would put it behind the events
          // that consumer may already have.
          inFlight.decrementAndGet();
        } else if (closing) {
          settle(envelope.getDeliveryTag(), false, true);
        } else {
          inlineHandler = Thread.currentThread();
          try {
            process(envelope, props, body);
          } finally {
            inlineHandler = null;
          }
        }
        return;
      }
      try {
        workers.execute(() -> process(envelope, props, body));
      } catch (RejectedExecutionException e) {
        // Closing: give the message back to the broker for another consumer.
        settle(envelope.getDeliveryTag(), false, true);
      }
    }

    @Override
    public void handleCancel(String tag) {
      cancelledByBroker = true;
      noteError("the broker cancelled the consumer of queue '" + queue + "' (queue deleted?)");
      LOG.warn("the broker cancelled the consumer of queue '{}' (queue deleted?)", queue);
    }

    @Override
    public void handleShutdownSignal(String tag, ShutdownSignalException sig) {
      if (!closing && !sig.isInitiatedByApplication()) {
        noteError("channel closed: " + LogSafe.escape(String.valueOf(sig.getMessage())));
      }
    }
  }

  /**
   * Handles one delivery and makes sure it is settled whatever goes wrong outside the handler (a
   * schema that cannot be compiled, the retry publisher unavailable during recovery): an escaping
   * exception would leave the delivery unacknowledged for ever, or, on the dispatch thread, close
   * the channel for good.
   */
  private void process(Envelope delivery, AMQP.BasicProperties props, byte[] body) {
    Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
    BusObserver observer = ctx.observer();
    BusObserver.Delivery observed = BusObserver.Delivery.NOOP;
    if (observer != BusObserver.NOOP) {
      try {
        observed =
            observer.delivery(
                metricsTag,
                delivery.getExchange(),
                delivery.getRoutingKey(),
                headers,
                delivery.isRedeliver() || headers.containsKey(FailureHeaders.ATTEMPTS));
      } catch (RuntimeException e) {
        LOG.warn("could not observe a delivery on '{}': {}", queue, e.toString());
      }
    }
    Throwable[] failure = new Throwable[1];
    String outcome = BusObserver.REQUEUED;
    try {
      outcome = processDelivery(delivery, props, body, headers, observed, failure);
    } catch (RuntimeException | StackOverflowError e) {
      // Not the event's fault as far as we know: one more try, then the broker's dead-lettering.
      boolean requeue = !delivery.isRedeliver();
      failure[0] = e;
      outcome = requeue ? BusObserver.REQUEUED : BusObserver.DEAD_LETTERED;
      noteError("could not process a delivery on '" + queue + "': " + describe(e));
      LOG.warn(
          "could not process event {} on '{}' ({}); {}",
          LogSafe.escape(String.valueOf(props.getMessageId())),
          queue,
          describe(e),
          requeue ? "requeued once" : "rejected to the dead-letter queue");
      settle(delivery.getDeliveryTag(), false, requeue);
    } finally {
      try {
        observed.end(outcome, failure[0]);
      } catch (RuntimeException e) {
        // An application's observation handler: never a reason to lose the channel.
        LOG.warn(
            "an observation of event {} on '{}' failed: {}",
            LogSafe.escape(String.valueOf(props.getMessageId())),
            queue,
            e.toString());
      }
    }
  }

  /**
   * Decides what becomes of one delivery and does it.
   *
   * @param failure where the handler's failure goes, for the observation
   * @return the outcome, one of {@link BusObserver}'s consume outcomes
   */
  private String processDelivery(
      Envelope delivery,
      AMQP.BasicProperties props,
      byte[] body,
      Map<String, Object> headers,
      BusObserver.Delivery observed,
      Throwable[] failure) {
    long tag = delivery.getDeliveryTag();
    int failures = priorFailures(headers.get(FailureHeaders.ATTEMPTS));
    Inbound.Result<T> in =
        Inbound.decode(ctx, props.getContentType(), body, payloadType, observed, "consume");
    Inbound.Rejection rejected = in.rejection();
    if (rejected != null) {
      deadLetter(
          delivery,
          props,
          body,
          failures,
          rejected.reason(),
          rejected.errorClass(),
          rejected.message(),
          rejected.violations());
      return rejected.outcome();
    }
    EventEnvelope<T> event = java.util.Objects.requireNonNull(in.event());
    ProcessedEvents guard = options.idempotency();
    ProcessedCommands.Claim claim = null;
    Lease lease = null;
    if (guard != null) {
      claim = guard.store().claim(event.eventId(), options.claimLease());
      if (claim.status() == ProcessedCommands.Claim.Status.COMPLETED) {
        LOG.debug("event {} on '{}' was processed before; acknowledged", event.eventId(), queue);
        acknowledge(tag);
        return BusObserver.DUPLICATE;
      }
      if (claim.status() == ProcessedCommands.Claim.Status.HELD) {
        // Another consumer handles it right now: look again after the first retry delay, with
        // the attempts as they were (this is not a failure).
        long delay = options.retryDelay(1).toMillis();
        LOG.debug(
            "event {} on '{}' is being handled by another consumer; looking again in {} ms",
            event.eventId(),
            queue,
            delay);
        Map<String, Object> same =
            props.getHeaders() == null ? new HashMap<>() : new HashMap<>(props.getHeaders());
        // The hop back from the retry queue comes with the queue's name as routing key.
        same.putIfAbsent(FailureHeaders.ORIGINAL_EXCHANGE, delivery.getExchange());
        same.putIfAbsent(FailureHeaders.ORIGINAL_ROUTING_KEY, delivery.getRoutingKey());
        forward(delivery, props, body, retryQueue(delay), same, false);
        return BusObserver.DEFERRED;
      }
      lease = new Lease(guard.store(), claim);
    }
    boolean logContext = ctx.options().logContext();
    // Opened and closed outside the handler's failure handling: an observation handler that
    // throws must neither retry an event whose handler never ran nor one that already completed.
    AutoCloseable scope = BusObserver.openQuietly(observed);
    try {
      LogContext.Saved outer = null;
      if (logContext) {
        outer = LogContext.save();
        List<java.util.UUID> parents = event.correlationIds();
        LogContext.put(
            event.eventId().toString(),
            event.eventType(),
            parents.isEmpty() ? null : parents.get(0).toString(),
            observed.traceId());
      }
      try {
        handler.handle(
            event,
            new DeliveryInfo(failures + 1, options.maxAttempts(), delivery.isRedeliver(), queue));
      } finally {
        if (logContext) {
          LogContext.restore(outer);
        }
        BusObserver.closeQuietly(scope);
      }
      if (lease != null) {
        lease.end();
        guard.store().complete(claim);
      }
    } catch (Throwable t) {
      failure[0] = t;
      if (lease != null) {
        lease.end();
        guard.store().release(claim);
      }
      if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
        settle(tag, false, true);
        throw (VirtualMachineError) t;
      }
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      if (closing) {
        // Interrupted by close() past its timeout: not the event's fault; give it back as it was.
        settle(tag, false, true);
        return BusObserver.REQUEUED;
      }
      int nowFailed = failures + 1;
      noteError(
          "handler failed on event "
              + event.eventId()
              + " ("
              + event.eventType()
              + "): "
              + describe(t));
      if (nowFailed < options.maxAttempts()) {
        retry(delivery, props, body, nowFailed, t);
        return BusObserver.RETRIED;
      } else {
        deadLetter(
            delivery,
            props,
            body,
            failures,
            FailureHeaders.REASON_HANDLER_FAILED,
            t.getClass().getName(),
            describeMessage(t),
            null);
      }
      return BusObserver.DEAD_LETTERED;
    }
    handled.incrementAndGet();
    acknowledge(tag);
    return BusObserver.HANDLED;
  }

  /** Acknowledges a handled delivery, at once or with the next ones. */
  private void acknowledge(long tag) {
    if (ackBatch <= 1 || moving.get() > 0 || closing) {
      flushAcks();
      settle(tag, true, false);
      return;
    }
    boolean schedule = false;
    ackLock.lock();
    try {
      // A handler of a delivery from before a recovery can finish after newer ones: never move
      // back, or the newer handled deliveries would wait for an acknowledgement that never comes.
      ackUpTo = Math.max(ackUpTo, tag);
      long now = ackClock.getAsLong();
      // Events this far apart would not fill a group in time: each waited for the timer, whose
      // flush came as the next event arrived (p50 at 1,000 events/s 0.63 ms; 0.45 ms acknowledging
      // each at once; raw 0.37-0.42 ms). A slow stream's acknowledgement goes at once.
      boolean alone = now - lastAckAt >= ACK_ALONE_AFTER_NANOS;
      lastAckAt = now;
      if (acksWaiting++ == 0) {
        firstAckWaitingAt = now;
      }
      if (acksWaiting >= ackBatch || alone) {
        sendWaitingAcks();
      } else if (!ackFlushScheduled) {
        ackFlushScheduled = true;
        schedule = true;
      }
    } finally {
      ackLock.unlock();
    }
    if (schedule) {
      checkAcksIn(SubscriberOptions.ACK_BATCH_DELAY.toNanos());
    }
  }

  /**
   * Looks at the waiting acknowledgements after a delay, on the timer. One check stays scheduled
   * while any wait; it used to flush whatever waited when it fired, so a steady stream paid a timer
   * wake-up, a hand-off to the I/O pool and a partial group for every group of acknowledgements.
   */
  private void checkAcksIn(long delayNanos) {
    try {
      threads.atDeadline(this::ackDeadline, delayNanos);
    } catch (RejectedExecutionException e) {
      flushAcksLater(); // the bus is closing
    }
  }

  /**
   * On the timer, so it never waits: the oldest waiting acknowledgement is sent (on the I/O pool)
   * once it has waited {@link SubscriberOptions#ACK_BATCH_DELAY}; until then the check comes back
   * when it will have; with none waiting, the check ends.
   */
  private void ackDeadline() {
    long wait;
    if (!ackLock.tryLock()) {
      wait = 0; // a handler thread is acknowledging now; the I/O pool looks after it
    } else {
      try {
        if (acksWaiting == 0) {
          ackFlushScheduled = false;
          return;
        }
        wait =
            SubscriberOptions.ACK_BATCH_DELAY.toNanos()
                - (ackClock.getAsLong() - firstAckWaitingAt);
      } finally {
        ackLock.unlock();
      }
    }
    if (wait > 0) {
      checkAcksIn(wait);
    } else {
      threads.io(this::flushAcksLater, this::flushAcksLater);
    }
  }

  private void flushAcksLater() {
    ackLock.lock();
    try {
      ackFlushScheduled = false;
      sendWaitingAcks();
    } finally {
      ackLock.unlock();
    }
  }

  /** Sends the acknowledgements that wait, if any. */
  private void flushAcks() {
    ackLock.lock();
    try {
      sendWaitingAcks();
    } finally {
      ackLock.unlock();
    }
  }

  private void sendWaitingAcks() {
    int n = acksWaiting;
    if (n == 0) {
      return;
    }
    acksWaiting = 0;
    try {
      channel.basicAck(ackUpTo, true);
    } catch (IOException | RuntimeException e) {
      // The channel closed; the broker redelivers what was not acknowledged.
      LOG.debug("could not acknowledge up to {} on queue '{}': {}", ackUpTo, queue, e.toString());
    } finally {
      inFlight.addAndGet(-n);
    }
  }

  private void retry(
      Envelope delivery, AMQP.BasicProperties props, byte[] body, int failed, Throwable error) {
    long delay = options.retryDelay(failed).toMillis();
    String target = retryQueue(delay);
    Map<String, Object> headers =
        failureHeaders(
            delivery,
            props,
            failed,
            null,
            error.getClass().getName(),
            describeMessage(error),
            null);
    LOG.debug(
        "event {} failed attempt {} of {} in queue '{}'; retrying in {} ms",
        props.getMessageId(),
        failed,
        options.maxAttempts(),
        queue,
        delay);
    forward(delivery, props, body, target, headers, false);
  }

  private void deadLetter(
      Envelope delivery,
      AMQP.BasicProperties props,
      byte[] body,
      int failuresBefore,
      String reason,
      String errorClass,
      String errorMessage,
      @Nullable List<String> violations) {
    int failed = failuresBefore + 1;
    Map<String, Object> headers =
        failureHeaders(delivery, props, failed, reason, errorClass, errorMessage, violations);
    String target = dlx == null ? dlq : "exchange " + (dlx.isEmpty() ? "(default)" : dlx);
    noteError(
        "event "
            + LogSafe.escape(String.valueOf(props.getMessageId()))
            + " dead-lettered to '"
            + target
            + "' ("
            + reason
            + "): "
            + errorMessage);
    LOG.warn(
        "event {} from queue '{}' dead-lettered to '{}' after {} attempt(s) ({}): {}",
        LogSafe.escape(String.valueOf(props.getMessageId())),
        queue,
        target,
        failed,
        reason,
        errorMessage);
    if (dlx == null) {
      forward(delivery, props, body, dlq, headers, true);
    } else {
      // Where the broker's own dead-lettering through the queue's arguments would send it: with
      // the event's first routing key, not the queue name a retry hop gave the delivery.
      String key = options.deadLetterRoutingKey();
      if (key == null) {
        key = String.valueOf(headers.get(FailureHeaders.ORIGINAL_ROUTING_KEY));
      }
      forward(delivery, props, body, dlx, key, headers, true);
    }
  }

  private Map<String, Object> failureHeaders(
      Envelope delivery,
      AMQP.BasicProperties props,
      int failed,
      @Nullable String reason,
      String errorClass,
      String errorMessage,
      @Nullable List<String> violations) {
    Map<String, Object> headers =
        props.getHeaders() == null ? new HashMap<>() : new HashMap<>(props.getHeaders());
    String now = Instant.now().toString();
    headers.put(FailureHeaders.ATTEMPTS, failed);
    headers.put(FailureHeaders.ERROR_CLASS, errorClass);
    headers.put(FailureHeaders.ERROR_MESSAGE, errorMessage);
    headers.putIfAbsent(FailureHeaders.ORIGINAL_EXCHANGE, delivery.getExchange());
    headers.putIfAbsent(FailureHeaders.ORIGINAL_ROUTING_KEY, delivery.getRoutingKey());
    headers.putIfAbsent(FailureHeaders.FIRST_FAILURE, now);
    headers.put(FailureHeaders.LAST_FAILURE, now);
    headers.put(FailureHeaders.QUEUE, queue);
    if (reason != null) {
      headers.put(FailureHeaders.REASON, reason);
    }
    if (violations != null) {
      headers.put(FailureHeaders.VIOLATIONS, List.copyOf(violations));
    }
    return headers;
  }

  /**
   * Republishes a copy with confirms, then acknowledges the original, so the message is in exactly
   * one queue at any time; if the copy cannot be confirmed the original is rejected, which the main
   * queue's dead-letter settings route to its dead-letter queue or exchange (a queue declared with
   * arguments that name none drops it; the failure is logged).
   */
  private void forward(
      Envelope delivery,
      AMQP.BasicProperties props,
      byte[] body,
      String targetQueue,
      Map<String, Object> headers,
      boolean toDlq) {
    forward(delivery, props, body, "", targetQueue, headers, toDlq);
  }

  private void forward(
      Envelope delivery,
      AMQP.BasicProperties props,
      byte[] body,
      String targetExchange,
      String targetQueue,
      Map<String, Object> headers,
      boolean toDlq) {
    if (options.temporary()) {
      // A temporary queue has no retry or dead-letter queues: the failure is logged and counted.
      deadLettered.incrementAndGet();
      settle(delivery.getDeliveryTag(), false, false);
      return;
    }
    // A producer's expiration would let a dead letter vanish unseen, and its user id makes the
    // broker close the channel that forwards every subscriber's copies: RabbitMQ's own
    // dead-lettering drops the first, and the second is refused unless it is ours.
    if (props.getExpiration() != null) {
      headers.put(FailureHeaders.ORIGINAL_EXPIRATION, props.getExpiration());
    }
    if (props.getUserId() != null) {
      headers.put(FailureHeaders.ORIGINAL_USER_ID, props.getUserId());
    }
    // Sender-selected distribution: the broker would also copy the message into the queues a
    // producer named, with this consumer's rights.
    for (String cc : List.of("CC", "BCC")) {
      Object v = headers.remove(cc);
      if (v != null) {
        headers.put(FailureHeaders.ORIGINAL_PREFIX + cc.toLowerCase(java.util.Locale.ROOT), v);
      }
    }
    AMQP.BasicProperties copy =
        props.builder().headers(headers).deliveryMode(2).expiration(null).userId(null).build();
    long tag = delivery.getDeliveryTag();
    // Until this delivery is settled, no acknowledgement may cover it.
    moving.incrementAndGet();
    flushAcks();
    java.util.concurrent.CompletableFuture<Void> sent;
    try {
      sent = systemPublisher.get().sendRaw(targetExchange, targetQueue, copy, body);
    } catch (RuntimeException e) {
      moving.decrementAndGet();
      throw e;
    }
    sent.whenComplete(
        (v, t) -> {
          try {
            settleMoved(t, tag, toDlq, targetQueue, props);
          } finally {
            moving.decrementAndGet();
          }
        });
  }

  private void settleMoved(
      @Nullable Throwable t,
      long tag,
      boolean toDlq,
      String targetQueue,
      AMQP.BasicProperties props) {
    if (t == null) {
      if (toDlq) {
        deadLettered.incrementAndGet();
      } else {
        retried.incrementAndGet();
      }
      settle(tag, true, false);
    } else {
      LOG.warn(
          "could not move event {} to '{}' ({}); rejecting it to the dead-letter queue",
          LogSafe.escape(String.valueOf(props.getMessageId())),
          targetQueue,
          describe(t));
      if (toDlq) {
        deadLettered.incrementAndGet();
      }
      settle(tag, false, false);
    }
  }

  private void settle(long tag, boolean ack, boolean requeue) {
    ackLock.lock();
    try {
      if (ack) {
        channel.basicAck(tag, false);
      } else {
        channel.basicNack(tag, false, requeue);
      }
    } catch (IOException | RuntimeException e) {
      // The channel closed; the broker redelivers what was not acknowledged.
      LOG.debug("could not settle delivery {} on queue '{}': {}", tag, queue, e.toString());
    } finally {
      ackLock.unlock();
      inFlight.decrementAndGet();
    }
  }

  /** The failed attempts a delivery's header claims, trusted only within 0 to maxAttempts - 1. */
  private int priorFailures(@Nullable Object value) {
    return Math.max(0, Math.min(intHeader(value), options.maxAttempts() - 1));
  }

  private static int intHeader(@Nullable Object value) {
    long n = 0;
    if (value instanceof Number) {
      n = ((Number) value).longValue();
    } else if (value != null) {
      try {
        n = Long.parseLong(value.toString().trim());
      } catch (NumberFormatException e) {
        return 0;
      }
    }
    return (int) Math.max(Integer.MIN_VALUE, Math.min(Integer.MAX_VALUE, n));
  }

  private static String describe(Throwable t) {
    return t.getClass().getSimpleName() + ": " + describeMessage(t);
  }

  private static String describeMessage(Throwable t) {
    return Inbound.describeMessage(t);
  }

  /**
   * Renews a claim every third of its lease while the handler runs; each renewal runs on the I/O
   * pool, the timer only hands it over.
   */
  private final class Lease implements Runnable {
    private final ProcessedCommands store;
    private final ProcessedCommands.Claim claim;
    private final long everyNanos;
    private volatile boolean over;
    private volatile java.util.concurrent.@Nullable ScheduledFuture<?> next;

    Lease(ProcessedCommands store, ProcessedCommands.Claim claim) {
      this.store = store;
      this.claim = claim;
      this.everyNanos = Math.max(1, options.claimLease().toNanos() / 3);
      if (claim.status() == ProcessedCommands.Claim.Status.ACQUIRED) {
        schedule();
      }
    }

    private void schedule() {
      try {
        next = threads.later(this, everyNanos, () -> {});
      } catch (RejectedExecutionException e) {
        // the bus is closing; the claim lapses with its lease
      }
    }

    @Override
    public void run() {
      if (over) {
        return;
      }
      if (!store.renew(claim, options.claimLease())) {
        LOG.warn(
            "the claim on event {} in queue '{}' lapsed while its handler ran; another consumer"
                + " may handle it too",
            claim.commandId(),
            queue);
        return;
      }
      if (!over) {
        schedule();
      }
    }

    void end() {
      over = true;
      java.util.concurrent.ScheduledFuture<?> f = next;
      if (f != null) {
        f.cancel(false);
      }
    }
  }

  // ---- shutdown -------------------------------------------------------------------------

  @Override
  public void close() {
    close(System.nanoTime() + options.shutdownTimeout().toNanos());
  }

  /**
   * Stops consuming, lets running handlers finish until its shutdown timeout or the deadline,
   * whichever is first, then closes the channel; what was not acknowledged is redelivered by the
   * broker. Idempotent.
   */
  void close(long busDeadlineNanos) {
    if (closing) {
      return;
    }
    closing = true;
    long start = System.nanoTime();
    long own = start + options.shutdownTimeout().toNanos();
    long deadline = own - busDeadlineNanos < 0 ? own : busDeadlineNanos;
    String tag = consumerTag;
    // A partition's consumer is not cancelled: with a single active consumer the broker would
    // hand the partition to the next instance at once, which would get later events while this
    // one still holds earlier ones. Closing the channel returns them first, in order.
    if (tag != null && channel.isOpen() && partition == null) {
      try {
        channel.basicCancel(tag);
      } catch (IOException | RuntimeException e) {
        LOG.debug("cancel of consumer on '{}' failed: {}", queue, e.toString());
      }
    }
    workers.shutdown();
    try {
      workers.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      flushAcks();
      // Forwarded copies settle asynchronously once confirmed.
      while (inFlight.get() > 0 && deadline - System.nanoTime() > 0) {
        Thread.sleep(10);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    if (inFlight.get() > 0) {
      LOG.warn(
          "subscriber on '{}' closed with {} event(s) still in progress; the broker redelivers them",
          queue,
          inFlight.get());
      workers.shutdownNow();
      Thread inline = inlineHandler;
      if (inline != null) {
        inline.interrupt();
      }
    }
    closeQuietly();
    forget.accept(this);
  }

  private void closeQuietly() {
    try {
      if (channel.isOpen()) {
        channel.close();
      } else {
        // A channel of a recovering connection: abort stops recovery from bringing it (and its
        // consumer) back.
        channel.abort();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      LOG.debug("closing channel of '{}': {}", queue, e.toString());
    }
  }
}
