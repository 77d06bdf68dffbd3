"""The inference graph that goes into TFLite: ids/mask/segment_ids -> probability.

Built from the trained classifier's own layers (no weights are copied), with
changes that only an exported classifier can afford:
- batch 1: the encoder runs on [seq, width] tensors (`export.single_text_graph`),
  so the dynamic-length graph has no shape arithmetic before every layer;
- the last transformer block computes the [CLS] row only (`first_token_only`):
  the pooler reads nothing else, so the other rows of its feed-forward network
  and attention output are wasted work;
- the output is already softmax (single label) or sigmoid (multi label)
  probabilities, the MediaPipe / Task Library contract;
- for the int4 mode, the token table is read from int4 rows packed two per
  byte (`export.embedding_quantization`): the int4 quantizer leaves GATHER
  tables float32;
- for integer-activation modes, padding is masked by multiplying the attention
  probabilities instead of adding -10000 to the scores: an int8 tensor that has
  to hold both -10000 and the real scores keeps no resolution for the scores
  (the "quantized BERT at chance accuracy" failure).

Example:
>>> module = serving_module(classifier, max_length=128)  # doctest: +SKIP
>>> module.serve(ids=ids, mask=mask, segment_ids=segs)["probability"]  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from export.embedding_quantization import lookup, pack_int4_rows
from export.runtime import INPUT_NAMES, OUTPUT_NAME
from export.runtime.packing import cut_bounds
from export.single_text_graph import embed_single, encode_single

TASKS = ("single_label", "multi_label")


def _task_of(model, task: str | None) -> str:
    task = task or getattr(model, "problem_type", None) or "single_label"
    if task not in TASKS:
        raise ValueError(
            f"Only classifiers can be exported to the TextClassifier contract; task is {task!r} "
            f"(expected one of {TASKS})."
        )
    return task


def serving_module(
    model,
    max_length: int = 128,
    dynamic_length: bool = False,
    task: str | None = None,
    first_token_only: bool = True,
    multiplicative_mask: bool = False,
    int4_token_table: bool = False,
    head_pieces: int | None = None,
) -> tf.Module:
    """A `tf.Module` whose `serve` tf.function has the exported signature.

    Args:
        model: a trained `AlbertClassifier` (any Keras model with the
            token_ids/segment_ids/padding_mask inputs and logits output works,
            without the [CLS]-only speed-up).
        max_length: sequence length of the fixed-length signature (and the
            longest input the dynamic one is meant for).
        dynamic_length: signature [1, None] instead of [1, max_length].
        task: "single_label" (softmax) or "multi_label" (sigmoid); defaults to
            the model's `problem_type`.
        first_token_only: compute only the [CLS] row in the last block.
        multiplicative_mask: mask padding by multiplying attention
            probabilities (for int8 / int16 activations).
        int4_token_table: gather token embeddings from a packed int4 copy of
            the table (ALBERT backbones; other models keep their float table).
        head_pieces: for `dynamic_length`, a text longer than `max_length`
            keeps its first `head_pieces` pieces and its last
            `max_length - 2 - head_pieces` (the run's "head_tail" cut,
            `export.runtime.packing.keep_pieces`); None keeps the first ones.
    """
    task = _task_of(model, task)
    backbone = getattr(model, "backbone", None)
    logits_layer = getattr(model, "logits_layer", None)
    layered = backbone is not None and logits_layer is not None and hasattr(backbone, "encoder")
    max_positions = getattr(getattr(backbone, "config", None), "max_position_embeddings", None)
    if max_positions is not None and max_length > max_positions:
        raise ValueError(
            f"max_length {max_length} exceeds the model's max_position_embeddings {max_positions}."
        )
    packed_table = None
    if int4_token_table and layered and hasattr(backbone.embeddings, "token_embedding"):
        packed_table = pack_int4_rows(np.asarray(backbone.embeddings.token_embedding.embeddings))
    positions = None
    if layered and hasattr(backbone.embeddings, "position_embedding"):
        positions = np.asarray(backbone.embeddings.position_embedding.embeddings)[:max_length]
    seq = None if dynamic_length else int(max_length)
    spec = [tf.TensorSpec([1, seq], tf.int32, name=name) for name in INPUT_NAMES]

    # MediaPipe feeds dynamic-length models untruncated texts: the graph cuts
    # them as the runtime does.
    clip = head_tail_clip(max_length, head_pieces)

    @tf.function(input_signature=spec)
    def serve(ids, mask, segment_ids):
        if dynamic_length:
            ids, mask, segment_ids = clip(ids), clip(mask), clip(segment_ids)
        if layered:
            # Batch 1 always: the encoder runs on [seq, width] (single_text_graph).
            token_lookup = None
            if packed_table is not None:
                token_lookup = lambda t: lookup(packed_table, t[None, :])[0]  # noqa: E731
            x = embed_single(backbone.embeddings, ids[0], segment_ids[0], token_lookup, positions)
            x = encode_single(backbone.encoder, x, mask[0], first_token_only, multiplicative_mask)
            logits = logits_layer(backbone.pooler(x[:1]))
        else:
            logits = model(
                {"token_ids": ids, "segment_ids": segment_ids, "padding_mask": mask},
                training=False,
            )
        logits = tf.cast(logits, tf.float32)
        probs = tf.nn.softmax(logits, axis=-1) if task == "single_label" else tf.sigmoid(logits)
        return {OUTPUT_NAME: probs}

    module = tf.Module()
    module.model = model  # tracks the variables for SavedModel
    module.serve = serve
    return module


def head_tail_clip(max_length: int, head_pieces: int | None = None):
    """`clip(t)` for a packed [1, seq] tensor (`[CLS] pieces [SEP]`): at most
    `max_length` tokens, keeping [CLS], the first `head_pieces` pieces (all of the
    budget for None), the last ones and [SEP] (`export.runtime.packing.cut_bounds`)."""
    budget = max_length - 2
    head = budget if head_pieces is None else head_pieces
    if not 0 <= head <= budget:
        raise ValueError(f"head_pieces {head_pieces} is outside 0..{budget}")

    def clip(t):
        # [CLS] counts with the head and [SEP] with the tail.
        split, start = cut_bounds(tf.shape(t)[1], max_length, head + 1, ops=tf)
        return tf.concat([t[:, :split], t[:, start:]], axis=1)

    return clip
