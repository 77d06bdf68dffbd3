"""The exported forward pass for one text at a time, on 2-D [seq, width] tensors.

Exported classifiers always run batch 1 (the TextClassifier contract), so the
batch axis can be dropped for the whole encoder. That matters for the
dynamic-length model: Keras layers on [batch, seq, width] tensors of unknown
length make the converter emit SHAPE / GATHER / REDUCE_PROD / PACK chains
before every reshape and fully connected layer (about 400 small ops for
ALBERT-base), which cost time on every call and cut XNNPACK's delegated graph
into pieces. On [seq, width] tensors every dense layer is a plain
FULLY_CONNECTED and every reshape has a constant target shape, whatever the
length.

The functions reuse the trained model's own layers (no weights are copied), so
the result equals the Keras model's (tests compare them). This is the one
documented second forward pass of the encoder: training, distillation
(`AlbertBackbone.internals_model`) and evaluation all run the Keras graph; only
the export needs these batch-free shapes. It uses the blocks' public parts only.

Example:
>>> x = embed_single(backbone.embeddings, ids[0], segment_ids[0])  # doctest: +SKIP
>>> cls = encode_single(backbone.encoder, x, mask[0])[0]  # doctest: +SKIP
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import tensorflow as tf

from albert_tf.layers.shared_encoder import MASK_NEGATIVE


def embed_single(
    embeddings,
    ids: tf.Tensor,
    segment_ids: tf.Tensor,
    token_lookup: Callable[[tf.Tensor], tf.Tensor] | None = None,
    position_table: np.ndarray | None = None,
) -> tf.Tensor:
    """FactorizedEmbedding for one text: ids [seq] -> [seq, H].

    `token_lookup` replaces the token-table gather (a quantized table, say).
    `position_table` replaces the position variable by the rows a bundle can
    read (`embeddings.position_embedding.embeddings[:max_length]`, as numpy):
    the converter keeps a sliced table in float32, so the 512 rows of a 64-token
    bundle would otherwise all ship (229 KB for E = 112).
    """
    length = tf.shape(ids)[0]
    if token_lookup is None:
        tokens = tf.gather(embeddings.token_embedding.embeddings, ids)
    else:
        tokens = token_lookup(ids)
    table = embeddings.position_embedding.embeddings
    if position_table is not None:
        table = tf.constant(position_table, dtype=table.dtype)
    positions = table[:length]
    segments = tf.gather(embeddings.segment_embedding.embeddings, segment_ids)
    x = embeddings.layer_norm(tf.cast(tokens, positions.dtype) + positions + segments)
    if embeddings.projection_layer is not None:
        x = embeddings.projection_layer(x)
    return x


def _heads(block, x):
    # [seq, H] -> [heads, seq, head_size]; -1 is the only unknown, so the
    # reshape's target shape is a constant.
    x = tf.reshape(x, (-1, block.num_attention_heads, block.head_size))
    return tf.transpose(x, (1, 0, 2))


def block_single(
    block,
    x: tf.Tensor,
    mask: tf.Tensor,
    first_token_only: bool = False,
    multiplicative_mask: bool = False,
) -> tf.Tensor:
    """TransformerBlock.call (inference) for one text: [seq, H] -> [seq or 1, H].

    `mask` is [1, seq] float: additive (0 / -10000), or with
    `multiplicative_mask` 1.0 / 0.0 that multiplies the attention
    probabilities (then renormalized), which keeps int8 activations usable.
    """
    queries_from = x[:1] if first_token_only else x
    q = _heads(block, block.query(queries_from))
    k = _heads(block, block.key(x))
    v = _heads(block, block.value(x))
    scores = tf.matmul(q, k, transpose_b=True) * (1.0 / math.sqrt(block.head_size))
    if multiplicative_mask:
        probs = tf.nn.softmax(scores, axis=-1) * mask
        probs = probs / (tf.reduce_sum(probs, axis=-1, keepdims=True) + 1e-9)
    else:
        probs = tf.nn.softmax(scores + mask, axis=-1)
    context = tf.transpose(tf.matmul(probs, v), (1, 0, 2))
    context = tf.reshape(context, (-1, block.hidden_size))
    h = block.attention_layer_norm(queries_from + block.attention_output(context))
    ffn = block.output_dense(block.activation(block.intermediate(h)))
    return block.output_layer_norm(h + ffn)


def encode_single(
    encoder,
    x: tf.Tensor,
    padding_mask: tf.Tensor,
    first_token_only: bool = True,
    multiplicative_mask: bool = False,
) -> tf.Tensor:
    """SharedEncoder for one text: [seq, H] and padding mask [seq] -> [seq or 1, H]."""
    keep = tf.cast(padding_mask, x.dtype)[None, :]
    mask = keep if multiplicative_mask else (1.0 - keep) * MASK_NEGATIVE
    for layer_index in range(encoder.num_hidden_layers):
        group = encoder.group_of_layer(layer_index)
        for inner in range(encoder.inner_group_num):
            last = layer_index == encoder.num_hidden_layers - 1
            last = last and inner == encoder.inner_group_num - 1
            x = block_single(
                encoder.block(group, inner),
                x,
                mask,
                first_token_only=first_token_only and last,
                multiplicative_mask=multiplicative_mask,
            )
    return x
