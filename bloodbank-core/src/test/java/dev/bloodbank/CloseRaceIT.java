package dev.bloodbank;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.bloodbank.command.Command;
import dev.bloodbank.command.CommandClient;
import dev.bloodbank.command.CommandContext;
import dev.bloodbank.command.CommandProcessor;
import dev.bloodbank.command.CommandProcessorOptions;
import dev.bloodbank.command.EventCollector;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import dev.bloodbank.registry.EventDefinition;
import dev.bloodbank.wal.WalOptions;
import dev.bloodbank.wal.WriteAheadLog;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@link Bloodbank#close()} while other threads subscribe, publish, open durable publishers and
 * start command processors (issue #15): afterwards no connection, thread or write-ahead log of the
 * bus is left, every publish future has completed, and close returned within its bound.
 */
@ExtendWith(BrokerExtension.class)
class CloseRaceIT {
  static final String COMMAND = "race.cmd";

  @TempDir Path dir;

  /** A command that does nothing but take a little time. */
  public static final class Nap extends Command<Integer> {
    public int n;

    @Override
    public Integer execute(CommandContext context, EventCollector events) throws Exception {
      Thread.sleep(20);
      return n;
    }
  }

  @Test
  @Scenario(26)
  void closingWhileOthersCreateAndUseChildrenLeavesNothingOpen(BrokerExtension.Broker broker)
      throws Exception {
    Set<Long> threadsBefore = new HashSet<>();
    LeakCheck.watchedThreads().forEach(t -> threadsBefore.add(t.getId()));
    JsonNode schema = new ObjectMapper().readTree("{\"type\":\"object\"}");
    List<CompletableFuture<?>> futures = new CopyOnWriteArrayList<>();
    List<Path> logs = new CopyOnWriteArrayList<>();
    Duration shutdownTimeout = Duration.ofSeconds(5);
    int rounds = 5;
    long slowestClose = 0;
    for (int round = 0; round < rounds; round++) {
      String service = broker.serviceName() + "-r" + round;
      Bloodbank bus =
          Bloodbank.connect(
              broker.options().serviceName(service).shutdownTimeout(shutdownTimeout).build());
      bus.registry().register(EventDefinition.of(COMMAND, schema, Nap.class, true));
      broker.track(service + "_commands");
      AtomicInteger made = new AtomicInteger();
      int r = round;
      List<Thread> racers = new ArrayList<>();
      racers.add(
          racer(
              bus,
              i -> {
                bus.subscribe(SubscriberOptions.builder("race.#").temporary().build(), e -> {});
                made.incrementAndGet();
              }));
      racers.add(
          racer(
              bus,
              i -> {
                futures.add(bus.publisher().publish("race.shared", Map.of("i", i)));
                Publisher own = bus.publisher(PublisherOptions.builder().channels(1).build());
                futures.add(own.publish("race.own", Map.of("i", i)));
                made.incrementAndGet();
              }));
      racers.add(
          racer(
              bus,
              i -> {
                Path log = dir.resolve("race-" + r + "-" + i + ".jsonl");
                logs.add(log);
                Publisher durable =
                    bus.durablePublisher(
                        PublisherOptions.builder().durable(WalOptions.of(log)).build());
                futures.add(durable.publish("race.durable", Map.of("i", i)));
                made.incrementAndGet();
              }));
      racers.add(
          racer(
              bus,
              i -> {
                if (i == 0) {
                  CommandProcessor.start(
                      bus, CommandProcessorOptions.builder().concurrency(2).build());
                }
                CommandClient client = CommandClient.create(bus);
                Nap nap = new Nap();
                nap.n = i;
                futures.add(client.send(COMMAND, nap, Integer.class, Duration.ofSeconds(5)));
                made.incrementAndGet();
              }));
      racers.forEach(Thread::start);
      Thread.sleep(300 + 100L * round);
      long start = System.nanoTime();
      bus.close();
      slowestClose = Math.max(slowestClose, System.nanoTime() - start);
      for (Thread t : racers) {
        t.join(10_000);
        assertThat(t.isAlive()).as("%s still running after close", t.getName()).isFalse();
      }
      assertThat(made.get()).as("children made in round %d before close", round).isPositive();
    }
    System.out.printf(
        "scenario 26: %d rounds, %d futures, %d logs, slowest close %d ms%n",
        rounds, futures.size(), logs.size(), TimeUnit.NANOSECONDS.toMillis(slowestClose));
    assertThat(Duration.ofNanos(slowestClose)).isLessThan(shutdownTimeout.plusSeconds(2));

    // Every future has completed (command results within their 5 s timeout).
    for (CompletableFuture<?> f : futures) {
      try {
        f.get(10, TimeUnit.SECONDS);
      } catch (java.util.concurrent.ExecutionException e) {
        // failed, as expected for many of them: completed is what counts
      }
    }
    // No Bloodbank or amqp-client thread of these buses is left.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    List<String> left;
    do {
      left = new ArrayList<>();
      for (Thread t : LeakCheck.watchedThreads()) {
        if (!threadsBefore.contains(t.getId())) {
          left.add(t.getName());
        }
      }
    } while (!left.isEmpty() && System.nanoTime() < deadline && sleep());
    assertThat(left).as("threads left after the buses closed").isEmpty();
    // Every log can be opened again: no publisher holds it.
    for (Path log : logs) {
      if (Files.exists(log)) {
        WriteAheadLog.open(WalOptions.of(log)).close();
      }
    }
    if (!broker.isEmbedded()) {
      assertThat(connectionsNamed(broker.serviceName()))
          .as("broker connections of the closed buses")
          .isEmpty();
    }
    ReliabilityReport.events(26, futures.size(), 0, 0);
  }

  /** Runs the action with 0, 1, 2, ... until the bus refuses because it is closed. */
  private static Thread racer(Bloodbank bus, Consumer<Integer> action) {
    return new Thread(
        () -> {
          for (int i = 0; bus.isOpen(); i++) {
            try {
              action.accept(i);
              Thread.sleep(10);
            } catch (BloodbankException e) {
              if (bus.isOpen()) {
                throw e;
              }
            } catch (InterruptedException e) {
              return;
            }
          }
        },
        "racer");
  }

  private static boolean sleep() {
    try {
      Thread.sleep(50);
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Client-provided names of the broker's connections that contain {@code part}. */
  private static List<String> connectionsNamed(String part) throws Exception {
    File out = File.createTempFile("rabbitmqctl", ".json");
    try {
      Process p =
          new ProcessBuilder(
                  "rabbitmqctl", "-q", "list_connections", "client_properties", "--formatter=json")
              .redirectErrorStream(false)
              .redirectOutput(out)
              .start();
      assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("rabbitmqctl list_connections").isTrue();
      List<String> names = new ArrayList<>();
      for (JsonNode c : new ObjectMapper().readTree(out)) {
        for (JsonNode prop : c.path("client_properties")) {
          if (prop.path(0).asText().equals("connection_name")
              && prop.path(2).asText().contains(part)) {
            names.add(prop.path(2).asText());
          }
        }
      }
      return names;
    } finally {
      Files.deleteIfExists(out.toPath());
    }
  }
}
