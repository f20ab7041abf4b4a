package dev.bloodbank;

import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import com.fasterxml.jackson.databind.JsonNode;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.Consumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The acknowledgement bookkeeping of {@link AmqpSubscriber} with grouped acknowledgements, driven
 * through a mock channel: what is acknowledged, and when. The bus's timer is held up on purpose
 * where a test needs the 1 ms group flush not to run, and the clock the acknowledgements are timed
 * by stands still unless a test moves it.
 */
class AmqpSubscriberTest {
  private BusThreads threads;
  private BusContext ctx;
  private Channel channel;
  private Connection connection;
  private final AtomicReference<Consumer> consumer = new AtomicReference<>();
  private final CountDownLatch timerHeld = new CountDownLatch(1);
  private AmqpSubscriber<JsonNode> subscriber;
  private final AtomicLong clock = new AtomicLong(1_000_000_000L);

  @BeforeEach
  void setUp() throws IOException {
    threads = new BusThreads(null);
    ctx = TestContexts.create(threads);
    channel = mock(Channel.class);
    when(channel.isOpen()).thenReturn(true);
    when(channel.basicConsume(anyString(), eq(false), any(Consumer.class)))
        .thenAnswer(
            i -> {
              consumer.set(i.getArgument(2));
              return "ctag";
            });
    connection = mock(Connection.class);
    when(connection.createChannel()).thenReturn(channel);
  }

  @AfterEach
  void tearDown() {
    timerHeld.countDown();
    if (subscriber != null) {
      subscriber.close(System.nanoTime());
    }
    threads.shutdown(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
  }

  private void start(DeliveryHandler<JsonNode> handler, Supplier<AmqpPublisher> systemPublisher)
      throws IOException {
    SubscriberOptions options =
        SubscriberOptions.builder("a.#").queueName("q").prefetch(10).ackBatchSize(2).build();
    subscriber =
        new AmqpSubscriber<>(
            ctx,
            connection,
            options,
            JsonNode.class,
            handler,
            systemPublisher,
            s -> {},
            null,
            clock::get);
  }

  /** Keeps the timer busy, so grouped acknowledgements wait for a full group. */
  private void holdTimer() {
    threads.atDeadline(
        () -> {
          try {
            timerHeld.await(10, TimeUnit.SECONDS);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
        },
        0);
  }

  private void deliver(long tag) throws IOException {
    byte[] body = ctx.codec().encode(EventEnvelope.builder("a.b", Map.of("tag", tag)).build());
    AMQP.BasicProperties props =
        new AMQP.BasicProperties.Builder().contentType("application/json").build();
    consumer.get().handleDelivery("ctag", new Envelope(tag, false, "ex", "a.b"), props, body);
  }

  /**
   * After a recovery, a handler of a delivery from the old channel can finish after newer ones: the
   * group must still be acknowledged up to the newest handled tag, not moved back.
   */
  @Test
  void aLateLowerTagNeverMovesTheGroupedAcknowledgementBack() throws Exception {
    start((event, delivery) -> {}, () -> mock(AmqpPublisher.class));
    holdTimer();
    deliver(100);
    deliver(5);
    verify(channel).basicAck(100, true);
    verify(channel, never()).basicAck(5, true);
  }

  /**
   * A delivery that could not be moved to a retry queue (no retry publisher: the bus is still
   * connecting) is requeued, and grouped acknowledgements go on as before for the next ones.
   */
  @Test
  void aRetryPublisherThatCannotBeHadDoesNotTurnGroupedAcknowledgementsOff() throws Exception {
    start(
        (event, delivery) -> {
          if (event.payload().get("tag").asLong() == 1) {
            throw new IllegalStateException("fails once");
          }
        },
        () -> {
          throw new ConnectionException("not connected yet (lazy connect still trying)", null);
        });
    holdTimer();
    deliver(1);
    verify(channel).basicNack(1, false, true);
    deliver(2);
    deliver(3);
    verify(channel, timeout(1000)).basicAck(3, true);
    verify(channel, never()).basicAck(eq(2L), anyBoolean());
    verify(channel, never()).basicAck(anyLong(), eq(false));
  }

  /** Events handled 0.2 ms or more apart would not fill a group: each is acknowledged at once. */
  @Test
  void aSlowStreamIsAcknowledgedEventByEventWithoutTheTimer() throws Exception {
    start((event, delivery) -> {}, () -> mock(AmqpPublisher.class));
    holdTimer();
    deliver(1);
    verify(channel, never()).basicAck(anyLong(), anyBoolean());
    clock.addAndGet(TimeUnit.MICROSECONDS.toNanos(300));
    deliver(2); // the waiting one goes with it
    verify(channel).basicAck(2, true);
    clock.addAndGet(TimeUnit.MILLISECONDS.toNanos(5));
    deliver(3);
    verify(channel).basicAck(3, true);
  }

  /** Closer together, they go in groups, as far apart as they come. */
  @Test
  void aFastStreamIsAcknowledgedInGroups() throws Exception {
    start((event, delivery) -> {}, () -> mock(AmqpPublisher.class));
    holdTimer();
    for (long tag = 1; tag <= 6; tag++) {
      clock.addAndGet(TimeUnit.MICROSECONDS.toNanos(150));
      deliver(tag);
    }
    verify(channel).basicAck(2, true);
    verify(channel).basicAck(4, true);
    verify(channel).basicAck(6, true);
    verify(channel, never()).basicAck(eq(1L), anyBoolean());
    verify(channel, never()).basicAck(eq(3L), anyBoolean());
    verify(channel, never()).basicAck(eq(5L), anyBoolean());
  }
}
