package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doAnswer;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.times;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

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
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The confirm bookkeeping of {@link ConfirmChannel}: every attempt gets exactly one outcome. The
 * AMQP channels and connection are mocks that call back the listeners registered on them, as the
 * RabbitMQ client does; the outcomes are recorded by a fake.
 */
class PublisherConfirmTest {

  /** Records every outcome, in order, as "kind:messageId". */
  static final class RecordingOutcomes implements ConfirmChannel.Outcomes {
    final List<String> calls = new ArrayList<>();
    final List<Throwable> causes = new ArrayList<>();

    @Override
    public synchronized void acked(Send send) {
      calls.add("acked:" + send.messageId());
    }

    @Override
    public synchronized void nacked(Send send) {
      calls.add("nacked:" + send.messageId());
    }

    @Override
    public synchronized void lost(Send send, Throwable cause) {
      calls.add("lost:" + send.messageId());
      causes.add(cause);
    }

    @Override
    public synchronized void timedOut(Send send) {
      calls.add("timedOut:" + send.messageId());
    }

    @Override
    public synchronized void stuckWrite(long nanos) {
      calls.add("stuckWrite");
    }

    synchronized List<String> calls() {
      return List.copyOf(calls);
    }

    synchronized long outcomesFor(String messageId) {
      return calls.stream().filter(c -> c.endsWith(":" + messageId)).count();
    }
  }

  /**
   * A mock channel in confirm mode whose publish sequence numbers start at {@code first} (0: not in
   * confirm mode). It calls the listeners registered on it, as the RabbitMQ client does.
   */
  static final class FakeChannel {
    final Channel mock =
        mock(Channel.class, org.mockito.Mockito.withSettings().extraInterfaces(Recoverable.class));
    final AtomicLong nextSeq;
    final AtomicBoolean open = new AtomicBoolean(true);
    final List<String> published = new ArrayList<>();
    final List<ConfirmListener> confirmListeners = new ArrayList<>();
    final List<ReturnListener> returnListeners = new ArrayList<>();
    final List<ShutdownListener> shutdownListeners = new ArrayList<>();
    final List<RecoveryListener> recoveryListeners = new ArrayList<>();

    FakeChannel(long first) throws IOException {
      nextSeq = new AtomicLong(first);
      doAnswer(i -> recoveryListeners.add(i.getArgument(0)))
          .when((Recoverable) mock)
          .addRecoveryListener(any(RecoveryListener.class));
      when(mock.isOpen()).thenAnswer(i -> open.get());
      when(mock.getNextPublishSeqNo()).thenAnswer(i -> nextSeq.get());
      doAnswer(i -> confirmListeners.add(i.getArgument(0)))
          .when(mock)
          .addConfirmListener(any(ConfirmListener.class));
      doAnswer(i -> returnListeners.add(i.getArgument(0)))
          .when(mock)
          .addReturnListener(any(ReturnListener.class));
      doAnswer(i -> shutdownListeners.add(i.getArgument(0)))
          .when(mock)
          .addShutdownListener(any(ShutdownListener.class));
      doAnswer(
              i -> {
                AMQP.BasicProperties p = i.getArgument(3);
                published.add(p.getMessageId());
                if (nextSeq.get() > 0) {
                  nextSeq.incrementAndGet();
                }
                return null;
              })
          .when(mock)
          .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    }

    void ack(long tag, boolean multiple) throws IOException {
      for (ConfirmListener l : confirmListeners) {
        l.handleAck(tag, multiple);
      }
    }

    void nack(long tag, boolean multiple) throws IOException {
      for (ConfirmListener l : confirmListeners) {
        l.handleNack(tag, multiple);
      }
    }

    void returned(String messageId) throws IOException {
      returned(messageId, "a.b");
    }

    void returned(String messageId, String routingKey) throws IOException {
      AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId(messageId).build();
      for (ReturnListener l : returnListeners) {
        l.handleReturn(312, "NO_ROUTE", "ex", routingKey, props, new byte[0]);
      }
    }

    /** Closed by the broker or the network: marked closed first, listeners called after. */
    void closeAndNotify(ShutdownSignalException signal) {
      open.set(false);
      notifyShutdown(signal);
    }

    void notifyShutdown(ShutdownSignalException signal) {
      for (ShutdownListener l : shutdownListeners) {
        l.shutdownCompleted(signal);
      }
    }

    /** Automatic recovery brought it back on a new connection. */
    void recover() {
      for (RecoveryListener l : recoveryListeners) {
        l.handleRecoveryStarted((Recoverable) mock);
      }
      for (RecoveryListener l : recoveryListeners) {
        l.handleRecovery((Recoverable) mock);
      }
    }

    ShutdownSignalException brokerClose() {
      return new ShutdownSignalException(false, false, null, mock);
    }
  }

  private final RecordingOutcomes outcomes = new RecordingOutcomes();
  private final AtomicBoolean blocked = new AtomicBoolean();
  // Closes of channels replaced after a nack, run by the test when it chooses.
  private final List<Runnable> closes = new ArrayList<>();
  private final Executor closer = closes::add;
  // The clock that spaces channel replacements after nacks.
  private final AtomicLong clock = new AtomicLong(1_000_000_001L); // odd: kept exactly
  private Connection connection;
  private FakeChannel first;

  @BeforeEach
  void setUp() throws IOException {
    connection = mock(Connection.class);
    when(connection.isOpen()).thenReturn(true);
    first = new FakeChannel(1);
  }

  private ConfirmChannel channel(FakeChannel... channels) throws IOException {
    Channel[] rest = new Channel[channels.length - 1];
    for (int i = 1; i < channels.length; i++) {
      rest[i - 1] = channels[i].mock;
    }
    when(connection.createChannel()).thenReturn(channels[0].mock, rest);
    return new ConfirmChannel(connection, outcomes, blocked::get, closer, clock::get);
  }

  /**
   * m1 and m2 sent on the first channel, m1 nacked, then m3 sent (deadline {@code m3Deadline}) on
   * {@code second}, which replaced it; m2 still awaits its confirm on the first.
   */
  private ConfirmChannel replacedAfterANack(FakeChannel second, long m3Deadline)
      throws IOException {
    ConfirmChannel cc = channel(first, second);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 1_000);
    first.nack(1, false);
    cc.send(send("m3"), m3Deadline);
    return cc;
  }

  private static Send send(String messageId) {
    return new Send(
        "ex",
        "a.b",
        new AMQP.BasicProperties.Builder().messageId(messageId).build(),
        new byte[] {'{', '}'},
        true);
  }

  @Test
  void opensTheChannelInConfirmModeWithListeners() throws IOException {
    channel(first);
    verify(first.mock).confirmSelect();
    assertThat(first.confirmListeners).hasSize(1);
    assertThat(first.returnListeners).hasSize(1);
    assertThat(first.shutdownListeners).hasSize(1);
  }

  @Test
  void multipleAckSettlesEveryTagUpToItExactlyOnce() throws IOException {
    ConfirmChannel cc = channel(first);
    for (String id : List.of("m1", "m2", "m3", "m4", "m5")) {
      cc.send(send(id), 1_000);
    }
    first.ack(3, true);
    assertThat(outcomes.calls()).containsExactly("acked:m1", "acked:m2", "acked:m3");
    first.ack(3, true);
    first.ack(2, false);
    assertThat(outcomes.calls()).hasSize(3);
    assertThat(cc.outstandingCount()).isEqualTo(2);
    first.ack(5, true);
    assertThat(outcomes.calls())
        .containsExactly("acked:m1", "acked:m2", "acked:m3", "acked:m4", "acked:m5");
    assertThat(cc.outstandingCount()).isZero();
  }

  @Test
  void singleAckSettlesOnlyItsTag() throws IOException {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 1_000);
    cc.send(send("m3"), 1_000);
    first.ack(2, false);
    assertThat(outcomes.calls()).containsExactly("acked:m2");
    first.ack(99, false);
    assertThat(outcomes.calls()).containsExactly("acked:m2");
    assertThat(cc.outstandingCount()).isEqualTo(2);
  }

  @Test
  void nackReportsNacked() throws IOException {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 1_000);
    cc.send(send("m3"), 1_000);
    first.nack(1, false);
    first.nack(3, true);
    first.ack(3, true);
    assertThat(outcomes.calls()).containsExactly("nacked:m1", "nacked:m2", "nacked:m3");
  }

  /**
   * RabbitMQ before 3.12.5 nacks every publish to a quorum queue on a channel whose first publish
   * to it came while the queue's record named a leader on a dead node, until that node is back: a
   * fresh channel is the way out.
   */
  @Test
  void aNackMovesLaterSendsToAFreshChannelAndClosesTheNackedOneOnceItIsDrained() throws Exception {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = channel(first, second);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 1_000);
    cc.send(send("m3"), 1_000);
    first.nack(1, false);

    cc.send(send("m4"), 1_000);
    assertThat(first.published).containsExactly("m1", "m2", "m3");
    assertThat(second.published).containsExactly("m4");
    assertThat(cc.outstandingCount()).isEqualTo(3);
    assertThat(closes).isEmpty(); // m2 and m3 still await their confirms on the first channel

    first.ack(3, true);
    second.ack(1, false);
    assertThat(outcomes.calls()).containsExactly("nacked:m1", "acked:m2", "acked:m3", "acked:m4");
    assertThat(cc.outstandingCount()).isZero();
    assertThat(closes).hasSize(1);
    verify(first.mock, never()).close();
    closes.get(0).run();
    verify(first.mock).close();
    verify(second.mock, never()).close();
  }

  @Test
  void nacksReplaceTheChannelAtMostOncePerInterval() throws IOException {
    FakeChannel second = new FakeChannel(1);
    FakeChannel third = new FakeChannel(1);
    ConfirmChannel cc = channel(first, second, third);
    cc.send(send("m1"), 1_000);
    first.nack(1, false);
    cc.send(send("m2"), 1_000);
    clock.addAndGet(ConfirmChannel.REPLACE_AFTER_NACK_NANOS - 1);
    second.nack(1, false); // too soon after the first replacement: a refusing queue must not churn
    cc.send(send("m3"), 1_000);
    assertThat(second.published).containsExactly("m2", "m3");
    assertThat(third.published).isEmpty();

    clock.addAndGet(1);
    second.nack(2, false);
    cc.send(send("m4"), 1_000);
    assertThat(third.published).containsExactly("m4");
    verify(connection, times(3)).createChannel();
  }

  /**
   * A replaced channel whose connection fails over must not come back with it: its shutdown aborts
   * it, which makes automatic recovery forget it.
   */
  @Test
  void aReplacedChannelThatGoesDownWithItsConnectionIsAbortedNotRecovered() throws Exception {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = replacedAfterANack(second, 1_000);

    first.closeAndNotify(new ShutdownSignalException(true, false, null, connection));
    assertThat(outcomes.calls()).containsExactly("nacked:m1", "lost:m2");
    assertThat(closes).hasSize(1);
    closes.get(0).run();
    verify(first.mock).abort();
    assertThat(cc.outstandingCount()).isEqualTo(1); // m3, on the current channel
  }

  /** One that recovery brought back all the same (its close raced the recovery) is closed. */
  @Test
  void aReplacedChannelBroughtBackByRecoveryIsClosed() throws Exception {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = replacedAfterANack(second, 1_000);

    first.recover();
    assertThat(outcomes.calls()).containsExactly("nacked:m1", "lost:m2");
    assertThat(closes).isNotEmpty();
    closes.forEach(Runnable::run);
    verify(first.mock, org.mockito.Mockito.atLeastOnce()).close();
    verify(second.mock, never()).close();
  }

  @Test
  void aReplacedChannelsSendsStillTimeOutAndItClosesAfterwards() throws IOException {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = replacedAfterANack(second, 5_000);

    cc.sweep(2_000, Long.MAX_VALUE);
    assertThat(outcomes.calls()).containsExactly("nacked:m1", "timedOut:m2");
    assertThat(closes).hasSize(1);
    assertThat(cc.outstandingCount()).isEqualTo(1);
  }

  @Test
  void closeClosesAReplacedChannelAndFailsWhatItAwaited() throws Exception {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = replacedAfterANack(second, 1_000);

    cc.close(0);
    verify(first.mock).close();
    verify(second.mock).close();
    assertThat(outcomes.calls()).containsExactlyInAnyOrder("nacked:m1", "lost:m2", "lost:m3");
    assertThat(cc.outstandingCount()).isZero();
  }

  @Test
  void returnMarksTheOldestOutstandingSendWithThatMessageId() throws IOException {
    ConfirmChannel cc = channel(first);
    Send a = send("dup");
    Send b = send("other");
    Send c = send("dup");
    cc.send(a, 1_000);
    cc.send(b, 1_000);
    cc.send(c, 1_000);

    first.returned("dup");
    assertThat(a.returned).isNotNull();
    assertThat(a.returned.replyCode()).isEqualTo(312);
    assertThat(a.returned.getMessage()).contains("'ex'").contains("'a.b'").contains("NO_ROUTE");
    assertThat(b.returned).isNull();
    assertThat(c.returned).isNull();

    first.returned("dup");
    assertThat(c.returned).isNotNull();
    assertThat(b.returned).isNull();

    first.returned("unknown"); // not outstanding: marks nothing
    assertThat(b.returned).isNull();

    // the broker still confirms returned messages; the publisher decides what that means
    first.ack(3, true);
    assertThat(outcomes.calls()).containsExactly("acked:dup", "acked:other", "acked:dup");
  }

  /**
   * Retry and dead-letter copies keep their event's id: a return for the copy sent to one queue
   * must not be blamed on a copy of the same event sent elsewhere.
   */
  @Test
  void aReturnIsMatchedOnRoutingKeyAsWellAsMessageId() throws IOException {
    ConfirmChannel cc = channel(first);
    Send toRetry =
        new Send(
            "ex",
            "q1.retry.1000",
            new AMQP.BasicProperties.Builder().messageId("same").build(),
            new byte[] {'{', '}'},
            true);
    Send toMissingDlq =
        new Send(
            "ex",
            "q2.dlq",
            new AMQP.BasicProperties.Builder().messageId("same").build(),
            new byte[] {'{', '}'},
            true);
    cc.send(toRetry, 1_000);
    cc.send(toMissingDlq, 1_000);

    first.returned("same", "q2.dlq");
    assertThat(toRetry.returned).isNull();
    assertThat(toMissingDlq.returned).isNotNull();
  }

  @Test
  void aNewAttemptClearsTheReturnOfTheLastOne() throws IOException {
    ConfirmChannel cc = channel(first);
    Send a = send("m1");
    cc.send(a, 1_000);
    first.returned("m1");
    assertThat(a.returned).isNotNull();
    cc.sweep(2_000, Long.MAX_VALUE);
    cc.send(a, 5_000);
    assertThat(a.returned).isNull();
    assertThat(a.deadlineNanos).isEqualTo(5_000);
  }

  @Test
  void shutdownFailsEveryOutstandingSendExactlyOnce() throws IOException {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 1_000);
    cc.send(send("m3"), 1_000);
    first.ack(1, false);
    ShutdownSignalException signal = new ShutdownSignalException(true, false, null, connection);

    first.closeAndNotify(signal);
    assertThat(outcomes.calls()).containsExactly("acked:m1", "lost:m2", "lost:m3");
    assertThat(outcomes.causes).containsOnly(signal);

    first.notifyShutdown(signal);
    first.ack(3, true);
    first.nack(3, true);
    cc.sweep(Long.MAX_VALUE / 2, Long.MAX_VALUE);
    assertThat(outcomes.calls()).containsExactly("acked:m1", "lost:m2", "lost:m3");
    assertThat(cc.outstandingCount()).isZero();
  }

  @Test
  void closeFailsWhatIsOutstanding() throws Exception {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), 1_000);
    cc.close(0);
    verify(first.mock).close();
    first.notifyShutdown(first.brokerClose());
    assertThat(outcomes.calls()).containsExactly("lost:m1");
  }

  @Test
  void sweepTimesOutOnlyOverdueSends() throws IOException {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), 1_000);
    cc.send(send("m2"), 2_000);
    cc.send(send("m3"), 3_000);

    cc.sweep(999, Long.MAX_VALUE);
    assertThat(outcomes.calls()).isEmpty();
    cc.sweep(2_000, Long.MAX_VALUE);
    assertThat(outcomes.calls()).containsExactly("timedOut:m1", "timedOut:m2");
    cc.sweep(2_500, Long.MAX_VALUE);
    assertThat(outcomes.calls()).hasSize(2);
    // a late confirm of a timed-out attempt is ignored; the one still in time is acked
    first.ack(3, true);
    assertThat(outcomes.calls()).containsExactly("timedOut:m1", "timedOut:m2", "acked:m3");
  }

  @Test
  void sweepHandlesNanoTimeWrapAround() throws IOException {
    ConfirmChannel cc = channel(first);
    cc.send(send("m1"), Long.MAX_VALUE - 10);
    cc.send(send("m2"), Long.MIN_VALUE + 10);
    cc.sweep(Long.MAX_VALUE, Long.MAX_VALUE);
    assertThat(outcomes.calls()).containsExactly("timedOut:m1");
    cc.sweep(Long.MIN_VALUE + 10, Long.MAX_VALUE);
    assertThat(outcomes.calls()).containsExactly("timedOut:m1", "timedOut:m2");
  }

  @Test
  void aSendWhosePublishThrowsIsNotOutstanding() throws IOException {
    ConfirmChannel cc = channel(first);
    doThrow(new IOException("socket closed"))
        .when(first.mock)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    assertThatThrownBy(() -> cc.send(send("m1"), 1_000))
        .isInstanceOf(IOException.class)
        .hasMessage("socket closed");
    doThrow(new AlreadyClosedException(new ShutdownSignalException(true, false, null, connection)))
        .when(first.mock)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    assertThatThrownBy(() -> cc.send(send("m2"), 1_000)).isInstanceOf(AlreadyClosedException.class);
    assertThat(cc.outstandingCount()).isZero();
    // the caller owns those failures: nothing else reports them
    cc.sweep(10_000, Long.MAX_VALUE);
    first.closeAndNotify(first.brokerClose());
    assertThat(outcomes.calls()).isEmpty();
  }

  @Test
  void aChannelClosedWhileTheConnectionIsUpIsReopened() throws IOException {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = channel(first, second);
    cc.send(send("m1"), 1_000);
    first.closeAndNotify(first.brokerClose());
    assertThat(outcomes.calls()).containsExactly("lost:m1");

    cc.send(send("m2"), 1_000);
    verify(connection, times(2)).createChannel();
    verify(second.mock).confirmSelect();
    assertThat(second.confirmListeners).hasSize(1);
    assertThat(second.returnListeners).hasSize(1);
    assertThat(second.shutdownListeners).hasSize(1);
    assertThat(first.published).containsExactly("m1");
    assertThat(second.published).containsExactly("m2");
    second.ack(1, false);
    assertThat(outcomes.calls()).containsExactly("lost:m1", "acked:m2");
    assertThat(cc.outstandingCount()).isZero();
  }

  @Test
  void aClosedChannelIsNotReopenedWhileTheConnectionIsDown() throws IOException {
    ConfirmChannel cc = channel(first);
    first.open.set(false);
    when(connection.isOpen()).thenReturn(false);
    assertThatThrownBy(() -> cc.send(send("m1"), 1_000)).isInstanceOf(AlreadyClosedException.class);
    verify(connection, times(1)).createChannel();
    verify(first.mock, never()).basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    assertThat(cc.outstandingCount()).isZero();
  }

  @Test
  void noFreeChannelIsAnIoException() throws IOException {
    when(connection.createChannel()).thenReturn(null);
    assertThatThrownBy(
            () -> new ConfirmChannel(connection, outcomes, blocked::get, closer, System::nanoTime))
        .isInstanceOf(IOException.class)
        .hasMessageContaining("channel_max");
  }

  /**
   * The RabbitMQ client marks a channel closed before it calls the channel's shutdown listeners
   * ({@code ChannelN.asyncShutdown} sets the close reason, sends close-ok and releases the channel
   * number, then notifies listeners). A publisher thread can reopen the channel in between, and the
   * new channel numbers its publishes from 1 again.
   */
  @Test
  void reopeningBeforeTheOldChannelsShutdownListenerRanLosesNoSend() throws IOException {
    FakeChannel second = new FakeChannel(1);
    ConfirmChannel cc = channel(first, second);
    cc.send(send("old"), 1_000);
    first.open.set(false); // closed by the broker; listeners not called yet
    cc.send(send("new"), 1_000); // reopens: the new channel's first sequence number is 1 again

    first.notifyShutdown(first.brokerClose()); // the dead channel's listeners run late
    second.ack(1, false); // the new channel confirms its first publish

    assertThat(outcomes.outcomesFor("old")).as("outcomes of the send on the dead channel").isOne();
    assertThat(outcomes.outcomesFor("new")).as("outcomes of the send on the new channel").isOne();
    assertThat(outcomes.calls()).containsExactlyInAnyOrder("lost:old", "acked:new");
  }

  /**
   * Automatic recovery swaps in the new channel before it turns confirm mode back on ({@code
   * AutorecoveringChannel.automaticallyRecover} sets the delegate, then {@code recoverState()}
   * calls {@code confirmSelect}). In between, {@code getNextPublishSeqNo()} is 0 for every publish
   * and no confirm will ever come for them.
   */
  @Test
  void publishesOnARecoveredChannelNotYetInConfirmModeAllGetAnOutcome() throws IOException {
    FakeChannel recovering = new FakeChannel(0);
    ConfirmChannel cc = channel(recovering);
    List<String> sent = new ArrayList<>();
    for (String id : List.of("r1", "r2", "r3")) {
      try {
        cc.send(send(id), 1_000);
        sent.add(id);
      } catch (IOException | RuntimeException e) {
        // refused without sending: the caller retries it
      }
    }
    cc.sweep(5_000, Long.MAX_VALUE);
    recovering.closeAndNotify(new ShutdownSignalException(true, false, null, connection));
    assertThat(sent).as("sends published untracked").containsAll(recovering.published);
    for (String id : sent) {
      assertThat(outcomes.outcomesFor(id)).as("outcomes of %s", id).isOne();
    }
  }

  @Test
  void aClosedChannelIsNeverOpenedAgain() throws Exception {
    ConfirmChannel cc = channel(first, new FakeChannel(1));
    cc.close(0);
    assertThatThrownBy(() -> cc.send(send("late"), 1_000))
        .isInstanceOf(AlreadyClosedException.class);
    verify(connection, times(1)).createChannel();
    assertThat(first.published).isEmpty();
  }

  @Test
  void nothingIsWrittenWhileTheBrokerBlocksAndNoChannelOpensUntilItUnblocks() throws IOException {
    blocked.set(true);
    ConfirmChannel cc = channel(first);
    verify(connection, never()).createChannel();
    assertThat(cc.send(send("held"), 1_000)).as("sent while blocked").isFalse();
    assertThat(cc.outstandingCount()).isZero();

    blocked.set(false);
    assertThat(cc.send(send("held"), 1_000)).isTrue();
    verify(connection, times(1)).createChannel();
    assertThat(first.published).containsExactly("held");
  }

  /**
   * The RabbitMQ client can run a channel's shutdown listeners while a publish on it is failing:
   * the listener reports the send as lost, so the failing publish must not report it again (two
   * retries of one send would follow).
   */
  @Test
  void aPublishThatFailsAfterTheShutdownListenerReportedItHasOneOutcome() throws IOException {
    ConfirmChannel cc = channel(first);
    doAnswer(
            i -> {
              first.closeAndNotify(first.brokerClose());
              throw new AlreadyClosedException(first.brokerClose());
            })
        .when(first.mock)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    assertThat(cc.send(send("m1"), 1_000)).isTrue();
    assertThat(outcomes.calls()).containsExactly("lost:m1");
  }

  @Test
  void aWriteStuckLongerThanTheLimitIsReported() throws Exception {
    ConfirmChannel cc = channel(first);
    java.util.concurrent.CountDownLatch writing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
    doAnswer(
            i -> {
              writing.countDown();
              release.await();
              return null;
            })
        .when(first.mock)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    Thread writer =
        new Thread(
            () -> {
              try {
                cc.send(send("m1"), Long.MAX_VALUE);
              } catch (IOException e) {
                throw new IllegalStateException(e);
              }
            });
    writer.start();
    writing.await();
    long now = System.nanoTime();
    cc.sweep(now, java.util.concurrent.TimeUnit.HOURS.toNanos(1));
    assertThat(outcomes.calls()).isEmpty();
    cc.sweep(
        now + java.util.concurrent.TimeUnit.HOURS.toNanos(2),
        java.util.concurrent.TimeUnit.HOURS.toNanos(1));
    assertThat(outcomes.calls()).containsExactly("stuckWrite");
    release.countDown();
    writer.join(5_000);
    cc.sweep(
        now + java.util.concurrent.TimeUnit.HOURS.toNanos(3),
        java.util.concurrent.TimeUnit.HOURS.toNanos(1));
    assertThat(outcomes.calls()).containsExactly("stuckWrite");
  }

  /**
   * A send written just as the connection died may miss the shutdown notice and stay outstanding;
   * once automatic recovery swaps in a new channel (numbering from 1 again), its confirms must not
   * settle that send: recovery fails it first.
   */
  @Test
  void aSendLeftOutstandingAcrossARecoveryIsFailedNotConfirmedByTheNewChannel() throws IOException {
    Channel recoverable =
        mock(Channel.class, org.mockito.Mockito.withSettings().extraInterfaces(Recoverable.class));
    List<RecoveryListener> recovery = new ArrayList<>();
    doAnswer(i -> recovery.add(i.getArgument(0)))
        .when((Recoverable) recoverable)
        .addRecoveryListener(any(RecoveryListener.class));
    List<ConfirmListener> confirms = new ArrayList<>();
    doAnswer(i -> confirms.add(i.getArgument(0)))
        .when(recoverable)
        .addConfirmListener(any(ConfirmListener.class));
    when(recoverable.isOpen()).thenReturn(true);
    AtomicLong seq = new AtomicLong(1);
    when(recoverable.getNextPublishSeqNo()).thenAnswer(i -> seq.get());
    doAnswer(i -> seq.incrementAndGet())
        .when(recoverable)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    when(connection.createChannel()).thenReturn(recoverable);
    ConfirmChannel cc =
        new ConfirmChannel(connection, outcomes, blocked::get, closer, System::nanoTime);
    cc.send(send("stale"), Long.MAX_VALUE);

    seq.set(1); // the recovered channel numbers from 1 again
    recovery.forEach(l -> l.handleRecoveryStarted((Recoverable) recoverable));
    cc.send(send("fresh"), Long.MAX_VALUE);
    for (ConfirmListener l : confirms) {
      l.handleAck(1, true);
    }
    assertThat(outcomes.calls()).containsExactly("lost:stale", "acked:fresh");
  }
}
