package dev.bloodbank.wal;

import dev.bloodbank.EventCodec;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.Publisher;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BiConsumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A publisher with a durable outbox: each event is written to the {@link WriteAheadLog} (and on
 * disk) before it is sent, and marked done once the broker confirmed it.
 *
 * <p>An event whose publish fails (broker down, retries used up) stays in the log; {@link
 * #replay()} sends every such event again, with its original id, so consumers can drop duplicates.
 * Thread-safe.
 */
public final class DurablePublisher {
  private static final Logger LOG = LoggerFactory.getLogger(DurablePublisher.class);

  private final Publisher publisher;
  private final WriteAheadLog wal;
  private final EventCodec codec;

  /**
   * Creates a durable publisher.
   *
   * @param publisher sends the events; its retry policy applies to each send
   * @param wal the log; not closed by this class
   * @param codec encodes events for the log, the same way the publisher does
   */
  public DurablePublisher(Publisher publisher, WriteAheadLog wal, EventCodec codec) {
    this.publisher = Objects.requireNonNull(publisher, "publisher");
    this.wal = Objects.requireNonNull(wal, "wal");
    this.codec = Objects.requireNonNull(codec, "codec");
  }

  /**
   * Logs an event durably, then publishes it. The send starts once the record is on disk; with a
   * batched fsync policy, events from one thread share fsyncs instead of waiting for each.
   *
   * @param envelope the event
   * @param <T> the payload type
   * @return a future completed once the broker confirmed the event; exceptionally with a {@link
   *     WalException} if the event could not be logged (then nothing was sent), or with the publish
   *     failure (then the event is still in the log for {@link #replay()})
   */
  public <T> CompletableFuture<EventEnvelope<T>> publish(EventEnvelope<T> envelope) {
    return wal.appendAsync(envelope.eventId(), envelope.eventType(), codec.encode(envelope))
        .thenCompose(
            seq ->
                publisher
                    .publish(envelope)
                    .whenComplete(
                        (e, t) -> {
                          if (t == null) {
                            wal.markDone(seq);
                          } else {
                            LOG.warn(
                                "event {} stays in {} for replay: {}",
                                envelope.eventId(),
                                wal.path(),
                                t.toString());
                          }
                        }));
  }

  /**
   * Sends every event of the log that was not confirmed, oldest first, and waits for the outcomes.
   *
   * @return how many events were confirmed by the broker now
   */
  public int replay() {
    return replay((done, total) -> {});
  }

  /**
   * Like {@link #replay()}, reporting each outcome as it arrives.
   *
   * @param progress called with the number of outcomes so far and the number of events sent, from a
   *     callback thread
   * @return how many events were confirmed by the broker now
   */
  public int replay(BiConsumer<Integer, Integer> progress) {
    List<WalRecord> pending = wal.pending();
    AtomicInteger outcomes = new AtomicInteger();
    List<CompletableFuture<?>> sends = new ArrayList<>(pending.size());
    for (WalRecord r : pending) {
      CompletableFuture<?> send;
      try {
        send = publisher.publish(codec.decode(r.event())).thenRun(() -> wal.markDone(r.seq()));
      } catch (RuntimeException e) {
        send = CompletableFuture.failedFuture(e);
      }
      sends.add(
          send.whenComplete((v, t) -> progress.accept(outcomes.incrementAndGet(), pending.size())));
    }
    int confirmed = 0;
    for (CompletableFuture<?> f : sends) {
      try {
        f.get();
        confirmed++;
      } catch (ExecutionException e) {
        LOG.warn(
            "replay of an event from {} failed; it stays for the next replay: {}",
            wal.path(),
            e.getCause().toString());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    return confirmed;
  }

  /**
   * Returns the log.
   *
   * @return the log
   */
  public WriteAheadLog wal() {
    return wal;
  }
}
