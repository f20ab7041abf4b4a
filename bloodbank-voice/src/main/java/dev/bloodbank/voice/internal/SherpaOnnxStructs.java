package dev.bloodbank.voice.internal;

import com.sun.jna.Pointer;
import com.sun.jna.Structure.FieldOrder;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * JNA mappings of the sherpa-onnx {@value NativeLibraries#SHERPA_ONNX_VERSION} C API structs that
 * bloodbank-voice uses. Each nested class {@code X} is the C struct {@code SherpaOnnxX} with its
 * fields in header order and under their C names; {@code StructLayoutTest} checks sizes and offsets
 * against a table generated from {@code c-api.h}.
 *
 * <p>A {@code NULL} string or a zero number in a config struct means "use sherpa-onnx's default".
 * String fields are written as UTF-8 into native memory that the struct object owns and frees when
 * it is collected; {@link SherpaOnnx} keeps the struct reachable until the create call returns, and
 * sherpa-onnx copies what it needs. Not thread-safe: fill a struct on one thread, then hand it
 * over.
 */
public final class SherpaOnnxStructs {
  private SherpaOnnxStructs() {}

  /** {@code SherpaOnnxOnlineTransducerModelConfig}: streaming transducer model files. */
  @FieldOrder({"encoder", "decoder", "joiner"})
  public static final class OnlineTransducerModelConfig extends SherpaStruct {
    /** Path to the encoder ONNX file. */
    public @Nullable String encoder;

    /** Path to the decoder ONNX file. */
    public @Nullable String decoder;

    /** Path to the joiner ONNX file. */
    public @Nullable String joiner;

    /** Creates an all-NULL config. */
    public OnlineTransducerModelConfig() {}
  }

  /** {@code SherpaOnnxOnlineParaformerModelConfig}: streaming Paraformer model files. */
  @FieldOrder({"encoder", "decoder"})
  public static final class OnlineParaformerModelConfig extends SherpaStruct {
    /** Path to the encoder ONNX file. */
    public @Nullable String encoder;

    /** Path to the decoder ONNX file. */
    public @Nullable String decoder;

    /** Creates an all-NULL config. */
    public OnlineParaformerModelConfig() {}
  }

  /** {@code SherpaOnnxOnlineZipformer2CtcModelConfig}: streaming Zipformer2 CTC model file. */
  @FieldOrder({"model"})
  public static final class OnlineZipformer2CtcModelConfig extends SherpaStruct {
    /** Path to the ONNX file. */
    public @Nullable String model;

    /** Creates an all-NULL config. */
    public OnlineZipformer2CtcModelConfig() {}
  }

  /** {@code SherpaOnnxOnlineNemoCtcModelConfig}: streaming NeMo CTC model file. */
  @FieldOrder({"model"})
  public static final class OnlineNemoCtcModelConfig extends SherpaStruct {
    /** Path to the ONNX file. */
    public @Nullable String model;

    /** Creates an all-NULL config. */
    public OnlineNemoCtcModelConfig() {}
  }

  /** {@code SherpaOnnxOnlineToneCtcModelConfig}: streaming T-One CTC model file. */
  @FieldOrder({"model"})
  public static final class OnlineToneCtcModelConfig extends SherpaStruct {
    /** Path to the ONNX file. */
    public @Nullable String model;

    /** Creates an all-NULL config. */
    public OnlineToneCtcModelConfig() {}
  }

  /**
   * {@code SherpaOnnxOnlineModelConfig}: the streaming model, of which exactly one family
   * (transducer, Paraformer, Zipformer2 CTC, NeMo CTC, T-One CTC) should be set.
   */
  @FieldOrder({
    "transducer",
    "paraformer",
    "zipformer2_ctc",
    "tokens",
    "num_threads",
    "provider",
    "debug",
    "model_type",
    "modeling_unit",
    "bpe_vocab",
    "tokens_buf",
    "tokens_buf_size",
    "nemo_ctc",
    "t_one_ctc"
  })
  public static final class OnlineModelConfig extends SherpaStruct {
    /** Transducer model files. */
    public OnlineTransducerModelConfig transducer = new OnlineTransducerModelConfig();

    /** Paraformer model files. */
    public OnlineParaformerModelConfig paraformer = new OnlineParaformerModelConfig();

    /** Zipformer2 CTC model file. */
    public OnlineZipformer2CtcModelConfig zipformer2_ctc = new OnlineZipformer2CtcModelConfig();

    /** Path to {@code tokens.txt}; ignored when {@link #tokens_buf} is set. */
    public @Nullable String tokens;

    /** onnxruntime threads; 0 means sherpa-onnx's default (1). */
    public int num_threads;

    /** Execution provider ({@code cpu}, {@code cuda}, ...); NULL means {@code cpu}. */
    public @Nullable String provider;

    /** Non-zero to have sherpa-onnx log the config and model metadata to stderr. */
    public int debug;

    /** Model type override; NULL or empty means read it from the model metadata. */
    public @Nullable String model_type;

    /** {@code cjkchar}, {@code bpe} or {@code cjkchar+bpe}, for hotwords; NULL means cjkchar. */
    public @Nullable String modeling_unit;

    /** Path to the BPE vocabulary, for hotwords with a BPE modeling unit. */
    public @Nullable String bpe_vocab;

    /** Contents of {@code tokens.txt}; set with {@link #setTokensBuf}. */
    public @Nullable String tokens_buf;

    /** Length of {@link #tokens_buf} in UTF-8 bytes, without a terminator. */
    public int tokens_buf_size;

    /** NeMo CTC model file. */
    public OnlineNemoCtcModelConfig nemo_ctc = new OnlineNemoCtcModelConfig();

    /** T-One CTC model file. */
    public OnlineToneCtcModelConfig t_one_ctc = new OnlineToneCtcModelConfig();

    /** Creates an all-zero config. */
    public OnlineModelConfig() {}

    /**
     * Sets {@link #tokens_buf} and its byte length together.
     *
     * @param tokens the contents of {@code tokens.txt}, or null to clear
     */
    public void setTokensBuf(@Nullable String tokens) {
      tokens_buf = tokens;
      tokens_buf_size = utf8Length(tokens);
    }

    /** Names the configured model files, for error messages. */
    String describe() {
      List<String> parts = new ArrayList<>();
      add(parts, "transducer.encoder", transducer.encoder);
      add(parts, "transducer.decoder", transducer.decoder);
      add(parts, "transducer.joiner", transducer.joiner);
      add(parts, "paraformer.encoder", paraformer.encoder);
      add(parts, "paraformer.decoder", paraformer.decoder);
      add(parts, "zipformer2_ctc.model", zipformer2_ctc.model);
      add(parts, "nemo_ctc.model", nemo_ctc.model);
      add(parts, "t_one_ctc.model", t_one_ctc.model);
      add(
          parts,
          "tokens",
          tokens_buf_size > 0 ? "<" + tokens_buf_size + " bytes in memory>" : tokens);
      add(parts, "provider", provider);
      add(parts, "model_type", model_type);
      return String.join(", ", parts);
    }
  }

  private static void add(List<String> parts, String name, @Nullable String value) {
    if (value != null && !value.isEmpty()) {
      parts.add(name + "=" + value);
    }
  }

  /** {@code SherpaOnnxFeatureConfig}: feature extraction the model expects. */
  @FieldOrder({"sample_rate", "feature_dim"})
  public static final class FeatureConfig extends SherpaStruct {
    /** Sample rate of the model's input in Hz; 0 means 16000. */
    public int sample_rate;

    /** Number of mel bins; 0 means 80. */
    public int feature_dim;

    /** Creates an all-zero config. */
    public FeatureConfig() {}
  }

  /** {@code SherpaOnnxOnlineCtcFstDecoderConfig}: HLG decoding graph for CTC models. */
  @FieldOrder({"graph", "max_active"})
  public static final class OnlineCtcFstDecoderConfig extends SherpaStruct {
    /** Path to the decoding graph ({@code HLG.fst}); NULL for none. */
    public @Nullable String graph;

    /** Decoder max-active states; 0 means 3000. */
    public int max_active;

    /** Creates an all-zero config. */
    public OnlineCtcFstDecoderConfig() {}
  }

  /** {@code SherpaOnnxHomophoneReplacerConfig}: homophone replacement after decoding. */
  @FieldOrder({"dict_dir", "lexicon", "rule_fsts"})
  public static final class HomophoneReplacerConfig extends SherpaStruct {
    /** Unused since sherpa-onnx 1.12; kept for the layout. */
    public @Nullable String dict_dir;

    /** Path to the lexicon; NULL for no replacement. */
    public @Nullable String lexicon;

    /** Path to the replacement rule FSTs. */
    public @Nullable String rule_fsts;

    /** Creates an all-NULL config. */
    public HomophoneReplacerConfig() {}
  }

  /** {@code SherpaOnnxOnlineRecognizerConfig}: everything a streaming recognizer needs. */
  @FieldOrder({
    "feat_config",
    "model_config",
    "decoding_method",
    "max_active_paths",
    "enable_endpoint",
    "rule1_min_trailing_silence",
    "rule2_min_trailing_silence",
    "rule3_min_utterance_length",
    "hotwords_file",
    "hotwords_score",
    "ctc_fst_decoder_config",
    "rule_fsts",
    "rule_fars",
    "blank_penalty",
    "hotwords_buf",
    "hotwords_buf_size",
    "hr"
  })
  public static final class OnlineRecognizerConfig extends SherpaStruct {
    /** Feature extraction. */
    public FeatureConfig feat_config = new FeatureConfig();

    /** The model. */
    public OnlineModelConfig model_config = new OnlineModelConfig();

    /** {@code greedy_search} or {@code modified_beam_search}; NULL means greedy_search. */
    public @Nullable String decoding_method;

    /** Beam size for modified_beam_search; 0 means 4. */
    public int max_active_paths;

    /** Non-zero to detect endpoints with the three rules below. */
    public int enable_endpoint;

    /** Rule 1: trailing silence in seconds that ends an utterance with no text; 0 means 2.4. */
    public float rule1_min_trailing_silence;

    /** Rule 2: trailing silence in seconds that ends an utterance with text; 0 means 1.2. */
    public float rule2_min_trailing_silence;

    /** Rule 3: utterance length in seconds that forces an endpoint; 0 means 20. */
    public float rule3_min_utterance_length;

    /** Path to a hotwords file (modified_beam_search only). */
    public @Nullable String hotwords_file;

    /** Score bonus per hotword token; 0 means 1.5. */
    public float hotwords_score;

    /** HLG decoding for CTC models. */
    public OnlineCtcFstDecoderConfig ctc_fst_decoder_config = new OnlineCtcFstDecoderConfig();

    /** Comma-separated inverse text normalization rule FSTs. */
    public @Nullable String rule_fsts;

    /** Comma-separated inverse text normalization rule FARs. */
    public @Nullable String rule_fars;

    /** Subtracted from the blank logit; 0 disables it. */
    public float blank_penalty;

    /** Hotwords text, one per line; set with {@link #setHotwordsBuf}. */
    public @Nullable String hotwords_buf;

    /** Length of {@link #hotwords_buf} in UTF-8 bytes, without a terminator. */
    public int hotwords_buf_size;

    /** Homophone replacement. */
    public HomophoneReplacerConfig hr = new HomophoneReplacerConfig();

    /** Creates an all-zero config: every setting at sherpa-onnx's default. */
    public OnlineRecognizerConfig() {
      // An input only; nothing to read back after the create call.
      setAutoRead(false);
    }

    /**
     * Sets {@link #hotwords_buf} and its byte length together.
     *
     * @param hotwords hotwords text, one per line, or null to clear
     */
    public void setHotwordsBuf(@Nullable String hotwords) {
      hotwords_buf = hotwords;
      hotwords_buf_size = utf8Length(hotwords);
    }
  }

  /**
   * {@code SherpaOnnxOnlineRecognizerResult}: a snapshot of a stream's decoding, read from memory
   * the library owns until {@code SherpaOnnxDestroyOnlineRecognizerResult}.
   */
  @FieldOrder({"text", "tokens", "tokens_arr", "timestamps", "count", "json"})
  public static final class OnlineRecognizerResult extends SherpaStruct {
    /** {@code const char*}: the text so far. */
    public @Nullable Pointer text;

    /** {@code const char*}: the tokens, each NUL-terminated, back to back. */
    public @Nullable Pointer tokens;

    /** {@code const char* const*}: {@link #count} pointers into {@link #tokens}. */
    public @Nullable Pointer tokens_arr;

    /** {@code float*}: {@link #count} token start times in seconds, or NULL. */
    public @Nullable Pointer timestamps;

    /** Number of tokens. */
    public int count;

    /** {@code const char*}: the result as JSON. */
    public @Nullable Pointer json;

    /** Creates an empty result, for the layout test. */
    public OnlineRecognizerResult() {}

    /**
     * Reads the result at {@code memory}.
     *
     * @param memory a pointer returned by {@code SherpaOnnxGetOnlineStreamResult}, not NULL
     */
    public OnlineRecognizerResult(Pointer memory) {
      super(memory);
      read();
    }

    /**
     * Copies the text.
     *
     * @return the text, "" when NULL
     */
    public String text() {
      return string(text);
    }

    /**
     * Copies the tokens.
     *
     * @return the tokens, empty when there are none or the array is NULL
     */
    public List<String> tokens() {
      Pointer array = tokens_arr;
      if (count <= 0 || array == null) {
        return List.of();
      }
      List<String> out = new ArrayList<>(count);
      for (Pointer p : array.getPointerArray(0, count)) {
        out.add(string(p));
      }
      return Collections.unmodifiableList(out);
    }

    /**
     * Copies the token start times.
     *
     * @return seconds from the start of the stream, one per token; empty when the model gives none
     */
    public float[] timestamps() {
      Pointer array = timestamps;
      return count <= 0 || array == null ? new float[0] : array.getFloatArray(0, count);
    }

    /**
     * Copies the JSON form.
     *
     * @return the JSON, "" when NULL
     */
    public String json() {
      return string(json);
    }
  }

  /** {@code SherpaOnnxSileroVadModelConfig}: Silero VAD. */
  @FieldOrder({
    "model",
    "threshold",
    "min_silence_duration",
    "min_speech_duration",
    "window_size",
    "max_speech_duration"
  })
  public static final class SileroVadModelConfig extends SherpaStruct {
    /** Path to {@code silero_vad.onnx}; NULL to not use Silero. */
    public @Nullable String model;

    /** Speech probability above which a window is speech, e.g. 0.5. */
    public float threshold;

    /** Silence in seconds that closes a segment, e.g. 0.5. */
    public float min_silence_duration;

    /** Shortest segment kept, in seconds, e.g. 0.25. */
    public float min_speech_duration;

    /** Samples per model call; 512 at 16 kHz. */
    public int window_size;

    /** Segment length in seconds after which a split is forced, e.g. 20. */
    public float max_speech_duration;

    /** Creates an all-zero config. */
    public SileroVadModelConfig() {}
  }

  /** {@code SherpaOnnxTenVadModelConfig}: TEN VAD. */
  @FieldOrder({
    "model",
    "threshold",
    "min_silence_duration",
    "min_speech_duration",
    "window_size",
    "max_speech_duration"
  })
  public static final class TenVadModelConfig extends SherpaStruct {
    /** Path to {@code ten-vad.onnx}; NULL to not use TEN VAD. */
    public @Nullable String model;

    /** Speech probability above which a window is speech, e.g. 0.5. */
    public float threshold;

    /** Silence in seconds that closes a segment, e.g. 0.5. */
    public float min_silence_duration;

    /** Shortest segment kept, in seconds, e.g. 0.25. */
    public float min_speech_duration;

    /** Samples per model call; 256 at 16 kHz. */
    public int window_size;

    /** Segment length in seconds after which a split is forced, e.g. 20. */
    public float max_speech_duration;

    /** Creates an all-zero config. */
    public TenVadModelConfig() {}
  }

  /** {@code SherpaOnnxVadModelConfig}: a voice activity detector; set exactly one model. */
  @FieldOrder({"silero_vad", "sample_rate", "num_threads", "provider", "debug", "ten_vad"})
  public static final class VadModelConfig extends SherpaStruct {
    /** Silero VAD. */
    public SileroVadModelConfig silero_vad = new SileroVadModelConfig();

    /** Sample rate of the input in Hz, usually 16000. */
    public int sample_rate;

    /** onnxruntime threads. */
    public int num_threads;

    /** Execution provider; NULL means {@code cpu}. */
    public @Nullable String provider;

    /** Non-zero to log to stderr. */
    public int debug;

    /** TEN VAD. */
    public TenVadModelConfig ten_vad = new TenVadModelConfig();

    /** Creates an all-zero config. */
    public VadModelConfig() {
      setAutoRead(false);
    }

    /** Names the configured model, for error messages. */
    String describe() {
      List<String> parts = new ArrayList<>();
      add(parts, "silero_vad.model", silero_vad.model);
      add(parts, "ten_vad.model", ten_vad.model);
      parts.add("sample_rate=" + sample_rate);
      add(parts, "provider", provider);
      return String.join(", ", parts);
    }
  }

  /** {@code SherpaOnnxSpeechSegment}: one detected speech segment, owned by the library. */
  @FieldOrder({"start", "samples", "n"})
  public static final class SpeechSegment extends SherpaStruct {
    /** Index of the first sample, counted from the start of the detector's input. */
    public int start;

    /** {@code float*}: the {@link #n} samples. */
    public @Nullable Pointer samples;

    /** Number of samples. */
    public int n;

    /** Creates an empty segment, for the layout test. */
    public SpeechSegment() {}

    /**
     * Reads the segment at {@code memory}.
     *
     * @param memory a pointer returned by {@code SherpaOnnxVoiceActivityDetectorFront}, not NULL
     */
    public SpeechSegment(Pointer memory) {
      super(memory);
      read();
    }

    /**
     * Copies the samples.
     *
     * @return the samples, empty when NULL
     */
    public float[] samples() {
      Pointer p = samples;
      return n <= 0 || p == null ? new float[0] : p.getFloatArray(0, n);
    }
  }

  /** {@code SherpaOnnxResampleOut}: one chunk of resampled audio, owned by the library. */
  @FieldOrder({"samples", "n"})
  public static final class ResampleOut extends SherpaStruct {
    /** {@code const float*}: the {@link #n} samples. */
    public @Nullable Pointer samples;

    /** Number of samples. */
    public int n;

    /** Creates an empty chunk, for the layout test. */
    public ResampleOut() {}

    /**
     * Reads the chunk at {@code memory}.
     *
     * @param memory a pointer returned by {@code SherpaOnnxLinearResamplerResample}, not NULL
     */
    public ResampleOut(Pointer memory) {
      super(memory);
      read();
    }

    /**
     * Copies the samples.
     *
     * @return the samples, empty when NULL
     */
    public float[] samples() {
      Pointer p = samples;
      return n <= 0 || p == null ? new float[0] : p.getFloatArray(0, n);
    }
  }
}
