package dev.bloodbank.archive;

/**
 * The archive's stream queue, declared and bound to the bus's exchange by {@link
 * dev.bloodbank.Bloodbank#archive(ArchiveOptions)}.
 *
 * <p>Holds no channel of its own: each {@link #stats()} opens one and closes it again. Valid while
 * its bus is open. Thread-safe.
 *
 * @since 0.2.0
 */
public interface Archive {
  /**
   * Returns the name of the stream queue.
   *
   * @return the queue name
   */
  String queueName();

  /**
   * Returns the options it was declared with.
   *
   * @return the options
   */
  ArchiveOptions options();

  /**
   * Reads what is in the archive now, over AMQP 0.9.1: the first and last offsets with their event
   * times, by reading one event from the start of the stream and the last chunk (the events the
   * broker wrote together) from its end. Takes a few round trips plus about a quarter of a second
   * to be sure the last chunk has been read, and about a second for an empty archive (which
   * delivers nothing). While events are being published the last offset is one at or after the last
   * at the call.
   *
   * <p>Not available without the management plugin, and so not here: the stream's size in bytes,
   * its segment count, and the exact number of events (see {@link ArchiveStats#offsetSpan()}).
   *
   * @return the statistics
   * @throws dev.bloodbank.BloodbankException naming the queue when it is missing or cannot be read
   *     within the bus's RPC timeout, or once the bus is closed
   */
  ArchiveStats stats();
}
