package dev.bloodbank.voice;

import java.net.URISyntaxException;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;

/** Where the voice tests find their models. */
public final class VoiceModels {
  private VoiceModels() {}

  /**
   * Silero VAD, fetched from the npm registry by the build into {@code target/test-models}.
   *
   * @return the model file
   */
  public static Path sileroVad() {
    String dir = System.getProperty("bloodbank.test.models", "target/test-models");
    Path p = Path.of(dir, "silero_vad.onnx");
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          p + " is missing: the build fetches it in generate-test-resources (run through Maven)");
    }
    return p;
  }

  /**
   * The synthetic streaming model the project generates (src/test/model-gen).
   *
   * @return the directory with {@code model.onnx} and {@code tokens.txt}
   */
  public static Path syntheticDir() {
    URL url = VoiceModels.class.getResource("synthetic/tokens.txt");
    if (url == null) {
      throw new IllegalStateException("synthetic model resources are missing");
    }
    try {
      return Path.of(url.toURI()).getParent();
    } catch (URISyntaxException e) {
      throw new IllegalStateException(e);
    }
  }
}
