package dev.bloodbank.benchmarks;

import java.util.SplittableRandom;

/**
 * An endless, deterministic speech/silence pattern for the synthetic model of bloodbank-voice,
 * which hears any loud stretch as the token "hi": 440 Hz tone bursts of amplitude 0.5, 0.2 to 2.5 s
 * long, between silences of 0.2 to 3.0 s. Some pauses are shorter than the endpoint rule's 0.8 s
 * (bursts join into one utterance), some longer than 2.4 s (the no-speech rule fires).
 *
 * <p>Generated chunk by chunk, so an hour of audio needs no hour-long array. Not thread-safe.
 */
final class SyntheticSpeech {
  private final int rate;
  private final SplittableRandom random;
  private boolean loud;
  private long left;
  private long phase;

  SyntheticSpeech(int rate, long seed) {
    this.rate = rate;
    this.random = new SplittableRandom(seed);
    this.left = stretch(0.2, 3.0);
  }

  private long stretch(double min, double max) {
    return Math.round((min + random.nextDouble() * (max - min)) * rate);
  }

  /** Writes the next {@code n} samples into {@code out[0..n)}. */
  void fill(float[] out, int n) {
    for (int i = 0; i < n; i++) {
      while (left == 0) {
        loud = !loud;
        left = loud ? stretch(0.2, 2.5) : stretch(0.2, 3.0);
        phase = 0;
      }
      out[i] = loud ? (float) (0.5 * Math.sin(2 * Math.PI * 440 * phase++ / rate)) : 0f;
      left--;
    }
  }

  /** Little-endian 16-bit PCM of {@code samples}, as a WebSocket client sends it. */
  static byte[] toPcm16(float[] samples, int n) {
    byte[] out = new byte[n * 2];
    for (int i = 0; i < n; i++) {
      int v = Math.max(-32768, Math.min(32767, Math.round(samples[i] * 32767)));
      out[2 * i] = (byte) v;
      out[2 * i + 1] = (byte) (v >> 8);
    }
    return out;
  }
}
