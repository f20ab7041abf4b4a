package dev.bloodbank.voice;

import com.sun.jna.Pointer;
import dev.bloodbank.voice.internal.ModelChecks;
import dev.bloodbank.voice.internal.SherpaOnnx;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.VadModelConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/**
 * Finds where speech is in audio, with Silero VAD running in sherpa-onnx.
 *
 * <p>Audio goes in at any rate from 4 kHz to 192 kHz (it is resampled to {@value #SAMPLE_RATE} Hz,
 * the rate Silero works at); each stretch of speech comes out as a {@link SpeechSegment} once the
 * silence after it is long enough. The model file is checked in Java first.
 *
 * <p>Not thread-safe in use (methods are synchronized, so misuse is safe but serial). Close it to
 * free the native detector; closing twice is harmless.
 */
public final class VoiceActivityDetector implements AutoCloseable {
  /** The rate the detector works at, and of the samples in its segments: 16,000 Hz. */
  public static final int SAMPLE_RATE = 16_000;

  /** Silero v5 reads 512-sample windows (32 ms); sherpa-onnx exits on any other size. */
  private static final int WINDOW = 512;

  private final SherpaOnnx sherpa;
  private final Pointer handle;
  private @Nullable Pointer resampler;
  private int inputRate;
  private boolean closed;

  private VoiceActivityDetector(SherpaOnnx sherpa, Pointer handle) {
    this.sherpa = sherpa;
    this.handle = handle;
  }

  /**
   * Checks the model file and creates the detector.
   *
   * @param options the model and thresholds
   * @return the detector
   * @throws VoiceException of kind {@code MODEL} for a missing or non-Silero file
   */
  public static VoiceActivityDetector create(VadOptions options) {
    Objects.requireNonNull(options, "options");
    ModelChecks.checkSileroVad(options.model());
    SherpaOnnx sherpa = SherpaOnnx.get();
    VadModelConfig c = new VadModelConfig();
    c.silero_vad.model = options.model().toAbsolutePath().toString();
    c.silero_vad.threshold = options.threshold();
    c.silero_vad.min_silence_duration = options.minSilenceSeconds();
    c.silero_vad.min_speech_duration = options.minSpeechSeconds();
    c.silero_vad.max_speech_duration = options.maxSpeechSeconds();
    c.silero_vad.window_size = WINDOW;
    c.sample_rate = SAMPLE_RATE;
    c.num_threads = 1;
    c.provider = "cpu";
    return new VoiceActivityDetector(
        sherpa, sherpa.createVoiceActivityDetector(c, options.bufferSeconds()));
  }

  /**
   * Feeds audio and returns the segments that ended in it.
   *
   * @param samples mono samples in [-1, 1]
   * @param offset first sample to read
   * @param length how many
   * @param sampleRate their rate, 4,000 to 192,000 Hz; the same for every call
   * @return the segments completed by this audio, oldest first; often empty
   */
  public synchronized List<SpeechSegment> accept(
      float[] samples, int offset, int length, int sampleRate) {
    Objects.checkFromIndexSize(offset, length, samples.length);
    checkOpen();
    if (sampleRate < RecognitionStream.MIN_SAMPLE_RATE
        || sampleRate > RecognitionStream.MAX_SAMPLE_RATE) {
      throw VoiceException.newAudio(
          "sample rate must be between "
              + RecognitionStream.MIN_SAMPLE_RATE
              + " and "
              + RecognitionStream.MAX_SAMPLE_RATE
              + " Hz, was "
              + sampleRate,
          null);
    }
    if (inputRate == 0) {
      inputRate = sampleRate;
      if (sampleRate != SAMPLE_RATE) {
        resampler = sherpa.createLinearResampler(sampleRate, SAMPLE_RATE, 0f, 0);
      }
    } else if (sampleRate != inputRate) {
      throw VoiceException.newAudio(
          "the detector started at "
              + inputRate
              + " Hz and cannot change to "
              + sampleRate
              + " Hz; reset() it first",
          null);
    }
    float[] in = samples;
    int n = length;
    if (offset != 0) {
      in = new float[length];
      System.arraycopy(samples, offset, in, 0, length);
    }
    Pointer r = resampler;
    if (r != null) {
      in = sherpa.resample(r, in, n, false);
      n = in.length;
    }
    if (n > 0) {
      sherpa.voiceActivityDetectorAcceptWaveform(handle, in, n);
    }
    return drain();
  }

  /**
   * Ends the input: a segment still open is closed and returned.
   *
   * @return the remaining segments
   */
  public synchronized List<SpeechSegment> flush() {
    checkOpen();
    sherpa.voiceActivityDetectorFlush(handle);
    return drain();
  }

  /**
   * Returns whether the audio fed last is speech.
   *
   * @return true while speech goes on
   */
  public synchronized boolean isSpeech() {
    checkOpen();
    return sherpa.voiceActivityDetectorDetected(handle);
  }

  /** Forgets all input: times start again at 0, and a new sample rate may be used. */
  public synchronized void reset() {
    checkOpen();
    sherpa.voiceActivityDetectorReset(handle);
    Pointer r = resampler;
    if (r != null) {
      sherpa.destroyLinearResampler(r);
      resampler = null;
    }
    inputRate = 0;
  }

  private List<SpeechSegment> drain() {
    List<SpeechSegment> out = new ArrayList<>();
    for (SherpaOnnx.Segment s = sherpa.voiceActivityDetectorPopFront(handle);
        s != null;
        s = sherpa.voiceActivityDetectorPopFront(handle)) {
      double start = (double) s.start() / SAMPLE_RATE;
      out.add(
          new SpeechSegment(start, start + (double) s.samples().length / SAMPLE_RATE, s.samples()));
    }
    return out;
  }

  private void checkOpen() {
    if (closed) {
      throw VoiceException.newClosed("voice activity detector");
    }
  }

  /** Frees the native detector. Idempotent. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    Pointer r = resampler;
    if (r != null) {
      sherpa.destroyLinearResampler(r);
    }
    sherpa.destroyVoiceActivityDetector(handle);
  }
}
