"""Factorized embedding: a small V x E token table, then a dense projection E -> H."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="albert_tf")
class FactorizedEmbedding(keras.layers.Layer):
    """Token + position + segment embeddings of width E, LayerNorm, dropout, E -> H.

    ALBERT's first parameter saving: the vocabulary table is V x E with E much
    smaller than H, and one dense layer lifts the sum to the encoder width.

    Args:
        vocab_size: V, rows of the token table.
        embedding_size: E.
        hidden_size: H; the output width when `projection` is on.
        max_position_embeddings: rows of the learned position table.
        type_vocab_size: number of segments.
        projection: use the E -> H dense layer (forced on when E != H).
        layer_norm_eps: LayerNorm epsilon.
        dropout: dropout rate after LayerNorm.
        initializer_range: stddev of the truncated normal initializer.

    Example:
    >>> import numpy as np
    >>> layer = FactorizedEmbedding(100, 8, 16, 32, 2)
    >>> layer(np.ones((2, 5), "int32"), np.zeros((2, 5), "int32")).shape
    (2, 5, 16)
    """

    def __init__(
        self,
        vocab_size: int,
        embedding_size: int,
        hidden_size: int,
        max_position_embeddings: int,
        type_vocab_size: int,
        projection: bool = True,
        layer_norm_eps: float = 1e-12,
        dropout: float = 0.0,
        initializer_range: float = 0.02,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.vocab_size = vocab_size
        self.embedding_size = embedding_size
        self.hidden_size = hidden_size
        self.max_position_embeddings = max_position_embeddings
        self.type_vocab_size = type_vocab_size
        self.projection = bool(projection or embedding_size != hidden_size)
        self.layer_norm_eps = layer_norm_eps
        self.dropout = dropout
        self.initializer_range = initializer_range

        def init():
            # A new initializer per table: one unseeded Keras initializer draws
            # the same values on every call of the same shape.
            return keras.initializers.TruncatedNormal(stddev=initializer_range)

        self.token_embedding = keras.layers.Embedding(
            vocab_size,
            embedding_size,
            embeddings_initializer=init(),
            dtype=self.dtype_policy,
            name="token_embedding",
        )
        self.position_embedding = keras.layers.Embedding(
            max_position_embeddings,
            embedding_size,
            embeddings_initializer=init(),
            dtype=self.dtype_policy,
            name="position_embedding",
        )
        self.segment_embedding = keras.layers.Embedding(
            type_vocab_size,
            embedding_size,
            embeddings_initializer=init(),
            dtype=self.dtype_policy,
            name="segment_embedding",
        )
        self.layer_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_eps, dtype=self.dtype_policy, name="embeddings_layer_norm"
        )
        self.dropout_layer = keras.layers.Dropout(dropout, dtype=self.dtype_policy)
        self.projection_layer = None
        if self.projection:
            self.projection_layer = keras.layers.Dense(
                hidden_size,
                kernel_initializer=init(),
                dtype=self.dtype_policy,
                name="embedding_projection",
            )

    def build(self, token_ids_shape, segment_ids_shape=None):
        self.token_embedding.build(token_ids_shape)
        self.position_embedding.build(token_ids_shape)
        self.segment_embedding.build(token_ids_shape)
        self.layer_norm.build((None, None, self.embedding_size))
        if self.projection_layer is not None:
            self.projection_layer.build((None, None, self.embedding_size))
        self.built = True

    def call(self, token_ids, segment_ids, training=None):
        seq_len = ops.shape(token_ids)[1]
        positions = ops.expand_dims(ops.arange(seq_len, dtype="int32"), 0)
        x = (
            self.token_embedding(token_ids)
            + self.position_embedding(positions)
            + self.segment_embedding(segment_ids)
        )
        x = self.layer_norm(x)
        x = self.dropout_layer(x, training=training)
        if self.projection_layer is not None:
            x = self.projection_layer(x)
        return x

    def compute_output_shape(self, token_ids_shape, segment_ids_shape=None):
        width = self.hidden_size if self.projection else self.embedding_size
        return tuple(token_ids_shape) + (width,)

    def get_config(self):
        config = super().get_config()
        config.update(
            vocab_size=self.vocab_size,
            embedding_size=self.embedding_size,
            hidden_size=self.hidden_size,
            max_position_embeddings=self.max_position_embeddings,
            type_vocab_size=self.type_vocab_size,
            projection=self.projection,
            layer_norm_eps=self.layer_norm_eps,
            dropout=self.dropout,
            initializer_range=self.initializer_range,
        )
        return config
