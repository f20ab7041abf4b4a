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
import java.util.Iterator;
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
final class ConfirmChannel implements ConfirmListener, ReturnListener, ShutdownListener {
  /** Receives the outcome of each attempt. Called on the connection's thread; must not block. */
  interface Outcomes {
    void acked(Send send);

    void nacked(Send send);

    void lost(Send send, Throwable cause);

    void timedOut(Send send);
  }

  private final Connection connection;
  private final Outcomes outcomes;
  private final ConcurrentNavigableMap<Long, Send> outstanding = new ConcurrentSkipListMap<>();
  private Channel channel;

  ConfirmChannel(Connection connection, Outcomes outcomes) throws IOException {
    this.connection = connection;
    this.outcomes = outcomes;
    this.channel = open();
  }

  private Channel open() throws IOException {
    Channel ch = connection.createChannel();
    if (ch == null) {
      throw new IOException("the broker has no free channel (channel_max reached)");
    }
    ch.confirmSelect();
    ch.addConfirmListener(this);
    ch.addReturnListener(this);
    ch.addShutdownListener(this);
    return ch;
  }

  /**
   * Sends one attempt.
   *
   * @throws IOException or {@link AlreadyClosedException} when nothing was sent
   */
  synchronized void send(Send s, long deadlineNanos) throws IOException {
    if (!channel.isOpen()) {
      // Recovery brings back channels only with their connection; one closed by a channel
      // error while the connection is up stays closed unless it is replaced.
      if (!connection.isOpen()) {
        throw new AlreadyClosedException(
            new ShutdownSignalException(true, false, null, connection));
      }
      channel = open();
    }
    s.deadlineNanos = deadlineNanos;
    s.returned = null;
    long seq = channel.getNextPublishSeqNo();
    outstanding.put(seq, s);
    try {
      channel.basicPublish(s.exchange, s.routingKey, s.mandatory, s.props, s.body);
    } catch (IOException | RuntimeException e) {
      outstanding.remove(seq, s);
      throw e;
    }
  }

  /**
   * Fails the sends whose confirm is overdue. Deadlines grow with sequence numbers, so the scan
   * stops at the first send still in time; one a few microseconds out of order waits for the next
   * sweep.
   */
  void sweep(long nowNanos) {
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
    return outstanding.size();
  }

  @Override
  public void handleAck(long deliveryTag, boolean multiple) {
    settle(deliveryTag, multiple, true);
  }

  @Override
  public void handleNack(long deliveryTag, boolean multiple) {
    settle(deliveryTag, multiple, false);
  }

  private void settle(long tag, boolean multiple, boolean ack) {
    if (multiple) {
      Iterator<Map.Entry<Long, Send>> it = outstanding.headMap(tag, true).entrySet().iterator();
      while (it.hasNext()) {
        Map.Entry<Long, Send> e = it.next();
        if (outstanding.remove(e.getKey(), e.getValue())) {
          report(e.getValue(), ack);
        }
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

  @Override
  public void handleReturn(
      int replyCode,
      String replyText,
      String exchange,
      String routingKey,
      AMQP.BasicProperties properties,
      byte[] body) {
    // The return comes before the ack of the same message on this channel, so the oldest
    // outstanding send with this message id and no return yet is the one returned.
    String id = properties.getMessageId();
    for (Send s : outstanding.values()) {
      if (s.returned == null && Objects.equals(s.messageId(), id)) {
        s.returned = new UnroutableEventException(exchange, routingKey, replyCode, replyText);
        return;
      }
    }
  }

  @Override
  public void shutdownCompleted(ShutdownSignalException cause) {
    for (Map.Entry<Long, Send> e : outstanding.entrySet()) {
      if (outstanding.remove(e.getKey(), e.getValue())) {
        outcomes.lost(e.getValue(), cause);
      }
    }
  }

  synchronized void close() {
    try {
      if (channel.isOpen()) {
        channel.close();
      }
    } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
      // closing anyway; the shutdown listener fails what is left
    }
    shutdownCompleted(new ShutdownSignalException(false, true, null, channel));
  }
}
