package dev.bloodbank;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.jspecify.annotations.Nullable;

/**
 * Finds the first and last events of a stream queue over AMQP 0.9.1, which has no command for it: a
 * consumer attached at {@code first} gets the oldest event, one attached at {@code last} gets the
 * newest chunk (the events the broker wrote together), whose highest offset is the last.
 *
 * <p>An empty stream delivers nothing, so "empty" means "nothing within {@link #EMPTY_WAIT}"; and
 * the last chunk is known to be complete once nothing more arrived for {@link #IDLE}. Both are
 * heuristics, good for statistics and for fixing the end of a replay, not for exactness while
 * events are being published: the answer is then some offset at or after the one last at the call.
 */
final class StreamEdges {
  /** How long an attached consumer waits for a first event before calling the stream empty. */
  static final Duration EMPTY_WAIT = Duration.ofSeconds(1);

  /** How long without a delivery ends the reading of the last chunk. */
  static final Duration IDLE = Duration.ofMillis(250);

  /** Credit while reading the last chunk: chunks hold up to a few thousand small events. */
  private static final int LAST_CHUNK_PREFETCH = 1000;

  private StreamEdges() {}

  /**
   * One end of a stream.
   *
   * @param offset the event's offset
   * @param timestamp its AMQP timestamp property (whole seconds), if set
   */
  record Edge(long offset, @Nullable Instant timestamp) {}

  /** The oldest event kept, or null when the stream is empty. */
  static @Nullable Edge first(Connection connection, String queue, Duration timeout)
      throws IOException {
    return read(connection, queue, "first", false, timeout);
  }

  /** The newest event, or null when the stream is empty. */
  static @Nullable Edge last(Connection connection, String queue, Duration timeout)
      throws IOException {
    return read(connection, queue, "last", true, timeout);
  }

  private record Seen(long offset, @Nullable Date timestamp) {}

  private static @Nullable Edge read(
      Connection connection, String queue, String spec, boolean toEnd, Duration timeout)
      throws IOException {
    Channel ch = BusConnections.openChannel(connection);
    try {
      // A missing queue fails here with NOT_FOUND rather than as a consumer error.
      ch.queueDeclarePassive(queue);
      ch.basicQos(toEnd ? LAST_CHUNK_PREFETCH : 1);
      BlockingQueue<Seen> seen = new LinkedBlockingQueue<>();
      ch.basicConsume(
          queue,
          false,
          Map.of("x-stream-offset", spec),
          new DefaultConsumer(ch) {
            @Override
            public void handleDelivery(
                String tag, Envelope envelope, AMQP.BasicProperties props, byte[] body) {
              long offset = offsetOf(props);
              seen.add(new Seen(offset, props.getTimestamp()));
              if (offset < 0) {
                // Not a stream: left unacknowledged, the broker requeues it when the channel
                // closes.
                return;
              }
              try {
                getChannel().basicAck(envelope.getDeliveryTag(), false);
              } catch (IOException | RuntimeException e) {
                // closed after the answer was found: nothing more to read
              }
            }
          });
      long deadline = System.nanoTime() + timeout.toNanos();
      Seen latest =
          seen.poll(Math.min(EMPTY_WAIT.toNanos(), timeout.toNanos()), TimeUnit.NANOSECONDS);
      if (latest == null) {
        return null;
      }
      notAStream(queue, latest);
      if (!toEnd) {
        return edge(latest);
      }
      Seen next;
      while (System.nanoTime() < deadline
          && (next = seen.poll(IDLE.toNanos(), TimeUnit.NANOSECONDS)) != null) {
        notAStream(queue, next);
        if (next.offset() > latest.offset()) {
          latest = next;
        }
      }
      return edge(latest);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while reading the ends of stream '" + queue + "'", e);
    } finally {
      try {
        if (ch.isOpen()) {
          ch.close();
        }
      } catch (IOException | java.util.concurrent.TimeoutException | RuntimeException e) {
        // closed with its connection
      }
    }
  }

  private static void notAStream(String queue, Seen s) throws IOException {
    if (s.offset() < 0) {
      throw new IOException(
          "queue '"
              + queue
              + "' is not a stream queue: its messages carry no x-stream-offset (they were given"
              + " back, not taken)");
    }
  }

  private static Edge edge(Seen s) {
    return new Edge(s.offset(), s.timestamp() == null ? null : s.timestamp().toInstant());
  }

  /** The {@code x-stream-offset} header of a stream delivery, -1 when missing. */
  static long offsetOf(AMQP.BasicProperties props) {
    Map<String, Object> headers = props.getHeaders();
    Object v = headers == null ? null : headers.get("x-stream-offset");
    return v instanceof Number ? ((Number) v).longValue() : -1;
  }
}
