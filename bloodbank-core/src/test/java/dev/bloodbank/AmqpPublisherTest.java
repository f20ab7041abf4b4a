package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyBoolean;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.doThrow;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link AmqpPublisher} does around its channels: holding sends while the broker blocks,
 * retrying on the bus's threads, completing futures on the right executor, and never throwing out
 * of {@code publish} once the bus is closing. The channel and connection are mocks that call back
 * their listeners as the RabbitMQ client does.
 */
class AmqpPublisherTest {
  private BusThreads threads;
  private BusConnections connections;
  private BusContext ctx;
  private Connection connection;
  private PublisherConfirmTest.FakeChannel channel;
  private final List<AmqpPublisher> publishers = new java.util.concurrent.CopyOnWriteArrayList<>();

  @BeforeEach
  void setUp() throws IOException {
    threads = new BusThreads(null);
    ctx = TestContexts.create(threads);
    connections = ctx.connections();
    connection = mock(Connection.class);
    when(connection.isOpen()).thenReturn(true);
    channel = new PublisherConfirmTest.FakeChannel(1);
    when(connection.createChannel()).thenReturn(channel.mock);
    threads.every(
        () -> publishers.forEach(AmqpPublisher::sweep), TimeUnit.MILLISECONDS.toNanos(10));
  }

  @AfterEach
  void tearDown() {
    for (AmqpPublisher p : publishers) {
      p.close(System.nanoTime());
    }
    threads.shutdown(System.nanoTime() + TimeUnit.SECONDS.toNanos(1));
  }

  private AmqpPublisher publisher(PublisherOptions options, boolean internal) throws IOException {
    AmqpPublisher p = new AmqpPublisher(ctx, connection, options, null, internal, () -> {});
    publishers.add(p);
    return p;
  }

  private static PublisherOptions.Builder oneChannel() {
    return PublisherOptions.builder().channels(1);
  }

  private static EventEnvelope<Map<String, Integer>> event(int i) {
    return EventEnvelope.builder("a.b", Map.of("i", i)).build();
  }

  @Test
  void whileTheBrokerBlocksNothingIsWrittenAndHeldSendsGoOutOnceItUnblocks() throws Exception {
    AmqpPublisher p = publisher(oneChannel().build(), false);
    connections.blocked("low on memory");
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> futures = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      futures.add(p.publish(event(i)));
    }
    Thread.sleep(100);
    assertThat(channel.published).as("written while blocked").isEmpty();
    assertThat(futures).noneMatch(CompletableFuture::isDone);

    connections.unblocked();
    long until = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (channel.published.size() < 3 && System.nanoTime() < until) {
      Thread.sleep(5);
    }
    assertThat(channel.published).hasSize(3);
    channel.ack(3, true);
    for (CompletableFuture<?> f : futures) {
      f.get(5, TimeUnit.SECONDS);
    }
  }

  @Test
  void aSendHeldForTheWholeAlarmTimesOutAfterEveryAttemptWithoutAWrite() throws Exception {
    AmqpPublisher p =
        publisher(
            oneChannel()
                .confirmTimeout(Duration.ofMillis(200))
                .maxAttempts(2)
                .backoff(Duration.ofMillis(10), Duration.ofMillis(20))
                .build(),
            false);
    connections.blocked("low on disk");
    long start = System.nanoTime();
    Throwable t = catchThrowable(() -> p.publish(event(1)).get(5, TimeUnit.SECONDS));
    long took = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
    assertThat(t).isInstanceOf(ExecutionException.class);
    assertThat(t.getCause())
        .isInstanceOfSatisfying(
            PublishException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(PublishException.Kind.TIMED_OUT);
              assertThat(e.attempts()).isEqualTo(2);
            });
    assertThat(took).as("two 200 ms attempts and a backoff").isBetween(350L, 3000L);
    assertThat(channel.published).isEmpty();
    assertThat(p.inFlight()).isZero();
  }

  @Test
  void closingFailsHeldSendsAsClosedAtOnce() throws Exception {
    AmqpPublisher p = publisher(oneChannel().build(), false);
    connections.blocked("low on memory");
    CompletableFuture<?> f = p.publish(event(1));
    long start = System.nanoTime();
    p.close(System.nanoTime() + TimeUnit.SECONDS.toNanos(5));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(2));
    Throwable t = catchThrowable(() -> f.get(5, TimeUnit.SECONDS));
    assertThat(t.getCause())
        .isInstanceOfSatisfying(
            PublishException.class,
            e -> assertThat(e.kind()).isEqualTo(PublishException.Kind.CLOSED));
    assertThat(channel.published).isEmpty();
  }

  @Test
  void aRetryDueAfterTheBusStoppedFailsTheFutureInsteadOfThrowingOutOfPublish() throws Exception {
    AmqpPublisher p =
        publisher(
            oneChannel().maxAttempts(3).backoff(Duration.ofMillis(1), Duration.ofMillis(1)).build(),
            false);
    doThrow(new IOException("socket closed"))
        .when(channel.mock)
        .basicPublish(anyString(), anyString(), anyBoolean(), any(), any());
    threads.shutdown(System.nanoTime());
    CompletableFuture<?> f = p.publish(event(1));
    Throwable t = catchThrowable(() -> f.get(5, TimeUnit.SECONDS));
    assertThat(t.getCause())
        .isInstanceOfSatisfying(
            PublishException.class,
            e -> assertThat(e.kind()).isEqualTo(PublishException.Kind.CLOSED));
  }

  @Test
  void applicationFuturesCompleteOnCallbackThreadsAndInternalOnesOnIoThreads() throws Exception {
    AmqpPublisher app = publisher(oneChannel().build(), false);
    AtomicReference<String> appThread = new AtomicReference<>();
    CompletableFuture<?> a =
        app.publish(event(1)).thenRun(() -> appThread.set(Thread.currentThread().getName()));
    channel.ack(1, false);
    a.get(5, TimeUnit.SECONDS);
    assertThat(appThread.get()).startsWith("bloodbank-callbacks-");

    PublisherConfirmTest.FakeChannel second = new PublisherConfirmTest.FakeChannel(1);
    when(connection.createChannel()).thenReturn(second.mock);
    AmqpPublisher internal = publisher(oneChannel().build(), true);
    AtomicReference<String> internalThread = new AtomicReference<>();
    CompletableFuture<?> b =
        internal
            .publish(event(2))
            .thenRun(() -> internalThread.set(Thread.currentThread().getName()));
    second.ack(1, false);
    b.get(5, TimeUnit.SECONDS);
    assertThat(internalThread.get()).startsWith("bloodbank-io-");
  }

  @Test
  void publishAndWaitOnAThreadBloodbankNeedsFailsAtOnceNamingTheThread() throws Exception {
    AmqpPublisher p = publisher(oneChannel().build(), false);
    CompletableFuture<Throwable> failure = new CompletableFuture<>();
    threads.io(() -> failure.complete(catchThrowable(() -> p.publishAndWait(event(1)))), () -> {});
    assertThat(failure.get(5, TimeUnit.SECONDS))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("publishAndWait")
        .hasMessageContaining("bloodbank-io-")
        .hasMessageContaining("continuation");
  }

  @Test
  void publishAndWaitIsBoundedByTheLongestAPublishCanTake() throws Exception {
    AmqpPublisher p =
        publisher(
            oneChannel()
                .confirmTimeout(Duration.ofMillis(100))
                .maxAttempts(1)
                .backoff(Duration.ofMillis(1), Duration.ofMillis(1))
                .build(),
            false);
    long start = System.nanoTime();
    // Written, never confirmed: the sweep times it out after one attempt.
    assertThatThrownBy(() -> p.publishAndWait(event(1)))
        .isInstanceOfSatisfying(
            PublishException.class,
            e -> assertThat(e.kind()).isEqualTo(PublishException.Kind.TIMED_OUT));
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
  }

  /**
   * One multiple confirm completes both futures; the first one's continuation waits for the second.
   * The batch must not complete them one after the other on one thread only.
   */
  @Test
  void aContinuationWaitingForALaterFutureOfTheSameConfirmIsReleased() throws Exception {
    AmqpPublisher p = publisher(oneChannel().build(), false);
    CompletableFuture<EventEnvelope<Map<String, Integer>>> early = p.publish(event(2));
    CompletableFuture<EventEnvelope<Map<String, Integer>>> late = p.publish(event(1));
    // The batch completes `early` (tag 1) before `late` (tag 2); early's continuation waits for
    // late.
    CompletableFuture<Integer> chained =
        early.thenApply(e -> late.join().payload().get("i") + e.payload().get("i"));
    channel.ack(2, true);
    assertThat(chained.get(5, TimeUnit.SECONDS)).isEqualTo(3);
  }
}
