package dev.bloodbank.voice.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.voice.VoiceModels;
import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelInfoTest {

  /** Just enough of a protobuf writer to build ModelProto messages. */
  static final class Proto {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    Proto varint(int field, long v) {
      tag(field, 0);
      raw(v);
      return this;
    }

    Proto bytes(int field, byte[] b) {
      tag(field, 2);
      raw(b.length);
      out.writeBytes(b);
      return this;
    }

    Proto string(int field, String s) {
      return bytes(field, s.getBytes(StandardCharsets.UTF_8));
    }

    Proto message(int field, Proto m) {
      return bytes(field, m.toBytes());
    }

    private void tag(int field, int wire) {
      raw((long) field << 3 | wire);
    }

    private void raw(long v) {
      while ((v & ~0x7fL) != 0) {
        out.write((int) (v & 0x7f) | 0x80);
        v >>>= 7;
      }
      out.write((int) v);
    }

    byte[] toBytes() {
      return out.toByteArray();
    }
  }

  static Proto valueInfo(String name, long... dims) {
    Proto shape = new Proto();
    for (long d : dims) {
      shape.message(1, d < 0 ? new Proto().string(2, "N") : new Proto().varint(1, d));
    }
    Proto tensor = new Proto().varint(1, 1).message(2, shape);
    return new Proto().string(1, name).message(2, new Proto().message(1, tensor));
  }

  static Proto entry(String k, String v) {
    return new Proto().string(1, k).string(2, v);
  }

  static byte[] model() {
    Proto graph =
        new Proto()
            .message(1, new Proto().string(4, "Relu"))
            .string(2, "g")
            .message(
                5,
                new Proto()
                    .varint(2, 1)
                    .string(8, "w")
                    .message(13, entry("location", "weights.bin"))
                    .message(13, entry("offset", "0"))
                    .varint(14, 1))
            .message(5, new Proto().string(8, "b").bytes(9, new byte[4096]))
            .message(11, valueInfo("x"))
            .message(11, valueInfo("cached_len"))
            .message(12, valueInfo("log_probs", -1, 16, 500));
    return new Proto()
        .varint(1, 8)
        .string(2, "bloodbank-test")
        .message(8, new Proto().string(1, "").varint(2, 13))
        .message(7, graph)
        .message(14, entry("model_type", "zipformer2"))
        .message(14, entry("vocab_size", "500"))
        .toBytes();
  }

  @Test
  void readsMetadataInputsOutputsAndExternalData() throws Exception {
    OnnxModelInfo info = OnnxModelInfo.parse(ByteBuffer.wrap(model()));

    assertThat(info.irVersion()).isEqualTo(8);
    assertThat(info.producer()).isEqualTo("bloodbank-test");
    assertThat(info.opsets()).containsEntry("", 13L);
    assertThat(info.metadata())
        .containsExactly(
            java.util.Map.entry("model_type", "zipformer2"),
            java.util.Map.entry("vocab_size", "500"));
    assertThat(info.inputs()).containsExactly("x", "cached_len");
    assertThat(info.outputs()).containsExactly("log_probs");
    assertThat(info.shape("log_probs")).containsExactly(-1L, 16L, 500L);
    assertThat(info.shape("x")).isEmpty();
    assertThat(info.externalData()).containsExactly("weights.bin");
  }

  @Test
  void readsARealModelFromAFile() throws Exception {
    OnnxModelInfo info = OnnxModelInfo.read(VoiceModels.sileroVad());

    assertThat(info.inputs()).contains("input", "sr");
    assertThat(info.outputs()).contains("output");
    assertThat(info.irVersion()).isPositive();
  }

  @Test
  void everyTruncationIsRejectedOrLosesTrailingFields() throws Exception {
    // Protobuf has no end marker: a cut between two top-level fields is a valid, shorter model.
    // Such a model lacks the metadata after the cut, which the model checks then report.
    byte[] m = model();
    int accepted = 0;
    for (int len = 1; len < m.length; len++) {
      byte[] cut = Arrays.copyOf(m, len);
      try {
        OnnxModelInfo info = OnnxModelInfo.parse(ByteBuffer.wrap(cut));
        accepted++;
        assertThat(info.metadata()).as("cut at %d", len).doesNotContainKey("vocab_size");
      } catch (OnnxModelInfo.FormatException e) {
        assertThat(e.getMessage()).as("cut at %d", len).isNotBlank();
      }
    }
    assertThat(accepted).isLessThanOrEqualTo(2);
  }

  @Test
  void aTruncatedRealModelNamesTheByte(@TempDir Path dir) throws Exception {
    byte[] real = Files.readAllBytes(VoiceModels.sileroVad());
    Path cut = dir.resolve("cut.onnx");
    Files.write(cut, Arrays.copyOf(real, real.length / 2));

    assertThatThrownBy(() -> OnnxModelInfo.read(cut))
        .isInstanceOf(OnnxModelInfo.FormatException.class)
        .hasMessageMatching(".*(byte \\d+|truncated).*");
  }

  @Test
  void textAndRandomBytesAreNotModels(@TempDir Path dir) throws Exception {
    assertThatThrownBy(
            () ->
                OnnxModelInfo.parse(
                    ByteBuffer.wrap("1 a\n2 b\n".getBytes(StandardCharsets.US_ASCII))))
        .isInstanceOf(OnnxModelInfo.FormatException.class);
    Random r = new Random(42);
    for (int i = 0; i < 200; i++) {
      byte[] junk = new byte[1 + r.nextInt(2000)];
      r.nextBytes(junk);
      assertThatThrownBy(() -> OnnxModelInfo.parse(ByteBuffer.wrap(junk)))
          .isInstanceOf(OnnxModelInfo.FormatException.class);
    }
    Path empty = Files.createFile(dir.resolve("empty.onnx"));
    assertThatThrownBy(() -> OnnxModelInfo.read(empty)).hasMessageContaining("empty");
  }

  @Test
  void aModelWithoutAGraphIsRefused() {
    byte[] noGraph = new Proto().varint(1, 8).message(14, entry("a", "b")).toBytes();
    assertThatThrownBy(() -> OnnxModelInfo.parse(ByteBuffer.wrap(noGraph)))
        .hasMessageContaining("no graph");
    byte[] noVersion = new Proto().message(7, new Proto().message(11, valueInfo("x"))).toBytes();
    assertThatThrownBy(() -> OnnxModelInfo.parse(ByteBuffer.wrap(noVersion)))
        .hasMessageContaining("ir_version");
  }
}
