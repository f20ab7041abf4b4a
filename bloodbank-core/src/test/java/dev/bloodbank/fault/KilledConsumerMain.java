package dev.bloodbank.fault;

import com.fasterxml.jackson.databind.JsonNode;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.SubscriberOptions;
import dev.bloodbank.command.ProcessedCommands;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.validation.ValidationMode;
import java.time.Duration;

/**
 * Child process of the scenario 9 test: consumes one event at a time, applies its effect once
 * (idempotently: skipped when the processed-store knows the id), prints {@code APPLIED <id>}, and
 * then hangs before returning, so the broker never sees the ack before the parent SIGKILLs it.
 *
 * <p>Arguments: rabbit port, exchange, service name, queue, redis port.
 */
public final class KilledConsumerMain {
  private KilledConsumerMain() {}

  public static void main(String[] args) throws Exception {
    int rabbitPort = Integer.parseInt(args[0]);
    String exchange = args[1];
    String service = args[2];
    String queue = args[3];
    int redisPort = Integer.parseInt(args[4]);
    ProcessedCommands processed =
        ProcessedCommands.redis(
            RedisTrackerOptions.builder().uri("redis://127.0.0.1:" + redisPort).build(),
            Duration.ofHours(1));
    Bloodbank bus =
        Bloodbank.connect(
            BloodbankOptions.builder()
                .address("127.0.0.1", rabbitPort)
                .exchange(exchange)
                .serviceName(service)
                .validation(ValidationMode.SKIP)
                .build());
    bus.subscribeWithDelivery(
        SubscriberOptions.builder("killed.#").queueName(queue).prefetch(1).concurrency(1).build(),
        JsonNode.class,
        (event, delivery) -> {
          IdempotentEffect.apply(processed, redisPort, event.eventId());
          System.out.println("APPLIED " + event.eventId());
          System.out.flush();
          Thread.sleep(Long.MAX_VALUE); // killed here, before the ack
        });
    System.out.println("READY");
    System.out.flush();
    Thread.sleep(Long.MAX_VALUE);
  }
}
