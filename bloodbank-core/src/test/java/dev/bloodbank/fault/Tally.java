package dev.bloodbank.fault;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.time.Duration;
import java.util.Collection;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads a queue to the end and classifies what arrived against what was accepted: lost (accepted,
 * never arrived), duplicated (arrived more than once, same id), as RabbitMQ's own reliability tests
 * do. Ids are the AMQP {@code message_id}s, which the publisher sets to the event id.
 */
public final class Tally {
  private final Map<String, Integer> received = new ConcurrentHashMap<>();

  /** Counts of one run. */
  public record Counts(long accepted, long lost, long duplicated, long received) {}

  /**
   * Consumes every message of the queue on 127.0.0.1:port until {@code expected} distinct ids
   * arrived or nothing new came for {@code quiet}, at most {@code max}.
   */
  public static Tally drain(int port, String queue, Collection<String> expected, Duration max)
      throws Exception {
    Tally t = new Tally();
    ConnectionFactory f = new ConnectionFactory();
    f.setHost("127.0.0.1");
    f.setPort(port);
    f.setAutomaticRecoveryEnabled(false);
    Set<String> want = new HashSet<>(expected);
    try (Connection c = f.newConnection("fault-tally")) {
      Channel ch = c.createChannel();
      ch.basicQos(1000);
      ch.basicConsume(
          queue,
          true,
          (tag, d) ->
              t.received.merge(String.valueOf(d.getProperties().getMessageId()), 1, Integer::sum),
          tag -> {});
      long deadline = System.nanoTime() + max.toNanos();
      long lastChange = System.nanoTime();
      int lastSize = -1;
      while (System.nanoTime() < deadline) {
        int size = t.received.size();
        if (size != lastSize) {
          lastSize = size;
          lastChange = System.nanoTime();
        }
        if (t.received.keySet().containsAll(want)
            && System.nanoTime() - lastChange > Duration.ofMillis(500).toNanos()) {
          break;
        }
        Thread.sleep(50);
      }
    }
    return t;
  }

  /** Classifies against the accepted ids. */
  public Counts count(Collection<String> accepted) {
    long lost = accepted.stream().filter(id -> !received.containsKey(id)).count();
    long dup = received.values().stream().filter(n -> n > 1).count();
    long total = received.values().stream().mapToLong(Integer::longValue).sum();
    return new Counts(accepted.size(), lost, dup, total);
  }

  /** Distinct ids received. */
  public Set<String> ids() {
    return received.keySet();
  }
}
