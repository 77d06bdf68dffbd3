"""Load pretrained weights into albert-tf models from any supported source.

SOURCE is detected by its files:

| files | format |
| --- | --- |
| `config.json` + `model.safetensors` (model_type albert / bert) | Hugging Face |
| `hf://owner/name` | downloaded with `huggingface_hub` (online only) |
| `albert_config.json` + `model.ckpt-*` | original Google release |
| `config.json` + `model.weights.h5` | keras-hub preset |
| `model.keras` | albert-tf (`albert-tf convert --to albert-tf`) |

Example:
>>> from albert_tf.convert import load_backbone, load_classifier
>>> backbone = load_backbone("albert-base-v2/")  # doctest: +SKIP
>>> model = load_classifier("albert-base-v2/", num_labels=3)  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import os
from typing import Any

from albert_tf.convert import readers
from albert_tf.convert.checkpoint import Checkpoint
from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.weight_map import (
    _dense,
    assign_state,
    backbone_entries,
    mlm_entries,
)
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.models.masked_lm import AlbertMaskedLM
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.pretrainer import AlbertPretrainer
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from albert_tf.models.text_classifier import TextClassifier
from albert_tf.models.text_preprocessor import TextPreprocessor
from albert_tf.models.token_classifier import AlbertTokenClassifier
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, RUN_TRUNCATION, AlbertTokenizer
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

logger = logging.getLogger(__name__)

HF_PREFIX = "hf://"

# Hugging Face head classes -> the canonical tensor prefix they carry.
_ARCH_HEADS = {
    "AlbertForPreTraining": ("predictions.", "sop_classifier."),
    "AlbertForMaskedLM": ("predictions.",),
    "BertForMaskedLM": ("predictions.",),
    "BertForPreTraining": ("predictions.",),
    "AlbertForSequenceClassification": ("classifier.",),
    "BertForSequenceClassification": ("classifier.",),
    "AlbertForTokenClassification": ("classifier.",),
    "BertForTokenClassification": ("classifier.",),
    "AlbertForQuestionAnswering": ("qa_outputs.",),
    "BertForQuestionAnswering": ("qa_outputs.",),
    "AlbertForMultipleChoice": ("classifier.",),
    "BertForMultipleChoice": ("classifier.",),
}


def _download(repo_id: str) -> str:
    try:
        from huggingface_hub import snapshot_download
    except ImportError as e:
        raise CheckpointError(
            f"{HF_PREFIX}{repo_id}: downloading needs huggingface_hub "
            f"(`pip install 'albert-tf[hub]'`), or download the folder yourself and pass its path."
        ) from e
    try:
        return snapshot_download(
            repo_id,
            allow_patterns=["*.json", "*.safetensors", "spiece.model", "*.model", "vocab.txt"],
        )
    except Exception as e:  # offline, unknown repo, gated model, ...
        raise CheckpointError(
            f"{HF_PREFIX}{repo_id}: download failed ({type(e).__name__}: {e}). Are you online? "
            f"A local folder with config.json + model.safetensors works offline."
        ) from e


def source_kind(path: str) -> str:
    """ "huggingface", "google", "keras-hub" or "albert-tf", from the files in `path`."""
    if os.path.isfile(path) or os.path.isfile(path + ".index"):
        if ".ckpt" in os.path.basename(path):
            return "google"
        raise CheckpointError(
            f"{path}: pass the folder that holds the checkpoint (config + weights), not a file."
        )
    if not os.path.isdir(path):
        raise CheckpointError(f"{path}: no such folder (nor an {HF_PREFIX}owner/name).")

    def has(name):
        return os.path.exists(os.path.join(path, name))

    if has("model.keras"):
        return "albert-tf"
    if has("config.json") and has("model.weights.h5"):
        return "keras-hub"
    if has("albert_config.json"):
        return "google"
    if has("config.json"):
        return "huggingface"
    raise CheckpointError(
        f"{path}: not a checkpoint folder I know: expected config.json + model.safetensors "
        f"(Hugging Face), albert_config.json + model.ckpt-* (Google), config.json + "
        f"model.weights.h5 (keras-hub) or model.keras (albert-tf)."
    )


def open_checkpoint(source: str | os.PathLike | Checkpoint) -> Checkpoint:
    """Detect SOURCE's format and open it (tensors are read lazily where possible)."""
    if isinstance(source, Checkpoint):
        return source
    source = os.fspath(source)
    if source.startswith(HF_PREFIX):
        source = _download(source[len(HF_PREFIX) :].strip("/"))
    kind = source_kind(source)
    reader = {
        "huggingface": readers.read_huggingface,
        "google": readers.read_google,
        "keras-hub": readers.read_keras_hub,
        "albert-tf": readers.read_albert_tf,
    }[kind]
    return reader(source)


def load_tokenizer(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """The tokenizer that comes with SOURCE, or None when it has no tokenizer file.

    `spiece.model` (or `30k-clean.model`, keras-hub's `vocabulary.spm`) gives an
    `AlbertTokenizer`; BERT's `vocab.txt` gives a `WordPieceTokenizer`.
    """
    path = source.tokenizer_file if isinstance(source, Checkpoint) else None
    if path is None and not isinstance(source, Checkpoint):
        source = os.fspath(source)
        path = readers.find_tokenizer_file(source) if os.path.isdir(source) else None
        own = os.path.isdir(source) and os.path.isfile(os.path.join(source, "model.keras"))
        if path is None and (own or source.startswith(HF_PREFIX) or not os.path.isdir(source)):
            # A remote or single-file source, or an albert-tf model holding its own.
            source = open_checkpoint(source)
            path = source.tokenizer_file
    if path is None:
        return getattr(source, "tokenizer", None)
    if path.endswith(".txt"):
        return WordPieceTokenizer.load(path, **kwargs)

    return AlbertTokenizer.load(path, **kwargs)


def _carries(ckpt: Checkpoint, prefix: str, head_classes: tuple[str, ...]) -> bool:
    """Does the checkpoint hold this head's weights? `classifier.*` is shared by three
    Hugging Face heads, so `architectures` decides when it is known."""
    if not ckpt.has_prefix(prefix):
        return False
    if prefix != "classifier." or not ckpt.architectures:
        return True
    return any(a in head_classes for a in ckpt.architectures)


def _backbone(ckpt: Checkpoint, backbone_kwargs: dict[str, Any]):
    backbone = AlbertBackbone(ckpt.config, **backbone_kwargs)
    # Hugging Face heads built without a pooler (masked LM, token classification,
    # QA) save none; the pooler then keeps its initial weights, as in transformers.
    pooler = ("pooler.weight", "pooler.bias")
    if not all(ckpt.has(n) for n in pooler):
        logger.warning("%s has no pooler weights; pooled_output starts untrained.", ckpt.label)
    assign_state(backbone_entries(backbone), ckpt, optional=pooler)
    return backbone


def _split_kwargs(kwargs: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    backbone_keys = {"output_hidden_states", "dtype"}
    return (
        {k: v for k, v in kwargs.items() if k in backbone_keys},
        {k: v for k, v in kwargs.items() if k not in backbone_keys},
    )


def _with_classifier_head(source, kwargs: dict[str, Any], hf_head: str, *ours: str):
    """(checkpoint, backbone, head arguments, whether the checkpoint carries the
    `classifier.` head of Hugging Face's `Albert<hf_head>` / `Bert<hf_head>` or our
    `ours`) for a model whose head is named "classifier" there."""
    ckpt = open_checkpoint(source)
    backbone_kw, head_kw = _split_kwargs(kwargs)
    backbone = _backbone(ckpt, backbone_kw)
    carried = _carries(ckpt, "classifier.", (f"Albert{hf_head}", f"Bert{hf_head}", *ours))
    return ckpt, backbone, head_kw, carried


def load_backbone(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """An `AlbertBackbone` with SOURCE's weights.

    Args:
        source: a folder (see the module docstring) or `hf://owner/name`.
        **kwargs: `AlbertBackbone` arguments (`output_hidden_states`, `dtype`).
    """
    ckpt = open_checkpoint(source)
    return _backbone(ckpt, kwargs)


def _head_num_labels(ckpt: Checkpoint, name: str, num_labels: int | None, default: int) -> int:
    stored = ckpt.shape(name)[0] if ckpt.has(name) else None
    if num_labels is None:
        return stored or ckpt.extra.get("num_labels") or default
    if stored is not None and stored != num_labels:
        raise CheckpointError(
            f"{ckpt.where(name)}: the checkpoint's head has {stored} labels but num_labels="
            f"{num_labels} was asked for; pass num_labels={stored}, or load_backbone() and "
            f"put a fresh head on it."
        )
    return num_labels


_PROBLEM_TYPES = {
    "single_label_classification": "single_label",
    "multi_label_classification": "multi_label",
    "regression": "regression",
}


def load_classifier(
    source: str | os.PathLike | Checkpoint, num_labels: int | None = None, **kwargs: Any
):
    """An `AlbertClassifier`; its head comes from SOURCE when SOURCE carries one
    (Hugging Face `AlbertForSequenceClassification`, Google `output_weights`),
    otherwise it is freshly initialized.

    Args:
        num_labels: None takes the checkpoint's (or 2).
        **kwargs: backbone arguments (`dtype`, `output_hidden_states`) and
            classifier arguments (`dropout`, `problem_type`).
    """

    ckpt, backbone, head_kw, carried = _with_classifier_head(
        source, kwargs, "ForSequenceClassification", "AlbertClassifier", "TextClassifier"
    )
    if carried:
        num_labels = _head_num_labels(ckpt, "classifier.weight", num_labels, 2)
        problem = _PROBLEM_TYPES.get(ckpt.extra.get("problem_type"))
        if problem and "problem_type" not in head_kw:
            head_kw["problem_type"] = problem
    model = AlbertClassifier(backbone, num_labels=num_labels or 2, **head_kw)
    if carried:
        assign_state(_dense(model.get_layer("logits"), "classifier"), ckpt)
    else:
        logger.info("%s carries no sequence-classification head; it starts fresh.", ckpt.label)
    return model


def load_masked_lm(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """An `AlbertMaskedLM` (backbone + tied masked-LM head) with SOURCE's weights."""

    ckpt = open_checkpoint(source)
    model = AlbertMaskedLM(_backbone(ckpt, kwargs))
    assign_state(mlm_entries(model.get_layer("mlm_head")), ckpt)
    return model


def load_pretrainer(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """An `AlbertPretrainer` (masked LM + sentence-order head), e.g. to continue
    pre-training. A checkpoint without the SOP head gets a fresh one."""

    ckpt = open_checkpoint(source)
    model = AlbertPretrainer(_backbone(ckpt, kwargs))
    assign_state(mlm_entries(model.get_layer("mlm_head")), ckpt)
    sop = _dense(model.get_layer("sop_classifier"), "sop_classifier.classifier")
    assign_state(sop, ckpt, optional=tuple(e.name for e in sop))
    return model


def load_text_classifier(
    source: str | os.PathLike | Checkpoint,
    label_names: list[str],
    sequence_length: int = 128,
    **kwargs: Any,
) -> TextClassifier:
    """A `TextClassifier` from SOURCE's weights and tokenizer (long texts cut at head
    and tail, as new runs are trained), its outputs named `label_names`.

    Example:
    >>> clf = load_text_classifier("packaged-minilm/", ["neg", "pos"])  # doctest: +SKIP
    >>> clf.fit(texts, labels, epochs=2)                               # doctest: +SKIP
    """
    ckpt = open_checkpoint(source)
    tokenizer = load_tokenizer(ckpt)
    if tokenizer is None:
        raise CheckpointError(f"{ckpt.label} has no tokenizer file (spiece.model or vocab.txt).")
    tokenizer.truncation, tokenizer.head_share = RUN_TRUNCATION, HEAD_SHARE
    model = load_classifier(ckpt, num_labels=len(label_names), **kwargs)
    return TextClassifier.from_classifier(
        model, TextPreprocessor(tokenizer, sequence_length, label_names)
    )


def load_token_classifier(
    source: str | os.PathLike | Checkpoint, num_labels: int | None = None, **kwargs: Any
):
    """An `AlbertTokenClassifier`; head from `AlbertForTokenClassification` if carried."""

    ckpt, backbone, head_kw, carried = _with_classifier_head(
        source, kwargs, "ForTokenClassification", "AlbertTokenClassifier"
    )
    if carried:
        num_labels = _head_num_labels(ckpt, "classifier.weight", num_labels, 2)
    model = AlbertTokenClassifier(backbone, num_labels=num_labels or 2, **head_kw)
    if carried:
        assign_state(_dense(model.get_layer("logits"), "classifier"), ckpt)
    return model


def load_question_answerer(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """An `AlbertQuestionAnswerer`; head from `AlbertForQuestionAnswering` if carried."""

    ckpt = open_checkpoint(source)
    model = AlbertQuestionAnswerer(_backbone(ckpt, kwargs))
    if ckpt.has_prefix("qa_outputs."):
        assign_state(_dense(model.get_layer("qa_outputs"), "qa_outputs"), ckpt)
    return model


def load_multiple_choice(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """An `AlbertMultipleChoice`; head from `AlbertForMultipleChoice` if carried."""

    ckpt, backbone, head_kw, carried = _with_classifier_head(
        source, kwargs, "ForMultipleChoice", "AlbertMultipleChoice"
    )
    model = AlbertMultipleChoice(backbone, **head_kw)
    if carried:
        assign_state(_dense(model.get_layer("logits"), "classifier"), ckpt)
    return model


def load_model(source: str | os.PathLike | Checkpoint, **kwargs: Any):
    """The model that fits what SOURCE carries: a head model when its
    `architectures` (or its tensors) name one, otherwise the backbone."""
    ckpt = open_checkpoint(source)
    arch = ckpt.architectures[0] if ckpt.architectures else ""
    # (architecture suffix, our class, the tensor prefix that marks the head in a
    # checkpoint that names no architecture, loader), in the order they are tried.
    heads = (
        ("ForPreTraining", "AlbertPretrainer", "sop_classifier.", load_pretrainer),
        ("ForMaskedLM", "AlbertMaskedLM", "predictions.", load_masked_lm),
        ("ForTokenClassification", "AlbertTokenClassifier", None, load_token_classifier),
        ("ForQuestionAnswering", "AlbertQuestionAnswerer", "qa_outputs.", load_question_answerer),
        ("ForMultipleChoice", "AlbertMultipleChoice", None, load_multiple_choice),
        ("ForSequenceClassification", "AlbertClassifier", "classifier.", load_classifier),
        ("ForSequenceClassification", "TextClassifier", None, load_classifier),
    )
    for suffix, ours, prefix, loader in heads:
        unnamed = not arch and prefix is not None and ckpt.has_prefix(prefix)
        if arch.endswith(suffix) or arch == ours or unnamed:
            return loader(ckpt, **kwargs)
    return load_backbone(ckpt, **kwargs)
