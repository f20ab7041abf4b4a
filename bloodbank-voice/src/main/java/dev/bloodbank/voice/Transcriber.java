package dev.bloodbank.voice;

import dev.bloodbank.Bloodbank;
import dev.bloodbank.EventEnvelope;
import dev.bloodbank.EventIds;
import dev.bloodbank.PublisherOptions;
import dev.bloodbank.schemas.voice.AudioMetadata;
import dev.bloodbank.schemas.voice.TranscriptionCompleted;
import dev.bloodbank.schemas.voice.TranscriptionContext;
import dev.bloodbank.wal.DurablePublisher;
import dev.bloodbank.wal.WriteAheadLog;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns the final segments of recognition streams into {@code transcription.voice.completed}
 * events, written to a write-ahead log and then published, so that none is lost when the broker is
 * down or the process dies.
 *
 * <p>The audio thread only hands each segment over (to a queue of at most {@link #MAX_QUEUED}
 * segments): logging runs on the transcriber's own thread ({@code bloodbank-voice-publish}), and
 * publishing on the bus's {@linkplain Bloodbank#durablePublisher durable publisher}, which never
 * waits for the broker, so a slow disk or a broker outage never stalls recognition. Events whose
 * publish failed stay in the log and are sent again, with their original ids, whenever the
 * connection comes back; {@link #replayWal()} sends them at once (also those the broker returned as
 * unroutable). Each event's id is derived from its session id and segment index, so consumers can
 * drop duplicates.
 *
 * <pre>{@code
 * try (Bloodbank bus = Bloodbank.connect();
 *     SpeechRecognizer recognizer = SpeechRecognizer.create(options);
 *     Transcriber transcriber = Transcriber.create(bus, recognizer, TranscriptionOptions.builder().build())) {
 *   transcriber.replayWal();
 *   try (RecognitionStream stream = transcriber.openStream(segment -> {})) {
 *     stream.acceptPcm16(bytes, 0, bytes.length, 16_000);
 *     stream.finish();
 *   }
 * }
 * }</pre>
 *
 * <p>Thread-safe. Closing it waits briefly for events in flight and closes the log and its
 * publisher; the bus and the recognizer stay open.
 */
public final class Transcriber implements AutoCloseable {
  /** The event type this class publishes. */
  public static final String EVENT_TYPE = "transcription.voice.completed";

  /** How long {@link #close()} waits for events in flight: 10 seconds. */
  public static final Duration CLOSE_TIMEOUT = Duration.ofSeconds(10);

  /** How long {@link #replayWal()} waits for the broker's answers: 60 seconds. */
  public static final Duration REPLAY_TIMEOUT = Duration.ofSeconds(60);

  /**
   * Most segments waiting to be logged: 10,000. More means the disk has stopped; a segment beyond
   * it is not logged, and its failure is logged and reported to {@link #awaitPublished}.
   */
  public static final int MAX_QUEUED = 10_000;

  private static final Logger LOG = LoggerFactory.getLogger(Transcriber.class);

  private final SpeechRecognizer recognizer;
  private final TranscriptionOptions options;
  private final String source;
  private final DurablePublisher durable;
  private final ThreadPoolExecutor sender;
  private final Set<CompletableFuture<?>> inFlight = ConcurrentHashMap.newKeySet();

  private Transcriber(Bloodbank bus, SpeechRecognizer recognizer, TranscriptionOptions options) {
    this.recognizer = recognizer;
    this.options = options;
    String s = options.source();
    this.source = s != null ? s : bus.options().serviceName();
    // One channel keeps a session's segments in order on the broker; over several channels
    // the broker may route a later segment first.
    PublisherOptions publishing =
        options.publisher() != null
            ? options.publisher()
            : PublisherOptions.builder().channels(1).build();
    this.durable = bus.durablePublisher(publishing.mutate().durable(options.wal()).build());
    this.sender =
        new ThreadPoolExecutor(
            1,
            1,
            0,
            TimeUnit.SECONDS,
            new ArrayBlockingQueue<>(MAX_QUEUED),
            r -> {
              Thread t = new Thread(r, "bloodbank-voice-publish");
              t.setDaemon(true);
              return t;
            });
  }

  /**
   * Opens the write-ahead log and a publisher on the bus.
   *
   * @param bus where events go
   * @param recognizer makes the streams; not closed by the transcriber
   * @param options event fields and log settings
   * @return the transcriber
   * @throws dev.bloodbank.wal.WalException if the log cannot be opened (for example it is readable
   *     by others)
   * @throws dev.bloodbank.BloodbankException on the embedded transport, which keeps nothing on disk
   */
  public static Transcriber create(
      Bloodbank bus, SpeechRecognizer recognizer, TranscriptionOptions options) {
    Objects.requireNonNull(bus, "bus");
    Objects.requireNonNull(recognizer, "recognizer");
    Objects.requireNonNull(options, "options");
    return new Transcriber(bus, recognizer, options);
  }

  /**
   * Opens a recognition stream whose final segments are published.
   *
   * @param listener also told of partials and segments, on the feeding thread
   * @return the stream; close it when the audio ends
   */
  public RecognitionStream openStream(TranscriptListener listener) {
    Objects.requireNonNull(listener, "listener");
    return recognizer.newStream(
        new TranscriptListener() {
          @Override
          public void onPartial(Partial partial) {
            listener.onPartial(partial);
          }

          @Override
          public void onSegment(Segment segment) {
            submit(segment);
            listener.onSegment(segment);
          }
        });
  }

  /**
   * Builds the event for a segment, without sending it.
   *
   * @param segment the segment
   * @return the event; its id is derived from the session id and segment index
   */
  public EventEnvelope<TranscriptionCompleted> toEvent(Segment segment) {
    String language = options.language();
    if (language == null) {
      language = recognizer.options().language();
    }
    String model = options.modelName();
    if (model == null) {
      model = recognizer.options().model().name();
    }
    AudioMetadata audio =
        new AudioMetadata()
            .withDurationSeconds(segment.durationSeconds())
            .withSampleRate(segment.sampleRate())
            .withLanguage(language)
            .withModel(model)
            .withSpeakerId(options.speakerId());
    TranscriptionCompleted payload =
        new TranscriptionCompleted()
            .withText(segment.text())
            .withTimestamp(segment.endedAt())
            .withSource(source)
            .withTarget(options.target())
            .withSessionId(segment.sessionId())
            .withAudioMetadata(audio);
    if (options.deviceType() != null || options.userId() != null || !options.tags().isEmpty()) {
      payload.withContext(
          new TranscriptionContext()
              .withDeviceType(options.deviceType())
              .withUserId(options.userId())
              .withTags(options.tags().isEmpty() ? null : new ArrayList<>(options.tags())));
    }
    Map<String, Object> key = new LinkedHashMap<>();
    key.put("session_id", segment.sessionId().toString());
    key.put("segment", segment.index());
    return EventEnvelope.builder(EVENT_TYPE, payload)
        .withEventId(EventIds.deterministic(EVENT_TYPE, key))
        .withTimestamp(segment.endedAt())
        .build();
  }

  /**
   * Logs and publishes the event for a segment. Used by streams from {@link #openStream}; call it
   * for segments from elsewhere.
   *
   * @param segment the segment
   * @return completed once the broker confirmed the event; exceptionally if it could not be logged
   *     (then it was not sent) or not published (then it stays in the log and is sent again)
   */
  public CompletableFuture<EventEnvelope<TranscriptionCompleted>> publish(Segment segment) {
    return durable.publish(toEvent(segment));
  }

  private void submit(Segment segment) {
    CompletableFuture<Object> done = new CompletableFuture<>();
    inFlight.add(done);
    done.whenComplete((v, t) -> inFlight.remove(done));
    try {
      sender.execute(
          () -> {
            try {
              publish(segment)
                  .whenComplete(
                      (e, t) -> {
                        if (t != null) {
                          LOG.warn(
                              "segment {} of session {} not published: {}",
                              segment.index(),
                              segment.sessionId(),
                              t.toString());
                          done.completeExceptionally(t);
                        } else {
                          done.complete(e);
                        }
                      });
            } catch (RuntimeException e) {
              LOG.error(
                  "segment {} of session {} could not be logged: {}",
                  segment.index(),
                  segment.sessionId(),
                  e.toString());
              done.completeExceptionally(e);
            }
          });
    } catch (RejectedExecutionException e) {
      if (sender.isShutdown()) {
        done.completeExceptionally(VoiceException.newClosed("transcriber"));
        throw VoiceException.newClosed("transcriber");
      }
      // The disk has not taken a segment for a long while: say so rather than stall the audio.
      VoiceException behind =
          new VoiceException(
              VoiceException.Kind.OVERLOADED,
              "segment "
                  + segment.index()
                  + " of session "
                  + segment.sessionId()
                  + " was not logged: "
                  + MAX_QUEUED
                  + " segments already wait for "
                  + durable.wal().path(),
              null);
      LOG.error("{}", behind.getMessage());
      done.completeExceptionally(behind);
    }
  }

  /**
   * Waits until every segment handed over so far was confirmed or failed.
   *
   * @param timeout the longest wait
   * @return true if nothing is in flight any more, false on timeout
   */
  public boolean awaitPublished(Duration timeout) {
    List<CompletableFuture<?>> now = new ArrayList<>(inFlight);
    try {
      CompletableFuture.allOf(
              now.stream().map(f -> f.handle((v, t) -> null)).toArray(CompletableFuture[]::new))
          .get(timeout.toNanos(), TimeUnit.NANOSECONDS);
      return true;
    } catch (TimeoutException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } catch (java.util.concurrent.ExecutionException e) {
      return true;
    }
  }

  /**
   * Sends now every event of the log that the broker has not confirmed (after a restart or an
   * outage, or returned as unroutable), with its original id, and waits up to {@link
   * #REPLAY_TIMEOUT} for the outcomes. Without it such events are sent again by themselves whenever
   * the connection comes back (unroutable ones excepted).
   *
   * @return how many the broker confirmed now
   */
  public int replayWal() {
    return replayWal(REPLAY_TIMEOUT);
  }

  /**
   * Like {@link #replayWal()}, waiting at most {@code timeout}.
   *
   * @param timeout the longest wait for the broker's answers
   * @return how many the broker confirmed now
   * @since 0.2.0
   */
  public int replayWal(Duration timeout) {
    return durable.replay(timeout);
  }

  /**
   * Returns how many events in the log await a broker confirm.
   *
   * @return pending records
   */
  public int pendingInWal() {
    return durable.pendingCount();
  }

  /**
   * Returns the write-ahead log.
   *
   * @return the log
   */
  public WriteAheadLog wal() {
    return durable.wal();
  }

  /**
   * Waits up to {@link #CLOSE_TIMEOUT} for events in flight, then closes the durable publisher and
   * its log.
   */
  @Override
  public void close() {
    sender.shutdown();
    if (!awaitPublished(CLOSE_TIMEOUT)) {
      LOG.warn(
          "closing with {} events unconfirmed; those logged stay in {} for replay",
          inFlight.size(),
          durable.wal().path());
    }
    int dropped = sender.shutdownNow().size();
    if (dropped > 0) {
      LOG.error(
          "{} segment(s) were never logged: {} did not take them within {}",
          dropped,
          durable.wal().path(),
          CLOSE_TIMEOUT);
    }
    durable.close();
    // Whatever still waits (never logged, or not confirmed in time) has its answer now.
    for (CompletableFuture<?> f : List.copyOf(inFlight)) {
      f.completeExceptionally(VoiceException.newClosed("transcriber"));
    }
  }
}
