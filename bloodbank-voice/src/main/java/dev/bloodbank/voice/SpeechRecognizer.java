package dev.bloodbank.voice;

import com.sun.jna.Pointer;
import dev.bloodbank.voice.internal.ModelChecks;
import dev.bloodbank.voice.internal.NativeLibraries;
import dev.bloodbank.voice.internal.SherpaOnnx;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.OnlineRecognizerConfig;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A streaming speech recognizer: sherpa-onnx with one model loaded, making {@link
 * RecognitionStream}s.
 *
 * <p>Every model file is checked in Java before the native library sees it, because sherpa-onnx
 * ends the whole process on a corrupt or wrong-kind model; a bad file is a {@link VoiceException}
 * naming the file and what is wrong. The native libraries come from {@code
 * bloodbank-voice-natives-linux-x64} on Linux x86-64, or from {@code BLOODBANK_SHERPA_LIB_DIR}.
 *
 * <p>Thread-safe: one recognizer serves many streams, each fed by its own thread. {@link #close()}
 * closes the streams it made and frees the model exactly once; it waits for a decode in progress.
 */
public final class SpeechRecognizer implements AutoCloseable {
  private final RecognizerOptions options;
  private final SherpaOnnx sherpa;
  private final Pointer handle;
  private final Set<RecognitionStream> streams = ConcurrentHashMap.newKeySet();

  /** Streams hold the read side while they call into the recognizer; close takes the write side. */
  final ReentrantReadWriteLock lock = new ReentrantReadWriteLock();

  private boolean closed;

  private SpeechRecognizer(RecognizerOptions options, SherpaOnnx sherpa, Pointer handle) {
    this.options = options;
    this.sherpa = sherpa;
    this.handle = handle;
  }

  /**
   * Checks the model's files, loads the native libraries and the model.
   *
   * @param options the model and decoding settings
   * @return the recognizer; close it to free the model
   * @throws VoiceException of kind {@code MODEL} naming a missing, corrupt or wrong-kind file, of
   *     kind {@code NATIVE_LIBRARY} if the libraries cannot be loaded, of kind {@code ENGINE} if
   *     sherpa-onnx refuses the configuration
   */
  public static SpeechRecognizer create(RecognizerOptions options) {
    Objects.requireNonNull(options, "options");
    ModelChecks.Checked checked = ModelChecks.check(options.model());
    VadOptions vad = options.vad();
    if (vad != null) {
      ModelChecks.checkSileroVad(vad.model());
    }
    SherpaOnnx sherpa = SherpaOnnx.get();
    OnlineRecognizerConfig c = config(options, checked);
    Pointer handle = sherpa.createOnlineRecognizer(c);
    return new SpeechRecognizer(options, sherpa, handle);
  }

  private static OnlineRecognizerConfig config(RecognizerOptions o, ModelChecks.Checked checked) {
    OnlineRecognizerConfig c = new OnlineRecognizerConfig();
    c.feat_config.sample_rate = o.featureSampleRate();
    c.feat_config.feature_dim = o.featureDim();
    AsrModel m = o.model();
    String tokens = m.tokens().toAbsolutePath().toString();
    c.model_config.tokens = tokens;
    switch (m.kind()) {
      case TRANSDUCER -> {
        c.model_config.transducer.encoder = path(m, "encoder");
        c.model_config.transducer.decoder = path(m, "decoder");
        c.model_config.transducer.joiner = path(m, "joiner");
      }
      case PARAFORMER -> {
        c.model_config.paraformer.encoder = path(m, "encoder");
        c.model_config.paraformer.decoder = path(m, "decoder");
      }
      case ZIPFORMER2_CTC -> c.model_config.zipformer2_ctc.model = path(m, "model");
      case NEMO_CTC -> c.model_config.nemo_ctc.model = path(m, "model");
      case TONE_CTC -> c.model_config.t_one_ctc.model = path(m, "model");
    }
    c.model_config.num_threads = o.numThreads();
    c.model_config.provider = o.provider();
    if (!checked.transducerModelType().isEmpty()) {
      c.model_config.model_type = checked.transducerModelType();
    }
    if (o.modelingUnit() != null) {
      c.model_config.modeling_unit = o.modelingUnit();
      c.model_config.bpe_vocab = o.bpeVocab();
    }
    c.decoding_method = o.decodingMethod().nativeName();
    c.max_active_paths = o.maxActivePaths();
    EndpointRules e = o.endpoint();
    c.enable_endpoint = e.enabled() ? 1 : 0;
    c.rule1_min_trailing_silence = e.minTrailingSilenceNoSpeech();
    c.rule2_min_trailing_silence = e.minTrailingSilenceAfterSpeech();
    c.rule3_min_utterance_length = e.maxUtterance();
    if (!o.hotwords().isEmpty()) {
      c.setHotwordsBuf(String.join("\n", o.hotwords()) + "\n");
      c.hotwords_score = o.hotwordsScore();
    }
    return c;
  }

  private static String path(AsrModel m, String role) {
    return m.files().get(role).toAbsolutePath().toString();
  }

  /**
   * Opens a stream with a new session id.
   *
   * @param listener told of partial results and final segments, on the feeding thread
   * @return the stream; close it when done
   * @throws VoiceException of kind {@code CLOSED} after {@link #close()}
   */
  public RecognitionStream newStream(TranscriptListener listener) {
    Objects.requireNonNull(listener, "listener");
    lock.readLock().lock();
    try {
      if (closed) {
        throw VoiceException.newClosed("speech recognizer");
      }
      VadOptions vadOptions = options.vad();
      VoiceActivityDetector vad =
          vadOptions == null ? null : VoiceActivityDetector.create(vadOptions);
      Pointer s;
      try {
        s = sherpa.createOnlineStream(handle);
      } catch (RuntimeException e) {
        if (vad != null) {
          vad.close();
        }
        throw e;
      }
      RecognitionStream stream = new RecognitionStream(this, sherpa, handle, s, listener, vad);
      streams.add(stream);
      return stream;
    } finally {
      lock.readLock().unlock();
    }
  }

  void forget(RecognitionStream stream) {
    streams.remove(stream);
  }

  /** Called by streams under the read lock. */
  boolean isClosed() {
    return closed;
  }

  /**
   * Returns the options it was made with.
   *
   * @return the options
   */
  public RecognizerOptions options() {
    return options;
  }

  /**
   * Returns the version of the loaded sherpa-onnx library.
   *
   * @return e.g. {@code 1.13.8}
   */
  public static String nativeVersion() {
    return NativeLibraries.version();
  }

  /** Closes every open stream, then frees the model. Idempotent. */
  @Override
  public void close() {
    for (RecognitionStream s : streams) {
      s.close();
    }
    lock.writeLock().lock();
    try {
      if (closed) {
        return;
      }
      closed = true;
      // A stream opened while the loop above ran: free it before the model it points into.
      for (RecognitionStream s : streams) {
        s.close();
      }
      sherpa.destroyOnlineRecognizer(handle);
    } finally {
      lock.writeLock().unlock();
    }
  }
}
