package dev.bloodbank.examples;

import dev.bloodbank.voice.SyntheticAudio;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Audio and the model for the voice examples' tests: the project's synthetic streaming model (see
 * {@code bloodbank-voice/src/test/model-gen}) hears every loud stretch as "hi" and silence as
 * nothing.
 */
final class SyntheticSpeech {
  /** The synthetic zipformer2 CTC model, relative to the examples module (Maven's working dir). */
  static final Path MODEL_DIR =
      Path.of("../bloodbank-voice/src/test/resources/dev/bloodbank/voice/synthetic")
          .toAbsolutePath()
          .normalize();

  /** With it, an endpoint comes about a second after each loud stretch. */
  static final String ENDPOINT_SILENCE = "0.8";

  static final int RATE = 16_000;

  private SyntheticSpeech() {}

  /** Silence and 440 Hz tone stretches (amplitude 0.5), alternating, starting with silence. */
  static float[] pattern(int rate, double... seconds) {
    return SyntheticAudio.pattern(rate, seconds);
  }

  /** Two utterances: loud at 1.0-1.6 s and 3.1-3.7 s, 5.2 s in all. */
  static float[] twoUtterances(int rate) {
    return SyntheticAudio.twoUtterances(rate);
  }

  /** 16-bit little-endian PCM. */
  static byte[] toPcm16(float[] samples) {
    return SyntheticAudio.toPcm16(samples);
  }

  /** Writes a mono 16-bit PCM WAV file. */
  static Path writeWav(Path file, float[] samples, int rate) throws IOException {
    byte[] pcm = toPcm16(samples);
    ByteBuffer b = ByteBuffer.allocate(44 + pcm.length).order(ByteOrder.LITTLE_ENDIAN);
    b.putInt(0x46464952).putInt(36 + pcm.length).putInt(0x45564157); // RIFF <size> WAVE
    b.putInt(0x20746d66).putInt(16); // "fmt " chunk
    b.putShort((short) 1).putShort((short) 1).putInt(rate).putInt(rate * 2);
    b.putShort((short) 2).putShort((short) 16);
    b.putInt(0x61746164).putInt(pcm.length).put(pcm); // "data" chunk
    Files.write(file, b.array());
    return file;
  }
}
