package dev.bloodbank.voice;

import java.util.List;
import java.util.Objects;
import org.jspecify.annotations.Nullable;

/** How a {@link SpeechRecognizer} is set up. Immutable and thread-safe. */
public final class RecognizerOptions {
  /** Default number of inference threads: 1. */
  public static final int DEFAULT_NUM_THREADS = 1;

  /** Default sample rate the model's features are computed at: 16,000 Hz. */
  public static final int DEFAULT_FEATURE_SAMPLE_RATE = 16_000;

  /** Default feature dimension (fbank bins): 80. */
  public static final int DEFAULT_FEATURE_DIM = 80;

  /** Default number of paths kept by modified beam search: 4. */
  public static final int DEFAULT_MAX_ACTIVE_PATHS = 4;

  /** Default hotword boost: 1.5. */
  public static final float DEFAULT_HOTWORDS_SCORE = 1.5f;

  /** How the decoder picks tokens. */
  public enum DecodingMethod {
    /** The most likely token at each step. The only choice for paraformer and CTC models. */
    GREEDY_SEARCH("greedy_search"),
    /** A beam over the transducer's outputs; needed for hotwords. Transducer models only. */
    MODIFIED_BEAM_SEARCH("modified_beam_search");

    private final String nativeName;

    DecodingMethod(String nativeName) {
      this.nativeName = nativeName;
    }

    /**
     * Returns sherpa-onnx's name for it.
     *
     * @return e.g. {@code greedy_search}
     */
    public String nativeName() {
      return nativeName;
    }
  }

  private final AsrModel model;
  private final int numThreads;
  private final String provider;
  private final DecodingMethod decodingMethod;
  private final int maxActivePaths;
  private final List<String> hotwords;
  private final float hotwordsScore;
  private final @Nullable String modelingUnit;
  private final @Nullable String bpeVocab;
  private final EndpointRules endpoint;
  private final int featureSampleRate;
  private final int featureDim;
  private final @Nullable String language;
  private final @Nullable VadOptions vad;

  private RecognizerOptions(Builder b) {
    this.model = Objects.requireNonNull(b.model);
    this.numThreads = b.numThreads;
    this.provider = b.provider;
    this.decodingMethod = b.decodingMethod;
    this.maxActivePaths = b.maxActivePaths;
    this.hotwords = b.hotwords;
    this.hotwordsScore = b.hotwordsScore;
    this.modelingUnit = b.modelingUnit;
    this.bpeVocab = b.bpeVocab;
    this.endpoint = b.endpoint;
    this.featureSampleRate = b.featureSampleRate;
    this.featureDim = b.featureDim;
    this.language = b.language;
    this.vad = b.vad;
  }

  /**
   * Returns a builder for a model.
   *
   * @param model the model files
   * @return a new builder with the defaults
   */
  public static Builder builder(AsrModel model) {
    return new Builder(model);
  }

  /**
   * Returns a builder preset with these options.
   *
   * @return a new builder
   */
  public Builder mutate() {
    Builder b = new Builder(model);
    b.numThreads = numThreads;
    b.provider = provider;
    b.decodingMethod = decodingMethod;
    b.maxActivePaths = maxActivePaths;
    b.hotwords = hotwords;
    b.hotwordsScore = hotwordsScore;
    b.modelingUnit = modelingUnit;
    b.bpeVocab = bpeVocab;
    b.endpoint = endpoint;
    b.featureSampleRate = featureSampleRate;
    b.featureDim = featureDim;
    b.language = language;
    b.vad = vad;
    return b;
  }

  /**
   * Returns the model.
   *
   * @return the model files
   */
  public AsrModel model() {
    return model;
  }

  /**
   * Returns the number of inference threads.
   *
   * @return threads
   */
  public int numThreads() {
    return numThreads;
  }

  /**
   * Returns the onnxruntime execution provider.
   *
   * @return e.g. {@code cpu}
   */
  public String provider() {
    return provider;
  }

  /**
   * Returns the decoding method.
   *
   * @return the method
   */
  public DecodingMethod decodingMethod() {
    return decodingMethod;
  }

  /**
   * Returns the beam width of modified beam search.
   *
   * @return paths
   */
  public int maxActivePaths() {
    return maxActivePaths;
  }

  /**
   * Returns the hotwords, one phrase each.
   *
   * @return phrases; empty when none
   */
  public List<String> hotwords() {
    return hotwords;
  }

  /**
   * Returns the hotword boost.
   *
   * @return the score added per hotword token
   */
  public float hotwordsScore() {
    return hotwordsScore;
  }

  /**
   * Returns how hotwords are split into tokens: {@code cjkchar}, {@code bpe} or {@code
   * cjkchar+bpe}.
   *
   * @return the unit, or null for sherpa-onnx's default
   */
  public @Nullable String modelingUnit() {
    return modelingUnit;
  }

  /**
   * Returns the BPE vocabulary file for hotwords of a {@code bpe} model.
   *
   * @return the path, or null
   */
  public @Nullable String bpeVocab() {
    return bpeVocab;
  }

  /**
   * Returns the endpoint rules.
   *
   * @return the rules
   */
  public EndpointRules endpoint() {
    return endpoint;
  }

  /**
   * Returns the sample rate the model expects its features at. Input at any other rate is
   * resampled.
   *
   * @return Hz
   */
  public int featureSampleRate() {
    return featureSampleRate;
  }

  /**
   * Returns the feature dimension.
   *
   * @return fbank bins
   */
  public int featureDim() {
    return featureDim;
  }

  /**
   * Returns the language the model recognizes, reported in events.
   *
   * @return e.g. {@code en}, or null when not known
   */
  public @Nullable String language() {
    return language;
  }

  /**
   * Returns the voice activity detector that ends segments when speech stops.
   *
   * @return its options, or null when only the endpoint rules end segments
   */
  public @Nullable VadOptions vad() {
    return vad;
  }

  /** Builds {@link RecognizerOptions}. Not thread-safe. */
  public static final class Builder {
    private final AsrModel model;
    private int numThreads = DEFAULT_NUM_THREADS;
    private String provider = "cpu";
    private DecodingMethod decodingMethod = DecodingMethod.GREEDY_SEARCH;
    private int maxActivePaths = DEFAULT_MAX_ACTIVE_PATHS;
    private List<String> hotwords = List.of();
    private float hotwordsScore = DEFAULT_HOTWORDS_SCORE;
    private @Nullable String modelingUnit;
    private @Nullable String bpeVocab;
    private EndpointRules endpoint = EndpointRules.DEFAULT;
    private int featureSampleRate = DEFAULT_FEATURE_SAMPLE_RATE;
    private int featureDim = DEFAULT_FEATURE_DIM;
    private @Nullable String language;
    private @Nullable VadOptions vad;

    private Builder(AsrModel model) {
      this.model = Objects.requireNonNull(model, "model");
    }

    /**
     * Sets the number of inference threads. Default: 1.
     *
     * @param threads 1 to 64
     * @return this builder
     */
    public Builder numThreads(int threads) {
      if (threads < 1 || threads > 64) {
        throw new IllegalArgumentException("numThreads must be between 1 and 64, was " + threads);
      }
      this.numThreads = threads;
      return this;
    }

    /**
     * Sets the onnxruntime execution provider. Default: {@code cpu} (the only one in the bundled
     * Linux x86-64 libraries).
     *
     * @param provider e.g. {@code cpu}, {@code cuda}
     * @return this builder
     */
    public Builder provider(String provider) {
      if (provider.isBlank()) {
        throw new IllegalArgumentException("provider must not be blank");
      }
      this.provider = provider;
      return this;
    }

    /**
     * Sets the decoding method. Default: {@link DecodingMethod#GREEDY_SEARCH}.
     *
     * @param method the method
     * @return this builder
     */
    public Builder decodingMethod(DecodingMethod method) {
      this.decodingMethod = Objects.requireNonNull(method, "method");
      return this;
    }

    /**
     * Sets the beam width of modified beam search. Default: 4.
     *
     * @param paths 1 to 64
     * @return this builder
     */
    public Builder maxActivePaths(int paths) {
      if (paths < 1 || paths > 64) {
        throw new IllegalArgumentException("maxActivePaths must be between 1 and 64, was " + paths);
      }
      this.maxActivePaths = paths;
      return this;
    }

    /**
     * Sets hotwords: phrases the decoder favours. Needs a transducer model and {@link
     * DecodingMethod#MODIFIED_BEAM_SEARCH}. Default: none.
     *
     * @param phrases the phrases; none may be blank or contain a line break
     * @return this builder
     */
    public Builder hotwords(List<String> phrases) {
      for (int i = 0; i < phrases.size(); i++) {
        String p = Objects.requireNonNull(phrases.get(i), "hotwords[" + i + "]");
        if (p.isBlank() || p.indexOf('\n') >= 0 || p.indexOf('\r') >= 0) {
          throw new IllegalArgumentException(
              "hotwords[" + i + "] must be one non-blank line, was '" + p.strip() + "'");
        }
      }
      this.hotwords = List.copyOf(phrases);
      return this;
    }

    /**
     * Sets the hotword boost. Default: 1.5.
     *
     * @param score 0 to 100
     * @return this builder
     */
    public Builder hotwordsScore(float score) {
      if (!(score >= 0 && score <= 100)) {
        throw new IllegalArgumentException("hotwordsScore must be between 0 and 100, was " + score);
      }
      this.hotwordsScore = score;
      return this;
    }

    /**
     * Sets how hotwords are tokenized. Default: sherpa-onnx's ({@code cjkchar}).
     *
     * @param unit {@code cjkchar}, {@code bpe} or {@code cjkchar+bpe}
     * @param bpeVocab the BPE vocabulary file when {@code unit} involves {@code bpe}, else null
     * @return this builder
     */
    public Builder modelingUnit(String unit, @Nullable String bpeVocab) {
      if (!List.of("cjkchar", "bpe", "cjkchar+bpe").contains(unit)) {
        throw new IllegalArgumentException(
            "modelingUnit must be cjkchar, bpe or cjkchar+bpe, was '" + unit + "'");
      }
      if (unit.contains("bpe") && bpeVocab == null) {
        throw new IllegalArgumentException("modelingUnit " + unit + " needs a bpeVocab file");
      }
      this.modelingUnit = unit;
      this.bpeVocab = bpeVocab;
      return this;
    }

    /**
     * Sets the endpoint rules. Default: {@link EndpointRules#DEFAULT}.
     *
     * @param rules the rules
     * @return this builder
     */
    public Builder endpoint(EndpointRules rules) {
      this.endpoint = Objects.requireNonNull(rules, "rules");
      return this;
    }

    /**
     * Sets the sample rate of the model's features. Default: 16,000 Hz.
     *
     * @param hz 8,000 to 48,000
     * @return this builder
     */
    public Builder featureSampleRate(int hz) {
      if (hz < 8_000 || hz > 48_000) {
        throw new IllegalArgumentException(
            "featureSampleRate must be between 8000 and 48000 Hz, was " + hz);
      }
      this.featureSampleRate = hz;
      return this;
    }

    /**
     * Sets the feature dimension. Default: 80.
     *
     * @param dim 1 to 1024
     * @return this builder
     */
    public Builder featureDim(int dim) {
      if (dim < 1 || dim > 1024) {
        throw new IllegalArgumentException("featureDim must be between 1 and 1024, was " + dim);
      }
      this.featureDim = dim;
      return this;
    }

    /**
     * Sets the language reported in events. Default: none.
     *
     * @param language e.g. {@code en}
     * @return this builder
     */
    public Builder language(String language) {
      if (language.isBlank()) {
        throw new IllegalArgumentException("language must not be blank");
      }
      this.language = language;
      return this;
    }

    /**
     * Adds Silero VAD to each stream: when it hears speech stop, the current segment ends there,
     * whatever the endpoint rules say (they still apply too). Default: none.
     *
     * @param vad the detector's model and thresholds
     * @return this builder
     */
    public Builder vad(VadOptions vad) {
      this.vad = Objects.requireNonNull(vad, "vad");
      return this;
    }

    /**
     * Builds the options.
     *
     * @return the options
     * @throws IllegalArgumentException if hotwords are set without a transducer model and modified
     *     beam search, or beam search is asked of a model that cannot do it
     */
    public RecognizerOptions build() {
      boolean transducer = model.kind() == AsrModel.Kind.TRANSDUCER;
      if (decodingMethod == DecodingMethod.MODIFIED_BEAM_SEARCH && !transducer) {
        throw new IllegalArgumentException(
            "decodingMethod modified_beam_search needs a TRANSDUCER model, the model is "
                + model.kind());
      }
      if (!hotwords.isEmpty()
          && !(transducer && decodingMethod == DecodingMethod.MODIFIED_BEAM_SEARCH)) {
        throw new IllegalArgumentException(
            "hotwords need a TRANSDUCER model with modified_beam_search, the model is "
                + model.kind()
                + " with "
                + decodingMethod.nativeName());
      }
      return new RecognizerOptions(this);
    }
  }
}
