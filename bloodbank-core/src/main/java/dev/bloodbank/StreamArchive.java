package dev.bloodbank;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ShutdownSignalException;
import dev.bloodbank.archive.Archive;
import dev.bloodbank.archive.ArchiveOptions;
import dev.bloodbank.archive.ArchiveStats;
import java.io.IOException;
import java.time.Duration;
import java.util.function.Supplier;

/** {@link Archive} over the bus's consuming connection; each call opens its own short channel. */
final class StreamArchive implements Archive {
  /** The longest {@link #stats()} reads the last chunk while events keep arriving. */
  static final Duration STATS_TIMEOUT = Duration.ofSeconds(5);

  private final ArchiveOptions options;
  private final Supplier<Connection> connection;

  private StreamArchive(ArchiveOptions options, Supplier<Connection> connection) {
    this.options = options;
    this.connection = connection;
  }

  /**
   * Declares the stream queue (idempotently) and binds it to the exchange.
   *
   * @throws BloodbankException naming the queue when it exists with other arguments or type
   */
  static StreamArchive declare(
      ArchiveOptions options, String exchange, Supplier<Connection> connection) {
    String queue = options.queue();
    try {
      Channel ch = BusConnections.openChannel(connection.get());
      try {
        ch.queueDeclare(queue, true, false, false, options.queueArguments());
        ch.queueBind(queue, exchange, options.bindingPattern());
      } finally {
        BusConnections.closeQuietly(ch);
      }
    } catch (IOException | ShutdownSignalException e) {
      String reply = BusConnections.brokerReply(e);
      String hint =
          reply.contains("PRECONDITION_FAILED")
              ? " (it exists with other arguments or another type; wanted "
                  + options.queueArguments()
                  + ": delete it or declare the archive with its arguments)"
              : "";
      throw new BloodbankException(
          "cannot declare archive stream queue '" + queue + "': " + reply + hint, e);
    }
    return new StreamArchive(options, connection);
  }

  @Override
  public String queueName() {
    return options.queue();
  }

  @Override
  public ArchiveOptions options() {
    return options;
  }

  @Override
  public ArchiveStats stats() {
    return stats(connection.get(), options.queue());
  }

  /** The statistics of any stream queue. */
  static ArchiveStats stats(Connection c, String queue) {
    try {
      StreamEdges.Edge first = StreamEdges.first(c, queue, STATS_TIMEOUT);
      if (first == null) {
        return new ArchiveStats(queue, 0, -1, null, -1, null);
      }
      StreamEdges.Edge last = StreamEdges.last(c, queue, STATS_TIMEOUT);
      if (last == null || last.offset() < first.offset()) {
        last = first;
      }
      // The passive declare of a stream reports 0 messages on RabbitMQ 3.10.
      long span = last.offset() - first.offset() + 1;
      return new ArchiveStats(
          queue, span, first.offset(), first.timestamp(), last.offset(), last.timestamp());
    } catch (IOException | ShutdownSignalException e) {
      throw new BloodbankException(
          "cannot read the statistics of stream queue '"
              + queue
              + "': "
              + BusConnections.brokerReply(e),
          e);
    }
  }
}
