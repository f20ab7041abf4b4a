package dev.bloodbank.voice;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.jna.Pointer;
import dev.bloodbank.voice.internal.SherpaOnnx;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One audio stream being recognized: audio goes in, partial results and final {@link Segment}s come
 * out to a {@link TranscriptListener}, on the thread that feeds the audio.
 *
 * <p>Audio is mono, as float samples in [-1, 1] or 16-bit little-endian PCM, at any sample rate
 * from 4 kHz to 192 kHz; sherpa-onnx resamples it to the model's rate. A stream keeps the rate of
 * its first chunk (the native side cannot change it); a chunk at another rate is refused.
 *
 * <p>Each stream has a session id (a random UUID) and a {@link #sessionInfo()} handshake for
 * clients. Not thread-safe: feed a stream from one thread at a time (the methods are synchronized,
 * so misuse is safe but serial). Close it to free its native state; closing twice is harmless.
 */
public final class RecognitionStream implements AutoCloseable {
  /** Lowest accepted input sample rate: 4,000 Hz. */
  public static final int MIN_SAMPLE_RATE = 4_000;

  /** Highest accepted input sample rate: 192,000 Hz. */
  public static final int MAX_SAMPLE_RATE = 192_000;

  /**
   * Silence appended by {@link #finish()}: models decode in fixed chunks, and the audio after the
   * last full chunk would otherwise never be decoded. 0.5 seconds.
   */
  static final double TAIL_PADDING_SECONDS = 0.5;

  private static final Logger LOG = LoggerFactory.getLogger(RecognitionStream.class);
  private static final ObjectMapper JSON = new ObjectMapper();

  private final SpeechRecognizer recognizer;
  private final SherpaOnnx sherpa;
  private final Pointer recognizerHandle;
  private final Pointer handle;
  private final TranscriptListener listener;
  private final UUID sessionId = UUID.randomUUID();
  private final @Nullable VoiceActivityDetector vad;

  private int sampleRate;
  private long samplesAccepted;
  private int segmentIndex;
  private double segmentStartSeconds;
  private String lastPartial = "";
  private float[] scratch = new float[0];
  private boolean finished;
  private volatile boolean closed;
  private volatile boolean closeRequested;

  RecognitionStream(
      SpeechRecognizer recognizer,
      SherpaOnnx sherpa,
      Pointer recognizerHandle,
      Pointer handle,
      TranscriptListener listener,
      @Nullable VoiceActivityDetector vad) {
    this.recognizer = recognizer;
    this.sherpa = sherpa;
    this.recognizerHandle = recognizerHandle;
    this.handle = handle;
    this.listener = listener;
    this.vad = vad;
  }

  /**
   * Returns the session id.
   *
   * @return a random (version 4) UUID
   */
  public UUID sessionId() {
    return sessionId;
  }

  /**
   * Returns the handshake a server sends a client first: {@code
   * {"type":"session_info","session_id":"..."}}.
   *
   * @return the JSON text
   */
  public String sessionInfo() {
    return "{\"type\":\"session_info\",\"session_id\":\"" + sessionId + "\"}";
  }

  /**
   * Feeds float samples.
   *
   * @param samples mono samples in [-1, 1]
   * @param offset first sample to read
   * @param length how many samples
   * @param sampleRate their rate in Hz, 4,000 to 192,000; the same for every chunk of a stream
   * @throws VoiceException of kind {@code AUDIO} for a bad rate or range, of kind {@code CLOSED}
   *     after {@link #finish()} or {@link #close()}
   */
  public synchronized void acceptFloat(float[] samples, int offset, int length, int sampleRate) {
    Objects.checkFromIndexSize(offset, length, samples.length);
    checkRate(sampleRate);
    if (offset == 0) {
      feed(samples, length, sampleRate);
    } else {
      float[] buf = scratch(length);
      System.arraycopy(samples, offset, buf, 0, length);
      feed(buf, length, sampleRate);
    }
  }

  /**
   * Feeds 16-bit little-endian PCM, as WebSocket clients send it.
   *
   * @param pcm the bytes
   * @param offset first byte to read
   * @param length how many bytes; even
   * @param sampleRate the rate in Hz, 4,000 to 192,000; the same for every chunk of a stream
   * @throws VoiceException of kind {@code AUDIO} for an odd length or a bad rate, of kind {@code
   *     CLOSED} after {@link #finish()} or {@link #close()}
   */
  public synchronized void acceptPcm16(byte[] pcm, int offset, int length, int sampleRate) {
    Objects.checkFromIndexSize(offset, length, pcm.length);
    if ((length & 1) != 0) {
      throw VoiceException.newAudio(
          "16-bit PCM needs an even number of bytes, got " + length + " for stream " + sessionId,
          null);
    }
    checkRate(sampleRate);
    int n = length / 2;
    float[] buf = scratch(n);
    for (int i = 0; i < n; i++) {
      int p = offset + 2 * i;
      buf[i] = (short) ((pcm[p] & 0xff) | (pcm[p + 1] << 8)) / 32768f;
    }
    feed(buf, n, sampleRate);
  }

  /**
   * Feeds 16-bit PCM samples.
   *
   * @param samples the samples
   * @param offset first sample to read
   * @param length how many samples
   * @param sampleRate the rate in Hz, 4,000 to 192,000; the same for every chunk of a stream
   */
  public synchronized void acceptPcm16(short[] samples, int offset, int length, int sampleRate) {
    Objects.checkFromIndexSize(offset, length, samples.length);
    checkRate(sampleRate);
    float[] buf = scratch(length);
    for (int i = 0; i < length; i++) {
      buf[i] = samples[offset + i] / 32768f;
    }
    feed(buf, length, sampleRate);
  }

  /**
   * Feeds a whole WAV file's audio in 100 ms chunks (so partial results arrive as they would live)
   * and then {@link #finish() finishes} the stream.
   *
   * @param audio the audio
   */
  public synchronized void acceptAll(WavAudio audio) {
    float[] s = audio.samples();
    int chunk = Math.max(1, audio.sampleRate() / 10);
    float[] buf = new float[chunk];
    checkRate(audio.sampleRate());
    for (int at = 0; at < s.length; at += chunk) {
      int n = Math.min(chunk, s.length - at);
      System.arraycopy(s, at, buf, 0, n);
      feed(buf, n, audio.sampleRate());
    }
    finish();
  }

  /**
   * Ends the input: the rest of the audio is decoded and its text, if any, reported as the last
   * segment. Feeding afterwards is refused. Idempotent.
   */
  public synchronized void finish() {
    if (finished || closed) {
      return;
    }
    int rate = sampleRate == 0 ? recognizer.options().featureSampleRate() : sampleRate;
    int pad = (int) Math.ceil(TAIL_PADDING_SECONDS * rate);
    feed(new float[pad], pad, rate);
    finished = true;
    withRecognizer(
        () -> {
          sherpa.onlineStreamInputFinished(handle);
          decodeReady();
          SherpaOnnx.OnlineResult r = sherpa.onlineStreamResult(recognizerHandle, handle);
          String text = r.text().strip();
          if (!text.isEmpty()) {
            String json = sherpa.getOnlineStreamResultAsJson(recognizerHandle, handle);
            emitSegment(text, r.tokens(), r.timestamps(), json);
          }
        });
  }

  private void checkRate(int rate) {
    if (rate < MIN_SAMPLE_RATE || rate > MAX_SAMPLE_RATE) {
      throw VoiceException.newAudio(
          "sample rate must be between "
              + MIN_SAMPLE_RATE
              + " and "
              + MAX_SAMPLE_RATE
              + " Hz, was "
              + rate,
          null);
    }
    if (sampleRate != 0 && rate != sampleRate) {
      throw VoiceException.newAudio(
          "stream "
              + sessionId
              + " started at "
              + sampleRate
              + " Hz and cannot change to "
              + rate
              + " Hz; open a new stream for audio at another rate",
          null);
    }
  }

  private float[] scratch(int n) {
    if (scratch.length < n) {
      scratch = new float[n];
    }
    return scratch;
  }

  private void feed(float[] samples, int n, int rate) {
    if (finished) {
      throw VoiceException.newClosed("stream " + sessionId + " (finished)");
    }
    withRecognizer(
        () -> {
          if (sampleRate == 0) {
            sampleRate = rate;
          }
          sherpa.onlineStreamAcceptWaveform(handle, sampleRate, samples, n);
          samplesAccepted += n;
          boolean decoded = decodeReady();
          VoiceActivityDetector v = vad;
          // The detector heard a stretch of speech end in this chunk.
          boolean speechEnded = v != null && !v.accept(samples, 0, n, rate).isEmpty();
          if (!decoded && !speechEnded) {
            // Models decode in chunks of a few hundred ms: until the next one, nothing changed.
            return;
          }
          SherpaOnnx.OnlineResult r = sherpa.onlineStreamResult(recognizerHandle, handle);
          String text = r.text().strip();
          boolean endpoint = speechEnded || sherpa.onlineStreamIsEndpoint(recognizerHandle, handle);
          if (endpoint) {
            if (!text.isEmpty()) {
              String json = sherpa.getOnlineStreamResultAsJson(recognizerHandle, handle);
              emitSegment(text, r.tokens(), r.timestamps(), json);
            }
            sherpa.onlineStreamReset(recognizerHandle, handle);
            segmentStartSeconds = seconds();
            lastPartial = "";
          } else if (!text.equals(lastPartial)) {
            lastPartial = text;
            try {
              listener.onPartial(new Partial(sessionId, segmentIndex, text, seconds()));
            } catch (RuntimeException e) {
              LOG.warn("partial listener of stream {} failed", sessionId, e);
            }
          }
        });
  }

  /** Decodes what is ready; returns whether anything was. */
  private boolean decodeReady() {
    boolean any = false;
    // sherpa-onnx exits the process when asked to decode a stream that is not ready.
    while (sherpa.isOnlineStreamReady(recognizerHandle, handle)) {
      sherpa.decodeOnlineStream(recognizerHandle, handle);
      any = true;
    }
    return any;
  }

  private void emitSegment(String text, List<String> tokens, float[] timestamps, String json) {
    double start = segmentStartSeconds;
    try {
      JsonNode node = JSON.readTree(json);
      JsonNode st = node.get("start_time");
      if (st != null && st.isNumber()) {
        start = st.asDouble();
      }
    } catch (Exception e) {
      LOG.debug("stream {}: result JSON not readable, using own segment start", sessionId, e);
    }
    double end = seconds();
    if (timestamps.length > 0 && timestamps[0] >= 0) {
      start = Math.min(end, start + timestamps[0]);
    }
    start = Math.max(0, Math.min(start, end));
    Segment segment =
        new Segment(sessionId, segmentIndex++, text, tokens, start, end, Instant.now(), sampleRate);
    try {
      listener.onSegment(segment);
    } catch (RuntimeException e) {
      LOG.warn("segment listener of stream {} failed", sessionId, e);
    }
  }

  private double seconds() {
    return sampleRate == 0 ? 0 : (double) samplesAccepted / sampleRate;
  }

  private void withRecognizer(Runnable action) {
    if (closed) {
      throw VoiceException.newClosed("stream " + sessionId);
    }
    recognizer.lock.readLock().lock();
    try {
      if (recognizer.isClosed() || closed) {
        throw VoiceException.newClosed("speech recognizer of stream " + sessionId);
      }
      action.run();
    } finally {
      recognizer.lock.readLock().unlock();
    }
    if (closeRequested) {
      close();
    }
  }

  /**
   * Returns how much audio the stream has taken.
   *
   * @return seconds of input audio
   */
  public synchronized double secondsAccepted() {
    return seconds();
  }

  /**
   * Returns how many segments were reported so far.
   *
   * @return segments
   */
  public synchronized int segmentCount() {
    return segmentIndex;
  }

  /**
   * Returns the input sample rate, fixed by the first chunk.
   *
   * @return Hz, or 0 before any audio
   */
  public synchronized int sampleRate() {
    return sampleRate;
  }

  /**
   * Frees the native stream, once no call into it is running. Does not report unfinished text; call
   * {@link #finish()} first. Safe from any thread, also from the listener (then the stream is freed
   * when the callback returns).
   */
  @Override
  public void close() {
    if (recognizer.lock.getReadHoldCount() > 0) {
      // Called from a listener inside a native call's read lock: cannot take the write lock here.
      closeRequested = true;
      return;
    }
    recognizer.lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      sherpa.destroyOnlineStream(handle);
    } finally {
      recognizer.lock.writeLock().unlock();
      recognizer.forget(this);
      VoiceActivityDetector v = vad;
      if (v != null) {
        v.close();
      }
    }
  }
}
