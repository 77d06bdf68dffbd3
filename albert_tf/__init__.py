"""albert-tf: ALBERT (A Lite BERT) for Keras 3, from training to quantized TFLite.

The public names load lazily (on first use), so that `albert-tf predict` and
`albert-tf bench`, which run the TensorFlow-free edge runtime, never import
TensorFlow; `from albert_tf import AlbertBackbone` works as before.

Example:
>>> from albert_tf import AlbertConfig
>>> AlbertConfig.from_preset("tiny").num_hidden_layers  # doctest: +SKIP
2
"""

from __future__ import annotations

import importlib
import os
import sys

# TensorFlow's C++ start-up chatter hides our own messages; users can still
# raise the level by setting the variable themselves. Set before any module of
# ours imports TensorFlow.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"

# Public name -> the module that defines it.
_LAZY = {
    "AlbertConfig": "albert_tf.config",
    "ConfigError": "albert_tf.config",
    "Distiller": "albert_tf.distillation",
    "AlbertBackbone": "albert_tf.models",
    "AlbertClassifier": "albert_tf.models",
    "AlbertMaskedLM": "albert_tf.models",
    "AlbertMultipleChoice": "albert_tf.models",
    "AlbertPretrainer": "albert_tf.models",
    "AlbertQuestionAnswerer": "albert_tf.models",
    "AlbertTokenClassifier": "albert_tf.models",
    "TextClassifier": "albert_tf.models",
    "TextPreprocessor": "albert_tf.models",
    "AlbertTokenizer": "albert_tf.tokenizers",
    "WordPieceTokenizer": "albert_tf.tokenizers",
}

__all__ = [*sorted(_LAZY), "__version__"]


def lazy_names(module_name: str, names: dict[str, str]):
    """(`__getattr__`, `__dir__`) of a module whose `names` (public name -> the module
    that defines it) are imported on first use (this package, `albert_tf.distillation`)."""

    def __getattr__(name: str):
        if name in names:
            value = getattr(importlib.import_module(names[name]), name)
            setattr(sys.modules[module_name], name, value)  # later look-ups skip this hook
            return value
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    def __dir__() -> list[str]:
        return sorted(set(vars(sys.modules[module_name])) | set(names))

    return __getattr__, __dir__


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
