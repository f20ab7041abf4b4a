package dev.bloodbank.voice;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Audio read from a WAV file, as mono float samples in [-1, 1] at the file's sample rate.
 *
 * <p>Reads PCM with 8, 16, 24 or 32 bits per sample and IEEE float with 32 or 64 bits, plain or
 * {@code WAVE_FORMAT_EXTENSIBLE}; several channels are averaged into one. Other encodings (A-law,
 * ADPCM, ...) are refused with an error naming the file and the format code. Immutable; the samples
 * array is shared, not copied.
 */
public final class WavAudio {
  /** Files over this size are refused rather than read into memory: 2 GiB. */
  public static final long MAX_FILE_BYTES = Integer.MAX_VALUE - 8;

  private static final int PCM = 1;
  private static final int IEEE_FLOAT = 3;
  private static final int EXTENSIBLE = 0xFFFE;

  private final float[] samples;
  private final int sampleRate;
  private final int channels;

  private WavAudio(float[] samples, int sampleRate, int channels) {
    this.samples = samples;
    this.sampleRate = sampleRate;
    this.channels = channels;
  }

  /**
   * Reads a WAV file.
   *
   * @param file the file
   * @return its audio, mixed down to mono
   * @throws VoiceException of kind {@link VoiceException.Kind#AUDIO} naming the file and what is
   *     wrong (missing, not RIFF/WAVE, unsupported encoding, truncated)
   */
  public static WavAudio read(Path file) {
    byte[] bytes;
    try {
      long size = Files.size(file);
      if (size > MAX_FILE_BYTES) {
        throw VoiceException.newAudio(
            "WAV file " + file + " is " + size + " bytes, over the limit of " + MAX_FILE_BYTES,
            null);
      }
      bytes = Files.readAllBytes(file);
    } catch (IOException e) {
      throw VoiceException.newAudio("cannot read WAV file " + file + ": " + e, e);
    }
    return parse(file.toString(), bytes);
  }

  /**
   * Parses WAV bytes.
   *
   * @param name names the source in error messages
   * @param bytes the whole file
   * @return its audio, mixed down to mono
   * @throws VoiceException of kind {@link VoiceException.Kind#AUDIO} naming the source and what is
   *     wrong
   */
  public static WavAudio parse(String name, byte[] bytes) {
    ByteBuffer b = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
    if (bytes.length < 12 || b.getInt(0) != 0x46464952 || b.getInt(8) != 0x45564157) {
      throw bad(name, "not a RIFF/WAVE file");
    }
    int format = -1;
    int channels = 0;
    int rate = 0;
    int bits = 0;
    int blockAlign = 0;
    int dataAt = -1;
    int dataLen = 0;
    int at = 12;
    while (at + 8 <= bytes.length) {
      int id = b.getInt(at);
      long len = Integer.toUnsignedLong(b.getInt(at + 4));
      int body = at + 8;
      if (id == 0x20746d66) { // "fmt "
        if (len < 16 || body + 16 > bytes.length) {
          throw bad(name, "fmt chunk at byte " + at + " is truncated");
        }
        format = Short.toUnsignedInt(b.getShort(body));
        channels = Short.toUnsignedInt(b.getShort(body + 2));
        rate = b.getInt(body + 4);
        blockAlign = Short.toUnsignedInt(b.getShort(body + 12));
        bits = Short.toUnsignedInt(b.getShort(body + 14));
        if (format == EXTENSIBLE) {
          if (len < 40 || body + 26 > bytes.length) {
            throw bad(name, "WAVE_FORMAT_EXTENSIBLE fmt chunk at byte " + at + " is truncated");
          }
          format = Short.toUnsignedInt(b.getShort(body + 24));
        }
      } else if (id == 0x61746164) { // "data"
        dataAt = body;
        // Streaming writers leave the length at 0 or 0xFFFFFFFF; take what the file holds.
        long avail = bytes.length - (long) body;
        dataLen = (int) (len == 0 || len > avail ? avail : len);
        break;
      }
      at = (int) Math.min(Integer.MAX_VALUE, body + len + (len & 1));
    }
    if (format < 0) {
      throw bad(name, "no fmt chunk");
    }
    if (dataAt < 0) {
      throw bad(name, "no data chunk");
    }
    if (format != PCM && format != IEEE_FLOAT) {
      throw bad(
          name, "unsupported encoding " + format + " (only PCM (1) and IEEE float (3) are read)");
    }
    if (channels < 1) {
      throw bad(name, "fmt chunk declares " + channels + " channels");
    }
    if (rate < 1) {
      throw bad(name, "fmt chunk declares a sample rate of " + rate);
    }
    boolean ok =
        format == PCM
            ? bits == 8 || bits == 16 || bits == 24 || bits == 32
            : bits == 32 || bits == 64;
    if (!ok) {
      throw bad(name, bits + "-bit " + (format == PCM ? "PCM" : "float") + " is not supported");
    }
    int bytesPerSample = bits / 8;
    if (blockAlign != bytesPerSample * channels) {
      blockAlign = bytesPerSample * channels;
    }
    int frames = dataLen / blockAlign;
    float[] out = new float[frames];
    for (int f = 0; f < frames; f++) {
      int p = dataAt + f * blockAlign;
      double sum = 0;
      for (int c = 0; c < channels; c++) {
        sum += sample(b, p + c * bytesPerSample, format, bits);
      }
      out[f] = (float) (sum / channels);
    }
    return new WavAudio(out, rate, channels);
  }

  private static double sample(ByteBuffer b, int p, int format, int bits) {
    if (format == IEEE_FLOAT) {
      return bits == 32 ? b.getFloat(p) : b.getDouble(p);
    }
    switch (bits) {
      case 8:
        return (Byte.toUnsignedInt(b.get(p)) - 128) / 128.0;
      case 16:
        return b.getShort(p) / 32768.0;
      case 24:
        int v = (b.get(p) & 0xff) | (b.get(p + 1) & 0xff) << 8 | b.get(p + 2) << 16;
        return v / 8388608.0;
      default:
        return b.getInt(p) / 2147483648.0;
    }
  }

  private static VoiceException bad(String name, String problem) {
    return VoiceException.newAudio("WAV file " + name + ": " + problem, null);
  }

  /**
   * Returns the samples, mono, in [-1, 1].
   *
   * @return the samples; the array is shared, do not modify it
   */
  public float[] samples() {
    return samples;
  }

  /**
   * Returns the sample rate of the file.
   *
   * @return samples per second
   */
  public int sampleRate() {
    return sampleRate;
  }

  /**
   * Returns how many channels the file had before the mix-down.
   *
   * @return channels, at least 1
   */
  public int channels() {
    return channels;
  }

  /**
   * Returns the length of the audio.
   *
   * @return seconds
   */
  public double durationSeconds() {
    return (double) samples.length / sampleRate;
  }
}
