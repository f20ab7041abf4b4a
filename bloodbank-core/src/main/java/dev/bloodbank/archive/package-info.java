/**
 * The archive and replay: every event on the bus kept for a while in a RabbitMQ stream queue, and
 * read again from any point.
 *
 * <p>{@link dev.bloodbank.Bloodbank#archive(ArchiveOptions)} declares the archive, a stream queue
 * ({@code x-queue-type=stream}, RabbitMQ 3.9 or later) bound to the bus's exchange, with retention
 * by age and size. {@link dev.bloodbank.Bloodbank#replay(ReplayOptions, Class,
 * dev.bloodbank.EventHandler)} reads it from the first event, an offset, an instant or a duration
 * ago, until now, an instant, or on for ever, handing each event to a typed handler as a subscriber
 * does; an {@link OffsetStore} makes a reader resumable across restarts.
 *
 * <p>Everything goes over AMQP 0.9.1 on the bus's consuming connection: no stream protocol port, no
 * plugin. What that costs on RabbitMQ 3.10: routing-key patterns are filtered in the client
 * (RabbitMQ 3.13 can filter streams on the broker, not used here), and the archive's size on disk
 * is known only to the management plugin.
 *
 * <p>Everything in this package is non-null unless marked {@code @Nullable}.
 *
 * @since 0.2.0
 */
@NullMarked
package dev.bloodbank.archive;

import org.jspecify.annotations.NullMarked;
