package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.archive.OffsetStore;
import dev.bloodbank.archive.Replay;
import dev.bloodbank.archive.ReplayException;
import dev.bloodbank.archive.ReplayOptions;
import dev.bloodbank.archive.ReplayResult;
import dev.bloodbank.internal.BusObserver;
import dev.bloodbank.internal.LogContext;
import dev.bloodbank.internal.LogSafe;
import dev.bloodbank.internal.TopicMatcher;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link Replay} on its own channel of the bus's consuming connection.
 *
 * <p>The handler runs on the channel's dispatch thread, one event at a time: with manual
 * acknowledgements and {@code basic.qos(prefetch)} the broker stops delivering while that many
 * events wait, so the stream is never buffered beyond the prefetch. Deliveries are acknowledged in
 * groups of half the prefetch. The end offset of a bounded replay is found before consuming starts
 * (or, for an instant in the future, when it passes, on an I/O thread); the replay ends at the
 * first delivery at or past it.
 *
 * <p>A recovered connection would bring the consumer back at its original start: instead, a channel
 * that closes under the replay fails it with the offset to resume at, and the channel is aborted so
 * that recovery leaves it alone.
 */
final class StreamReplay<T> implements Replay {
  private static final Logger LOG = LoggerFactory.getLogger(StreamReplay.class);

  /** The longest the end of a replay is looked for, while events keep arriving. */
  private static final Duration END_PROBE_TIMEOUT = Duration.ofSeconds(5);

  private final BusContext ctx;
  private final BusThreads threads;
  private final ReplayOptions options;
  private final Class<T> payloadType;
  private final DeliveryHandler<T> handler;
  private final String queue;
  private final Consumer<StreamReplay<?>> forget;
  private final List<String> patterns;
  private final @Nullable OffsetStore store;
  private final int ackEvery;
  private final CompletableFuture<ReplayResult> completion = new CompletableFuture<>();
  private final AtomicBoolean done = new AtomicBoolean();
  private final Object storeLock = new Object();
  private final Channel channel;
  private final @Nullable Instant startInstant;
  private final @Nullable Instant endInstant;
  private volatile long endOffset = Long.MAX_VALUE;
  private volatile long lastOffset = -1;
  private volatile long handled;
  private volatile long filtered;
  private volatile long skipped;
  private volatile @Nullable Thread handlerThread;
  private volatile boolean closing;
  private volatile @Nullable String consumerTag;
  private volatile @Nullable ScheduledFuture<?> endTimer;
  private boolean passedStart; // dispatch thread only
  private long unacked; // dispatch thread only
  private long lastTag; // dispatch thread only
  private long storedOffset = -1; // guarded by storeLock
  private int sinceStore; // dispatch thread only
  private long lastStoreNanos = System.nanoTime(); // dispatch thread only
  private boolean storeFailing; // guarded by storeLock

  StreamReplay(
      BusContext ctx,
      Connection connection,
      ReplayOptions options,
      Class<T> payloadType,
      DeliveryHandler<T> handler,
      Consumer<StreamReplay<?>> forget)
      throws IOException {
    this.ctx = ctx;
    this.threads = ctx.threads();
    this.options = options;
    this.payloadType = payloadType;
    this.handler = handler;
    this.queue = options.queue();
    this.forget = forget;
    this.patterns = options.patterns();
    this.store = options.offsetStore().orElse(null);
    this.ackEvery = Math.max(1, options.prefetch() / 2);
    this.endInstant = options.endInstant().orElse(null);

    Object spec;
    Instant from = null;
    long firstOffset = -1;
    OptionalLong resumed = store == null ? OptionalLong.empty() : store.load();
    if (resumed.isPresent()) {
      storedOffset = resumed.getAsLong();
      firstOffset = resumed.getAsLong() + 1;
      spec = firstOffset;
    } else {
      switch (options.start()) {
        case OFFSET -> {
          firstOffset = options.startOffset();
          spec = firstOffset;
        }
        case INSTANT -> {
          from = options.startInstant().orElseThrow();
          spec = Date.from(from);
        }
        case AGO -> {
          from = Instant.now().minus(options.startAgo().orElseThrow());
          spec = Date.from(from);
        }
        default -> spec = "first";
      }
    }
    this.startInstant = from;
    this.lastOffset = Math.max(-1, firstOffset - 1);

    Instant now = Instant.now();
    boolean endKnown =
        options.end() == ReplayOptions.End.NOW || (endInstant != null && !endInstant.isAfter(now));
    boolean nothing = false;
    if (endKnown) {
      StreamEdges.Edge last = StreamEdges.last(connection, queue, END_PROBE_TIMEOUT);
      if (last == null) {
        nothing = true;
      } else {
        endOffset = last.offset();
        // The AMQP timestamp holds whole seconds: the last event is older than `from` only when
        // its second ended before it.
        Instant lastTime = last.timestamp();
        nothing =
            firstOffset > last.offset()
                || (from != null && lastTime != null && lastTime.plusSeconds(1).isBefore(from));
      }
    }
    this.channel = BusConnections.openChannel(connection);
    if (nothing) {
      closeChannel();
      finish(true);
      return;
    }
    try {
      channel.basicQos(options.prefetch());
      consumerTag =
          channel.basicConsume(
              queue, false, Map.of("x-stream-offset", spec), new StreamConsumer(channel));
    } catch (IOException | RuntimeException e) {
      closeChannel();
      throw e;
    }
    if (!endKnown && endInstant != null) {
      long delay = Math.max(0, Duration.between(Instant.now(), endInstant).toNanos());
      try {
        endTimer = threads.later(this::endNow, delay, () -> {});
      } catch (RejectedExecutionException e) {
        // the bus is closing, and closes this replay with it
      }
    }
  }

  @Override
  public String queueName() {
    return queue;
  }

  @Override
  public ReplayOptions options() {
    return options;
  }

  @Override
  public CompletableFuture<ReplayResult> completion() {
    return completion;
  }

  @Override
  public long lastOffset() {
    return lastOffset;
  }

  @Override
  public long handled() {
    return handled;
  }

  /** Whether it ended already (reached its end, failed or closed). */
  boolean finished() {
    return done.get();
  }

  /** On an I/O thread when the end instant passes: the end is the last event present now. */
  private void endNow() {
    if (done.get()) {
      return;
    }
    try {
      StreamEdges.Edge last = StreamEdges.last(channel.getConnection(), queue, END_PROBE_TIMEOUT);
      endOffset = last == null ? -1 : last.offset();
    } catch (IOException | RuntimeException e) {
      fail(
          new ReplayException(
              queue,
              lastOffset + 1,
              "replay of '"
                  + queue
                  + "' could not find its end at "
                  + endInstant
                  + ": "
                  + BusConnections.brokerReply(e)
                  + "; resume at offset "
                  + (lastOffset + 1),
              e));
      return;
    }
    // Read after writing endOffset; the dispatch thread writes lastOffset before reading it.
    if (lastOffset >= endOffset) {
      finish(true);
    }
  }

  private final class StreamConsumer extends DefaultConsumer {
    StreamConsumer(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
      // Set before looking at `closing`, which close() sets before looking at this: either close
      // waits for this handler, or this delivery sees the replay closing.
      handlerThread = Thread.currentThread();
      try {
        if (done.get() || closing) {
          return; // the channel is closing; nothing is acknowledged any more
        }
        deliver(envelope, props, body);
      } finally {
        handlerThread = null;
        if (done.get()) {
          // An interrupt from close() was meant for this replay's handler only: the dispatch
          // thread goes on to serve other channels of the connection.
          Thread.interrupted();
        }
      }
    }

    @Override
    public void handleCancel(String tag) {
      fail(
          new ReplayException(
              queue,
              lastOffset + 1,
              "the broker cancelled the replay of '"
                  + queue
                  + "' (stream deleted?) after offset "
                  + lastOffset
                  + "; resume at offset "
                  + (lastOffset + 1),
              null));
    }

    @Override
    public void handleShutdownSignal(String tag, ShutdownSignalException sig) {
      if (done.get() || sig.isInitiatedByApplication()) {
        return;
      }
      fail(
          new ReplayException(
              queue,
              lastOffset + 1,
              "the channel of the replay of '"
                  + queue
                  + "' closed after offset "
                  + lastOffset
                  + ": "
                  + LogSafe.escape(BusConnections.brokerReply(sig))
                  + "; resume at offset "
                  + (lastOffset + 1),
              sig));
    }
  }

  private void deliver(Envelope envelope, AMQP.BasicProperties props, byte[] body) {
    long offset = StreamEdges.offsetOf(props);
    if (offset < 0) {
      fail(
          new ReplayException(
              queue,
              -1,
              "queue '"
                  + queue
                  + "' is not a stream queue: its messages carry no x-stream-offset (they were"
                  + " given back, not taken)",
              null));
      return;
    }
    if (offset <= lastOffset) {
      ack(envelope.getDeliveryTag()); // the first chunk read again: done before
      return;
    }
    if (offset > endOffset) {
      finish(true);
      return;
    }
    if (!patterns.isEmpty() && !matches(envelope.getRoutingKey())) {
      filtered++;
    } else {
      Inbound.Result<T> in =
          Inbound.decode(
              ctx, props.getContentType(), body, payloadType, BusObserver.Delivery.NOOP, "replay");
      Inbound.Rejection rejected = in.rejection();
      EventEnvelope<T> event = in.event();
      if (rejected != null || event == null) {
        skipped++;
        LOG.warn(
            "replay of '{}' skips offset {} (event {}): {}",
            queue,
            offset,
            LogSafe.escape(String.valueOf(props.getMessageId())),
            rejected == null ? "no event" : rejected.message());
      } else if (startInstant != null && !passedStart && event.timestamp().isBefore(startInstant)) {
        filtered++;
      } else if (endInstant != null && event.timestamp().isAfter(endInstant)) {
        finish(true);
        return;
      } else {
        passedStart = true;
        if (!handle(event, offset)) {
          return;
        }
        handled++;
      }
    }
    lastOffset = offset;
    lastTag = envelope.getDeliveryTag();
    if (++unacked >= ackEvery) {
      ack(lastTag);
    }
    if (store != null
        && (++sinceStore >= options.storeEvery()
            || System.nanoTime() - lastStoreNanos >= options.storeInterval().toNanos())) {
      storeOffset(offset);
      sinceStore = 0;
      lastStoreNanos = System.nanoTime();
    }
    // Read after writing lastOffset; endNow writes endOffset before reading it.
    if (offset >= endOffset) {
      finish(true);
    }
  }

  /** Runs the handler; false when it failed, and the replay with it. */
  private boolean handle(EventEnvelope<T> event, long offset) {
    boolean logContext = ctx.options().logContext();
    LogContext.Saved outer = null;
    if (logContext) {
      outer = LogContext.save();
      List<java.util.UUID> parents = event.correlationIds();
      LogContext.put(
          event.eventId().toString(),
          event.eventType(),
          parents.isEmpty() ? null : parents.get(0).toString(),
          null);
    }
    try {
      handler.handle(event, DeliveryInfo.forReplay(queue, offset));
      return true;
    } catch (Throwable t) {
      if (done.get()) {
        return false; // interrupted by close() past its timeout: the result says where it stopped
      }
      if (t instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      fail(
          new ReplayException(
              queue,
              offset,
              "the handler failed on event "
                  + event.eventId()
                  + " ("
                  + event.eventType()
                  + ") at offset "
                  + offset
                  + " of '"
                  + queue
                  + "': "
                  + t.getClass().getSimpleName()
                  + ": "
                  + Inbound.describeMessage(t)
                  + "; the replay stopped, resume at offset "
                  + offset,
              t));
      if (t instanceof VirtualMachineError && !(t instanceof StackOverflowError)) {
        throw (VirtualMachineError) t;
      }
      return false;
    } finally {
      if (logContext) {
        LogContext.restore(outer);
      }
    }
  }

  private boolean matches(String routingKey) {
    for (String p : patterns) {
      if (TopicMatcher.matches(p, routingKey)) {
        return true;
      }
    }
    return false;
  }

  private void ack(long tag) {
    try {
      channel.basicAck(tag, true);
    } catch (IOException | RuntimeException e) {
      LOG.debug("could not acknowledge up to {} on '{}': {}", tag, queue, e.toString());
    }
    unacked = 0;
  }

  private void storeOffset(long offset) {
    OffsetStore s = store;
    if (s == null || offset < 0) {
      return;
    }
    synchronized (storeLock) {
      if (offset <= storedOffset) {
        return;
      }
      try {
        s.store(offset);
        storedOffset = offset;
        storeFailing = false;
      } catch (RuntimeException e) {
        // Not a reason to stop: a resumed reader would only hand more events again.
        if (!storeFailing) {
          LOG.warn("replay of '{}' could not store offset {}: {}", queue, offset, e.toString());
        }
        storeFailing = true;
      }
    }
  }

  /** Ends normally: stores the offset, closes the channel, completes with the result. */
  private void finish(boolean endReached) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    release();
    threads.complete(
        completion, new ReplayResult(queue, handled, filtered, skipped, lastOffset, endReached));
  }

  private void fail(ReplayException e) {
    if (!done.compareAndSet(false, true)) {
      return;
    }
    LOG.warn("{}", e.getMessage());
    release();
    threads.fail(completion, e);
  }

  private void release() {
    ScheduledFuture<?> t = endTimer;
    if (t != null) {
      t.cancel(false);
    }
    storeOffset(lastOffset);
    // Not on the dispatch thread, which may be running this.
    threads.io(this::closeChannel, this::closeChannel);
    forget.accept(this);
  }

  @Override
  public void close() {
    close(System.nanoTime() + options.shutdownTimeout().toNanos());
  }

  /** Stops within the shutdown timeout or the bus's deadline, whichever is first. */
  void close(long busDeadlineNanos) {
    if (done.get()) {
      return;
    }
    closing = true;
    long own = System.nanoTime() + options.shutdownTimeout().toNanos();
    long deadline = own - busDeadlineNanos < 0 ? own : busDeadlineNanos;
    String tag = consumerTag;
    if (tag != null && channel.isOpen()) {
      try {
        channel.basicCancel(tag);
      } catch (IOException | RuntimeException e) {
        LOG.debug("cancel of the replay of '{}' failed: {}", queue, e.toString());
      }
    }
    Thread running = handlerThread;
    if (running != null && running != Thread.currentThread()) {
      try {
        while (handlerThread == running && deadline - System.nanoTime() > 0) {
          Thread.sleep(5);
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      if (handlerThread == running) {
        LOG.warn(
            "the handler of the replay of '{}' did not finish within the shutdown timeout;"
                + " interrupting it",
            queue);
        finish(false);
        if (handlerThread == running) {
          running.interrupt();
        }
        return;
      }
    }
    finish(false);
  }

  private void closeChannel() {
    try {
      if (channel.isOpen()) {
        channel.close();
      } else {
        // A channel of a recovering connection: abort keeps recovery from bringing it back.
        channel.abort();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      LOG.debug("closing the replay channel of '{}': {}", queue, e.toString());
    }
  }
}
