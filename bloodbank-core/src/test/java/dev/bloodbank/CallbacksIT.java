package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Continuations of publish futures are application code: they may block, even on another publish,
 * without stalling the completions they wait for (issue #15).
 */
@ExtendWith(BrokerExtension.class)
class CallbacksIT {

  @Test
  @Scenario(25)
  void moreContinuationsThatPublishAndWaitThanCallbackThreadsAllComplete(
      BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = broker.connect();
    String q = broker.rawQueue("chain.#");
    Publisher p = bus.publisher();
    int chains = 32;
    List<CompletableFuture<EventEnvelope<Map<String, Integer>>>> all = new ArrayList<>();
    for (int i = 0; i < chains; i++) {
      int n = i;
      all.add(
          p.publish("chain.first", Map.of("i", n))
              .thenApply(
                  first ->
                      p.publishAndWait(
                          EventEnvelope.builder("chain.second", Map.of("i", n))
                              .withCorrelationId(first.eventId())
                              .build())));
    }
    CompletableFuture.allOf(all.toArray(new CompletableFuture<?>[0])).get(30, TimeUnit.SECONDS);
    int arrived = broker.drain(q, 2 * chains, Duration.ofSeconds(10)).size();
    ReliabilityReport.events(25, 2 * chains, 2 * chains - arrived, 0);
    assertThat(arrived).isEqualTo(2 * chains);
  }

  @Test
  void completionsRunOnTheApplicationsExecutorWhichTheBusNeverShutsDown(
      BrokerExtension.Broker broker) throws Exception {
    AtomicInteger n = new AtomicInteger();
    ExecutorService mine =
        Executors.newSingleThreadExecutor(
            r -> new Thread(r, "app-callbacks-" + n.incrementAndGet()));
    try {
      Bloodbank bus = broker.connect(o -> o.callbackExecutor(mine));
      broker.rawQueue("mine.#");
      // The completion waits behind this task until the continuation is attached: otherwise a
      // fast confirm (the embedded broker's) can complete the future first, and the continuation
      // then runs on this thread, which says nothing about the bus.
      CountDownLatch attached = new CountDownLatch(1);
      mine.execute(
          () -> {
            try {
              attached.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
              Thread.currentThread().interrupt();
            }
          });
      CompletableFuture<String> ran =
          bus.publisher()
              .publish("mine.one", Map.of("i", 1))
              .thenApply(e -> Thread.currentThread().getName());
      attached.countDown();
      String thread = ran.get(10, TimeUnit.SECONDS);
      assertThat(thread).startsWith("app-callbacks-");
      assertThat(bus.callbackExecutor()).isSameAs(mine);
      bus.close();
      assertThat(mine.isShutdown()).as("the application's executor after close").isFalse();
    } finally {
      mine.shutdownNow();
    }
  }
}
