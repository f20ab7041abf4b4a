package dev.bloodbank.voice.internal;

import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.VoiceException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Checks a model's files in Java before sherpa-onnx sees them.
 *
 * <p>sherpa-onnx 1.13.8 ends the process ({@code _Exit}, an uncaught C++ exception or a segfault)
 * on a corrupt ONNX file, a missing metadata key, a malformed tokens line, or a token id the tokens
 * file lacks. Each rule here mirrors one such path in its source ({@code online-*-model.cc}, {@code
 * symbol-table.cc}, {@code macros.h}), so a bad file becomes a {@link VoiceException} naming the
 * file and what is wrong, and the JVM lives.
 */
public final class ModelChecks {
  /** Keys zipformer2 models (CTC, and the transducer encoder) must carry. */
  static final List<String> ZIPFORMER2_LISTS =
      List.of(
          "encoder_dims",
          "query_head_dims",
          "value_head_dims",
          "num_heads",
          "num_encoder_layers",
          "cnn_module_kernels",
          "left_context_len");

  static final List<String> ZIPFORMER2_INTS = List.of("T", "decode_chunk_len");

  static final List<String> NEMO_CACHE_INTS =
      List.of(
          "cache_last_channel_dim1",
          "cache_last_channel_dim2",
          "cache_last_channel_dim3",
          "cache_last_time_dim1",
          "cache_last_time_dim2",
          "cache_last_time_dim3");

  /** The icefall transducer encoders and the keys of each beyond {@code model_type}. */
  static final Map<String, List<String>> ICEFALL_ENCODERS =
      Map.of(
          "zipformer2",
          concat(ZIPFORMER2_LISTS, ZIPFORMER2_INTS),
          "zipformer",
          List.of(
              "encoder_dims",
              "attention_dims",
              "num_encoder_layers",
              "cnn_module_kernels",
              "left_context_len",
              "T",
              "decode_chunk_len"),
          "lstm",
          List.of("num_encoder_layers", "T", "decode_chunk_len", "rnn_hidden_size", "d_model"),
          "conformer",
          List.of(
              "num_encoder_layers",
              "T",
              "decode_chunk_len",
              "left_context",
              "encoder_dim",
              "pad_length",
              "cnn_module_kernel"),
          "ebranchformer",
          List.of(
              "decode_chunk_len",
              "T",
              "num_hidden_layers",
              "hidden_size",
              "intermediate_size",
              "csgu_kernel_size",
              "merge_conv_kernel",
              "left_context_len",
              "num_heads",
              "head_dim"));

  static final String PARAKEET_UNIFIED = "nemo_parakeet_unified_streaming";

  /** The symbols sherpa-onnx's CTC decoder takes as blank, in its order of preference. */
  static final List<String> BLANK_SYMBOLS = List.of("<blk>", "<eps>", "<blank>");

  private ModelChecks() {}

  /** What the checks learned, for the native configuration. */
  public static final class Checked {
    private final String transducerModelType;

    Checked(String transducerModelType) {
      this.transducerModelType = transducerModelType;
    }

    /**
     * Returns the encoder's {@code model_type} for icefall transducers, passed to sherpa-onnx so it
     * never has to guess.
     *
     * @return the type, or empty for other kinds
     */
    public String transducerModelType() {
      return transducerModelType;
    }
  }

  /**
   * Checks every file of a model.
   *
   * @param model the model
   * @return what the checks learned
   * @throws VoiceException of kind MODEL naming the first file at fault and what is wrong
   */
  public static Checked check(AsrModel model) {
    Map<String, Path> files = model.files();
    Tokens tokens = readTokens(model.tokens());
    switch (model.kind()) {
      case ZIPFORMER2_CTC:
        {
          Path f = files.get("model");
          OnnxModelInfo m = onnx(f);
          int layers = sum(f, m, requireList(f, m, "num_encoder_layers"));
          requireAll(f, m, ZIPFORMER2_LISTS, ZIPFORMER2_INTS, List.of());
          int expected = 3 + 6 * layers;
          if (m.inputs().size() != expected) {
            throw VoiceException.newModel(
                f,
                "a zipformer2 CTC model with "
                    + layers
                    + " encoder layers has "
                    + expected
                    + " inputs (x, 6 caches per layer, embed_states, processed_lens), this file"
                    + " has "
                    + m.inputs().size()
                    + ": is it a transducer encoder or another kind?");
          }
          if (m.outputs().size() != m.inputs().size()) {
            throw VoiceException.newModel(
                f,
                "has "
                    + m.outputs().size()
                    + " outputs but "
                    + m.inputs().size()
                    + " inputs; a zipformer2 CTC model returns log_probs and one new state per"
                    + " input state");
          }
          ctcTokens(f, m, tokens, model.tokens(), null);
          return new Checked("");
        }
      case NEMO_CTC:
        {
          Path f = files.get("model");
          OnnxModelInfo m = onnx(f);
          requireAll(
              f,
              m,
              List.of(),
              concat(
                  List.of("window_size", "chunk_shift", "subsampling_factor", "vocab_size"),
                  NEMO_CACHE_INTS),
              List.of());
          requireCount(f, "inputs", m.inputs().size(), 5, "NeMo streaming CTC");
          ctcTokens(f, m, tokens, model.tokens(), requireInt(f, m, "vocab_size") + 1);
          return new Checked("");
        }
      case TONE_CTC:
        {
          Path f = files.get("model");
          OnnxModelInfo m = onnx(f);
          requireAll(
              f, m, List.of(), List.of("frame_length_ms", "state_dim", "sample_rate"), List.of());
          requireCount(f, "inputs", m.inputs().size(), 2, "T-one CTC");
          ctcTokens(f, m, tokens, model.tokens(), null);
          return new Checked("");
        }
      case PARAFORMER:
        {
          Path enc = files.get("encoder");
          Path dec = files.get("decoder");
          OnnxModelInfo e = onnx(enc);
          onnx(dec);
          requireAll(
              enc,
              e,
              List.of(),
              List.of(
                  "vocab_size",
                  "lfr_window_size",
                  "lfr_window_shift",
                  "encoder_output_size",
                  "decoder_num_blocks",
                  "decoder_kernel_size"),
              List.of("neg_mean", "inv_stddev"));
          coverVocab(model.tokens(), tokens, requireInt(enc, e, "vocab_size"), enc);
          return new Checked("");
        }
      case TRANSDUCER:
        return checkTransducer(model, tokens);
      default:
        throw new IllegalStateException("unknown kind " + model.kind());
    }
  }

  /**
   * Checks a Silero VAD model: v4 (inputs input, sr, h, c) or v5 (input, state, sr).
   *
   * @param file {@code silero_vad.onnx}
   * @throws VoiceException of kind MODEL naming the file and what is wrong
   */
  public static void checkSileroVad(Path file) {
    OnnxModelInfo m = onnx(file);
    List<String> in = m.inputs();
    boolean v5 = in.contains("input") && in.contains("state") && in.contains("sr");
    boolean v4 = in.contains("input") && in.contains("h") && in.contains("c") && in.contains("sr");
    if (!v4 && !v5) {
      throw VoiceException.newModel(
          file,
          "is not a Silero VAD model: its inputs are "
              + in
              + ", expected [input, state, sr] (v5) or [input, sr, h, c] (v4)");
    }
  }

  private static Checked checkTransducer(AsrModel model, Tokens tokens) {
    Path enc = model.files().get("encoder");
    Path dec = model.files().get("decoder");
    Path join = model.files().get("joiner");
    OnnxModelInfo e = onnx(enc);
    OnnxModelInfo d = onnx(dec);
    OnnxModelInfo j = onnx(join);
    // The same order sherpa-onnx uses to pick an implementation (online-recognizer-impl.cc).
    String streamingType = d.metadata().getOrDefault("streaming_model_type", "");
    if (streamingType.equals(PARAKEET_UNIFIED)) {
      requireAll(
          enc,
          e,
          List.of(),
          List.of(
              "vocab_size",
              "subsampling_factor",
              "pred_rnn_layers",
              "pred_hidden",
              "left_feature_frames",
              "chunk_feature_frames",
              "right_feature_frames",
              "left_encoder_frames",
              "chunk_encoder_frames",
              "right_encoder_frames"),
          List.of());
      String encType = e.metadata().getOrDefault("streaming_model_type", "");
      if (!encType.equals(PARAKEET_UNIFIED)) {
        throw VoiceException.newModel(
            enc,
            "the decoder is a "
                + PARAKEET_UNIFIED
                + " model but this encoder's streaming_model_type is '"
                + encType
                + "': encoder and decoder are from different models");
      }
      coverVocab(model.tokens(), tokens, requireInt(enc, e, "vocab_size") + 1, enc);
      return new Checked("");
    }
    if (d.outputs().size() != 1) {
      // NeMo transducer: the decoder returns its states too.
      requireAll(
          enc,
          e,
          List.of(),
          concat(
              List.of(
                  "vocab_size",
                  "window_size",
                  "chunk_shift",
                  "subsampling_factor",
                  "pred_rnn_layers",
                  "pred_hidden"),
              NEMO_CACHE_INTS),
          List.of());
      coverVocab(model.tokens(), tokens, requireInt(enc, e, "vocab_size") + 1, enc);
      return new Checked("");
    }
    String type = e.metadata().getOrDefault("model_type", "");
    List<String> keys = ICEFALL_ENCODERS.get(type);
    if (keys == null) {
      throw VoiceException.newModel(
          enc,
          "metadata model_type is '"
              + type
              + "'; a streaming transducer encoder is one of "
              + ICEFALL_ENCODERS.keySet().stream().sorted().toList()
              + " (is this an offline model, or a decoder or joiner?)");
    }
    for (String k : keys) {
      // A single integer reads as a one-element list; both shapes are what sherpa-onnx accepts.
      requireList(enc, e, k);
    }
    if (e.outputs().size() != e.inputs().size()) {
      throw VoiceException.newModel(
          enc,
          "has "
              + e.inputs().size()
              + " inputs and "
              + e.outputs().size()
              + " outputs; a streaming transducer encoder returns encoder_out and one new state per"
              + " input state");
    }
    requireAll(dec, d, List.of(), List.of("vocab_size", "context_size"), List.of());
    requireCount(dec, "inputs", d.inputs().size(), 1, "transducer decoder");
    requireCount(join, "inputs", j.inputs().size(), 2, "transducer joiner");
    requireCount(join, "outputs", j.outputs().size(), 1, "transducer joiner");
    coverVocab(model.tokens(), tokens, requireInt(dec, d, "vocab_size"), dec);
    return new Checked(type);
  }

  /** Reads and structurally checks one ONNX file. */
  static OnnxModelInfo onnx(Path file) {
    readableFile(file);
    OnnxModelInfo info;
    try {
      info = OnnxModelInfo.read(file);
    } catch (OnnxModelInfo.FormatException e) {
      throw VoiceException.newModel(file, "not a valid ONNX model: " + e.getMessage());
    } catch (IOException e) {
      throw VoiceException.newModel(file, "cannot read it: " + e, e);
    }
    Path dir = file.toAbsolutePath().getParent();
    for (String location : info.externalData()) {
      Path data = dir.resolve(location).normalize();
      if (!data.startsWith(dir)) {
        throw VoiceException.newModel(
            file, "external data '" + location + "' points outside the model's directory");
      }
      if (!Files.isRegularFile(data) || !Files.isReadable(data)) {
        throw VoiceException.newModel(
            file, "its weights are in external data file " + data + ", which is missing");
      }
    }
    return info;
  }

  private static void readableFile(Path file) {
    if (!Files.exists(file)) {
      throw VoiceException.newModel(file, "does not exist");
    }
    if (!Files.isRegularFile(file)) {
      throw VoiceException.newModel(file, "is not a regular file");
    }
    if (!Files.isReadable(file)) {
      throw VoiceException.newModel(file, "is not readable by this process");
    }
  }

  private static void requireAll(
      Path f, OnnxModelInfo m, List<String> lists, List<String> ints, List<String> floatLists) {
    for (String k : lists) {
      requireList(f, m, k);
    }
    for (String k : ints) {
      requireInt(f, m, k);
    }
    for (String k : floatLists) {
      String v = present(f, m, k);
      for (String part : v.split(",")) {
        if (part.isBlank()) {
          continue;
        }
        try {
          Float.parseFloat(part.trim());
        } catch (NumberFormatException e) {
          throw VoiceException.newModel(
              f, "metadata '" + k + "' must be a comma-separated list of numbers, is '" + v + "'");
        }
      }
    }
  }

  private static String present(Path f, OnnxModelInfo m, String key) {
    String v = m.metadata().get(key);
    if (v == null || v.isEmpty()) {
      throw VoiceException.newModel(
          f,
          "metadata key '"
              + key
              + "' is missing; sherpa-onnx needs it for this kind of model (wrong kind of model, or"
              + " exported without sherpa-onnx's metadata?)");
    }
    return v;
  }

  static int requireInt(Path f, OnnxModelInfo m, String key) {
    String v = present(f, m, key).trim();
    try {
      int i = Integer.parseInt(v);
      if (i < 0) {
        throw VoiceException.newModel(f, "metadata '" + key + "' must not be negative, is " + i);
      }
      return i;
    } catch (NumberFormatException e) {
      throw VoiceException.newModel(f, "metadata '" + key + "' must be an integer, is '" + v + "'");
    }
  }

  static List<Integer> requireList(Path f, OnnxModelInfo m, String key) {
    String v = present(f, m, key);
    List<Integer> out = new ArrayList<>();
    for (String part : v.split(",")) {
      if (part.isBlank()) {
        continue;
      }
      try {
        int i = Integer.parseInt(part.trim());
        if (i < 0) {
          throw new NumberFormatException();
        }
        out.add(i);
      } catch (NumberFormatException e) {
        throw VoiceException.newModel(
            f,
            "metadata '"
                + key
                + "' must be a comma-separated list of non-negative integers, is '"
                + v
                + "'");
      }
    }
    if (out.isEmpty()) {
      throw VoiceException.newModel(f, "metadata '" + key + "' is an empty list");
    }
    return out;
  }

  private static int sum(Path f, OnnxModelInfo m, List<Integer> values) {
    long s = 0;
    for (int v : values) {
      s += v;
    }
    if (s < 1 || s > 10_000) {
      throw VoiceException.newModel(f, "metadata num_encoder_layers sums to " + s);
    }
    return (int) s;
  }

  private static void requireCount(Path f, String what, int actual, int expected, String kind) {
    if (actual != expected) {
      throw VoiceException.newModel(
          f,
          "a "
              + kind
              + " has "
              + expected
              + " "
              + what
              + ", this file has "
              + actual
              + " (wrong kind of model, or a file given for another role?)");
    }
  }

  /** CTC: a blank symbol, and a token for every class the model can emit. */
  private static void ctcTokens(
      Path f, OnnxModelInfo m, Tokens tokens, Path tokensFile, @Nullable Integer vocab) {
    if (tokens.blank == null) {
      throw VoiceException.newModel(
          tokensFile, "has none of the blank symbols " + BLANK_SYMBOLS + " a CTC model needs");
    }
    Integer v = vocab;
    if (v == null) {
      List<Long> shape = m.shape(m.outputs().get(0));
      if (!shape.isEmpty() && shape.get(shape.size() - 1) > 0) {
        v = shape.get(shape.size() - 1).intValue();
      }
    }
    if (v != null) {
      coverVocab(tokensFile, tokens, v, f);
    }
  }

  private static void coverVocab(Path tokensFile, Tokens tokens, int vocab, Path model) {
    int missing = tokens.ids.nextClearBit(0);
    if (missing < vocab) {
      throw VoiceException.newModel(
          tokensFile,
          "has no token with id "
              + missing
              + " but the model "
              + model.getFileName()
              + " can emit ids 0 to "
              + (vocab - 1)
              + " (tokens file from another model?)");
    }
  }

  /** What a tokens file holds. */
  static final class Tokens {
    final BitSet ids = new BitSet();
    @Nullable String blank;
    int count;
  }

  /**
   * Reads a tokens file as sherpa-onnx does, refusing what would end the process.
   *
   * @param file {@code tokens.txt}
   * @return the ids it defines
   */
  static Tokens readTokens(Path file) {
    readableFile(file);
    String text;
    try {
      byte[] bytes = Files.readAllBytes(file);
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw VoiceException.newModel(file, "is not UTF-8 text");
    } catch (IOException e) {
      throw VoiceException.newModel(file, "cannot read it: " + e, e);
    }
    Tokens t = new Tokens();
    String[] lines = text.split("\n", -1);
    Set<String> blanks = Set.copyOf(BLANK_SYMBOLS);
    for (int i = 0; i < lines.length; i++) {
      String line = lines[i].strip();
      if (line.isEmpty()) {
        continue;
      }
      String[] parts = line.split("[ \\t\\f\\u000B]+");
      if (parts.length > 2) {
        throw VoiceException.newModel(
            file,
            "line "
                + (i + 1)
                + " has "
                + parts.length
                + " fields, expected '<symbol> <id>': "
                + abbreviate(line));
      }
      String idText = parts[parts.length - 1];
      int id;
      try {
        id = Integer.parseInt(idText);
      } catch (NumberFormatException e) {
        throw VoiceException.newModel(
            file, "line " + (i + 1) + ": the id '" + abbreviate(idText) + "' is not an integer");
      }
      if (id < 0) {
        throw VoiceException.newModel(file, "line " + (i + 1) + ": negative id " + id);
      }
      String symbol = parts.length == 2 ? parts[0] : " ";
      if (blanks.contains(symbol)
          && (t.blank == null || BLANK_SYMBOLS.indexOf(symbol) < BLANK_SYMBOLS.indexOf(t.blank))) {
        t.blank = symbol;
      }
      t.ids.set(id);
      t.count++;
    }
    if (t.count == 0) {
      throw VoiceException.newModel(file, "has no tokens");
    }
    return t;
  }

  private static String abbreviate(String s) {
    String shown = s.length() > 60 ? s.substring(0, 60) + "..." : s;
    return shown.replace("\r", "\\r");
  }

  private static List<String> concat(List<String> a, List<String> b) {
    List<String> out = new ArrayList<>(a);
    out.addAll(b);
    return List.copyOf(out);
  }
}
