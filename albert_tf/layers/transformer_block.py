"""One post-LayerNorm transformer encoder block, written for TFLite's builtin ops."""

from __future__ import annotations

import math

import keras
from keras import ops

from albert_tf.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="albert_tf")
class TransformerBlock(keras.layers.Layer):
    """Self-attention and a feed-forward network, each followed by add + LayerNorm.

    Attention is written with dense layers, reshapes, transposes and batched
    matmuls (no einsum) so that the TFLite converter maps every op to a builtin
    kernel. The padding mask arrives already additive, shape [batch, 1, 1, seq],
    computed once by the encoder rather than once per block.

    Args:
        hidden_size: H.
        num_attention_heads: heads; H must divide evenly.
        intermediate_size: width of the feed-forward layer.
        hidden_act: an activation name from Hugging Face configs ("gelu_new", ...).
        layer_norm_eps: LayerNorm epsilon.
        hidden_dropout: dropout on the attention output and the feed-forward output.
        attention_dropout: dropout on the attention probabilities.
        initializer_range: stddev of the truncated normal initializer.

    Example:
    >>> import numpy as np
    >>> block = TransformerBlock(16, 2, 32)
    >>> block(np.zeros((1, 4, 16), "float32"), np.zeros((1, 1, 1, 4), "float32")).shape
    (1, 4, 16)
    """

    def __init__(
        self,
        hidden_size: int,
        num_attention_heads: int,
        intermediate_size: int,
        hidden_act: str = "gelu_new",
        layer_norm_eps: float = 1e-12,
        hidden_dropout: float = 0.0,
        attention_dropout: float = 0.0,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if hidden_size % num_attention_heads:
            raise ValueError(
                f"hidden_size {hidden_size} is not divisible by num_attention_heads "
                f"{num_attention_heads}."
            )
        self.hidden_size = hidden_size
        self.num_attention_heads = num_attention_heads
        self.intermediate_size = intermediate_size
        self.hidden_act = hidden_act
        self.layer_norm_eps = layer_norm_eps
        self.hidden_dropout = hidden_dropout
        self.attention_dropout = attention_dropout
        self.initializer_range = initializer_range
        self.head_size = hidden_size // num_attention_heads
        # Public: the export graph (export/single_text_graph.py) applies it too.
        self.activation = get_activation(hidden_act)

        def dense(units, name):
            # A new initializer per layer: one unseeded Keras initializer draws the
            # same values on every call, so query, key, value and attention output
            # would start identical.
            init = keras.initializers.TruncatedNormal(stddev=initializer_range)
            return keras.layers.Dense(
                units, kernel_initializer=init, dtype=self.dtype_policy, name=name
            )

        def norm(name):
            return keras.layers.LayerNormalization(
                epsilon=layer_norm_eps, dtype=self.dtype_policy, name=name
            )

        self.query = dense(hidden_size, "query")
        self.key = dense(hidden_size, "key")
        self.value = dense(hidden_size, "value")
        self.attention_output = dense(hidden_size, "attention_output")
        self.attention_layer_norm = norm("attention_layer_norm")
        self.intermediate = dense(intermediate_size, "intermediate")
        self.output_dense = dense(hidden_size, "output")
        self.output_layer_norm = norm("output_layer_norm")
        self.attention_dropout_layer = keras.layers.Dropout(
            attention_dropout, dtype=self.dtype_policy
        )
        self.hidden_dropout_layer = keras.layers.Dropout(hidden_dropout, dtype=self.dtype_policy)

    def build(self, hidden_states_shape, attention_mask_shape=None):
        h = (None, None, self.hidden_size)
        for layer in (self.query, self.key, self.value, self.attention_output, self.intermediate):
            layer.build(h)
        self.output_dense.build((None, None, self.intermediate_size))
        self.attention_layer_norm.build(h)
        self.output_layer_norm.build(h)
        self.built = True

    def compute_dtype_kernels(self) -> dict:
        """The six dense kernels, read once (and cast once under mixed precision).

        Keras casts a float32 variable to the compute dtype on every read. A
        shared block is called once per layer, so without this each of its
        kernels would be cast (and its gradient cast back and summed in
        float32) `num_hidden_layers` times per step; called inside the
        encoder's autocast scope this casts each kernel once.
        """
        # ops.cast, not convert_to_tensor: the latter hands back the variable
        # itself, which would still be cast at every use.
        return {
            layer.name: ops.cast(layer.kernel, self.compute_dtype)
            for layer in (
                self.query,
                self.key,
                self.value,
                self.attention_output,
                self.intermediate,
                self.output_dense,
            )
        }

    @staticmethod
    def _dense(layer, x, kernels):
        if kernels is None:
            return layer(x)
        return ops.add(ops.matmul(x, kernels[layer.name]), ops.cast(layer.bias, x.dtype))

    def _split_heads(self, x, batch):
        # [batch * seq, H] -> [batch, heads, seq, head_size]
        x = ops.reshape(x, (batch, -1, self.num_attention_heads, self.head_size))
        return ops.transpose(x, (0, 2, 1, 3))

    def _rows(self, x):
        # [batch, seq, H] -> [batch * seq, H]. The dense layers run on rows: Keras
        # computes a rank-3 x rank-2 matmul with tf.tensordot, a chain of shape,
        # gather, prod, concat and reshape ops around every projection (a fixed
        # cost per call that dominated small models' forward pass).
        return ops.reshape(x, (-1, self.hidden_size))

    def call(
        self,
        hidden_states,
        attention_mask=None,
        training=None,
        return_attention: bool = False,
        kernels: dict | None = None,
        query_positions=None,
    ):
        """Args:
        hidden_states: [batch, seq, H].
        attention_mask: additive mask [batch, 1, 1, seq] (0 keep, large negative drop).
        return_attention: also return the attention probabilities.
        kernels: the dense kernels already in the compute dtype, from
            `compute_dtype_kernels()` (see there).
        query_positions: int [batch, P]: compute queries and the feed-forward
            network for these positions only (output [batch, P, H]); a
            pre-training last block needs [CLS] and the masked positions.
        """
        x, probs = self._attend(hidden_states, attention_mask, training, kernels, query_positions)
        ffn = self.activation(self._dense(self.intermediate, x, kernels))
        ffn = self._dense(self.output_dense, ffn, kernels)
        ffn = self.hidden_dropout_layer(ffn, training=training)
        batch = ops.shape(hidden_states)[0]
        out = ops.reshape(self.output_layer_norm(x + ffn), (batch, -1, self.hidden_size))
        if return_attention:
            return out, probs
        return out

    def feed_forward_activations(self, hidden_states, attention_mask=None):
        """[batch * seq, intermediate_size]: what the feed-forward units output
        (after the activation) for `hidden_states`, as `call` computes them."""
        x, _ = self._attend(hidden_states, attention_mask, False, None, None)
        return self.activation(self._dense(self.intermediate, x, None))

    def _attend(self, hidden_states, attention_mask, training, kernels, query_positions):
        """(rows after the attention sub-layer and its LayerNorm, attention probabilities)."""
        batch = ops.shape(hidden_states)[0]
        queries_from = hidden_states
        if query_positions is not None:
            index = ops.expand_dims(ops.cast(query_positions, "int32"), axis=-1)
            queries_from = ops.take_along_axis(hidden_states, index, axis=1)
        rows = self._rows(hidden_states)
        query_rows = rows if query_positions is None else self._rows(queries_from)
        q = self._split_heads(self._dense(self.query, query_rows, kernels), batch)
        k = self._split_heads(self._dense(self.key, rows, kernels), batch)
        v = self._split_heads(self._dense(self.value, rows, kernels), batch)

        scores = ops.matmul(q, ops.transpose(k, (0, 1, 3, 2)))
        scores = scores * ops.cast(1.0 / math.sqrt(self.head_size), scores.dtype)
        if attention_mask is not None:
            scores = scores + ops.cast(attention_mask, scores.dtype)
        # Softmax in float32 so that bfloat16/float16 training stays stable.
        probs = ops.cast(ops.softmax(ops.cast(scores, "float32"), axis=-1), v.dtype)
        probs_dropped = self.attention_dropout_layer(probs, training=training)
        context = ops.matmul(probs_dropped, v)
        context = self._rows(ops.transpose(context, (0, 2, 1, 3)))

        attn = self._dense(self.attention_output, context, kernels)
        attn = self.hidden_dropout_layer(attn, training=training)
        return self.attention_layer_norm(query_rows + attn), probs

    def compute_output_shape(self, hidden_states_shape, attention_mask_shape=None):
        return tuple(hidden_states_shape)

    def get_config(self):
        config = super().get_config()
        config.update(
            hidden_size=self.hidden_size,
            num_attention_heads=self.num_attention_heads,
            intermediate_size=self.intermediate_size,
            hidden_act=self.hidden_act,
            layer_norm_eps=self.layer_norm_eps,
            hidden_dropout=self.hidden_dropout,
            attention_dropout=self.attention_dropout,
            initializer_range=self.initializer_range,
        )
        return config
