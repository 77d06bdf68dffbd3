"""Functional Keras models: the backbone and one file per head."""

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.models.masked_lm import AlbertMaskedLM
from albert_tf.models.masked_lm_head import MaskedLMHead
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.pretrainer import AlbertPretrainer
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from albert_tf.models.text_classifier import TextClassifier
from albert_tf.models.text_embedder import AlbertTextEmbedder, TextEmbedder
from albert_tf.models.text_preprocessor import TextPreprocessor
from albert_tf.models.token_classifier import AlbertTokenClassifier

__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertMaskedLM",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertQuestionAnswerer",
    "AlbertTextEmbedder",
    "AlbertTokenClassifier",
    "MaskedLMHead",
    "TextClassifier",
    "TextEmbedder",
    "TextPreprocessor",
]
