package dev.bloodbank.voice.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.bloodbank.voice.AsrModel;
import dev.bloodbank.voice.VoiceException;
import dev.bloodbank.voice.VoiceModels;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import org.assertj.core.api.AbstractThrowableAssert;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelChecksTest {
  @TempDir Path dir;
  Path model;
  Path tokens;

  @BeforeEach
  void copySyntheticModel() throws Exception {
    model = Files.copy(VoiceModels.syntheticDir().resolve("model.onnx"), dir.resolve("model.onnx"));
    tokens =
        Files.copy(VoiceModels.syntheticDir().resolve("tokens.txt"), dir.resolve("tokens.txt"));
  }

  static AbstractThrowableAssert<?, ? extends Throwable> assertModelError(
      AsrModel m, Path file, String message) {
    return assertThatThrownBy(() -> ModelChecks.check(m))
        .isInstanceOf(VoiceException.class)
        .satisfies(
            e -> assertThat(((VoiceException) e).kind()).isEqualTo(VoiceException.Kind.MODEL))
        .hasMessageContaining(file.toString())
        .hasMessageContaining(message);
  }

  AsrModel ctc() {
    return AsrModel.ctc(AsrModel.Kind.ZIPFORMER2_CTC, model, tokens);
  }

  /** Rewrites the model's top-level metadata: drops {@code drop}, then appends pairs. */
  static byte[] editMetadata(byte[] onnx, String drop, String... keyValues) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    int at = 0;
    while (at < onnx.length) {
      int start = at;
      long tag = 0;
      int shift = 0;
      int b;
      do {
        b = onnx[at++] & 0xff;
        tag |= (long) (b & 0x7f) << shift;
        shift += 7;
      } while ((b & 0x80) != 0);
      int wire = (int) (tag & 7);
      int bodyStart = at;
      long len = 0;
      if (wire == 0) {
        while ((onnx[at++] & 0x80) != 0) {}
      } else if (wire == 2) {
        shift = 0;
        do {
          b = onnx[at++] & 0xff;
          len |= (long) (b & 0x7f) << shift;
          shift += 7;
        } while ((b & 0x80) != 0);
        at += (int) len;
      } else {
        throw new IllegalStateException("unexpected wire type " + wire);
      }
      boolean dropped = false;
      if (tag >>> 3 == 14) {
        String entry = new String(onnx, bodyStart, at - bodyStart, StandardCharsets.ISO_8859_1);
        dropped = entry.contains("\n" + (char) drop.length() + drop + "\u0012");
      }
      if (!dropped) {
        out.write(onnx, start, at - start);
      }
    }
    for (int i = 0; i < keyValues.length; i += 2) {
      OnnxModelInfoTest.Proto e =
          new OnnxModelInfoTest.Proto().string(1, keyValues[i]).string(2, keyValues[i + 1]);
      out.writeBytes(new OnnxModelInfoTest.Proto().message(14, e).toBytes());
    }
    return out.toByteArray();
  }

  @Test
  void theSyntheticModelPasses() {
    assertThat(ModelChecks.check(ctc()).transducerModelType()).isEmpty();
  }

  @Test
  void missingAndNonRegularFilesAreNamed() throws Exception {
    Path missing = dir.resolve("nope.onnx");
    assertModelError(
        AsrModel.ctc(AsrModel.Kind.ZIPFORMER2_CTC, missing, tokens), missing, "does not exist");
    Path sub = Files.createDirectory(dir.resolve("sub.onnx"));
    assertModelError(
        AsrModel.ctc(AsrModel.Kind.ZIPFORMER2_CTC, sub, tokens), sub, "is not a regular file");
    Files.delete(tokens);
    assertModelError(ctc(), tokens, "does not exist");
  }

  @Test
  void corruptFilesAreNotValidOnnx() throws Exception {
    byte[] good = Files.readAllBytes(model);
    Files.write(model, Arrays.copyOf(good, good.length - 100));
    assertModelError(ctc(), model, "not a valid ONNX model");

    Files.writeString(model, "this is a text file, not a model\n");
    assertModelError(ctc(), model, "not a valid ONNX model");

    Files.write(model, new byte[0]);
    assertModelError(ctc(), model, "empty");
  }

  @Test
  void aMissingOrMalformedMetadataKeyIsNamed() throws Exception {
    byte[] good = Files.readAllBytes(model);
    Files.write(model, editMetadata(good, "T"));
    assertModelError(ctc(), model, "metadata key 'T' is missing");

    Files.write(model, editMetadata(good, "T", "T", "thirty-two"));
    assertModelError(ctc(), model, "metadata 'T' must be an integer, is 'thirty-two'");

    Files.write(model, editMetadata(good, "encoder_dims", "encoder_dims", "4,x"));
    assertModelError(ctc(), model, "'encoder_dims' must be a comma-separated list");
  }

  @Test
  void theWrongKindIsRefusedBeforeTheNativeCodeSeesIt() {
    assertModelError(
        AsrModel.ctc(AsrModel.Kind.NEMO_CTC, model, tokens), model, "'window_size' is missing");
    assertModelError(
        AsrModel.ctc(AsrModel.Kind.TONE_CTC, model, tokens), model, "'frame_length_ms' is missing");
    assertModelError(AsrModel.paraformer(model, model, tokens), model, "'vocab_size' is missing");
    // Nine outputs make sherpa-onnx take the decoder for a NeMo transducer's.
    assertModelError(
        AsrModel.transducer(model, model, model, tokens), model, "'vocab_size' is missing");
  }

  @Test
  void aTransducerEncoderNeedsAKnownModelType() throws Exception {
    byte[] good = Files.readAllBytes(model);
    Path decoder = dir.resolve("decoder.onnx");
    // A one-output decoder with the keys sherpa-onnx reads, so the encoder check comes next.
    OnnxModelInfoTest.Proto graph =
        new OnnxModelInfoTest.Proto()
            .message(11, OnnxModelInfoTest.valueInfo("y"))
            .message(12, OnnxModelInfoTest.valueInfo("decoder_out"));
    Files.write(
        decoder,
        new OnnxModelInfoTest.Proto()
            .varint(1, 7)
            .message(7, graph)
            .message(14, new OnnxModelInfoTest.Proto().string(1, "vocab_size").string(2, "4"))
            .message(14, new OnnxModelInfoTest.Proto().string(1, "context_size").string(2, "2"))
            .toBytes());
    Files.write(model, editMetadata(good, "model_type", "model_type", "whisper"));

    assertModelError(
        AsrModel.transducer(model, decoder, model, tokens), model, "model_type is 'whisper'");
  }

  @Test
  void missingExternalWeightsAreNamed() throws Exception {
    OnnxModelInfoTest.Proto graph =
        new OnnxModelInfoTest.Proto()
            .message(
                5,
                new OnnxModelInfoTest.Proto()
                    .string(8, "w")
                    .message(
                        13,
                        new OnnxModelInfoTest.Proto()
                            .string(1, "location")
                            .string(2, "model.weights"))
                    .varint(14, 1))
            .message(11, OnnxModelInfoTest.valueInfo("x"))
            .message(12, OnnxModelInfoTest.valueInfo("y"));
    Files.write(model, new OnnxModelInfoTest.Proto().varint(1, 7).message(7, graph).toBytes());

    assertModelError(ctc(), model, "external data file " + dir.resolve("model.weights"));
  }

  @Test
  void tokensLinesSherpaOnnxWouldDieOnAreRefusedWithTheLine() throws Exception {
    Files.writeString(tokens, "<blk> 0\n<sos/eos> 1\n<unk> 2 extra\n▁hi 3\n");
    assertModelError(ctc(), tokens, "line 3 has 3 fields");

    Files.writeString(tokens, "<blk> 0\n<sos/eos> 1\n<unk> two\n▁hi 3\n");
    assertModelError(ctc(), tokens, "line 3: the id 'two' is not an integer");

    Files.writeString(tokens, "<s> 0\n<sos/eos> 1\n<unk> 2\n▁hi 3\n");
    assertModelError(ctc(), tokens, "blank symbols");

    Files.writeString(tokens, "<blk> 0\n<sos/eos> 1\n<unk> 2\n");
    assertModelError(ctc(), tokens, "has no token with id 3")
        .hasMessageContaining("can emit ids 0 to 3");

    Files.write(
        tokens, new byte[] {'<', 'b', 'l', 'k', '>', ' ', '0', '\n', (byte) 0xC3, ' ', '1'});
    assertModelError(ctc(), tokens, "is not UTF-8");

    Files.writeString(tokens, "");
    assertModelError(ctc(), tokens, "has no tokens");
  }

  @Test
  void tokensFormsSherpaOnnxAcceptsAreAccepted() throws Exception {
    Files.writeString(tokens, "<blk>\t0\r\n<sos/eos> 1\r\n\r\n<unk> 2\n\n▁hi 3");
    assertThat(ModelChecks.check(ctc())).isNotNull();

    // A line with only an id is the space symbol.
    Files.writeString(tokens, "<blk> 0\n1\n<unk> 2\n▁hi 3\n");
    assertThat(ModelChecks.check(ctc())).isNotNull();
  }
}
