"""Functional Keras models: the backbone and one file per head."""

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.classifier import AlbertClassifier

__all__ = ["AlbertBackbone", "AlbertClassifier"]
