package dev.bloodbank.voice.internal;

import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.Pointer;
import dev.bloodbank.voice.VoiceException;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.OnlineRecognizerConfig;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.OnlineRecognizerResult;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.ResampleOut;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.SpeechSegment;
import dev.bloodbank.voice.internal.SherpaOnnxStructs.VadModelConfig;
import java.lang.ref.Reference;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * The part of the sherpa-onnx {@value NativeLibraries#SHERPA_ONNX_VERSION} C API that
 * bloodbank-voice uses: streaming recognition, voice activity detection and linear resampling.
 *
 * <p>Each method calls the C function of the same name without the {@code SherpaOnnx} prefix,
 * through JNA direct mapping. Handles are raw {@link Pointer}s; callers own them and must destroy
 * each exactly once, after which the pointer is dangling. Calls that return owned memory come in
 * two forms: the raw one, and a copying one that frees the native memory before returning.
 *
 * <p>Methods check Java-side arguments (non-null handles, {@code n} within the array) because a bad
 * pointer or length would crash the JVM. They do not check that a handle is still alive.
 *
 * <p>The C functions are thread-safe across different handles; one recognizer may serve several
 * streams from several threads, but one stream or detector must be used by one thread at a time.
 * This class holds no state of its own.
 */
public final class SherpaOnnx {
  private static final SherpaOnnx INSTANCE = new SherpaOnnx();

  private SherpaOnnx() {}

  /**
   * Loads the native libraries (see {@link NativeLibraries}) and returns the binding.
   *
   * @return the binding
   * @throws VoiceException of kind {@code NATIVE_LIBRARY} when the libraries cannot be loaded
   */
  public static SherpaOnnx get() {
    NativeLibraries.sherpaOnnx();
    Direct.ensureRegistered();
    return INSTANCE;
  }

  /**
   * Native methods. Registered only after {@link NativeLibraries} has loaded the libraries, so that
   * a load failure is a {@link VoiceException}, not a permanently failed class.
   */
  private static final class Direct {
    static {
      Native.register(Direct.class, NativeLibraries.sherpaOnnx());
    }

    private Direct() {}

    static void ensureRegistered() {
      // Touching the class runs the static initializer once.
    }

    static native Pointer SherpaOnnxGetVersionStr();

    static native Pointer SherpaOnnxGetGitSha1();

    static native Pointer SherpaOnnxGetGitDate();

    static native Pointer SherpaOnnxGetOnnxruntimeVersionStr();

    // Streaming ASR.

    static native Pointer SherpaOnnxCreateOnlineRecognizer(OnlineRecognizerConfig config);

    static native void SherpaOnnxDestroyOnlineRecognizer(Pointer recognizer);

    static native Pointer SherpaOnnxCreateOnlineStream(Pointer recognizer);

    static native Pointer SherpaOnnxCreateOnlineStreamWithHotwords(
        Pointer recognizer, byte[] hotwords);

    static native void SherpaOnnxDestroyOnlineStream(Pointer stream);

    static native void SherpaOnnxOnlineStreamAcceptWaveform(
        Pointer stream, int sampleRate, float[] samples, int n);

    static native void SherpaOnnxOnlineStreamAcceptWaveform(
        Pointer stream, int sampleRate, Pointer samples, int n);

    static native int SherpaOnnxIsOnlineStreamReady(Pointer recognizer, Pointer stream);

    static native void SherpaOnnxDecodeOnlineStream(Pointer recognizer, Pointer stream);

    static native void SherpaOnnxDecodeMultipleOnlineStreams(
        Pointer recognizer, Pointer streams, int n);

    static native Pointer SherpaOnnxGetOnlineStreamResult(Pointer recognizer, Pointer stream);

    static native void SherpaOnnxDestroyOnlineRecognizerResult(Pointer result);

    static native Pointer SherpaOnnxGetOnlineStreamResultAsJson(Pointer recognizer, Pointer stream);

    static native void SherpaOnnxDestroyOnlineStreamResultJson(Pointer json);

    static native void SherpaOnnxOnlineStreamReset(Pointer recognizer, Pointer stream);

    static native void SherpaOnnxOnlineStreamInputFinished(Pointer stream);

    static native void SherpaOnnxOnlineStreamSetOption(Pointer stream, byte[] key, byte[] value);

    static native int SherpaOnnxOnlineStreamIsEndpoint(Pointer recognizer, Pointer stream);

    // Voice activity detection.

    static native Pointer SherpaOnnxCreateVoiceActivityDetector(
        VadModelConfig config, float bufferSizeInSeconds);

    static native void SherpaOnnxDestroyVoiceActivityDetector(Pointer vad);

    static native void SherpaOnnxVoiceActivityDetectorAcceptWaveform(
        Pointer vad, float[] samples, int n);

    static native void SherpaOnnxVoiceActivityDetectorAcceptWaveform(
        Pointer vad, Pointer samples, int n);

    static native int SherpaOnnxVoiceActivityDetectorEmpty(Pointer vad);

    static native int SherpaOnnxVoiceActivityDetectorDetected(Pointer vad);

    static native void SherpaOnnxVoiceActivityDetectorPop(Pointer vad);

    static native void SherpaOnnxVoiceActivityDetectorClear(Pointer vad);

    static native Pointer SherpaOnnxVoiceActivityDetectorFront(Pointer vad);

    static native void SherpaOnnxDestroySpeechSegment(Pointer segment);

    static native void SherpaOnnxVoiceActivityDetectorReset(Pointer vad);

    static native void SherpaOnnxVoiceActivityDetectorFlush(Pointer vad);

    // Linear resampling.

    static native Pointer SherpaOnnxCreateLinearResampler(
        int sampleRateIn, int sampleRateOut, float filterCutoffHz, int numZeros);

    static native void SherpaOnnxDestroyLinearResampler(Pointer resampler);

    static native void SherpaOnnxLinearResamplerReset(Pointer resampler);

    static native Pointer SherpaOnnxLinearResamplerResample(
        Pointer resampler, float[] input, int n, int flush);

    static native Pointer SherpaOnnxLinearResamplerResample(
        Pointer resampler, Pointer input, int n, int flush);

    static native void SherpaOnnxLinearResamplerResampleFree(Pointer out);

    static native int SherpaOnnxLinearResamplerResampleGetInputSampleRate(Pointer resampler);

    static native int SherpaOnnxLinearResamplerResampleGetOutputSampleRate(Pointer resampler);
  }

  // ---------------------------------------------------------------- version

  /**
   * Returns the sherpa-onnx version ({@code SherpaOnnxGetVersionStr}).
   *
   * @return e.g. {@code 1.13.8}
   */
  public String getVersionStr() {
    return SherpaStruct.string(Direct.SherpaOnnxGetVersionStr());
  }

  /**
   * Returns the Git commit the library was built from ({@code SherpaOnnxGetGitSha1}).
   *
   * @return the short SHA-1
   */
  public String getGitSha1() {
    return SherpaStruct.string(Direct.SherpaOnnxGetGitSha1());
  }

  /**
   * Returns the build's commit date ({@code SherpaOnnxGetGitDate}).
   *
   * @return the date as sherpa-onnx prints it
   */
  public String getGitDate() {
    return SherpaStruct.string(Direct.SherpaOnnxGetGitDate());
  }

  /**
   * Returns the onnxruntime version the library was built against ({@code
   * SherpaOnnxGetOnnxruntimeVersionStr}).
   *
   * @return e.g. {@code 1.23.2}
   */
  public String getOnnxruntimeVersionStr() {
    return SherpaStruct.string(Direct.SherpaOnnxGetOnnxruntimeVersionStr());
  }

  // ---------------------------------------------------------------- streaming ASR

  /**
   * Creates a streaming recognizer; loads the model files, which may take seconds.
   *
   * <p>Settings for which sherpa-onnx 1.13.8 would call {@code exit()} instead of returning NULL
   * are refused here first: an unknown decoding method, a decoding method other than greedy_search
   * for a CTC model without a decoding graph, and a hotwords file that cannot be read.
   *
   * @param config the configuration
   * @return the recognizer; destroy with {@link #destroyOnlineRecognizer}
   * @throws IllegalArgumentException for a decoding method the model family does not support
   * @throws VoiceException of kind {@code MODEL} for an unreadable hotwords file, of kind {@code
   *     ENGINE} when sherpa-onnx rejects the configuration (it logs the reason to stderr)
   */
  public Pointer createOnlineRecognizer(OnlineRecognizerConfig config) {
    checkOnlineRecognizerConfig(config);
    Pointer recognizer = Direct.SherpaOnnxCreateOnlineRecognizer(config);
    // The struct owns the native copies of its strings; it must outlive the call.
    Reference.reachabilityFence(config);
    if (recognizer == null) {
      throw VoiceException.newEngine(
          "sherpa-onnx rejected the streaming recognizer configuration ("
              + config.model_config.describe()
              + "); its reason is logged on stderr");
    }
    return recognizer;
  }

  private static void checkOnlineRecognizerConfig(OnlineRecognizerConfig config) {
    SherpaOnnxStructs.OnlineModelConfig model = config.model_config;
    String method = config.decoding_method == null ? "" : config.decoding_method;
    // The C++ side picks the family in this order: transducer, Paraformer, CTC.
    boolean transducer = !isEmpty(model.transducer.encoder);
    boolean paraformer = !transducer && !isEmpty(model.paraformer.encoder);
    boolean ctc =
        !transducer
            && !paraformer
            && (!isEmpty(model.zipformer2_ctc.model)
                || !isEmpty(model.nemo_ctc.model)
                || !isEmpty(model.t_one_ctc.model));
    if (transducer
        && !method.isEmpty()
        && !method.equals("greedy_search")
        && !method.equals("modified_beam_search")) {
      throw new IllegalArgumentException(
          "decoding_method must be greedy_search or modified_beam_search for a transducer, was "
              + method);
    }
    if (ctc
        && isEmpty(config.ctc_fst_decoder_config.graph)
        && !method.isEmpty()
        && !method.equals("greedy_search")) {
      throw new IllegalArgumentException(
          "decoding_method must be greedy_search for a streaming CTC model without a decoding"
              + " graph, was "
              + method);
    }
    String hotwords = config.hotwords_file;
    if (hotwords != null && !hotwords.isEmpty()) {
      Path file = Path.of(hotwords);
      if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
        throw VoiceException.newModel(file, "hotwords file does not exist or is not readable");
      }
    }
  }

  private static boolean isEmpty(@Nullable String s) {
    return s == null || s.isEmpty();
  }

  /**
   * Destroys a recognizer. Destroy its streams first.
   *
   * @param recognizer from {@link #createOnlineRecognizer}
   */
  public void destroyOnlineRecognizer(Pointer recognizer) {
    Direct.SherpaOnnxDestroyOnlineRecognizer(handle(recognizer, "recognizer"));
  }

  /**
   * Creates a stream, the decoding state of one audio source.
   *
   * @param recognizer from {@link #createOnlineRecognizer}
   * @return the stream; destroy with {@link #destroyOnlineStream}
   * @throws VoiceException of kind {@code ENGINE} when sherpa-onnx returns NULL
   */
  public Pointer createOnlineStream(Pointer recognizer) {
    Pointer stream = Direct.SherpaOnnxCreateOnlineStream(handle(recognizer, "recognizer"));
    if (stream == null) {
      throw VoiceException.newEngine("sherpa-onnx could not create a stream");
    }
    return stream;
  }

  /**
   * Creates a stream that boosts the given hotwords (modified_beam_search only).
   *
   * <p><b>Transducer models only:</b> for any other model family sherpa-onnx 1.13.8 calls {@code
   * exit(-1)}, which ends the JVM. The binding cannot tell the family from the handle; the caller
   * must check its configuration.
   *
   * @param recognizer from {@link #createOnlineRecognizer}
   * @param hotwords hotwords, one per line, in the model's modeling unit
   * @return the stream; destroy with {@link #destroyOnlineStream}
   * @throws VoiceException of kind {@code ENGINE} when sherpa-onnx returns NULL
   */
  public Pointer createOnlineStreamWithHotwords(Pointer recognizer, String hotwords) {
    Pointer stream =
        Direct.SherpaOnnxCreateOnlineStreamWithHotwords(
            handle(recognizer, "recognizer"), cString(hotwords));
    if (stream == null) {
      throw VoiceException.newEngine("sherpa-onnx could not create a stream with hotwords");
    }
    return stream;
  }

  /**
   * Destroys a stream.
   *
   * @param stream from {@link #createOnlineStream}
   */
  public void destroyOnlineStream(Pointer stream) {
    Direct.SherpaOnnxDestroyOnlineStream(handle(stream, "stream"));
  }

  /**
   * Appends mono samples in [-1, 1] to a stream; sherpa-onnx resamples if the rate differs from the
   * model's.
   *
   * <p>Use one {@code sampleRate} for the life of a stream: sherpa-onnx 1.13.8 calls {@code
   * exit(-1)} when it changes.
   *
   * @param stream from {@link #createOnlineStream}
   * @param sampleRate rate of {@code samples} in Hz
   * @param samples the samples
   * @param n how many samples of the array to take, from index 0
   */
  public void onlineStreamAcceptWaveform(Pointer stream, int sampleRate, float[] samples, int n) {
    checkLength(samples.length, n);
    Direct.SherpaOnnxOnlineStreamAcceptWaveform(handle(stream, "stream"), sampleRate, samples, n);
  }

  /**
   * Appends mono samples in [-1, 1] from native memory to a stream.
   *
   * @param stream from {@link #createOnlineStream}
   * @param sampleRate rate of the samples in Hz
   * @param samples at least {@code n} floats
   * @param n number of samples
   */
  public void onlineStreamAcceptWaveform(Pointer stream, int sampleRate, Pointer samples, int n) {
    checkCount(n);
    Direct.SherpaOnnxOnlineStreamAcceptWaveform(
        handle(stream, "stream"), sampleRate, handle(samples, "samples"), n);
  }

  /**
   * Returns whether a stream has enough frames for {@link #decodeOnlineStream}.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   * @return true when a decode step can run
   */
  public boolean isOnlineStreamReady(Pointer recognizer, Pointer stream) {
    return Direct.SherpaOnnxIsOnlineStreamReady(
            handle(recognizer, "recognizer"), handle(stream, "stream"))
        != 0;
  }

  /**
   * Runs one decode step; call only while {@link #isOnlineStreamReady} is true.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   */
  public void decodeOnlineStream(Pointer recognizer, Pointer stream) {
    Direct.SherpaOnnxDecodeOnlineStream(handle(recognizer, "recognizer"), handle(stream, "stream"));
  }

  /**
   * Runs one decode step on several ready streams of one recognizer as a batch.
   *
   * @param recognizer the streams' recognizer
   * @param streams the streams, each ready
   */
  public void decodeMultipleOnlineStreams(Pointer recognizer, List<Pointer> streams) {
    if (streams.isEmpty()) {
      return;
    }
    Memory array = new Memory((long) Native.POINTER_SIZE * streams.size());
    for (int i = 0; i < streams.size(); i++) {
      array.setPointer(
          (long) Native.POINTER_SIZE * i, handle(streams.get(i), "streams[" + i + "]"));
    }
    Direct.SherpaOnnxDecodeMultipleOnlineStreams(
        handle(recognizer, "recognizer"), array, streams.size());
    Reference.reachabilityFence(array);
  }

  /**
   * Returns a stream's current result as native memory.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   * @return the result; read it with {@link OnlineRecognizerResult#OnlineRecognizerResult(Pointer)}
   *     and free it with {@link #destroyOnlineRecognizerResult}
   */
  public Pointer getOnlineStreamResult(Pointer recognizer, Pointer stream) {
    Pointer result =
        Direct.SherpaOnnxGetOnlineStreamResult(
            handle(recognizer, "recognizer"), handle(stream, "stream"));
    if (result == null) {
      throw VoiceException.newEngine("sherpa-onnx returned no result for the stream");
    }
    return result;
  }

  /**
   * Frees a result from {@link #getOnlineStreamResult}.
   *
   * @param result the result
   */
  public void destroyOnlineRecognizerResult(Pointer result) {
    Direct.SherpaOnnxDestroyOnlineRecognizerResult(handle(result, "result"));
  }

  /** A copy of a stream's result, independent of native memory. */
  public static final class OnlineResult {
    private final String text;
    private final List<String> tokens;
    private final float[] timestamps;

    OnlineResult(String text, List<String> tokens, float[] timestamps) {
      this.text = text;
      this.tokens = tokens;
      this.timestamps = timestamps;
    }

    /**
     * Returns the text decoded so far.
     *
     * @return the text, possibly empty
     */
    public String text() {
      return text;
    }

    /**
     * Returns the tokens decoded so far.
     *
     * @return an immutable list
     */
    public List<String> tokens() {
      return tokens;
    }

    /**
     * Returns the tokens' start times.
     *
     * @return seconds from the start of the stream, one per token, or empty when the model gives
     *     none; a copy
     */
    public float[] timestamps() {
      return timestamps.clone();
    }
  }

  /**
   * Copies a stream's current result and frees the native one.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   * @return the copy
   */
  public OnlineResult onlineStreamResult(Pointer recognizer, Pointer stream) {
    Pointer p = getOnlineStreamResult(recognizer, stream);
    try {
      OnlineRecognizerResult r = new OnlineRecognizerResult(p);
      return new OnlineResult(r.text(), r.tokens(), r.timestamps());
    } finally {
      Direct.SherpaOnnxDestroyOnlineRecognizerResult(p);
    }
  }

  /**
   * Returns a stream's current result as JSON, copied; the native string is freed.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   * @return the JSON text
   */
  public String getOnlineStreamResultAsJson(Pointer recognizer, Pointer stream) {
    Pointer json =
        Direct.SherpaOnnxGetOnlineStreamResultAsJson(
            handle(recognizer, "recognizer"), handle(stream, "stream"));
    if (json == null) {
      return "";
    }
    try {
      return SherpaStruct.string(json);
    } finally {
      Direct.SherpaOnnxDestroyOnlineStreamResultJson(json);
    }
  }

  /**
   * Clears a stream's decoding state after an endpoint, keeping its position in time.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   */
  public void onlineStreamReset(Pointer recognizer, Pointer stream) {
    Direct.SherpaOnnxOnlineStreamReset(handle(recognizer, "recognizer"), handle(stream, "stream"));
  }

  /**
   * Marks the end of a stream's input, so the last frames can be decoded. Accept no more audio.
   *
   * @param stream the stream
   */
  public void onlineStreamInputFinished(Pointer stream) {
    Direct.SherpaOnnxOnlineStreamInputFinished(handle(stream, "stream"));
  }

  /**
   * Sets a per-stream option, e.g. {@code is_final=1} for streaming Paraformer.
   *
   * @param stream the stream
   * @param key the option name
   * @param value the option value
   */
  public void onlineStreamSetOption(Pointer stream, String key, String value) {
    Direct.SherpaOnnxOnlineStreamSetOption(handle(stream, "stream"), cString(key), cString(value));
  }

  /**
   * Returns whether an endpoint rule fired; needs {@code enable_endpoint}.
   *
   * @param recognizer the stream's recognizer
   * @param stream the stream
   * @return true at an endpoint
   */
  public boolean onlineStreamIsEndpoint(Pointer recognizer, Pointer stream) {
    return Direct.SherpaOnnxOnlineStreamIsEndpoint(
            handle(recognizer, "recognizer"), handle(stream, "stream"))
        != 0;
  }

  // ---------------------------------------------------------------- VAD

  /**
   * Creates a voice activity detector.
   *
   * <p>For a Silero v5 model, {@code silero_vad.window_size} must be 0 or 512: sherpa-onnx 1.13.8
   * calls {@code exit(-1)} for any other value, and only the model file tells v4 from v5.
   *
   * @param config the configuration
   * @param bufferSizeInSeconds how much audio the detector buffers, e.g. 30
   * @return the detector; destroy with {@link #destroyVoiceActivityDetector}
   * @throws IllegalArgumentException for a buffer size &lt;= 0, or a Silero model with a sample
   *     rate other than 16000 (sherpa-onnx 1.13.8 would call {@code exit()})
   * @throws VoiceException of kind {@code ENGINE} when sherpa-onnx rejects the configuration
   */
  public Pointer createVoiceActivityDetector(VadModelConfig config, float bufferSizeInSeconds) {
    if (!(bufferSizeInSeconds > 0)) {
      throw new IllegalArgumentException(
          "bufferSizeInSeconds must be > 0, was " + bufferSizeInSeconds);
    }
    if (!isEmpty(config.silero_vad.model)
        && config.sample_rate != 0
        && config.sample_rate != 16000) {
      throw new IllegalArgumentException(
          "sample_rate must be 16000 for Silero VAD, was " + config.sample_rate);
    }
    Pointer vad = Direct.SherpaOnnxCreateVoiceActivityDetector(config, bufferSizeInSeconds);
    Reference.reachabilityFence(config);
    if (vad == null) {
      throw VoiceException.newEngine(
          "sherpa-onnx rejected the voice activity detector configuration ("
              + config.describe()
              + "); its reason is logged on stderr");
    }
    return vad;
  }

  /**
   * Destroys a detector.
   *
   * @param vad from {@link #createVoiceActivityDetector}
   */
  public void destroyVoiceActivityDetector(Pointer vad) {
    Direct.SherpaOnnxDestroyVoiceActivityDetector(handle(vad, "vad"));
  }

  /**
   * Feeds mono samples in [-1, 1] at the configured rate.
   *
   * @param vad the detector
   * @param samples the samples
   * @param n how many samples of the array to take, from index 0
   */
  public void voiceActivityDetectorAcceptWaveform(Pointer vad, float[] samples, int n) {
    checkLength(samples.length, n);
    Direct.SherpaOnnxVoiceActivityDetectorAcceptWaveform(handle(vad, "vad"), samples, n);
  }

  /**
   * Feeds mono samples in [-1, 1] from native memory.
   *
   * @param vad the detector
   * @param samples at least {@code n} floats
   * @param n number of samples
   */
  public void voiceActivityDetectorAcceptWaveform(Pointer vad, Pointer samples, int n) {
    checkCount(n);
    Direct.SherpaOnnxVoiceActivityDetectorAcceptWaveform(
        handle(vad, "vad"), handle(samples, "samples"), n);
  }

  /**
   * Returns whether no finished segment is queued.
   *
   * @param vad the detector
   * @return true when the queue is empty
   */
  public boolean voiceActivityDetectorEmpty(Pointer vad) {
    return Direct.SherpaOnnxVoiceActivityDetectorEmpty(handle(vad, "vad")) != 0;
  }

  /**
   * Returns whether the detector is inside speech now.
   *
   * @param vad the detector
   * @return true during speech
   */
  public boolean voiceActivityDetectorDetected(Pointer vad) {
    return Direct.SherpaOnnxVoiceActivityDetectorDetected(handle(vad, "vad")) != 0;
  }

  /**
   * Drops the first queued segment.
   *
   * @param vad the detector
   */
  public void voiceActivityDetectorPop(Pointer vad) {
    Direct.SherpaOnnxVoiceActivityDetectorPop(handle(vad, "vad"));
  }

  /**
   * Drops all queued segments.
   *
   * @param vad the detector
   */
  public void voiceActivityDetectorClear(Pointer vad) {
    Direct.SherpaOnnxVoiceActivityDetectorClear(handle(vad, "vad"));
  }

  /**
   * Returns a copy of the first queued segment as native memory, without removing it.
   *
   * @param vad the detector
   * @return the segment, or null when none is queued; read with {@link
   *     SpeechSegment#SpeechSegment(Pointer)}, free with {@link #destroySpeechSegment}
   */
  public @Nullable Pointer voiceActivityDetectorFront(Pointer vad) {
    return Direct.SherpaOnnxVoiceActivityDetectorFront(handle(vad, "vad"));
  }

  /**
   * Frees a segment from {@link #voiceActivityDetectorFront}.
   *
   * @param segment the segment
   */
  public void destroySpeechSegment(Pointer segment) {
    Direct.SherpaOnnxDestroySpeechSegment(handle(segment, "segment"));
  }

  /** A copy of one speech segment, independent of native memory. */
  public static final class Segment {
    private final int start;
    private final float[] samples;

    Segment(int start, float[] samples) {
      this.start = start;
      this.samples = samples;
    }

    /**
     * Returns the index of the first sample in the detector's input.
     *
     * @return the sample index, counted since creation or the last reset
     */
    public int start() {
      return start;
    }

    /**
     * Returns the samples.
     *
     * @return the samples; the array is not copied, do not modify it
     */
    public float[] samples() {
      return samples;
    }
  }

  /**
   * Removes the first queued segment and returns a copy of it.
   *
   * @param vad the detector
   * @return the segment, or null when none is queued
   */
  public @Nullable Segment voiceActivityDetectorPopFront(Pointer vad) {
    Pointer v = handle(vad, "vad");
    if (Direct.SherpaOnnxVoiceActivityDetectorEmpty(v) != 0) {
      return null;
    }
    Pointer p = Direct.SherpaOnnxVoiceActivityDetectorFront(v);
    if (p == null) {
      return null;
    }
    try {
      SpeechSegment s = new SpeechSegment(p);
      return new Segment(s.start, s.samples());
    } finally {
      Direct.SherpaOnnxDestroySpeechSegment(p);
      Direct.SherpaOnnxVoiceActivityDetectorPop(v);
    }
  }

  /**
   * Resets a detector for new input: clears the queue and the model state.
   *
   * @param vad the detector
   */
  public void voiceActivityDetectorReset(Pointer vad) {
    Direct.SherpaOnnxVoiceActivityDetectorReset(handle(vad, "vad"));
  }

  /**
   * Closes the segment in progress, if any, after the last input.
   *
   * @param vad the detector
   */
  public void voiceActivityDetectorFlush(Pointer vad) {
    Direct.SherpaOnnxVoiceActivityDetectorFlush(handle(vad, "vad"));
  }

  // ---------------------------------------------------------------- resampling

  /**
   * Creates a streaming linear resampler with a low-pass filter.
   *
   * @param sampleRateIn input rate in Hz, &gt; 0
   * @param sampleRateOut output rate in Hz, &gt; 0
   * @param filterCutoffHz low-pass cutoff in Hz; 0 means 0.99 * half the lower rate
   * @param numZeros filter width; 0 means 6
   * @return the resampler; destroy with {@link #destroyLinearResampler}
   * @throws IllegalArgumentException for a rate &lt;= 0 or a negative cutoff or width
   */
  public Pointer createLinearResampler(
      int sampleRateIn, int sampleRateOut, float filterCutoffHz, int numZeros) {
    if (sampleRateIn <= 0 || sampleRateOut <= 0) {
      throw new IllegalArgumentException(
          "sample rates must be > 0, were in=" + sampleRateIn + " out=" + sampleRateOut);
    }
    if (!(filterCutoffHz >= 0) || numZeros < 0) {
      throw new IllegalArgumentException(
          "filterCutoffHz and numZeros must be >= 0, were " + filterCutoffHz + " and " + numZeros);
    }
    Pointer p =
        Direct.SherpaOnnxCreateLinearResampler(
            sampleRateIn, sampleRateOut, filterCutoffHz, numZeros);
    if (p == null) {
      throw VoiceException.newEngine(
          "sherpa-onnx could not create a resampler from " + sampleRateIn + " to " + sampleRateOut);
    }
    return p;
  }

  /**
   * Destroys a resampler.
   *
   * @param resampler from {@link #createLinearResampler}
   */
  public void destroyLinearResampler(Pointer resampler) {
    Direct.SherpaOnnxDestroyLinearResampler(handle(resampler, "resampler"));
  }

  /**
   * Forgets buffered input, for a new signal.
   *
   * @param resampler the resampler
   */
  public void linearResamplerReset(Pointer resampler) {
    Direct.SherpaOnnxLinearResamplerReset(handle(resampler, "resampler"));
  }

  /**
   * Resamples one chunk into native memory.
   *
   * @param resampler the resampler
   * @param input the samples
   * @param n how many samples of the array to take, from index 0
   * @param flush true for the last chunk, to emit what is buffered
   * @return the output; read with {@link ResampleOut#ResampleOut(Pointer)}, free with {@link
   *     #linearResamplerResampleFree}
   */
  public Pointer linearResamplerResample(Pointer resampler, float[] input, int n, boolean flush) {
    checkLength(input.length, n);
    return checkResampled(
        Direct.SherpaOnnxLinearResamplerResample(
            handle(resampler, "resampler"), input, n, flush ? 1 : 0));
  }

  /**
   * Resamples one chunk from native memory into native memory.
   *
   * @param resampler the resampler
   * @param input at least {@code n} floats
   * @param n number of samples
   * @param flush true for the last chunk
   * @return the output, as for the array variant
   */
  public Pointer linearResamplerResample(Pointer resampler, Pointer input, int n, boolean flush) {
    checkCount(n);
    return checkResampled(
        Direct.SherpaOnnxLinearResamplerResample(
            handle(resampler, "resampler"), handle(input, "input"), n, flush ? 1 : 0));
  }

  /**
   * Frees output from {@link #linearResamplerResample}.
   *
   * @param out the output
   */
  public void linearResamplerResampleFree(Pointer out) {
    Direct.SherpaOnnxLinearResamplerResampleFree(handle(out, "out"));
  }

  /**
   * Resamples one chunk and returns a copy; the native output is freed.
   *
   * @param resampler the resampler
   * @param input the samples
   * @param n how many samples of the array to take, from index 0
   * @param flush true for the last chunk
   * @return the resampled samples, possibly empty
   */
  public float[] resample(Pointer resampler, float[] input, int n, boolean flush) {
    Pointer out = linearResamplerResample(resampler, input, n, flush);
    try {
      return new ResampleOut(out).samples();
    } finally {
      Direct.SherpaOnnxLinearResamplerResampleFree(out);
    }
  }

  /**
   * Returns a resampler's input rate.
   *
   * @param resampler the resampler
   * @return the rate in Hz
   */
  public int linearResamplerResampleGetInputSampleRate(Pointer resampler) {
    return Direct.SherpaOnnxLinearResamplerResampleGetInputSampleRate(
        handle(resampler, "resampler"));
  }

  /**
   * Returns a resampler's output rate.
   *
   * @param resampler the resampler
   * @return the rate in Hz
   */
  public int linearResamplerResampleGetOutputSampleRate(Pointer resampler) {
    return Direct.SherpaOnnxLinearResamplerResampleGetOutputSampleRate(
        handle(resampler, "resampler"));
  }

  // ---------------------------------------------------------------- helpers

  private static Pointer handle(@Nullable Pointer p, String name) {
    if (p == null) {
      throw new IllegalArgumentException(name + " must not be null");
    }
    return p;
  }

  private static void checkLength(int length, int n) {
    if (n < 0 || n > length) {
      throw new IllegalArgumentException(
          "n must be in [0, " + length + "] (the array length), was " + n);
    }
  }

  private static void checkCount(int n) {
    if (n < 0) {
      throw new IllegalArgumentException("n must be >= 0, was " + n);
    }
  }

  private static Pointer checkResampled(@Nullable Pointer out) {
    if (out == null) {
      throw VoiceException.newEngine("sherpa-onnx returned no resampler output");
    }
    return out;
  }

  /** UTF-8 with a terminating NUL, for {@code const char*} arguments. */
  private static byte[] cString(String s) {
    byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
    byte[] out = new byte[utf8.length + 1];
    System.arraycopy(utf8, 0, out, 0, utf8.length);
    return out;
  }
}
