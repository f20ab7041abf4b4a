package dev.bloodbank.command;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Await;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.correlation.CorrelationTracker;
import dev.bloodbank.registry.EventDefinition;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Commands executed by a processor on the real RabbitMQ. */
@ExtendWith(BrokerExtension.class)
class CommandProcessorIT {
  static final String TYPE = "test.counter.increment";
  static final String DONE = "test.counter.incremented";
  static final Map<String, AtomicInteger> COUNTERS = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> ROLLBACKS = new ConcurrentHashMap<>();

  /** A command: increments a named counter, optionally slowly or failing. */
  public static final class Increment extends Command<Integer> {
    public String key = "";
    public int by = 1;
    public boolean fail;
    public long sleepMillis;

    public Increment() {}

    Increment(String key, boolean fail, long sleepMillis) {
      this.key = key;
      this.fail = fail;
      this.sleepMillis = sleepMillis;
    }

    @Override
    public Integer execute(CommandContext context, EventCollector events) throws Exception {
      Thread.sleep(sleepMillis);
      events.add(DONE, Map.of("key", key, "attempt", context.attempt()));
      if (fail) {
        throw new IllegalStateException("counter " + key + " refuses");
      }
      return COUNTERS.computeIfAbsent(key, k -> new AtomicInteger()).addAndGet(by);
    }

    @Override
    public void rollback(CommandContext context) {
      ROLLBACKS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
    }
  }

  private static Bloodbank connect(BrokerExtension.Broker broker, CorrelationTracker tracker)
      throws Exception {
    Bloodbank bus = broker.connect(o -> o.correlationTracker(tracker));
    JsonNode schema =
        new ObjectMapper()
            .readTree(
                "{\"type\":\"object\",\"properties\":{\"key\":{\"type\":\"string\",\"minLength\":1}},\"required\":[\"key\"]}");
    bus.registry().register(EventDefinition.of(TYPE, schema, Increment.class, true));
    return bus;
  }

  private final List<CommandProcessor> processors = new ArrayList<>();

  /** Before the bus: a processor outlives it otherwise. */
  @AfterEach
  void closeProcessors() {
    processors.forEach(CommandProcessor::close);
  }

  private CommandProcessor start(
      BrokerExtension.Broker broker, Bloodbank bus, ProcessedCommands store) {
    CommandProcessor p =
        CommandProcessor.start(
            bus,
            CommandProcessorOptions.builder()
                .processed(store)
                .concurrency(8)
                .retries(2, List.of(Duration.ofMillis(50)))
                .build());
    broker.track(p.subscriber());
    processors.add(p);
    return p;
  }

  @Test
  void successPublishesCorrelatedTrackedSideEffectsAfterExecution(BrokerExtension.Broker broker)
      throws Exception {
    CorrelationTracker tracker = CorrelationTracker.inMemory();
    Bloodbank bus = connect(broker, tracker);
    String effects = broker.rawQueue(DONE);
    start(broker, bus, ProcessedCommands.inMemory(1000, Duration.ofHours(1)));
    String key = UUID.randomUUID().toString();
    try (CommandClient client = CommandClient.create(bus)) {
      EventEnvelope<Increment> cmd =
          EventEnvelope.builder(TYPE, new Increment(key, false, 0)).build();
      Integer result =
          client.send(cmd, Integer.class, Duration.ofSeconds(10)).get(15, TimeUnit.SECONDS);
      assertThat(result).isEqualTo(1);

      List<GetResponse> got = broker.drain(effects, 1, Duration.ofSeconds(5));
      assertThat(got).hasSize(1);
      EventEnvelope<JsonNode> effect = bus.codec().decode(got.get(0).getBody());
      assertThat(effect.correlationIds()).containsExactly(cmd.eventId());
      assertThat(effect.eventId()).isEqualTo(EventCollector.sideEffectId(cmd.eventId(), 0));
      Await.until(() -> tracker.parents(effect.eventId()).get().equals(List.of(cmd.eventId())));
    }
  }

  @Test
  void failureRollsBackPublishesFailureEventsAndNoSideEffects(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = connect(broker, CorrelationTracker.inMemory());
    String effects = broker.rawQueue(DONE);
    String failures = broker.rawQueue(CommandManager.FAILED);
    CommandProcessor p = start(broker, bus, ProcessedCommands.inMemory(1000, Duration.ofHours(1)));
    String key = UUID.randomUUID().toString();
    try (CommandClient client = CommandClient.create(bus)) {
      CompletableFuture<Integer> f =
          client.send(TYPE, new Increment(key, true, 0), Integer.class, Duration.ofSeconds(15));
      assertThatThrownBy(() -> f.get(20, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(CommandFailedException.class)
          .hasMessageContaining("IllegalStateException")
          .hasMessageContaining("refuses");
    }
    assertThat(ROLLBACKS.get(key)).hasValue(2);
    List<GetResponse> failed = broker.drain(failures, 2, Duration.ofSeconds(5));
    assertThat(failed).hasSize(2);
    JsonNode last = bus.codec().decode(failed.get(1).getBody()).payload();
    assertThat(last.get("attempt").asInt()).isEqualTo(2);
    assertThat(last.get("is_final").asBoolean()).isTrue();
    assertThat(last.get("error_class").asText()).isEqualTo(IllegalStateException.class.getName());
    assertThat(broker.drain(effects, 1, Duration.ofMillis(500))).isEmpty();
    assertThat(COUNTERS.get(key)).isNull();
    assertThat(broker.drain(p.subscriber().deadLetterQueueName(), 1, Duration.ofSeconds(5)))
        .hasSize(1);
  }

  @Test
  void aRedeliveredCompletedCommandIsNotExecutedAgain(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = connect(broker, CorrelationTracker.inMemory());
    String effects = broker.rawQueue(DONE);
    ProcessedCommands store = ProcessedCommands.inMemory(1000, Duration.ofHours(1));
    start(broker, bus, store);
    String key = UUID.randomUUID().toString();
    EventEnvelope<Increment> cmd =
        EventEnvelope.builder(TYPE, new Increment(key, false, 0)).build();
    // The same command event again once it completed: what a redelivery after a crash between
    // completing and acknowledging looks like.
    bus.publisher().publish(cmd).get(5, TimeUnit.SECONDS);
    Await.until(() -> store.isCompleted(cmd.eventId()));
    bus.publisher().publish(cmd).get(5, TimeUnit.SECONDS);
    Thread.sleep(500);
    assertThat(COUNTERS.get(key)).hasValue(1);
    assertThat(broker.drain(effects, 5, Duration.ofSeconds(1))).hasSize(1);
  }

  @Test
  void hundredConcurrentCommandsAllComplete(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = connect(broker, CorrelationTracker.inMemory());
    start(broker, bus, ProcessedCommands.inMemory(1000, Duration.ofHours(1)));
    String key = UUID.randomUUID().toString();
    try (CommandClient client = CommandClient.create(bus)) {
      List<CompletableFuture<Integer>> all = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        all.add(
            client.send(TYPE, new Increment(key, false, 5), Integer.class, Duration.ofSeconds(30)));
      }
      CompletableFuture.allOf(all.toArray(new CompletableFuture[0])).get(40, TimeUnit.SECONDS);
      Set<Integer> results = new HashSet<>();
      all.forEach(f -> results.add(f.join()));
      assertThat(results).hasSize(100);
      assertThat(COUNTERS.get(key)).hasValue(100);
    }
  }

  @Test
  @BrokerExtension.RealBrokerOnly("closes every connection with rabbitmqctl")
  @BrokerExtension.PrivateNode("closes every connection of the broker")
  void aConnectionLostMidCommandStillHasOneEffectById(BrokerExtension.Broker broker)
      throws Exception {
    Bloodbank bus = connect(broker, CorrelationTracker.inMemory());
    String effects = broker.rawQueue(DONE);
    start(broker, bus, ProcessedCommands.inMemory(1000, Duration.ofHours(1)));
    String key = UUID.randomUUID().toString();
    EventEnvelope<Increment> cmd =
        EventEnvelope.builder(TYPE, new Increment(key, false, 1500)).build();
    bus.publisher().publish(cmd).get(5, TimeUnit.SECONDS);
    Thread.sleep(500);
    broker.closeAllConnections();
    List<GetResponse> got = broker.drain(effects, 10, Duration.ofSeconds(8));
    assertThat(got).isNotEmpty();
    Set<String> ids = new HashSet<>();
    got.forEach(r -> ids.add(r.getProps().getMessageId()));
    // Executed once or twice, the side effect has one id: consumers drop the duplicate.
    assertThat(ids).containsExactly(EventCollector.sideEffectId(cmd.eventId(), 0).toString());
  }

  @Test
  void anAwaitedCommandNobodyAnswersTimesOut(BrokerExtension.Broker broker) throws Exception {
    Bloodbank bus = connect(broker, CorrelationTracker.inMemory());
    try (CommandClient client = CommandClient.create(bus)) {
      CompletableFuture<Integer> f =
          client.send(
              TYPE, new Increment("nobody", false, 0), Integer.class, Duration.ofMillis(500));
      assertThatThrownBy(() -> f.get(5, TimeUnit.SECONDS))
          .cause()
          .isInstanceOf(TimeoutException.class);
    }
  }
}
