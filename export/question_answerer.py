"""Question answering -> TFLite in the BERT question-answerer contract.

The TFLite Task Library's `BertQuestionAnswerer` (Android/iOS/C++) finds the
tensors by the metadata names `ids`, `mask`, `segment_ids` (int32 [1, 384])
and `end_logits`, `start_logits` (float32 [1, 384]); without metadata it
takes the inputs in that order and the outputs as [end_logits, start_logits].
It tokenizes with the SentencePiece model named by the metadata's input
process unit (index 0), questions cut to 64 pieces, sequences to 384. The
export writes exactly that: builtin ops only, tensors named and ordered as
above, and (with `spiece_model`) the metadata with the tokenizer packed in.

Example:
>>> tflite = question_answerer_to_tflite(qa_model)                      # doctest: +SKIP
>>> tflite = add_question_answerer_metadata(tflite, tok.serialized_model)  # doctest: +SKIP
>>> out = run_question_answerer(tflite, x)  # {"start_logits", "end_logits"}  # doctest: +SKIP
"""

from __future__ import annotations

import os
import tempfile

import numpy as np

from export.metadata import (
    _schemas,
    model_metadata,
    tensor_metadata,
    tensor_names,
    with_metadata,
)
from export.runtime import INPUT_NAMES
from export.runtime.bundle_tokenizer import SPIECE_FILE
from export.task_heads import HEAD_MODES, convert_serving_function

OUTPUT_NAMES = ("end_logits", "start_logits")  # the Task Library's order without metadata
TASK_LIBRARY_MAX_LENGTH = 384  # kMaxSeqLen in the Task Library's BertQuestionAnswerer

_INPUT_DESCRIPTIONS = {
    "ids": "Tokenized ids of [CLS] question [SEP] context [SEP].",
    "mask": "1 for real tokens, 0 for padding.",
    "segment_ids": "0 for the question (and [CLS]), 1 for the context.",
}
_OUTPUT_DESCRIPTIONS = {
    "end_logits": "Score of each position being the last token of the answer.",
    "start_logits": "Score of each position being the first token of the answer.",
}


def question_answerer_to_tflite(
    model, max_length: int = TASK_LIBRARY_MAX_LENGTH, mode: str = "float32"
) -> bytes:
    """Convert an `AlbertQuestionAnswerer` to TFLite (builtin ops, no metadata yet).

    Args:
        model: a trained `AlbertQuestionAnswerer` (any Keras model with the
            token_ids/segment_ids/padding_mask inputs and start_logits/end_logits
            outputs works).
        max_length: the fixed sequence length; the Task Library needs 384.
        mode: "float32", "float16" (float16 weights) or "dynamic" (int8 weights).
    """

    if mode not in HEAD_MODES:
        raise ValueError(
            f"Unknown mode {mode!r} for the question answerer; choose one of {HEAD_MODES}."
        )
    config = getattr(getattr(model, "backbone", None), "config", None)
    max_positions = getattr(config, "max_position_embeddings", None)
    if max_positions is not None and max_length > max_positions:
        raise ValueError(
            f"max_length {max_length} exceeds the model's max_position_embeddings {max_positions}."
        )
    tflite_bytes = convert_serving_function(
        model,
        [1, int(max_length)],
        lambda out: {"end_logits": out["end_logits"], "start_logits": out["start_logits"]},
        mode,
    )
    tflite_bytes = _order_io_tensors(tflite_bytes)
    check_question_answerer_io(tflite_bytes)
    return tflite_bytes


def _order_io_tensors(tflite_bytes: bytes) -> bytes:
    """Put the subgraph's inputs and outputs in the contract's order.

    The converter orders inputs as the graph uses them (ids, segment_ids,
    mask), but a Task Library model without metadata is read by position.
    Only the lists of input/output tensor indices change; the graph does not.
    """
    from tensorflow.lite.tools import flatbuffer_utils

    model = flatbuffer_utils.convert_bytearray_to_object(bytearray(tflite_bytes))
    sub = model.subgraphs[0]

    def ordered(indices, names):
        by_name = {sub.tensors[i].name.decode(): i for i in indices}
        if sorted(by_name) != sorted(names):
            raise ValueError(f"Expected tensors {sorted(names)}, found {sorted(by_name)}.")
        return [by_name[n] for n in names]

    sub.inputs = ordered(list(sub.inputs), INPUT_NAMES)
    sub.outputs = ordered(list(sub.outputs), OUTPUT_NAMES)
    return bytes(flatbuffer_utils.convert_object_to_bytearray(model))


def check_question_answerer_io(tflite_bytes: bytes) -> dict[str, list[str]]:
    """Check tensor names and order against the BertQuestionAnswerer contract."""

    inputs, outputs = tensor_names(tflite_bytes)
    if list(inputs) != list(INPUT_NAMES) or list(outputs) != list(OUTPUT_NAMES):
        raise ValueError(
            f"Converted question answerer has inputs {inputs} and outputs {outputs}; the "
            f"BertQuestionAnswerer contract is {list(INPUT_NAMES)} -> {list(OUTPUT_NAMES)}."
        )
    return {"inputs": list(inputs), "outputs": list(outputs)}


def add_question_answerer_metadata(
    tflite_bytes: bytes,
    spiece_model: bytes,
    name: str = "ALBERT question answerer",
    description: str = "Finds the answer to a question in a passage (albert-tf export).",
) -> bytes:
    """`tflite_bytes` with BertQuestionAnswerer metadata and the SentencePiece model packed in."""

    meta_fb, _ = _schemas()
    inputs = check_question_answerer_io(tflite_bytes)["inputs"]
    sp_file = meta_fb.AssociatedFileT()
    sp_file.name = SPIECE_FILE
    sp_file.description = "The SentencePiece model file."
    tokenizer = meta_fb.ProcessUnitT()
    tokenizer.optionsType = meta_fb.ProcessUnitOptions.SentencePieceTokenizerOptions
    tokenizer.options = meta_fb.SentencePieceTokenizerOptionsT()
    tokenizer.options.sentencePieceModel = [sp_file]

    # Tensor metadata is matched to tensors by position.
    in_md = [tensor_metadata(meta_fb, n, _INPUT_DESCRIPTIONS[n]) for n in inputs]
    out_md = [tensor_metadata(meta_fb, n, _OUTPUT_DESCRIPTIONS[n]) for n in OUTPUT_NAMES]
    model_md = model_metadata(meta_fb, name, description, in_md, out_md, tokenizer)
    return with_metadata(tflite_bytes, model_md, {SPIECE_FILE: spiece_model})


def export_question_answerer(
    model,
    path: str,
    spiece_model: bytes | None = None,
    max_length: int = TASK_LIBRARY_MAX_LENGTH,
    mode: str = "float32",
) -> str:
    """Convert, add metadata when a tokenizer is given, and write `path` atomically."""
    tflite_bytes = question_answerer_to_tflite(model, max_length=max_length, mode=mode)
    if spiece_model is not None:
        tflite_bytes = add_question_answerer_metadata(tflite_bytes, spiece_model)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=".tflite")
    with os.fdopen(fd, "wb") as f:
        f.write(tflite_bytes)
    os.replace(tmp, path)
    return path


def run_question_answerer(
    tflite: bytes | str, inputs: dict[str, np.ndarray]
) -> dict[str, np.ndarray]:
    """Run an exported question answerer with the LiteRT interpreter, one row at a time.

    `inputs` uses the Keras names (token_ids / segment_ids / padding_mask,
    [batch, seq]); returns start_logits / end_logits [batch, seq].
    """
    from ai_edge_litert.interpreter import Interpreter

    if isinstance(tflite, str):
        with open(tflite, "rb") as f:
            tflite = f.read()
    interpreter = Interpreter(model_content=bytes(tflite))
    runner = interpreter.get_signature_runner()
    feeds = {"ids": "token_ids", "mask": "padding_mask", "segment_ids": "segment_ids"}
    starts, ends = [], []
    for row in range(len(inputs["token_ids"])):
        out = runner(
            **{k: np.asarray(inputs[v][row : row + 1], np.int32) for k, v in feeds.items()}
        )
        starts.append(out["start_logits"][0])
        ends.append(out["end_logits"][0])
    return {"start_logits": np.stack(starts), "end_logits": np.stack(ends)}
