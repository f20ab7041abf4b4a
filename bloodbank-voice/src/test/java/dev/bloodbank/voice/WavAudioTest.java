package dev.bloodbank.voice;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class WavAudioTest {

  /** A canonical 44-byte-header WAV. */
  static byte[] wav(int format, int channels, int rate, int bits, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(44 + data.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes()).putInt(36 + data.length).put("WAVE".getBytes());
    b.put("fmt ".getBytes()).putInt(16).putShort((short) format).putShort((short) channels);
    b.putInt(rate).putInt(rate * channels * bits / 8).putShort((short) (channels * bits / 8));
    b.putShort((short) bits).put("data".getBytes()).putInt(data.length).put(data);
    return b.array();
  }

  static byte[] pcm16(short... samples) {
    ByteBuffer b = ByteBuffer.allocate(samples.length * 2).order(ByteOrder.LITTLE_ENDIAN);
    for (short s : samples) {
      b.putShort(s);
    }
    return b.array();
  }

  @Test
  void readsPcm16Mono(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("a.wav");
    Files.write(f, wav(1, 1, 16000, 16, pcm16((short) 0, (short) 16384, (short) -32768)));

    WavAudio a = WavAudio.read(f);

    assertThat(a.sampleRate()).isEqualTo(16000);
    assertThat(a.channels()).isEqualTo(1);
    assertThat(a.samples()).containsExactly(0f, 0.5f, -1f);
    assertThat(a.durationSeconds()).isCloseTo(3 / 16000.0, within(1e-9));
  }

  @Test
  void averagesStereoAndSkipsUnknownChunks() {
    byte[] base = wav(1, 2, 8000, 16, pcm16((short) 16384, (short) 0, (short) -16384, (short) 0));
    // Put a LIST chunk (odd length, padded) between fmt and data.
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    out.write(base, 0, 36);
    out.writeBytes(new byte[] {'L', 'I', 'S', 'T', 3, 0, 0, 0, 1, 2, 3, 0});
    out.write(base, 36, base.length - 36);

    WavAudio a = WavAudio.parse("mem", out.toByteArray());

    assertThat(a.channels()).isEqualTo(2);
    assertThat(a.samples()).containsExactly(0.25f, -0.25f);
  }

  @Test
  void readsFloat32And24BitPcm() {
    ByteBuffer f =
        ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putFloat(0.75f).putFloat(-0.5f);
    assertThat(WavAudio.parse("f", wav(3, 1, 48000, 32, f.array())).samples())
        .containsExactly(0.75f, -0.5f);

    byte[] s24 = {0, 0, 0x40, 0, 0, (byte) 0xC0}; // +0.5, -0.5
    assertThat(WavAudio.parse("p", wav(1, 1, 44100, 24, s24)).samples())
        .containsExactly(0.5f, -0.5f);
  }

  @Test
  void takesWhatIsThereWhenTheDataLengthIsUnset() {
    byte[] w = wav(1, 1, 16000, 16, pcm16((short) 100, (short) 200));
    ByteBuffer.wrap(w).order(ByteOrder.LITTLE_ENDIAN).putInt(40, 0xFFFFFFFF);

    assertThat(WavAudio.parse("stream", w).samples()).hasSize(2);
  }

  @Test
  void refusesNonWavAndUnsupportedEncodings(@TempDir Path dir) {
    assertThatThrownBy(() -> WavAudio.parse("x.wav", "hello world, not a wav".getBytes()))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining("x.wav")
        .hasMessageContaining("not a RIFF/WAVE file")
        .extracting(e -> ((VoiceException) e).kind())
        .isEqualTo(VoiceException.Kind.AUDIO);
    assertThatThrownBy(() -> WavAudio.parse("alaw.wav", wav(6, 1, 8000, 8, new byte[4])))
        .hasMessageContaining("alaw.wav")
        .hasMessageContaining("unsupported encoding 6");
    assertThatThrownBy(() -> WavAudio.parse("b.wav", wav(1, 1, 8000, 12, new byte[4])))
        .hasMessageContaining("12-bit PCM is not supported");
    assertThatThrownBy(() -> WavAudio.read(dir.resolve("missing.wav")))
        .isInstanceOf(VoiceException.class)
        .hasMessageContaining("missing.wav");
  }

  @Test
  void refusesAFileWithoutData() {
    byte[] w = wav(1, 1, 16000, 16, new byte[0]);
    byte[] noData = java.util.Arrays.copyOf(w, 36);
    assertThatThrownBy(() -> WavAudio.parse("n.wav", noData)).hasMessageContaining("no data chunk");
  }
}
