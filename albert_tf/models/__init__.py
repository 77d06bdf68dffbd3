"""Functional Keras models: the backbone and one file per head."""

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.models.masked_lm import AlbertMaskedLM
from albert_tf.models.masked_lm_head import MaskedLMHead
from albert_tf.models.pretrainer import AlbertPretrainer

__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertMaskedLM",
    "AlbertPretrainer",
    "MaskedLMHead",
]
