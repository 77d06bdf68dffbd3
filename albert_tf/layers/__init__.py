"""Keras layers that make up ALBERT."""

from albert_tf.layers.factorized_embedding import FactorizedEmbedding
from albert_tf.layers.shared_encoder import SharedEncoder, additive_attention_mask
from albert_tf.layers.transformer_block import TransformerBlock

__all__ = ["FactorizedEmbedding", "SharedEncoder", "TransformerBlock", "additive_attention_mask"]
