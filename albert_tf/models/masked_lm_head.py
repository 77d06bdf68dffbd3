"""MaskedLMHead: dense to E, activation, LayerNorm, then logits tied to the token table."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from albert_tf.layers.activations import get_activation


@keras.saving.register_keras_serializable(package="albert_tf")
class MaskedLMHead(keras.layers.Layer):
    """Masked-LM logits from encoder outputs, with the output tied to the embedding.

    `x -> dense(E) -> activation -> LayerNorm -> x @ token_table.T + output_bias`.
    The V x E token table belongs to the backbone; this layer owns only the
    dense layer ("dense"), the LayerNorm ("layer_norm") and the bias
    ("output_bias", size V). The Hugging Face names are `predictions.dense`,
    `predictions.LayerNorm` and `predictions.bias`.

    Logits come out in float32 even under a bfloat16 policy, so that the
    softmax cross-entropy over V classes keeps its precision.

    Args:
        token_embedding: the backbone's `keras.layers.Embedding` (V x E);
            its table is the output projection.
        hidden_act: activation after the dense layer (a Hugging Face name).
        layer_norm_eps: LayerNorm epsilon.
        initializer_range: stddev of the truncated normal initializer.

    Call args:
        inputs: [batch, seq, H] encoder output.
        mask_positions: optional int [batch, P]; when given, only those
            positions are scored ([batch, P, V]), otherwise all ([batch, seq, V]).

    Example:
    >>> import numpy as np
    >>> table = keras.layers.Embedding(100, 8)
    >>> table.build((None,))
    >>> head = MaskedLMHead(table)
    >>> head(np.zeros((2, 5, 16), "float32"), np.array([[1, 2], [0, 4]])).shape
    (2, 2, 100)
    """

    def __init__(
        self,
        token_embedding: keras.layers.Embedding,
        hidden_act: str = "gelu_new",
        layer_norm_eps: float = 1e-12,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if token_embedding is None:
            raise ValueError("MaskedLMHead needs the backbone's token_embedding layer.")
        # Held without Keras tracking: the table is the backbone's weight, and
        # tracking it here too would save it twice under two paths.
        object.__setattr__(self, "token_embedding", token_embedding)
        self.vocab_size = token_embedding.input_dim
        self.embedding_size = token_embedding.output_dim
        self.hidden_act = hidden_act
        self.layer_norm_eps = layer_norm_eps
        self.initializer_range = initializer_range
        self._activation = get_activation(hidden_act)

        self.dense = keras.layers.Dense(
            self.embedding_size,
            kernel_initializer=keras.initializers.TruncatedNormal(stddev=initializer_range),
            dtype=self.dtype_policy,
            name="dense",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="layer_norm"
        )

    @classmethod
    def for_backbone(cls, backbone, name: str = "mlm_head") -> MaskedLMHead:
        """The head of `backbone`: tied to its token table, set up as its config says."""
        config = backbone.config
        return cls(
            backbone.token_embedding,
            hidden_act=config.hidden_act,
            layer_norm_eps=config.layer_norm_eps,
            initializer_range=config.initializer_range,
            dtype=backbone.dtype_policy,
            name=name,
        )

    def build(self, inputs_shape, mask_positions_shape=None):
        self.dense.build((None, None, inputs_shape[-1]))
        self.layer_norm.build((None, None, self.embedding_size))
        self.output_bias = self.add_weight(
            name="output_bias", shape=(self.vocab_size,), initializer="zeros"
        )
        self.built = True

    def call(self, inputs, mask_positions=None):
        x = inputs
        if mask_positions is not None:
            index = ops.expand_dims(ops.cast(mask_positions, "int32"), axis=-1)
            x = ops.take_along_axis(x, index, axis=1)
        x = self.layer_norm(self._activation(self.dense(x)))
        table = ops.cast(self.token_embedding.embeddings, x.dtype)
        logits = ops.matmul(x, ops.transpose(table))
        return ops.cast(logits, "float32") + ops.cast(self.output_bias, "float32")

    def compute_output_shape(self, inputs_shape, mask_positions_shape=None):
        if mask_positions_shape is not None:
            return tuple(mask_positions_shape) + (self.vocab_size,)
        return tuple(inputs_shape[:-1]) + (self.vocab_size,)

    def compute_output_spec(self, inputs, mask_positions=None):
        shape = self.compute_output_shape(
            inputs.shape, None if mask_positions is None else mask_positions.shape
        )
        return keras.KerasTensor(shape, dtype="float32")

    def get_config(self) -> dict[str, Any]:
        # The token table is the backbone's: models rebuild the tie in from_config.
        config = super().get_config()
        config.update(
            token_embedding=keras.layers.serialize(self.token_embedding),
            hidden_act=self.hidden_act,
            layer_norm_eps=self.layer_norm_eps,
            initializer_range=self.initializer_range,
        )
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> MaskedLMHead:
        config = dict(config)
        if isinstance(config.get("token_embedding"), dict):
            config["token_embedding"] = keras.layers.deserialize(config["token_embedding"])
        return cls(**config)
