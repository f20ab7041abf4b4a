package dev.bloodbank.voice;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.stream.Stream;

/**
 * The files of a streaming speech-recognition model: which kind it is, its ONNX files and its
 * tokens. Immutable and thread-safe.
 *
 * <p>Nothing is read here; {@link SpeechRecognizer#create} checks every file before any native
 * call, because sherpa-onnx ends the process on a corrupt or wrong-kind model.
 */
public final class AsrModel {
  /** The streaming model kinds sherpa-onnx supports, and the files each needs. */
  public enum Kind {
    /** A transducer (zipformer, zipformer2, conformer, LSTM): encoder, decoder and joiner. */
    TRANSDUCER("encoder", "decoder", "joiner"),
    /** A streaming paraformer: encoder and decoder. */
    PARAFORMER("encoder", "decoder"),
    /** A streaming zipformer2 CTC model: one file. */
    ZIPFORMER2_CTC("model"),
    /** A NeMo streaming (cache-aware) CTC model: one file. */
    NEMO_CTC("model"),
    /** A T-one streaming CTC model: one file. */
    TONE_CTC("model");

    private final List<String> roles;

    Kind(String... roles) {
      this.roles = List.of(roles);
    }

    /**
     * Returns the names of the files this kind needs, besides tokens.
     *
     * @return roles such as {@code encoder}, {@code decoder}, {@code joiner} or {@code model}
     */
    public List<String> roles() {
      return roles;
    }
  }

  private final Kind kind;
  private final Map<String, Path> files;
  private final Path tokens;
  private final String name;

  private AsrModel(Kind kind, Map<String, Path> files, Path tokens, String name) {
    this.kind = kind;
    this.files = Collections.unmodifiableMap(files);
    this.tokens = tokens;
    this.name = name;
  }

  /**
   * A transducer model.
   *
   * @param encoder the encoder {@code .onnx}
   * @param decoder the decoder {@code .onnx}
   * @param joiner the joiner {@code .onnx}
   * @param tokens {@code tokens.txt}
   * @return the model
   */
  public static AsrModel transducer(Path encoder, Path decoder, Path joiner, Path tokens) {
    return of(Kind.TRANSDUCER, tokens, encoder, decoder, joiner);
  }

  /**
   * A streaming paraformer.
   *
   * @param encoder the encoder {@code .onnx}
   * @param decoder the decoder {@code .onnx}
   * @param tokens {@code tokens.txt}
   * @return the model
   */
  public static AsrModel paraformer(Path encoder, Path decoder, Path tokens) {
    return of(Kind.PARAFORMER, tokens, encoder, decoder);
  }

  /**
   * A single-file CTC model.
   *
   * @param kind {@link Kind#ZIPFORMER2_CTC}, {@link Kind#NEMO_CTC} or {@link Kind#TONE_CTC}
   * @param model the {@code .onnx} file
   * @param tokens {@code tokens.txt}
   * @return the model
   * @throws IllegalArgumentException if {@code kind} needs more than one file
   */
  public static AsrModel ctc(Kind kind, Path model, Path tokens) {
    if (kind.roles().size() != 1) {
      throw new IllegalArgumentException(
          "kind " + kind + " needs " + kind.roles() + ", not one CTC model file");
    }
    return of(kind, tokens, model);
  }

  private static AsrModel of(Kind kind, Path tokens, Path... paths) {
    Map<String, Path> files = new LinkedHashMap<>();
    for (int i = 0; i < paths.length; i++) {
      files.put(kind.roles().get(i), Objects.requireNonNull(paths[i], kind.roles().get(i)));
    }
    Objects.requireNonNull(tokens, "tokens");
    Path dir = paths[0].toAbsolutePath().getParent();
    String name = dir == null || dir.getFileName() == null ? kind.name() : dir.getFileName() + "";
    return new AsrModel(kind, files, tokens, name);
  }

  /**
   * Finds a model in a directory laid out as sherpa-onnx publishes them: {@code tokens.txt} and
   * {@code encoder*.onnx}, {@code decoder*.onnx}, {@code joiner*.onnx} (transducer), or {@code
   * encoder*} and {@code decoder*} (paraformer, when {@code kind} says so), or one {@code
   * model*.onnx} / {@code *ctc*.onnx} (CTC kinds). Where both an {@code int8} and a float file
   * exist, the float one is taken.
   *
   * @param dir the directory
   * @param kind the kind of model it holds
   * @return the model
   * @throws VoiceException of kind MODEL naming the directory and the file that is missing or
   *     ambiguous
   */
  public static AsrModel fromDirectory(Path dir, Kind kind) {
    if (!Files.isDirectory(dir)) {
      throw VoiceException.newModel(dir, "not a directory");
    }
    List<Path> onnx = new ArrayList<>();
    try (Stream<Path> s = Files.list(dir)) {
      s.filter(p -> p.getFileName().toString().endsWith(".onnx")).sorted().forEach(onnx::add);
    } catch (IOException e) {
      throw VoiceException.newModel(dir, "cannot list the directory: " + e, e);
    }
    Path tokens = dir.resolve("tokens.txt");
    List<Path> picked = new ArrayList<>();
    for (String role : kind.roles()) {
      picked.add(pick(dir, onnx, kind, role));
    }
    AsrModel m = of(kind, tokens, picked.toArray(Path[]::new));
    return new AsrModel(
        m.kind, m.files, tokens, String.valueOf(dir.toAbsolutePath().getFileName()));
  }

  private static Path pick(Path dir, List<Path> onnx, Kind kind, String role) {
    List<Path> match = new ArrayList<>();
    for (Path p : onnx) {
      String n = p.getFileName().toString().toLowerCase(Locale.ROOT);
      boolean hit =
          role.equals("model")
              ? n.startsWith("model") || n.contains("ctc")
              : n.startsWith(role) || n.contains("-" + role) || n.contains("_" + role);
      if (hit) {
        match.add(p);
      }
    }
    if (match.isEmpty()) {
      throw VoiceException.newModel(
          dir, "no " + role + " .onnx file for a " + kind + " model (found " + names(onnx) + ")");
    }
    List<Path> floats = new ArrayList<>();
    for (Path p : match) {
      if (!p.getFileName().toString().contains("int8")) {
        floats.add(p);
      }
    }
    List<Path> pool = floats.isEmpty() ? match : floats;
    if (pool.size() > 1) {
      throw VoiceException.newModel(
          dir, "more than one " + role + " file: " + names(pool) + "; name the files explicitly");
    }
    return pool.get(0);
  }

  private static List<String> names(List<Path> paths) {
    List<String> out = new ArrayList<>();
    for (Path p : paths) {
      out.add(p.getFileName().toString());
    }
    return out;
  }

  /**
   * Returns a copy with another display name, used as {@code audio_metadata.model} in events.
   *
   * @param name the name, e.g. {@code sherpa-onnx-streaming-zipformer-en-2023-06-26}
   * @return the copy
   */
  public AsrModel withName(String name) {
    if (name.isBlank()) {
      throw new IllegalArgumentException("model name must not be blank");
    }
    return new AsrModel(kind, files, tokens, name);
  }

  /**
   * Returns the kind.
   *
   * @return the kind
   */
  public Kind kind() {
    return kind;
  }

  /**
   * Returns the ONNX files by role ({@link Kind#roles()}).
   *
   * @return role to file
   */
  public Map<String, Path> files() {
    return files;
  }

  /**
   * Returns the tokens file.
   *
   * @return {@code tokens.txt}
   */
  public Path tokens() {
    return tokens;
  }

  /**
   * Returns the display name: the directory's name unless set with {@link #withName}.
   *
   * @return the name
   */
  public String name() {
    return name;
  }

  @Override
  public String toString() {
    return "AsrModel{" + kind + ", " + files + ", tokens=" + tokens + "}";
  }
}
