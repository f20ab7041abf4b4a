package dev.bloodbank.examples;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.QueueType;
import dev.bloodbank.Subscriber;
import dev.bloodbank.SubscriberOptions;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Partitioned consumption (issue #23): the events of each session go to one of four queues and are
 * handled in order, by one instance of the service at a time, however many instances run.
 *
 * <p>Needs the broker's consistent-hash exchange ({@code rabbitmq-plugins enable
 * rabbitmq_consistent_hash_exchange}, shipped with RabbitMQ); it connects as {@code RABBIT_URL}
 * says, or to localhost:5672 as guest. Run several copies at once: each session's events are
 * printed in order by whichever copy holds its partition.
 */
public final class PartitionedConsumer {
  private PartitionedConsumer() {}

  /**
   * Runs the example.
   *
   * @param args ignored
   * @throws InterruptedException if interrupted while waiting for the events
   */
  public static void main(String[] args) throws InterruptedException {
    run(BloodbankOptions.fromEnvironment().mutate().serviceName("partitions-example").build());
  }

  static void run(BloodbankOptions options) throws InterruptedException {
    // [partitions]
    try (Bloodbank bus = Bloodbank.connect(options)) {
      // Every instance subscribes alike: four quorum queues, each consumed by one instance at a
      // time (single active consumer), the events of one key always in the same queue.
      CountDownLatch done = new CountDownLatch(30);
      Subscriber sessions =
          bus.subscribe(
              SubscriberOptions.builder("session.#")
                  .partitions(4)
                  .queueType(QueueType.QUORUM)
                  .build(),
              JsonNode.class,
              event -> {
                JsonNode p = event.payload();
                System.out.printf("%s step %d%n", p.get("session").asText(), p.get("step").asInt());
                done.countDown();
              });

      // Publishers name each event's key, here its session, and send on one channel, whose
      // order the broker keeps.
      Publisher publisher =
          bus.publisher(
              PublisherOptions.builder()
                  .partitionKey(e -> ((Map<?, ?>) e.payload()).get("session").toString())
                  .channels(1)
                  .build());
      for (int step = 0; step < 10; step++) {
        for (String session : new String[] {"s-1", "s-2", "s-3"}) {
          publisher.publish(
              EventEnvelope.builder("session.step", Map.of("session", session, "step", step))
                  .build());
        }
      }
      done.await(30, TimeUnit.SECONDS);
      sessions.close();
    }
    // [partitions]
  }
}
