package dev.bloodbank.cluster;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.bloodbank.Bloodbank;
import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.fault.RabbitCluster;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A publisher whose channels first publish to a quorum queue just after the node of the queue's
 * leader was killed (issue #23). RabbitMQ before 3.12.5 nacks every publish to the queue on such a
 * channel until the dead node is back, because the channel's client state for the queue was set up
 * while the queue's record still named the dead leader; only a fresh channel gets past it.
 *
 * <p>Usage: {@link #prepare} before the fault (a quorum queue whose leader runs on the node to be
 * killed, and a bus connected to another node), {@link #publishAfterKill} right after the node was
 * killed, with the node still down: one event every 100 ms for {@code duration}, each with one
 * attempt, so every outcome is the channel's; then {@link #result} reads the queue back.
 */
final class FirstPublishAfterLeaderKill implements AutoCloseable {
  /** What a run saw: outcomes by time since the kill, and confirmed events not in the queue. */
  record Result(
      int published,
      Map<Long, String> outcomeBySecond,
      List<String> failedAfter,
      int confirmed,
      long lost) {
    String line() {
      return String.format(
          "FIRST PUBLISH AFTER LEADER KILL | published %d | confirmed %d | lost %d | by second"
              + " after the kill %s | failed late %s",
          published, confirmed, lost, outcomeBySecond, failedAfter);
    }
  }

  private final RabbitCluster.Member leader;
  private final RabbitCluster.Member publishing;
  private final String queue;
  private final Bloodbank bus;
  private final List<EventEnvelope<Map<String, Integer>>> events = new ArrayList<>();
  private final List<CompletableFuture<?>> futures = new ArrayList<>();
  private final List<Long> sentAt = new ArrayList<>();
  private long killedAt;

  private FirstPublishAfterLeaderKill(
      RabbitCluster cluster, RabbitCluster.Member leader, RabbitCluster.Member publishing)
      throws Exception {
    String id = UUID.randomUUID().toString().substring(0, 8);
    this.leader = leader;
    this.publishing = publishing;
    this.queue = "first-publish-" + id;
    this.bus =
        Bloodbank.connect(
            cluster
                .options(id)
                .addresses(List.of(new BloodbankOptions.Address("127.0.0.1", publishing.port())))
                .build());
    // A quorum queue's leader starts on the node of the connection that declares it.
    try (Connection c = connect(leader);
        Channel ch = c.createChannel()) {
      ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
      ch.queueBind(queue, bus.options().exchange(), "first.#");
    }
    RabbitCluster.Member actual = cluster.leaderOf(queue);
    if (actual != leader) {
      close();
      throw new IllegalStateException(
          "quorum queue " + queue + " has its leader on " + actual + ", not on " + leader);
    }
  }

  /**
   * Declares the queue with its leader on {@code leader} and connects a bus to another node.
   *
   * @param leader the node that will be killed
   */
  static FirstPublishAfterLeaderKill prepare(RabbitCluster cluster, RabbitCluster.Member leader)
      throws Exception {
    for (RabbitCluster.Member m : cluster.members()) {
      if (m != leader) {
        return new FirstPublishAfterLeaderKill(cluster, leader, m);
      }
    }
    throw new IllegalArgumentException("a cluster of one node has no other node to publish on");
  }

  /** Publishes from a publisher created now, right after the kill, for {@code duration}. */
  void publishAfterKill(Duration duration) throws InterruptedException {
    killedAt = System.nanoTime();
    Publisher p =
        bus.publisher(
            PublisherOptions.builder()
                .maxAttempts(1)
                .confirmTimeout(Duration.ofSeconds(3))
                .build());
    long end = killedAt + duration.toNanos();
    for (int i = 0; System.nanoTime() < end; i++) {
      EventEnvelope<Map<String, Integer>> e =
          EventEnvelope.builder("first.item", Map.of("i", i)).build();
      events.add(e);
      sentAt.add(System.nanoTime() - killedAt);
      futures.add(p.publish(e));
      Thread.sleep(100);
    }
  }

  /**
   * Waits for every outcome, then takes the queue's messages (with the killed node still down).
   *
   * @param lateAfter a failure of an event sent this long after the kill is listed as late
   */
  Result result(Duration lateAfter) throws Exception {
    Map<Long, String> bySecond = new TreeMap<>();
    List<String> late = new ArrayList<>();
    Set<String> confirmed = new HashSet<>();
    for (int i = 0; i < futures.size(); i++) {
      long second = TimeUnit.NANOSECONDS.toSeconds(sentAt.get(i));
      String outcome;
      try {
        futures.get(i).get(30, TimeUnit.SECONDS);
        confirmed.add(events.get(i).eventId().toString());
        outcome = "+";
      } catch (Exception ex) {
        outcome = "-";
        if (sentAt.get(i) >= lateAfter.toNanos()) {
          Throwable cause = ex.getCause() != null ? ex.getCause() : ex;
          late.add(
              String.format("+%.1f s: %s", sentAt.get(i) / 1e9, cause.getClass().getSimpleName()));
        }
      }
      bySecond.merge(second, outcome, String::concat);
    }
    Set<String> inQueue = new HashSet<>();
    try (Connection c = connect(publishing);
        Channel ch = c.createChannel()) {
      GetResponse r;
      while ((r = ch.basicGet(queue, true)) != null) {
        inQueue.add(r.getProps().getMessageId());
      }
    }
    long lost = confirmed.stream().filter(id -> !inQueue.contains(id)).count();
    Result result = new Result(events.size(), bySecond, late, confirmed.size(), lost);
    System.out.println(result.line());
    return result;
  }

  private static Connection connect(RabbitCluster.Member m) throws Exception {
    ConnectionFactory f = new ConnectionFactory();
    f.setPort(m.port());
    f.setAutomaticRecoveryEnabled(false);
    return f.newConnection("first-publish-" + m.index());
  }

  /** Closes the bus; the queue stays with the cluster, which is private to the test. */
  @Override
  public void close() {
    bus.close();
  }
}
