package dev.bloodbank;

import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;

/**
 * Publishes events to the bus's topic exchange, with the event type as routing key.
 *
 * <p>Each event is sent as a persistent AMQP message whose {@code message_id} is the event id,
 * {@code content_type} is {@code application/json}, {@code timestamp} is the event's, and whose
 * headers carry the correlation ids. Every publish is confirmed by the broker.
 *
 * <p>The returned future always completes: with the envelope once the broker confirmed it, or
 * exceptionally with {@link PublishException} (nacked, timed out, connection lost, closed — after
 * the configured retries), {@link UnroutableEventException} (mandatory publishing, no queue bound),
 * {@link EventTooLargeException}, or another {@link BloodbankException} (e.g. the payload cannot be
 * serialized or fails schema validation); nothing is sent in the last two cases. Futures complete
 * on the bus's callback executor, never on the connection's I/O thread, and within {@link
 * PublisherOptions#maxPublishTime()}; see <a href="package-summary.html#threads">Threads</a>.
 *
 * <p>After a nack, later sends that would go out on the channel that carried it go out on a fresh
 * channel instead (at most one replacement every 500 ms per channel of the pool), because RabbitMQ
 * before 3.12.5 nacks every publish to a quorum queue on a channel that first published to it just
 * after the node of its leader went down, until that node is back.
 *
 * <p>Thread-safe: share one publisher among any number of threads. Obtain one from {@link
 * Bloodbank#publisher()}.
 */
public interface Publisher extends AutoCloseable {

  /**
   * Publishes an event.
   *
   * <p>Blocks only while {@link PublisherOptions#maxInFlight()} events await confirms, and then at
   * most {@link PublisherOptions#confirmTimeout()}; the future then fails with {@link
   * PublishException.Kind#TIMED_OUT}. Never blocks on the broker's socket: while the broker blocks
   * publishing, or the connection is down and recovering, the event is held unwritten until it
   * unblocks or is back, or the confirm timeout passes (then the attempt fails with {@link
   * PublishException.Kind#TIMED_OUT} or {@link PublishException.Kind#CONNECTION_LOST}, and is
   * retried while attempts remain).
   *
   * @param envelope the event
   * @param <T> the payload type
   * @return a future completed with the same envelope once the broker confirmed it
   */
  <T> CompletableFuture<EventEnvelope<T>> publish(EventEnvelope<T> envelope);

  /**
   * Publishes a new event of this type and payload, with a random id, the current time and this
   * service as source.
   *
   * @param eventType the event type, also the routing key
   * @param payload the payload
   * @param <T> the payload type
   * @return a future completed with the envelope that was sent
   */
  <T> CompletableFuture<EventEnvelope<T>> publish(String eventType, T payload);

  /**
   * Publishes a new event caused by other events: their ids become its {@code correlation_ids}, and
   * when the bus tracks causation the parent → child links are recorded once the broker confirmed
   * the event (never delaying or failing the publish).
   *
   * @param eventType the event type, also the routing key
   * @param payload the payload
   * @param parentIds the ids of the events that caused this one
   * @param <T> the payload type
   * @return a future completed with the envelope that was sent
   */
  <T> CompletableFuture<EventEnvelope<T>> publish(
      String eventType, T payload, List<UUID> parentIds);

  /**
   * Publishes an event and waits for the outcome, at most {@link PublisherOptions#maxPublishTime()}
   * and a few seconds.
   *
   * @param envelope the event
   * @param <T> the payload type
   * @return the envelope, once confirmed
   * @throws BloodbankException the failure the future would have completed with
   * @throws IllegalStateException when called on a thread Bloodbank needs to complete publishes
   *     (see <a href="package-summary.html#threads">Threads</a>), where it would wait on itself
   */
  <T> EventEnvelope<T> publishAndWait(EventEnvelope<T> envelope);

  /**
   * Returns the options this publisher was made with.
   *
   * @return the options
   */
  PublisherOptions options();

  /**
   * Stops accepting events, waits up to the confirm timeout for events in flight, fails the rest
   * with {@link PublishException.Kind#CLOSED}, and closes the channels. Idempotent.
   */
  @Override
  void close();
}
