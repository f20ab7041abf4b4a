package dev.bloodbank.voice;

import java.util.Arrays;

/**
 * Test audio for the synthetic model ({@code src/test/resources/dev/bloodbank/voice/synthetic}): it
 * hears loud stretches as the token "hi". Shared through this module's test jar.
 */
public final class SyntheticAudio {
  private SyntheticAudio() {}

  /** Silence and 440 Hz tone stretches, alternating, starting with silence. */
  public static float[] pattern(int rate, double... seconds) {
    int total = 0;
    for (double s : seconds) {
      total += (int) Math.round(s * rate);
    }
    float[] out = new float[total];
    int at = 0;
    for (int i = 0; i < seconds.length; i++) {
      int n = (int) Math.round(seconds[i] * rate);
      if (i % 2 == 1) {
        for (int k = 0; k < n; k++) {
          out[at + k] = (float) (0.5 * Math.sin(2 * Math.PI * 440 * k / rate));
        }
      }
      at += n;
    }
    return out;
  }

  /** Two utterances: loud at 1.0-1.6 s and 3.1-3.7 s, 5.2 s in all. */
  public static float[] twoUtterances(int rate) {
    return pattern(rate, 1.0, 0.6, 1.5, 0.6, 1.5);
  }

  /** 16-bit little-endian PCM. */
  public static byte[] toPcm16(float[] samples) {
    byte[] out = new byte[samples.length * 2];
    for (int i = 0; i < samples.length; i++) {
      int v = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
      out[2 * i] = (byte) v;
      out[2 * i + 1] = (byte) (v >> 8);
    }
    return out;
  }

  /** Feeds audio in 100 ms chunks, as a live source would. */
  public static void feed(RecognitionStream stream, float[] samples, int rate) {
    int chunk = rate / 10;
    for (int at = 0; at < samples.length; at += chunk) {
      float[] part = Arrays.copyOfRange(samples, at, Math.min(samples.length, at + chunk));
      stream.acceptFloat(part, 0, part.length, rate);
    }
  }
}
