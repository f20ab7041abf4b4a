#!/usr/bin/python3
"""Generate a tiny synthetic *streaming* ASR model for sherpa-onnx tests.

The output is NOT a speech recogniser. It is the smallest ONNX graph that
sherpa-onnx (tested with the 1.13.8 native libraries) loads as a real
streaming "zipformer2 CTC" model (``zipformer2_ctc.model`` in the C API), so
that CI can drive the whole native streaming path -- fbank feature
extraction, resampling, the ONNX model with state tensors, CTC greedy
decoding and endpoint detection -- without a pretrained model.

Behaviour
---------
* Input ``x`` is a chunk of ``T = 32`` frames of 80-dim log-mel fbank
  features (10 ms frame shift), exactly what sherpa-onnx computes for a
  zipformer2 CTC model. ``decode_chunk_len = 32`` so chunks do not overlap:
  one ``DecodeOnlineStream`` call consumes 320 ms of audio.
* For every feature frame the model takes the MAX over the 80 mel bins (the
  mean is useless for pure tones, most bins stay at log(FLT_EPSILON) = -15.9).
  Groups of 4 frames are averaged, giving 8 output frames per chunk, i.e. the
  usual subsampling factor 4 (40 ms per output frame) that sherpa-onnx
  assumes when it converts frame indices to timestamps and endpoint times.
* Per output frame: logit(<blk>) = 0, logit(<sos/eos>) = logit(<unk>) = -10,
  logit("▁hi") = GAIN * (energy - THRESHOLD); then LogSoftmax.
  So "▁hi" wins on loud frames and blank wins on silence. CTC greedy search
  collapses repeats, hence each loud burst yields exactly one " hi" token
  ("▁" is turned into a space by sherpa-onnx), and the trailing blanks after
  it drive the endpoint rules.
* THRESHOLD = -2.0 (log-mel units, samples in [-1, 1]). Measured natively:
  a 440 Hz sine of amplitude 0.03 (or uniform white noise of amplitude 0.01)
  is "loud", a sine of amplitude 0.02 (or noise of amplitude 0.006) is not;
  digital silence (log-mel -15.9) and 1e-4 noise are clearly "silence".
* The state tensors follow the real zipformer2 layout for ONE encoder layer
  (6 caches) plus ``embed_states`` (N,128,3,19) and ``processed_lens`` (N,)
  so that sherpa-onnx's StackStates/UnStackStates work for batched decoding
  of several streams. States are passed through unchanged (Identity), except
  ``processed_lens`` which is incremented by 8 per chunk like a real model.

Files written into OUTPUT_DIR: ``model.onnx`` and ``tokens.txt``.
The output is deterministic (no timestamps, no random numbers).

Regenerate (from the repository root, Debian python3 with onnx + numpy)::

    /usr/bin/python3 bloodbank-voice/src/test/model-gen/make_synthetic_model.py \\
        bloodbank-voice/src/test/resources/dev/bloodbank/voice/synthetic

Negative-test variants (``--variant``, default ``standard``):

* ``missing-metadata``: identical graph, but the mandatory ``T`` metadata key
  is omitted. sherpa-onnx logs "'T' does not exist in the metadata" and calls
  _Exit(-1) (process exit code 255) while creating the recognizer.
* ``no-metadata``: identical graph without any custom metadata (a "generic"
  ONNX file); sherpa-onnx exits on the first missing key ('encoder_dims').
* ``vocab-mismatch``: the graph has 6 output classes and emits id 5 on loud
  frames, which is not in tokens.txt (ids 0..3). Loading works; the first
  GetOnlineStreamResult after a loud frame throws std::out_of_range inside
  the native library, which aborts the process (SIGABRT).
"""

import argparse
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

# Model constants -----------------------------------------------------------
FEATURE_DIM = 80          # sherpa-onnx default fbank dim
T = 32                    # feature frames per chunk (metadata "T")
DECODE_CHUNK_LEN = 32     # feature frames consumed per chunk
SUBSAMPLING = 4           # sherpa-onnx hard-codes 4 for zipformer2 CTC
OUT_FRAMES = T // SUBSAMPLING
THRESHOLD = -2.0          # log-mel "loudness" threshold (see docstring)
GAIN = 2.0
OTHER_LOGIT = -10.0

# One tiny encoder layer, real zipformer2 state layout.
ENCODER_DIM = 4           # nonlin_attn_head_dim = 3 * 4 / 4 = 3
QUERY_HEAD_DIM = 1
VALUE_HEAD_DIM = 1
NUM_HEADS = 1
NUM_LAYERS = 1
CNN_KERNEL = 3            # conv caches have kernel // 2 = 1 column
LEFT_CONTEXT = 1

TOKENS = ["<blk>", "<sos/eos>", "<unk>", "\u2581hi"]
HI_ID = 3

OPSET = 13
IR_VERSION = 7            # accepted by every onnxruntime >= 1.8


def _metadata(variant):
    md = {
        "model_type": "zipformer2",
        "model_author": "bloodbank-voice tests (synthetic, not a real ASR model)",
        "comment": "synthetic streaming zipformer2 ctc: emits '\u2581hi' on loud frames",
        "version": "1",
        "encoder_dims": str(ENCODER_DIM),
        "query_head_dims": str(QUERY_HEAD_DIM),
        "value_head_dims": str(VALUE_HEAD_DIM),
        "num_heads": str(NUM_HEADS),
        "num_encoder_layers": str(NUM_LAYERS),
        "cnn_module_kernels": str(CNN_KERNEL),
        "left_context_len": str(LEFT_CONTEXT),
        "T": str(T),
        "decode_chunk_len": str(DECODE_CHUNK_LEN),
    }
    if variant == "missing-metadata":
        del md["T"]
    elif variant == "no-metadata":
        md = {}
    return md


def _state_specs():
    """(input name, output name, elem type, shape) of the state tensors."""
    key_dim = QUERY_HEAD_DIM * NUM_HEADS
    value_dim = VALUE_HEAD_DIM * NUM_HEADS
    nonlin = 3 * ENCODER_DIM // 4
    f, i64 = TensorProto.FLOAT, TensorProto.INT64
    specs = []
    for layer in range(NUM_LAYERS):
        specs += [
            ("cached_key_%d" % layer, f, [LEFT_CONTEXT, "N", key_dim]),
            ("cached_nonlin_attn_%d" % layer, f, [1, "N", LEFT_CONTEXT, nonlin]),
            ("cached_val1_%d" % layer, f, [LEFT_CONTEXT, "N", value_dim]),
            ("cached_val2_%d" % layer, f, [LEFT_CONTEXT, "N", value_dim]),
            ("cached_conv1_%d" % layer, f, ["N", ENCODER_DIM, CNN_KERNEL // 2]),
            ("cached_conv2_%d" % layer, f, ["N", ENCODER_DIM, CNN_KERNEL // 2]),
        ]
    specs += [
        ("embed_states", f, ["N", 128, 3, 19]),
        ("processed_lens", i64, ["N"]),
    ]
    return [(name, "new_" + name, et, shape) for name, et, shape in specs]


def build_model(variant="standard"):
    vocab = 6 if variant == "vocab-mismatch" else len(TOKENS)
    emit_id = 5 if variant == "vocab-mismatch" else HI_ID

    weight = np.zeros((1, 1, vocab), dtype=np.float32)
    bias = np.full((1, 1, vocab), OTHER_LOGIT, dtype=np.float32)
    bias[0, 0, 0] = 0.0                      # blank
    weight[0, 0, emit_id] = GAIN
    bias[0, 0, emit_id] = -GAIN * THRESHOLD

    inits = [
        numpy_helper.from_array(np.array([0, OUT_FRAMES, SUBSAMPLING], dtype=np.int64),
                                "subsample_shape"),
        numpy_helper.from_array(weight, "token_gain"),
        numpy_helper.from_array(bias, "token_bias"),
        numpy_helper.from_array(np.array(OUT_FRAMES, dtype=np.int64), "lens_step"),
    ]

    nodes = [
        # (N, T, 80) -> (N, T): loudest mel bin per frame
        helper.make_node("ReduceMax", ["x"], ["frame_energy"], axes=[2], keepdims=0),
        # (N, T) -> (N, T/4, 4) -> (N, T/4, 1): subsampling by 4
        helper.make_node("Reshape", ["frame_energy", "subsample_shape"], ["grouped"]),
        helper.make_node("ReduceMean", ["grouped"], ["energy"], axes=[2], keepdims=1),
        # (N, T/4, 1) * (1, 1, V) + (1, 1, V) -> (N, T/4, V)
        helper.make_node("Mul", ["energy", "token_gain"], ["scaled"]),
        helper.make_node("Add", ["scaled", "token_bias"], ["logits"]),
        helper.make_node("LogSoftmax", ["logits"], ["log_probs"], axis=2),
    ]

    inputs = [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", T, FEATURE_DIM])]
    outputs = [helper.make_tensor_value_info("log_probs", TensorProto.FLOAT,
                                             ["N", OUT_FRAMES, vocab])]
    for name, new_name, et, shape in _state_specs():
        inputs.append(helper.make_tensor_value_info(name, et, shape))
        outputs.append(helper.make_tensor_value_info(new_name, et, shape))
        if name == "processed_lens":
            nodes.append(helper.make_node("Add", [name, "lens_step"], [new_name]))
        else:
            nodes.append(helper.make_node("Identity", [name], [new_name]))

    graph = helper.make_graph(nodes, "synthetic_streaming_zipformer2_ctc",
                              inputs, outputs, inits)
    model = helper.make_model(graph, producer_name="bloodbank-voice-make_synthetic_model",
                              producer_version="1",
                              opset_imports=[helper.make_opsetid("", OPSET)])
    model.ir_version = IR_VERSION
    model.doc_string = "Synthetic streaming zipformer2 CTC model for tests only."
    for k, v in _metadata(variant).items():
        entry = model.metadata_props.add()
        entry.key, entry.value = k, v
    onnx.checker.check_model(model)
    return model


def tokens_text():
    return "".join("%s %d\n" % (sym, i) for i, sym in enumerate(TOKENS))


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("output_dir", help="directory for model.onnx and tokens.txt")
    parser.add_argument("--variant", default="standard",
                        choices=["standard", "missing-metadata", "no-metadata",
                                 "vocab-mismatch"])
    parser.add_argument("--model-name", default="model.onnx",
                        help="file name of the ONNX model (default: model.onnx)")
    args = parser.parse_args(argv)

    os.makedirs(args.output_dir, exist_ok=True)
    model_path = os.path.join(args.output_dir, args.model_name)
    with open(model_path, "wb") as f:
        f.write(build_model(args.variant).SerializeToString())
    with open(os.path.join(args.output_dir, "tokens.txt"), "w", encoding="utf-8",
              newline="\n") as f:
        f.write(tokens_text())
    print("wrote %s (%d bytes) and tokens.txt" % (model_path, os.path.getsize(model_path)))


if __name__ == "__main__":
    main(sys.argv[1:])
