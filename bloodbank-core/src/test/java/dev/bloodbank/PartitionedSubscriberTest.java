package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** How a partitioned subscription closes its partitions (issue #23). */
class PartitionedSubscriberTest {
  private static final SubscriberOptions OPTIONS =
      SubscriberOptions.builder("a.#").partitions(3).shutdownTimeout(Duration.ofSeconds(2)).build();

  /** A partition whose close stands for handlers in progress: it returns once all have begun. */
  private static final class Closing implements Subscriber {
    final CountDownLatch allClosing;
    final AtomicBoolean sawOthers = new AtomicBoolean();
    final AtomicBoolean closed = new AtomicBoolean();

    Closing(CountDownLatch allClosing) {
      this.allClosing = allClosing;
    }

    @Override
    public String queueName() {
      return "q.p";
    }

    @Override
    public String deadLetterQueueName() {
      return "q.dlq";
    }

    @Override
    public SubscriberOptions options() {
      return OPTIONS;
    }

    @Override
    public SubscriberHealth health() {
      return new SubscriberHealth(true, !closed.get(), null, null, 0, 0, 0);
    }

    @Override
    public void close() {
      allClosing.countDown();
      try {
        sawOthers.set(allClosing.await(1, TimeUnit.SECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      closed.set(true);
    }
  }

  @Test
  void closesThePartitionsSideBySide() {
    CountDownLatch allClosing = new CountDownLatch(3);
    List<Closing> parts = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      parts.add(new Closing(allClosing));
    }
    ExecutorService io = Executors.newCachedThreadPool();
    try {
      new PartitionedSubscriber("q", OPTIONS, parts, io).close();
    } finally {
      io.shutdownNow();
    }
    // One after the other, the first would have waited for the others in vain.
    assertThat(parts).allSatisfy(p -> assertThat(p.sawOthers).isTrue());
    assertThat(parts).allSatisfy(p -> assertThat(p.closed).isTrue());
  }

  @Test
  void closesOnTheCallersThreadWhenTheBusNoLongerRunsTasks() {
    CountDownLatch none = new CountDownLatch(0);
    List<Closing> parts = List.of(new Closing(none), new Closing(none));
    new PartitionedSubscriber(
            "q",
            OPTIONS,
            parts,
            task -> {
              throw new RejectedExecutionException("shut down");
            })
        .close();
    assertThat(parts).allSatisfy(p -> assertThat(p.closed).isTrue());
  }
}
