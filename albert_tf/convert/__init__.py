"""Pretrained weights in and out: Hugging Face (ALBERT and BERT), the original
Google TF1 release, keras-hub presets, and albert-tf folders.

Example:
>>> from albert_tf.convert import load_backbone, save_huggingface
>>> backbone = load_backbone("albert-base-v2/")  # doctest: +SKIP
>>> save_huggingface(backbone, "copy/", tokenizer="albert-base-v2/")  # doctest: +SKIP
"""

from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.loading import (
    load_backbone,
    load_classifier,
    load_masked_lm,
    load_model,
    load_multiple_choice,
    load_pretrainer,
    load_question_answerer,
    load_text_classifier,
    load_token_classifier,
    load_tokenizer,
    open_checkpoint,
    source_kind,
)
from albert_tf.convert.packaged import load_minilm, minilm_tokenizer, packaged_model
from albert_tf.convert.saving import save_albert_tf, save_huggingface, save_keras_hub_preset

__all__ = [
    "CheckpointError",
    "load_backbone",
    "load_classifier",
    "load_text_classifier",
    "load_masked_lm",
    "load_minilm",
    "load_model",
    "load_multiple_choice",
    "load_pretrainer",
    "load_question_answerer",
    "load_token_classifier",
    "load_tokenizer",
    "minilm_tokenizer",
    "open_checkpoint",
    "packaged_model",
    "save_albert_tf",
    "save_huggingface",
    "save_keras_hub_preset",
    "source_kind",
]
