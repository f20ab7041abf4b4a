package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A channel in confirm mode and the sends it awaits confirms for.
 *
 * <p>Whoever removes a send from {@code outstanding} (ack, nack, sweep, shutdown, a failed write)
 * owns its outcome, so each attempt is reported exactly once. On shutdown every outstanding send is
 * failed at once: automatic recovery restarts sequence numbers, so confirms for them would never
 * come.
 *
 * <p>No write starts while the broker blocks the connection or the connection is down and
 * recovering ({@link #send} answers false and the caller holds the send), and the start of each
 * write is recorded so that {@link #sweep} can report a write stuck in the socket. Once closed it
 * never opens a channel again.
 *
 * <p>A nack replaces the channel: the next send opens a fresh one, and the nacked one is closed
 * once it has no confirm left to wait for. RabbitMQ before 3.12.5 keeps a quorum queue's client
 * state per channel, and a channel whose first publish to a quorum queue comes while the queue's
 * record still names a leader on a dead node nacks every later publish to that queue until the node
 * is back, for good if it never is; a fresh channel opened after the new leader took over publishes
 * normally. A nack says nothing about why, so any nack replaces the channel, at most once per
 * {@link #REPLACE_AFTER_NACK_NANOS}, so that a queue refusing publishes (a full queue with {@code
 * reject-publish}) does not churn channels.
 */
final class ConfirmChannel {
  private static final Logger LOG = LoggerFactory.getLogger(ConfirmChannel.class);

  /** The least time between two replacements of the channel after nacks. */
  static final long REPLACE_AFTER_NACK_NANOS = TimeUnit.MILLISECONDS.toNanos(500);

  /** Receives the outcome of each attempt. Called on the connection's or the timer's thread. */
  interface Outcomes {
    void acked(Send send);

    /** Several sends acknowledged by one confirm, oldest first. */
    default void ackedAll(List<Send> sends) {
      for (Send s : sends) {
        acked(s);
      }
    }

    void nacked(Send send);

    void lost(Send send, Throwable cause);

    void timedOut(Send send);

    /** A write has been in the socket for this long: the broker does not read it. */
    void stuckWrite(long nanos);
  }

  /**
   * One channel and the sends it awaits confirms for. A replaced channel keeps its own map, so its
   * late shutdown notice cannot touch the sends of its successor, whose sequence numbers start
   * again at 1.
   */
  private final class Generation implements ConfirmListener, ReturnListener, ShutdownListener {
    final Channel channel;
    final ConcurrentNavigableMap<Long, Send> outstanding = new ConcurrentSkipListMap<>();
    // Set by a nack: the next send opens a fresh channel and this one closes once drained.
    volatile boolean replaced;
    // Set once its close was handed to the closer.
    final AtomicBoolean closing = new AtomicBoolean();

    Generation(Channel channel) {
      this.channel = channel;
    }

    @Override
    public void handleAck(long deliveryTag, boolean multiple) {
      settle(outstanding, deliveryTag, multiple, true);
      if (replaced) {
        closeIfDrained(this);
      }
    }

    @Override
    public void handleNack(long deliveryTag, boolean multiple) {
      // Before the outcomes: a retry of a nacked send must not go out on this channel again.
      replaceAfterNack(this);
      settle(outstanding, deliveryTag, multiple, false);
      if (replaced) {
        closeIfDrained(this);
      }
    }

    @Override
    public void handleReturn(
        int replyCode,
        String replyText,
        String exchange,
        String routingKey,
        AMQP.BasicProperties properties,
        byte[] body) {
      // The return comes before the ack of the same message on this channel, so the oldest
      // outstanding send with this message id, exchange and routing key and no return yet is the
      // one returned (retry and dead-letter copies share their event's id).
      String id = properties.getMessageId();
      for (Send s : outstanding.values()) {
        if (s.returned == null
            && Objects.equals(s.messageId(), id)
            && s.exchange.equals(exchange)
            && s.routingKey.equals(routingKey)) {
          s.returned = new UnroutableEventException(exchange, routingKey, replyCode, replyText);
          return;
        }
      }
    }

    @Override
    public void shutdownCompleted(ShutdownSignalException cause) {
      failAll(outstanding, cause);
      if (replaced) {
        // Aborted, it is forgotten by automatic recovery, which would otherwise bring it back.
        closeIfDrained(this);
      }
    }
  }

  private final Connection connection;
  private final Outcomes outcomes;
  // True while sends must wait: the broker blocks the connection, or it is recovering.
  private final BooleanSupplier hold;
  // Closes replaced channels: a close waits for the broker, and nacks arrive on the connection's
  // own thread, which must not wait for it.
  private final Executor closer;
  private final LongSupplier nanoClock;
  // Guards the generation and keeps a sequence number and its write together.
  private final ReentrantLock lock = new ReentrantLock();
  private volatile @Nullable Generation current;
  // Channels replaced after a nack that still await confirms; closed once they await none (or
  // their sends timed out): at most about one per REPLACE_AFTER_NACK_NANOS of a confirm timeout.
  private final ConcurrentLinkedQueue<Generation> retired = new ConcurrentLinkedQueue<>();
  // When a nack last replaced the channel (System.nanoTime, never 0), or 0.
  private volatile long lastReplaced;
  private volatile boolean closed;
  // When the write (or channel open) in progress started (System.nanoTime, never 0), or 0.
  private volatile long writeStarted;
  // Deadlines grow with sequence numbers unless a send was written with an earlier deadline than
  // the last one (a held send released late); then the sweep reads every outstanding send.
  private long lastDeadline; // guarded by lock
  private volatile boolean unordered;

  /**
   * Creates the channel; opens it at once unless sends must wait now, else on the first send after.
   *
   * @param hold whether sends must wait unwritten: the broker blocks the connection, or it is down
   *     and recovering
   * @param closer runs the close of a channel replaced after a nack, which waits for the broker
   * @param nanoClock spaces replacements after nacks: {@link System#nanoTime} but in tests
   */
  ConfirmChannel(
      Connection connection,
      Outcomes outcomes,
      BooleanSupplier hold,
      Executor closer,
      LongSupplier nanoClock)
      throws IOException {
    this.connection = connection;
    this.outcomes = outcomes;
    this.hold = hold;
    this.closer = closer;
    this.nanoClock = nanoClock;
    if (!hold.getAsBoolean()) {
      this.current = open();
    }
  }

  private Generation open() throws IOException {
    Channel ch = BusConnections.openChannel(connection);
    try {
      ch.confirmSelect();
    } catch (IOException | RuntimeException e) {
      abortQuietly(ch);
      throw e;
    }
    Generation g = new Generation(ch);
    ch.addConfirmListener(g);
    ch.addReturnListener(g);
    ch.addShutdownListener(g);
    if (ch instanceof Recoverable) {
      ((Recoverable) ch)
          .addRecoveryListener(
              new RecoveryListener() {
                @Override
                public void handleRecoveryStarted(Recoverable recoverable) {
                  // The new channel is not in confirm mode yet, so no send was accepted on it:
                  // whatever is still outstanding went out on the old one, whose confirms never
                  // come, while the new one numbers its publishes from 1 again and would
                  // "confirm" them by tag.
                  failAll(
                      g.outstanding, new ShutdownSignalException(false, false, null, recoverable));
                }

                @Override
                public void handleRecovery(Recoverable recoverable) {
                  if (g.replaced && g != current) {
                    // Brought back with its connection before its close went out: not needed.
                    closeLater(g);
                  }
                }
              });
    }
    return g;
  }

  /**
   * Sends one attempt, unless sends must wait.
   *
   * @return true when sent (its outcome follows through {@link Outcomes}), false when nothing was
   *     written because the broker blocks publishing or the connection is recovering
   * @throws IOException or {@link AlreadyClosedException} when nothing was sent
   */
  boolean send(Send s, long deadlineNanos) throws IOException {
    lock.lock();
    try {
      if (closed) {
        throw new AlreadyClosedException(new ShutdownSignalException(false, true, null, this));
      }
      if (hold.getAsBoolean()) {
        return false;
      }
      Generation g = current;
      if (g == null || g.replaced || !g.channel.isOpen()) {
        // Recovery brings back channels only with their connection; one closed by a channel
        // error while the connection is up stays closed unless it is replaced.
        if (!connection.isOpen()) {
          throw new AlreadyClosedException(
              new ShutdownSignalException(true, false, null, connection));
        }
        Generation old = g;
        if (old != null && !old.channel.isOpen()) {
          // Whatever the dead channel still awaited will never be confirmed; aborting it also
          // stops automatic recovery from bringing it back.
          failAll(old.outstanding, new ShutdownSignalException(false, false, null, old.channel));
          abortQuietly(old.channel);
          old = null;
        }
        // Opening waits for the broker: a stuck open is released like a stuck write.
        writeStarted = System.nanoTime() | 1;
        try {
          g = open();
        } finally {
          writeStarted = 0;
        }
        if (closed) {
          abortQuietly(g.channel); // closed while it opened: close() saw the old generation
          throw new AlreadyClosedException(new ShutdownSignalException(false, true, null, this));
        }
        current = g;
        if (old != null) {
          // Replaced after a nack: its confirms still come on it, so it closes once drained.
          LOG.debug("publishing on a fresh channel: the broker nacked a publish on the last one");
          retired.add(old);
          closeIfDrained(old);
        }
      }
      long seq = g.channel.getNextPublishSeqNo();
      if (seq <= 0 || g.outstanding.containsKey(seq)) {
        // A recovering channel is swapped in before confirm mode is turned back on: no confirm
        // would ever come for this publish, so refuse it and let the caller retry.
        throw new IOException("channel is recovering and not in confirm mode yet");
      }
      s.deadlineNanos = deadlineNanos;
      s.returned = null;
      if (deadlineNanos - lastDeadline < 0 && !g.outstanding.isEmpty()) {
        unordered = true;
      } else {
        lastDeadline = deadlineNanos;
      }
      g.outstanding.put(seq, s);
      writeStarted = System.nanoTime() | 1;
      try {
        g.channel.basicPublish(s.exchange, s.routingKey, s.mandatory, s.props, s.body);
      } catch (IOException | RuntimeException e) {
        if (g.outstanding.remove(seq, s)) {
          throw e;
        }
        // The channel's shutdown reported this send as lost already: one outcome per attempt.
      } finally {
        writeStarted = 0;
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  /**
   * Fails the sends whose confirm is overdue, and reports a write stuck for longer than {@code
   * stuckAfterNanos}. Deadlines grow with sequence numbers, so the scan stops at the first send
   * still in time; one a few microseconds out of order waits for the next sweep. Never blocks.
   */
  void sweep(long nowNanos, long stuckAfterNanos) {
    long started = writeStarted;
    if (started != 0 && nowNanos - started > stuckAfterNanos) {
      outcomes.stuckWrite(nowNanos - started);
    }
    for (Generation r : retired) {
      timeOut(r.outstanding, nowNanos, true); // few, and written before the current ones
      closeIfDrained(r);
    }
    Generation g = current;
    if (g == null) {
      return;
    }
    boolean all = unordered;
    if (timeOut(g.outstanding, nowNanos, all) && all) {
      unordered = false;
    }
  }

  /**
   * Fails the overdue sends of one channel; with {@code all} false, stops at the first in time.
   *
   * @return whether none is left
   */
  private boolean timeOut(ConcurrentNavigableMap<Long, Send> outstanding, long now, boolean all) {
    for (Map.Entry<Long, Send> e : outstanding.entrySet()) {
      Send s = e.getValue();
      if (now - s.deadlineNanos < 0) {
        if (all) {
          continue;
        }
        return false;
      }
      if (outstanding.remove(e.getKey(), s)) {
        outcomes.timedOut(s);
      }
    }
    return outstanding.isEmpty();
  }

  /** Sends awaiting a confirm, on the current channel and on those replaced after a nack. */
  int outstandingCount() {
    Generation g = current;
    int n = g == null ? 0 : g.outstanding.size();
    for (Generation r : retired) {
      n += r.outstanding.size();
    }
    return n;
  }

  /**
   * After a nack on the current channel: the next send opens a fresh one, unless the last
   * replacement was less than {@link #REPLACE_AFTER_NACK_NANOS} ago.
   */
  private void replaceAfterNack(Generation g) {
    long now = nanoClock.getAsLong();
    long last = lastReplaced;
    if (g.replaced || g != current || (last != 0 && now - last < REPLACE_AFTER_NACK_NANOS)) {
      return;
    }
    lastReplaced = now | 1;
    g.replaced = true;
  }

  /** Closes a replaced channel on the closer once it awaits no confirm. Never blocks. */
  private void closeIfDrained(Generation g) {
    if (g == current || !g.outstanding.isEmpty()) {
      return;
    }
    retired.remove(g);
    if (g.closing.compareAndSet(false, true)) {
      closeLater(g);
    }
  }

  private void closeLater(Generation g) {
    try {
      closer.execute(() -> BusConnections.closeQuietly(g.channel));
    } catch (RejectedExecutionException e) {
      // the bus is closing: closing its connection closes the channel
    }
  }

  private void settle(
      ConcurrentNavigableMap<Long, Send> outstanding, long tag, boolean multiple, boolean ack) {
    if (multiple) {
      List<Send> acked = ack ? new ArrayList<>() : null;
      Iterator<Map.Entry<Long, Send>> it = outstanding.headMap(tag, true).entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Long, Send> e = it.next();
        if (outstanding.remove(e.getKey(), e.getValue())) {
          if (acked != null) {
            acked.add(e.getValue());
          } else {
            report(e.getValue(), false);
          }
        }
      }
      if (acked != null && !acked.isEmpty()) {
        // One hand-off for the lot rather than one per send.
        outcomes.ackedAll(acked);
      }
    } else {
      Send s = outstanding.remove(tag);
      if (s != null) {
        report(s, ack);
      }
    }
  }

  private void report(Send s, boolean ack) {
    if (ack) {
      outcomes.acked(s);
    } else {
      outcomes.nacked(s);
    }
  }

  private void failAll(ConcurrentNavigableMap<Long, Send> outstanding, Throwable cause) {
    for (Map.Entry<Long, Send> e : outstanding.entrySet()) {
      if (outstanding.remove(e.getKey(), e.getValue())) {
        outcomes.lost(e.getValue(), cause);
      }
    }
  }

  /**
   * Closes the channel for good and fails whatever still awaits a confirm. Waits at most {@code
   * lockWaitNanos} for a write in progress to finish; the channel close itself waits for the
   * broker's reply, so callers that need a bound run this on an I/O thread.
   */
  void close(long lockWaitNanos) {
    closed = true;
    boolean locked = false;
    try {
      locked = lock.tryLock(Math.max(0, lockWaitNanos), TimeUnit.NANOSECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    try {
      Generation r;
      while ((r = retired.poll()) != null) {
        BusConnections.closeQuietly(r.channel);
        failAll(r.outstanding, new ShutdownSignalException(false, true, null, r.channel));
      }
      Generation g = current;
      if (g != null) {
        BusConnections.closeQuietly(g.channel);
        failAll(g.outstanding, new ShutdownSignalException(false, true, null, g.channel));
      }
    } finally {
      if (locked) {
        lock.unlock();
      }
    }
  }

  /** Fails whatever still awaits a confirm, without touching the channel (close gave up). */
  void failOutstanding(Throwable cause) {
    closed = true;
    Generation g = current;
    if (g != null) {
      failAll(g.outstanding, cause);
    }
    for (Generation r : retired) {
      failAll(r.outstanding, cause);
    }
  }

  boolean isClosed() {
    return closed;
  }

  private static void abortQuietly(Channel ch) {
    try {
      ch.abort();
    } catch (IOException | RuntimeException e) {
      // gone already
    }
  }
}
