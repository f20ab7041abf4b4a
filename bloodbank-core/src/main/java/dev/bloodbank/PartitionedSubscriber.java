package dev.bloodbank;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.io.IOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A subscription spread over partition queues ({@link SubscriberOptions.Builder#partitions}): one
 * {@link AmqpSubscriber} per partition, each registered with the bus on its own, and this view of
 * them as one. Thread-safe.
 */
final class PartitionedSubscriber implements Subscriber {
  private static final Logger LOG = LoggerFactory.getLogger(PartitionedSubscriber.class);

  /** How long {@link #close()} waits past the shutdown timeout for the channels to close. */
  static final long CLOSE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(5);

  private final String queue;
  private final SubscriberOptions options;
  private final List<? extends Subscriber> partitions;
  private final Executor closer;

  /**
   * @param closer runs the partitions' closes side by side; it may block
   */
  PartitionedSubscriber(
      String queue,
      SubscriberOptions options,
      List<? extends Subscriber> partitions,
      Executor closer) {
    this.queue = queue;
    this.options = options;
    this.partitions = List.copyOf(partitions);
    this.closer = closer;
  }

  /** The consistent-hash exchange of a partitioned subscription's queue. */
  static String exchangeOf(String queue) {
    return queue + ".partitions";
  }

  /**
   * Declares the consistent-hash exchange and binds it to the bus exchange (and the additional
   * ones) with the subscription's patterns.
   *
   * @return the exchange's name
   * @throws BloodbankException naming the plugin when the broker does not know the exchange type
   */
  static String declareExchange(
      Connection connection, String busExchange, SubscriberOptions options, String queue) {
    String exchange = exchangeOf(queue);
    Channel ch = null;
    try {
      ch = BusConnections.openChannel(connection);
      ch.exchangeDeclare(
          exchange,
          "x-consistent-hash",
          true,
          false,
          Map.of("hash-header", PublisherOptions.PARTITION_KEY_HEADER));
      for (String pattern : options.patterns()) {
        ch.exchangeBind(exchange, busExchange, pattern);
      }
      for (String other : options.additionalExchanges()) {
        ch.exchangeDeclare(other, "topic", true);
        for (String pattern : options.patterns()) {
          ch.exchangeBind(exchange, other, pattern);
        }
      }
      return exchange;
    } catch (IOException | RuntimeException e) {
      String reply = BusConnections.brokerReply(e);
      String hint =
          reply.contains("x-consistent-hash")
              ? "; partitions need the broker's consistent-hash exchange: rabbitmq-plugins enable"
                  + " rabbitmq_consistent_hash_exchange"
              : "";
      throw new BloodbankException(
          "cannot set up the partitions of subscriber queue '" + queue + "': " + reply + hint, e);
    } finally {
      if (ch != null) {
        BusConnections.closeQuietly(ch);
      }
    }
  }

  /** The partitions' queue names, {@code <queue>.p0} to {@code <queue>.p<n-1>}. */
  static String partitionQueue(String queue, int index) {
    return queue + ".p" + index;
  }

  @Override
  public String queueName() {
    return queue;
  }

  @Override
  public String deadLetterQueueName() {
    return queue + ".dlq";
  }

  @Override
  public SubscriberOptions options() {
    return options;
  }

  /** Up when every partition is; counters summed, the latest error of any partition. */
  @Override
  public SubscriberHealth health() {
    boolean connected = true;
    boolean consuming = true;
    long handled = 0;
    long retried = 0;
    long deadLettered = 0;
    @Nullable String error = null;
    @Nullable Instant errorAt = null;
    for (Subscriber s : partitions) {
      SubscriberHealth h = s.health();
      connected &= h.connected();
      consuming &= h.consuming();
      handled += h.handled();
      retried += h.retried();
      deadLettered += h.deadLettered();
      Instant at = h.lastErrorAt();
      if (at != null && (errorAt == null || at.isAfter(errorAt))) {
        errorAt = at;
        error = h.lastError();
      }
    }
    return new SubscriberHealth(
        connected, consuming, error, errorAt, handled, retried, deadLettered);
  }

  /**
   * Closes the partitions side by side: one after the other, each would wait up to the shutdown
   * timeout for its own handlers while the partitions not yet closing kept starting new ones. Waits
   * up to the shutdown timeout and {@link #CLOSE_GRACE_NANOS} more; a partition still closing then
   * finishes in the background.
   */
  @Override
  public void close() {
    long deadline = System.nanoTime() + options.shutdownTimeout().toNanos() + CLOSE_GRACE_NANOS;
    List<CompletableFuture<Void>> closing = new ArrayList<>(partitions.size());
    for (Subscriber s : partitions) {
      try {
        closing.add(CompletableFuture.runAsync(s::close, closer));
      } catch (RejectedExecutionException e) {
        s.close(); // the bus is closing and has closed it or is about to: returns at once
      }
    }
    try {
      CompletableFuture.allOf(closing.toArray(new CompletableFuture<?>[0]))
          .get(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
    } catch (TimeoutException e) {
      LOG.warn(
          "partitioned subscriber on '{}': some partitions were still closing after {} ms",
          queue,
          TimeUnit.NANOSECONDS.toMillis(options.shutdownTimeout().toNanos() + CLOSE_GRACE_NANOS));
    } catch (ExecutionException e) {
      LOG.warn(
          "partitioned subscriber on '{}': a partition failed to close: {}",
          queue,
          e.getCause().toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
