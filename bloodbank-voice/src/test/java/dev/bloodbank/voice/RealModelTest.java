package dev.bloodbank.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Recognition with a real pretrained streaming model. None can be downloaded on the CI machines, so
 * this runs only when {@code BLOODBANK_ASR_MODEL_DIR} points at a sherpa-onnx model directory
 * ({@code BLOODBANK_ASR_MODEL_KIND} names its kind, default {@code TRANSDUCER}), and is reported as
 * skipped otherwise.
 */
class RealModelTest {

  @Test
  void recognizesSynthesizedEnglishSpeech() throws Exception {
    String dir = System.getenv("BLOODBANK_ASR_MODEL_DIR");
    assumeTrue(
        dir != null && !dir.isBlank(),
        "BLOODBANK_ASR_MODEL_DIR is not set: no pretrained model to test with");
    String kind = System.getenv().getOrDefault("BLOODBANK_ASR_MODEL_KIND", "TRANSDUCER");
    AsrModel model =
        AsrModel.fromDirectory(Path.of(dir), AsrModel.Kind.valueOf(kind.toUpperCase(Locale.ROOT)));

    List<Segment> segments = new CopyOnWriteArrayList<>();
    try (SpeechRecognizer r =
            SpeechRecognizer.create(
                RecognizerOptions.builder(model).endpoint(EndpointRules.of(2.4, 0.8, 20)).build());
        RecognitionStream s = r.newStream(segments::add)) {
      s.acceptAll(VoiceActivityDetectorTest.speech());
    }

    String text = String.join(" ", segments.stream().map(Segment::text).toList());
    assertThat(text.toLowerCase(Locale.ROOT)).containsAnyOf("hello", "world", "quick", "fox");
    assertThat(segments).hasSizeGreaterThanOrEqualTo(1);
  }
}
