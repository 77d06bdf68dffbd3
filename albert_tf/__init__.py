"""albert-tf: ALBERT (A Lite BERT) for Keras 3, from training to quantized TFLite."""

import os

# TensorFlow's C++ start-up chatter hides our own messages; users can still
# raise the level by setting the variable themselves.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from albert_tf.config import AlbertConfig, ConfigError  # noqa: E402
from albert_tf.distillation import Distiller  # noqa: E402
from albert_tf.models import (  # noqa: E402
    AlbertBackbone,
    AlbertClassifier,
    AlbertMaskedLM,
    AlbertMultipleChoice,
    AlbertPretrainer,
    AlbertQuestionAnswerer,
    AlbertTokenClassifier,
)
from albert_tf.tokenizer import AlbertTokenizer  # noqa: E402
from albert_tf.wordpiece import WordPieceTokenizer  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "AlbertBackbone",
    "AlbertClassifier",
    "AlbertMaskedLM",
    "AlbertMultipleChoice",
    "AlbertPretrainer",
    "AlbertQuestionAnswerer",
    "AlbertTokenClassifier",
    "AlbertTokenizer",
    "AlbertConfig",
    "ConfigError",
    "Distiller",
    "WordPieceTokenizer",
    "__version__",
]
