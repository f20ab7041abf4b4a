package dev.bloodbank.examples;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.deadletter.DeadLetter;
import dev.bloodbank.deadletter.DeadLetterReplayOptions;
import dev.bloodbank.deadletter.DeadLetterReplayResult;
import dev.bloodbank.deadletter.DeadLetters;
import dev.bloodbank.schemas.llm.LlmPrompt;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A handler that fails until it is fixed: its event lands in the dead-letter queue, is shown with
 * why it failed, and is moved back once the handler works.
 *
 * <p>Needs RabbitMQ (dead-letter queues are broker queues); it connects as {@code RABBIT_URL} says,
 * or to localhost:5672 as guest, and leaves the queues {@code dead-letter-example} and {@code
 * dead-letter-example.dlq} behind, empty.
 */
public final class DeadLetterExample {
  /** The example's queue. */
  static final String QUEUE = "dead-letter-example";

  private DeadLetterExample() {}

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws Exception if the event is not handled in the end
   */
  public static void main(String[] args) throws Exception {
    run(BloodbankOptions.fromEnvironment().mutate().serviceName("dead-letter-example").build());
  }

  static void run(BloodbankOptions options) throws Exception {
    try (Bloodbank bus = Bloodbank.connect(options)) {
      AtomicBoolean fixed = new AtomicBoolean();
      CountDownLatch handled = new CountDownLatch(1);
      Subscriber worker =
          bus.subscribe(
              SubscriberOptions.builder("llm.prompt")
                  .queueName(QUEUE)
                  .maxAttempts(2)
                  .retryDelays(List.of(Duration.ofMillis(200)))
                  .build(),
              LlmPrompt.class,
              event -> {
                if (!fixed.get()) {
                  throw new IllegalStateException("model gateway unavailable");
                }
                System.out.println(
                    "handled " + event.eventId() + ": " + event.payload().getPrompt());
                handled.countDown();
              });
      bus.publisher()
          .publish(
              "llm.prompt",
              new LlmPrompt().withProvider("anthropic").withModel("claude").withPrompt("hello"))
          .get(10, TimeUnit.SECONDS);
      String dlq = worker.deadLetterQueueName();
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (bus.deadLetters().inspect(dlq).messages() == 0 && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }

      // [dead-letters]
      DeadLetters deadLetters = bus.deadLetters();
      System.out.printf("%s holds %d event(s)%n", dlq, deadLetters.inspect(dlq).messages());
      for (DeadLetter d : deadLetters.peek(dlq, 10)) {
        System.out.printf(
            "%s %s from %s: %s after %d attempt(s): %s%n",
            d.eventType(),
            d.eventId(),
            d.failedQueue(),
            d.reason(),
            d.attempts(),
            d.errorMessage());
      }

      fixed.set(true); // the fix is deployed: move the prompts back to the queue that failed them
      DeadLetterReplayResult result =
          deadLetters.replay(
              DeadLetterReplayOptions.builder(dlq).pattern("llm.#").rate(100).build());
      System.out.printf("moved %d back, %d remaining%n", result.moved(), result.remaining());
      // [dead-letters]

      if (!handled.await(10, TimeUnit.SECONDS)) {
        throw new IllegalStateException("the moved event was not handled within 10 s");
      }
      worker.close();
    }
  }
}
