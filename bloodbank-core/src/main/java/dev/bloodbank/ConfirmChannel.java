package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.AlreadyClosedException;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConfirmListener;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ReturnListener;
import com.rabbitmq.client.ShutdownListener;
import com.rabbitmq.client.ShutdownSignalException;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentNavigableMap;
import java.util.concurrent.ConcurrentSkipListMap;

/**
 * A channel in confirm mode and the sends it awaits confirms for.
 *
 * <p>Whoever removes a send from {@code outstanding} (ack, nack, sweep, shutdown) owns its outcome,
 * so each attempt is reported exactly once. On shutdown every outstanding send is failed at once:
 * automatic recovery restarts sequence numbers, so confirms for them would never come.
 */
final class ConfirmChannel {
  /** Receives the outcome of each attempt. Called on the connection's thread; must not block. */
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
  }

  /**
   * One channel and the sends it awaits confirms for. A replaced channel keeps its own map, so its
   * late shutdown notice cannot touch the sends of its successor, whose sequence numbers start
   * again at 1.
   */
  private final class Generation implements ConfirmListener, ReturnListener, ShutdownListener {
    final Channel channel;
    final ConcurrentNavigableMap<Long, Send> outstanding = new ConcurrentSkipListMap<>();

    Generation(Channel channel) {
      this.channel = channel;
    }

    @Override
    public void handleAck(long deliveryTag, boolean multiple) {
      settle(outstanding, deliveryTag, multiple, true);
    }

    @Override
    public void handleNack(long deliveryTag, boolean multiple) {
      settle(outstanding, deliveryTag, multiple, false);
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
    }
  }

  private final Connection connection;
  private final Outcomes outcomes;
  private volatile Generation current;

  ConfirmChannel(Connection connection, Outcomes outcomes) throws IOException {
    this.connection = connection;
    this.outcomes = outcomes;
    this.current = open();
  }

  private Generation open() throws IOException {
    Channel ch = connection.createChannel();
    if (ch == null) {
      throw new IOException("the broker has no free channel (channel_max reached)");
    }
    ch.confirmSelect();
    Generation g = new Generation(ch);
    ch.addConfirmListener(g);
    ch.addReturnListener(g);
    ch.addShutdownListener(g);
    return g;
  }

  /**
   * Sends one attempt.
   *
   * @throws IOException or {@link AlreadyClosedException} when nothing was sent
   */
  synchronized void send(Send s, long deadlineNanos) throws IOException {
    Generation g = current;
    if (!g.channel.isOpen()) {
      // Recovery brings back channels only with their connection; one closed by a channel
      // error while the connection is up stays closed unless it is replaced.
      if (!connection.isOpen()) {
        throw new AlreadyClosedException(
            new ShutdownSignalException(true, false, null, connection));
      }
      // Whatever the dead channel still awaited will never be confirmed.
      failAll(g.outstanding, new ShutdownSignalException(false, false, null, g.channel));
      g = open();
      current = g;
    }
    long seq = g.channel.getNextPublishSeqNo();
    if (seq <= 0 || g.outstanding.containsKey(seq)) {
      // A recovering channel is swapped in before confirm mode is turned back on: no confirm
      // would ever come for this publish, so refuse it and let the caller retry.
      throw new IOException("channel is recovering and not in confirm mode yet");
    }
    s.deadlineNanos = deadlineNanos;
    s.returned = null;
    g.outstanding.put(seq, s);
    try {
      g.channel.basicPublish(s.exchange, s.routingKey, s.mandatory, s.props, s.body);
    } catch (IOException | RuntimeException e) {
      g.outstanding.remove(seq, s);
      throw e;
    }
  }

  /**
   * Fails the sends whose confirm is overdue. Deadlines grow with sequence numbers, so the scan
   * stops at the first send still in time; one a few microseconds out of order waits for the next
   * sweep.
   */
  void sweep(long nowNanos) {
    ConcurrentNavigableMap<Long, Send> outstanding = current.outstanding;
    for (Map.Entry<Long, Send> e : outstanding.entrySet()) {
      Send s = e.getValue();
      if (nowNanos - s.deadlineNanos < 0) {
        return;
      }
      if (outstanding.remove(e.getKey(), s)) {
        outcomes.timedOut(s);
      }
    }
  }

  int outstandingCount() {
    return current.outstanding.size();
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

  synchronized void close() {
    Generation g = current;
    try {
      if (g.channel.isOpen()) {
        g.channel.close();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      // closing anyway; the shutdown listener fails what is left
    }
    failAll(g.outstanding, new ShutdownSignalException(false, true, null, g.channel));
  }
}
