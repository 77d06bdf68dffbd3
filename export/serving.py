"""The inference graph that goes into TFLite: ids/mask/segment_ids -> probability.

Built from the trained classifier's own layers (no weights are copied), with two
changes that only an exported classifier can afford:
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

import math

import numpy as np
import tensorflow as tf

from export.embedding_quantization import int4_embeddings, pack_int4_rows

INPUT_NAMES = ("ids", "mask", "segment_ids")
OUTPUT_NAME = "probability"
TASKS = ("single_label", "multi_label")


def _task_of(model, task: str | None) -> str:
    task = task or getattr(model, "problem_type", None) or "single_label"
    if task not in TASKS:
        raise ValueError(
            f"Only classifiers can be exported to the TextClassifier contract; task is {task!r} "
            f"(expected one of {TASKS})."
        )
    return task


def _split_heads(block, x):
    x = tf.reshape(x, (tf.shape(x)[0], -1, block.num_attention_heads, block.head_size))
    return tf.transpose(x, (0, 2, 1, 3))


def _block_multiplicative(block, x, keep, first_token_only):
    """TransformerBlock.call (inference) with a multiplicative padding mask.

    Same weights and result as the block: softmax over the kept positions equals
    softmax over all positions, zeroed at padding, renormalized.
    `keep` is [batch, 1, 1, seq] of 1.0 / 0.0.
    """
    queries_from = x[:, :1, :] if first_token_only else x
    q = _split_heads(block, block.query(queries_from))
    k = _split_heads(block, block.key(x))
    v = _split_heads(block, block.value(x))
    scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(block.head_size))
    probs = tf.nn.softmax(scores, axis=-1) * keep
    probs = probs / (tf.reduce_sum(probs, axis=-1, keepdims=True) + 1e-9)
    context = tf.transpose(tf.matmul(probs, v), (0, 2, 1, 3))
    context = tf.reshape(context, (tf.shape(context)[0], -1, block.hidden_size))
    h = block.attention_layer_norm(queries_from + block.attention_output(context))
    ffn = block.output_dense(block._activation(block.intermediate(h)))
    return block.output_layer_norm(h + ffn)


def _encode_multiplicative(encoder, x, mask, first_token_only):
    keep = tf.cast(mask, x.dtype)[:, None, None, :]
    for layer_index in range(encoder.num_hidden_layers):
        group = encoder.group_of_layer(layer_index)
        for inner in range(encoder.inner_group_num):
            last = (
                layer_index == encoder.num_hidden_layers - 1
                and inner == encoder.inner_group_num - 1
            )
            x = _block_multiplicative(
                encoder.block(group, inner), x, keep, first_token_only and last
            )
    return x


def serving_module(
    model,
    max_length: int = 128,
    dynamic_length: bool = False,
    task: str | None = None,
    first_token_only: bool = True,
    multiplicative_mask: bool = False,
    int4_token_table: bool = False,
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
    seq = None if dynamic_length else int(max_length)
    spec = [tf.TensorSpec([1, seq], tf.int32, name=name) for name in INPUT_NAMES]

    def clip(t):
        # [CLS] a b ... [SEP] longer than max_length -> keep the first
        # max_length - 1 tokens and the last one ([SEP]): the runtime's
        # truncation. MediaPipe feeds dynamic-length models untruncated texts.
        n = tf.minimum(tf.shape(t)[1], max_length)
        return tf.concat([t[:, : n - 1], t[:, -1:]], axis=1)

    @tf.function(input_signature=spec)
    def serve(ids, mask, segment_ids):
        if dynamic_length:
            ids, mask, segment_ids = clip(ids), clip(mask), clip(segment_ids)
        if layered:
            if packed_table is not None:
                x = int4_embeddings(backbone.embeddings, ids, segment_ids, packed_table)
            else:
                x = backbone.embeddings(ids, segment_ids)
            if multiplicative_mask:
                x = _encode_multiplicative(backbone.encoder, x, mask, first_token_only)
            else:
                x = backbone.encoder(x, mask, first_token_only=first_token_only)
            pooled = backbone.pooler(x[:, 0, :])
            logits = logits_layer(pooled)
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
