package dev.bloodbank.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.bloodbank.BloodbankOptions;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The voice examples on bad input: a clear message naming what is wrong and a non-zero status,
 * before any broker is contacted (the bus options point at a closed port).
 */
class VoiceExamplesCommandLineTest {
  static final BloodbankOptions NO_BROKER =
      BloodbankOptions.builder().address("127.0.0.1", 1).build();

  @TempDir Path dir;
  final ByteArrayOutputStream out = new ByteArrayOutputStream();
  final ByteArrayOutputStream err = new ByteArrayOutputStream();

  @AfterEach
  void show() {
    System.out.print(err());
  }

  int transcribeWav(String... args) {
    return TranscribeWav.run(args, NO_BROKER, Map.of(), print(out), print(err));
  }

  int transcriptionServer(String... args) {
    return TranscriptionServer.run(args, NO_BROKER, Map.of(), print(out), print(err));
  }

  static PrintStream print(ByteArrayOutputStream to) {
    return new PrintStream(to, true, StandardCharsets.UTF_8);
  }

  String err() {
    return err.toString(StandardCharsets.UTF_8);
  }

  Path wav() throws Exception {
    return SyntheticSpeech.writeWav(
        dir.resolve("speech.wav"), SyntheticSpeech.pattern(16_000, 0.5, 0.6, 1.0), 16_000);
  }

  @Test
  void withoutArgumentsTheUsageIsPrinted() {
    assertThat(transcribeWav()).isEqualTo(2);
    assertThat(err()).contains("expected 2 arguments").contains("usage: TranscribeWav");
    err.reset();
    assertThat(transcriptionServer()).isEqualTo(2);
    assertThat(err()).contains("usage: TranscriptionServer");
  }

  @Test
  void badOptionsAreUsageErrors() throws Exception {
    String model = SyntheticSpeech.MODEL_DIR.toString();
    String wav = wav().toString();
    assertThat(transcribeWav(model, wav, "--kind", "whisper")).isEqualTo(2);
    assertThat(err()).contains("--kind must be one of " + VoiceCommandLine.KINDS);
    assertThat(transcribeWav(model, wav, "--kind", "zipformer2-ctc", "--endpoint-silence", "0"))
        .isEqualTo(2);
    assertThat(err()).contains("--endpoint-silence '0': minTrailingSilenceAfterSpeech");
    assertThat(transcribeWav(model, wav, "--speed", "2")).isEqualTo(2);
    assertThat(err()).contains("unknown option --speed");
    assertThat(transcriptionServer(model, "--port", "70000")).isEqualTo(2);
    assertThat(err()).contains("--port must be 0 to 65535, was '70000'");
  }

  @Test
  void aCtcModelNeedsItsKindNamed() throws Exception {
    // model.onnx could be a zipformer2, NeMo or T-one CTC model: the file names do not say.
    assertThat(transcribeWav(SyntheticSpeech.MODEL_DIR.toString(), wav().toString())).isEqualTo(2);
    assertThat(err())
        .contains("cannot tell the model kind of " + SyntheticSpeech.MODEL_DIR)
        .contains("pass --kind");
  }

  @Test
  void aMissingModelDirectoryIsNamed() throws Exception {
    Path missing = dir.resolve("no-such-model");
    assertThat(transcribeWav(missing.toString(), wav().toString())).isEqualTo(1);
    assertThat(err()).startsWith("TranscribeWav: model file " + missing);
    err.reset();
    assertThat(transcriptionServer(missing.toString(), "--kind", "nemo-ctc")).isEqualTo(1);
    assertThat(err()).startsWith("TranscriptionServer: model file " + missing);
  }

  @Test
  void aCorruptModelFileIsNamedAndTheJvmSurvives() throws Exception {
    Path model = Files.createDirectory(dir.resolve("corrupt"));
    Files.write(model.resolve("model.onnx"), new byte[] {1, 2, 3, 4, 5, 6, 7, 8});
    Files.copy(SyntheticSpeech.MODEL_DIR.resolve("tokens.txt"), model.resolve("tokens.txt"));
    assertThat(transcribeWav(model.toString(), wav().toString(), "--kind", "zipformer2-ctc"))
        .isEqualTo(1);
    assertThat(err()).contains(model.resolve("model.onnx").toString());
  }

  @Test
  void aBadWavFileIsNamed() throws Exception {
    Path notWav = Files.writeString(dir.resolve("notes.wav"), "not audio at all");
    assertThat(
            transcribeWav(
                SyntheticSpeech.MODEL_DIR.toString(),
                notWav.toString(),
                "--kind",
                "zipformer2-ctc"))
        .isEqualTo(1);
    assertThat(err()).startsWith("TranscribeWav: ").contains(notWav.toString());
    err.reset();
    Path missing = dir.resolve("missing.wav");
    assertThat(
            transcribeWav(
                SyntheticSpeech.MODEL_DIR.toString(),
                missing.toString(),
                "--kind",
                "zipformer2-ctc"))
        .isEqualTo(1);
    assertThat(err()).contains(missing.toString());
  }
}
