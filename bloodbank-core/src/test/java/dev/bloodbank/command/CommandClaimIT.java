package dev.bloodbank.command;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BrokerExtension;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.correlation.RedisTrackerOptions;
import dev.bloodbank.fault.RedisCluster;
import dev.bloodbank.fault.ReliabilityReport;
import dev.bloodbank.fault.Scenario;
import dev.bloodbank.fault.TcpProxy;
import dev.bloodbank.internal.RedisClaimStore;
import dev.bloodbank.registry.EventDefinition;
import io.lettuce.core.RedisClient;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Two command processors on one queue, and a network cut that makes the broker redeliver the
 * commands one of them is running (issue #15): each command still executes once, with the claim in
 * an in-memory store both share, in Redis, and in a Redis Cluster.
 */
@ExtendWith(BrokerExtension.class)
class CommandClaimIT {
  static final String TYPE = "claim.nap";
  static final String DONE = "claim.napped";
  static final Map<String, AtomicInteger> RUNS = new ConcurrentHashMap<>();

  /** Counts its executions, takes its time, and leaves one side effect. */
  public static final class Nap extends Command<Integer> {
    public String key = "";
    public long millis;

    @Override
    public Integer execute(CommandContext context, EventCollector events) throws Exception {
      RUNS.computeIfAbsent(key, k -> new AtomicInteger()).incrementAndGet();
      Thread.sleep(millis);
      events.add(DONE, Map.of("key", key));
      return 1;
    }
  }

  private final List<AutoCloseable> closing = new ArrayList<>();

  @AfterEach
  void close() throws Exception {
    for (int i = closing.size() - 1; i >= 0; i--) {
      closing.get(i).close();
    }
  }

  private <T extends AutoCloseable> T later(T c) {
    closing.add(c);
    return c;
  }

  @Test
  @Scenario(27)
  void withOneInMemoryStoreEachCommandRunsOnce(BrokerExtension.Broker broker) throws Exception {
    ProcessedCommands shared = ProcessedCommands.inMemory(1000, Duration.ofHours(1));
    run(broker, shared, shared, "memory");
  }

  @Test
  @Scenario(27)
  void withRedisEachCommandRunsOnce(BrokerExtension.Broker broker) throws Exception {
    RedisTrackerOptions redis = RedisTrackerOptions.builder().build();
    // One store each, as two processes would have; keys live 10 minutes and are deleted after.
    List<UUID> ids =
        run(
            broker,
            later(ProcessedCommands.redis(redis, Duration.ofMinutes(10))),
            later(ProcessedCommands.redis(redis, Duration.ofMinutes(10))),
            "redis");
    RedisClient client = RedisClient.create("redis://127.0.0.1:6379/0");
    try (var c = client.connect()) {
      for (UUID id : ids) {
        c.sync()
            .del(
                RedisClaimStore.Keys.COMMANDS.completed(id),
                RedisClaimStore.Keys.COMMANDS.claim(id));
      }
    } finally {
      client.shutdown(Duration.ZERO, Duration.ofSeconds(2));
    }
  }

  @Test
  @Scenario(27)
  void withRedisClusterEachCommandRunsOnce(BrokerExtension.Broker broker) throws Exception {
    RedisCluster cluster = later(RedisCluster.create());
    RedisTrackerOptions redis =
        RedisTrackerOptions.builder().cluster(true).uri(cluster.uri()).build();
    List<UUID> ids =
        run(
            broker,
            later(ProcessedCommands.redis(redis, Duration.ofMinutes(10))),
            later(ProcessedCommands.redis(redis, Duration.ofMinutes(10))),
            "cluster");
    // The keys of the commands landed on several nodes: the cluster was really used.
    Set<String> slots = new HashSet<>();
    for (UUID id : ids) {
      slots.add(
          cluster.cli("cluster", "keyslot", RedisClaimStore.Keys.COMMANDS.completed(id)).trim());
      assertThat(cluster.cli("exists", RedisClaimStore.Keys.COMMANDS.completed(id)).trim())
          .isEqualTo("1");
    }
    assertThat(slots).hasSizeGreaterThan(1);
  }

  /**
   * Processor A reaches the broker through a proxy, B directly; both consume one queue. The proxy
   * cuts A's connections while commands run, so the broker redelivers them.
   */
  private List<UUID> run(
      BrokerExtension.Broker broker, ProcessedCommands storeA, ProcessedCommands storeB, String tag)
      throws Exception {
    TcpProxy proxy = later(TcpProxy.started(5672));
    Bloodbank a =
        broker.connect(
            o -> o.address("127.0.0.1", proxy.port()).serviceName(broker.serviceName() + "-a"));
    Bloodbank b = broker.connect(o -> o.serviceName(broker.serviceName() + "-b"));
    JsonNode schema = new ObjectMapper().readTree("{\"type\":\"object\"}");
    for (Bloodbank bus : List.of(a, b)) {
      bus.registry().register(EventDefinition.of(TYPE, schema, Nap.class, true));
    }
    String queue = broker.queueName("claims-" + tag);
    String effects = broker.rawQueue(DONE);
    for (Bloodbank bus : List.of(a, b)) {
      CommandProcessor p =
          later(
              CommandProcessor.start(
                  bus,
                  CommandProcessorOptions.builder()
                      .queueName(queue)
                      .processed(bus == a ? storeA : storeB)
                      .concurrency(4)
                      .build()));
      broker.track(p.subscriber());
    }
    int total = 12;
    List<UUID> ids = new ArrayList<>();
    Map<String, UUID> byKey = new HashMap<>();
    for (int i = 0; i < total; i++) {
      Nap nap = new Nap();
      nap.key = tag + "-" + UUID.randomUUID();
      nap.millis = 2500;
      EventEnvelope<Nap> cmd = EventEnvelope.builder(TYPE, nap).build();
      ids.add(cmd.eventId());
      byKey.put(nap.key, cmd.eventId());
      b.publisher().publish(cmd).get(5, TimeUnit.SECONDS);
    }
    Thread.sleep(700);
    proxy.cut(); // A's running commands are redelivered, to B or to A once it reconnects

    // Every command leaves its side effect; wait until all have, then a little longer for a
    // second run to show.
    Set<String> done = new HashSet<>();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (done.size() < total && System.nanoTime() < deadline) {
      for (GetResponse r : broker.drain(effects, 100, Duration.ofMillis(200))) {
        done.add(r.getProps().getMessageId());
      }
    }
    Thread.sleep(3000);
    long lost = byKey.keySet().stream().filter(k -> !RUNS.containsKey(k)).count();
    long twice =
        byKey.keySet().stream().filter(k -> RUNS.containsKey(k) && RUNS.get(k).get() > 1).count();
    ReliabilityReport.events(27, total, lost, twice);
    System.out.printf(
        "scenario 27 (%s): %d commands, %d side effects, runs %s%n",
        tag,
        total,
        done.size(),
        byKey.keySet().stream().map(k -> RUNS.getOrDefault(k, new AtomicInteger()).get()).toList());
    assertThat(done).as("commands with their side effect").hasSize(total);
    for (String key : byKey.keySet()) {
      assertThat(RUNS.get(key)).as("executions of %s", key).hasValue(1);
    }
    return ids;
  }
}
