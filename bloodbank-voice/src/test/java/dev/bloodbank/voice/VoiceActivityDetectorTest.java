package dev.bloodbank.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Real Silero VAD on speech synthesized by espeak-ng between stretches of silence (made by
 * src/test/audio-gen/make_speech.sh, which also wrote where the speech is).
 */
class VoiceActivityDetectorTest {

  static WavAudio speech() throws IOException {
    try (InputStream in = VoiceActivityDetectorTest.class.getResourceAsStream("audio/speech.wav")) {
      return WavAudio.parse("speech.wav", in.readAllBytes());
    }
  }

  /** The [start, end] seconds of each stretch of speech. */
  static List<double[]> truth() throws IOException {
    List<double[]> out = new ArrayList<>();
    try (InputStream in = VoiceActivityDetectorTest.class.getResourceAsStream("audio/speech.txt")) {
      for (String line : new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
        if (!line.isBlank() && !line.startsWith("#")) {
          String[] p = line.trim().split(" ");
          out.add(new double[] {Double.parseDouble(p[0]), Double.parseDouble(p[1])});
        }
      }
    }
    return out;
  }

  static List<SpeechSegment> detect(float[] samples, int rate) {
    List<SpeechSegment> found = new ArrayList<>();
    try (VoiceActivityDetector vad =
        VoiceActivityDetector.create(VadOptions.builder(VoiceModels.sileroVad()).build())) {
      int chunk = rate / 10;
      for (int at = 0; at < samples.length; at += chunk) {
        found.addAll(vad.accept(samples, at, Math.min(chunk, samples.length - at), rate));
      }
      found.addAll(vad.flush());
    }
    return found;
  }

  static void assertMatchesTruth(List<SpeechSegment> found) throws IOException {
    List<double[]> truth = truth();
    assertThat(found).hasSize(truth.size());
    for (int i = 0; i < truth.size(); i++) {
      // Silero pads each side a little and works in 32 ms windows.
      assertThat(found.get(i).startSeconds())
          .as("start of speech %d", i)
          .isCloseTo(truth.get(i)[0], within(0.3));
      assertThat(found.get(i).endSeconds())
          .as("end of speech %d", i)
          .isCloseTo(truth.get(i)[1], within(0.6));
      assertThat(found.get(i).samples().length)
          .isEqualTo(
              (int) Math.round(found.get(i).durationSeconds() * VoiceActivityDetector.SAMPLE_RATE));
    }
  }

  @Test
  void findsTheSpeechWhereItIs() throws Exception {
    WavAudio audio = speech();
    assertThat(audio.sampleRate()).isEqualTo(16_000);

    assertMatchesTruth(detect(audio.samples(), audio.sampleRate()));
  }

  @Test
  void resamplesOtherRates() throws Exception {
    float[] s16 = speech().samples();
    // 8 kHz by averaging pairs: band-limited enough for speech detection.
    float[] s8 = new float[s16.length / 2];
    for (int i = 0; i < s8.length; i++) {
      s8[i] = (s16[2 * i] + s16[2 * i + 1]) / 2;
    }

    assertMatchesTruth(detect(s8, 8_000));
  }

  @Test
  void silenceHasNoSpeech() {
    assertThat(detect(new float[16_000 * 5], 16_000)).isEmpty();
  }

  @Test
  void refusesModelsThatAreNotSileroAndKeepsOneRate(@TempDir Path dir) throws Exception {
    Path asr = VoiceModels.syntheticDir().resolve("model.onnx");
    assertThatThrownBy(() -> VoiceActivityDetector.create(VadOptions.builder(asr).build()))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining(asr.toString())
        .hasMessageContaining("is not a Silero VAD model");
    Path missing = dir.resolve("silero_vad.onnx");
    assertThatThrownBy(() -> VoiceActivityDetector.create(VadOptions.builder(missing).build()))
        .hasMessageContaining("does not exist");
    Path text = Files.writeString(dir.resolve("vad.onnx"), "not a model");
    assertThatThrownBy(() -> VoiceActivityDetector.create(VadOptions.builder(text).build()))
        .hasMessageContaining("not a valid ONNX model");

    try (VoiceActivityDetector vad =
        VoiceActivityDetector.create(VadOptions.builder(VoiceModels.sileroVad()).build())) {
      vad.accept(new float[1600], 0, 1600, 16_000);
      assertThatThrownBy(() -> vad.accept(new float[800], 0, 800, 8_000))
          .hasMessageContaining("started at 16000 Hz and cannot change to 8000 Hz");
      vad.reset();
      vad.accept(new float[800], 0, 800, 8_000);
      vad.close();
      vad.close();
      assertThatThrownBy(() -> vad.accept(new float[800], 0, 800, 8_000))
          .hasMessageContaining("closed");
    }
  }

  @Test
  void optionsNameTheBadValue() {
    VadOptions.Builder b = VadOptions.builder(Path.of("x.onnx"));
    assertThatThrownBy(() -> b.threshold(1.5f))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("threshold must be between 0.01 and 0.99, was 1.5");
    assertThatThrownBy(() -> b.maxSpeechSeconds(100).bufferSeconds(50).build())
        .hasMessageContaining("bufferSeconds (50.0) must be at least maxSpeechSeconds (100.0)");
  }
}
