package dev.bloodbank.examples;

import dev.bloodbank.BloodbankOptions;
import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.EndpointRules;
import dev.bloodbank.voice.RecognizerOptions;
import dev.bloodbank.voice.TranscriptionOptions;
import dev.bloodbank.wal.WalOptions;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;

/**
 * The command line the voice examples share: positional arguments, then {@code --name value} (or
 * {@code --name=value}) options, and how they become a model, recognizer options and transcription
 * options. Immutable.
 */
final class VoiceCommandLine {
  /** The model kinds as {@code --kind} spells them. */
  static final String KINDS = "zipformer2-ctc|transducer|paraformer|nemo-ctc|tone-ctc";

  /** The options both examples take, with their value. */
  static final String COMMON_OPTIONS =
      "  --kind "
          + KINDS
          + "\n"
          + "      the model's kind; default: transducer when the directory holds encoder, decoder\n"
          + "      and joiner .onnx files, otherwise this option is required\n"
          + "  --endpoint-silence <seconds>\n"
          + "      silence after speech that ends a segment; default: "
          + EndpointRules.DEFAULT.minTrailingSilenceAfterSpeech()
          + " (sherpa-onnx's)\n"
          + "  --wal <file>\n"
          + "      the write-ahead log; default: $WAL_PATH, else "
          + WalOptions.DEFAULT_PATH
          + " in the working directory\n";

  /** The command line was wrong; the message says how. */
  static final class UsageException extends Exception {
    private static final long serialVersionUID = 1L;

    UsageException(String message) {
      super(message);
    }
  }

  private final List<String> positional;
  private final Map<String, String> options;

  private VoiceCommandLine(List<String> positional, Map<String, String> options) {
    this.positional = List.copyOf(positional);
    this.options = Map.copyOf(options);
  }

  /**
   * Splits a command line.
   *
   * @param args the arguments
   * @param positionalCount how many positional arguments are required
   * @param extraOptions option names (without {@code --}) the example takes besides {@code kind},
   *     {@code endpoint-silence} and {@code wal}
   */
  static VoiceCommandLine parse(String[] args, int positionalCount, Set<String> extraOptions)
      throws UsageException {
    List<String> positional = new ArrayList<>();
    Map<String, String> options = new LinkedHashMap<>();
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (!a.startsWith("--")) {
        positional.add(a);
        continue;
      }
      String name = a.substring(2);
      String value;
      int eq = name.indexOf('=');
      if (eq >= 0) {
        value = name.substring(eq + 1);
        name = name.substring(0, eq);
      } else if (i + 1 < args.length) {
        value = args[++i];
      } else {
        throw new UsageException("option --" + name + " needs a value");
      }
      boolean known =
          name.equals("kind")
              || name.equals("endpoint-silence")
              || name.equals("wal")
              || extraOptions.contains(name);
      if (!known) {
        throw new UsageException("unknown option --" + name);
      }
      if (options.put(name, value) != null) {
        throw new UsageException("option --" + name + " given twice");
      }
    }
    if (positional.size() != positionalCount) {
      throw new UsageException(
          "expected " + positionalCount + " arguments before the options, got " + positional);
    }
    return new VoiceCommandLine(positional, options);
  }

  String positional(int index) {
    return positional.get(index);
  }

  String option(String name, String defaultValue) {
    return options.getOrDefault(name, defaultValue);
  }

  /** The model directory with the kind from {@code --kind}, or detected. */
  AsrModel model(Path dir) throws UsageException {
    String k = options.get("kind");
    return AsrModel.fromDirectory(dir, k == null ? detectKind(dir) : kind(k));
  }

  static AsrModel.Kind kind(String name) throws UsageException {
    try {
      return AsrModel.Kind.valueOf(name.toUpperCase(Locale.ROOT).replace('-', '_'));
    } catch (IllegalArgumentException e) {
      throw new UsageException("--kind must be one of " + KINDS + ", was '" + name + "'");
    }
  }

  /**
   * Transducer when the directory holds encoder, decoder and joiner files; every other kind has to
   * be named, since their file names do not tell them apart.
   */
  static AsrModel.Kind detectKind(Path dir) throws UsageException {
    List<String> names = new ArrayList<>();
    if (Files.isDirectory(dir)) {
      try (Stream<Path> s = Files.list(dir)) {
        s.map(p -> p.getFileName().toString().toLowerCase(Locale.ROOT))
            .filter(n -> n.endsWith(".onnx"))
            .forEach(names::add);
      } catch (IOException e) {
        // AsrModel.fromDirectory reports the unreadable directory
        return AsrModel.Kind.TRANSDUCER;
      }
    } else {
      // AsrModel.fromDirectory reports the missing directory
      return AsrModel.Kind.TRANSDUCER;
    }
    boolean transducer = true;
    for (String role : AsrModel.Kind.TRANSDUCER.roles()) {
      transducer &= names.stream().anyMatch(n -> n.contains(role));
    }
    if (!transducer) {
      throw new UsageException(
          "cannot tell the model kind of "
              + dir
              + " (no encoder, decoder and joiner .onnx files, found "
              + names
              + "); pass --kind "
              + KINDS);
    }
    return AsrModel.Kind.TRANSDUCER;
  }

  /** The recognizer's options: the defaults, with {@code --endpoint-silence} applied. */
  RecognizerOptions recognizerOptions(AsrModel model) throws UsageException {
    RecognizerOptions.Builder b = RecognizerOptions.builder(model);
    String silence = options.get("endpoint-silence");
    if (silence != null) {
      EndpointRules d = EndpointRules.DEFAULT;
      try {
        b.endpoint(
            EndpointRules.of(
                d.minTrailingSilenceNoSpeech(), Double.parseDouble(silence), d.maxUtterance()));
      } catch (IllegalArgumentException e) {
        throw new UsageException("--endpoint-silence '" + silence + "': " + e.getMessage());
      }
    }
    return b.build();
  }

  /** The transcription options: the WAL from {@code --wal}, else from {@code WAL_PATH}. */
  TranscriptionOptions transcriptionOptions(Map<String, String> env) {
    TranscriptionOptions.Builder b = TranscriptionOptions.fromEnvironment(env);
    String wal = options.get("wal");
    if (wal != null) {
      b.wal(WalOptions.of(Path.of(wal)));
    }
    return b.build();
  }

  /** The bus options from the environment, named after the example unless the environment says. */
  static BloodbankOptions busOptions(Map<String, String> env, String serviceName) {
    BloodbankOptions o = BloodbankOptions.fromEnvironment(env);
    return env.containsKey("BLOODBANK_SERVICE_NAME")
        ? o
        : o.mutate().serviceName(serviceName).build();
  }
}
