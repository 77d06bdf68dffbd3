"""Write albert-tf models as Hugging Face folders, keras-hub presets or albert-tf folders.

Every writer fills a temporary folder beside OUT_DIR and renames it into
place, so an interrupted run leaves nothing half-written.

Example:
>>> from albert_tf.convert import load_classifier, save_huggingface
>>> model = load_classifier("albert-base-v2/", num_labels=3)  # doctest: +SKIP
>>> save_huggingface(model, "out/", tokenizer="albert-base-v2/spiece.model")  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from typing import Any

import numpy as np

from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.keras_hub_weights import config_to_keras_hub, keras_hub_entries
from albert_tf.convert.readers import find_tokenizer_file
from albert_tf.convert.safetensors_io import write_safetensors
from albert_tf.convert.weight_map import (
    InMemoryState,
    assign_state,
    backbone_entries,
    export_state,
    model_entries,
)
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

_HF_ARCHITECTURES = {
    "AlbertBackbone": "AlbertModel",
    "AlbertClassifier": "AlbertForSequenceClassification",
    "TextClassifier": "AlbertForSequenceClassification",
    "AlbertMaskedLM": "AlbertForMaskedLM",
    "AlbertPretrainer": "AlbertForPreTraining",
    "AlbertTokenClassifier": "AlbertForTokenClassification",
    "AlbertQuestionAnswerer": "AlbertForQuestionAnswering",
    "AlbertMultipleChoice": "AlbertForMultipleChoice",
}
_HF_PROBLEM = {
    "single_label": "single_label_classification",
    "multi_label": "multi_label_classification",
    "regression": "regression",
}


@contextlib.contextmanager
def _atomic_dir(out_dir: str | os.PathLike):
    """Yield a temp folder; on success it replaces OUT_DIR (which must be empty or absent)."""
    out_dir = os.path.abspath(os.fspath(out_dir))
    if os.path.lexists(out_dir) and not os.path.isdir(out_dir):
        raise FileExistsError(f"{out_dir} is an existing file, not a folder; choose a folder.")
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        raise FileExistsError(f"{out_dir}: folder exists and is not empty; choose a new one.")
    parent = os.path.dirname(out_dir)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".tmp-", dir=parent)
    try:
        yield tmp
        if os.path.isdir(out_dir):
            os.rmdir(out_dir)
        os.replace(tmp, out_dir)
    finally:
        if os.path.isdir(tmp):
            shutil.rmtree(tmp, ignore_errors=True)


def _write_json(values: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8") as f:
        json.dump(values, f, indent=2, sort_keys=True)
        f.write("\n")


def _copy_tokenizer(tokenizer: Any, folder: str, spm_name: str = "spiece.model") -> str | None:
    """Write the tokenizer: an object with `save(folder)`, bytes, or a file path."""
    if tokenizer is None:
        return None
    if isinstance(tokenizer, bytes):
        path = os.path.join(folder, spm_name)
        with open(path, "wb") as f:
            f.write(tokenizer)
        return path
    if isinstance(tokenizer, str | os.PathLike):
        src = os.fspath(tokenizer)
        if os.path.isdir(src):
            src = find_tokenizer_file(src)
            if src is None:
                raise FileNotFoundError(f"{tokenizer}: no spiece.model or vocab.txt in the folder.")
        name = "vocab.txt" if src.endswith(".txt") else spm_name
        dst = os.path.join(folder, name)
        shutil.copyfile(src, dst)
        return dst
    serialized = getattr(tokenizer, "serialized_model", None)
    if isinstance(serialized, bytes):
        return _copy_tokenizer(serialized, folder, spm_name)
    saved = tokenizer.save(folder)
    if isinstance(saved, str) and spm_name != "spiece.model" and saved.endswith("spiece.model"):
        os.replace(saved, os.path.join(folder, spm_name))
    return saved


def _is_bert_shaped(config) -> bool:
    return (
        not config.uses_projection
        and config.num_hidden_groups == config.num_hidden_layers
        and config.inner_group_num == 1
    )


def _canonical_to_bert(name: str) -> str:
    import re

    m = re.fullmatch(r"encoder\.albert_layer_groups\.(\d+)\.albert_layers\.0\.(.+)", name)
    if m:
        parts = {
            "attention.query": "attention.self.query",
            "attention.key": "attention.self.key",
            "attention.value": "attention.self.value",
            "attention.dense": "attention.output.dense",
            "attention.LayerNorm": "attention.output.LayerNorm",
            "ffn": "intermediate.dense",
            "ffn_output": "output.dense",
            "full_layer_layer_norm": "output.LayerNorm",
        }
        part, _, param = m.group(2).rpartition(".")
        return f"encoder.layer.{m.group(1)}.{parts[part]}.{param}"
    if name.startswith("pooler."):
        return "pooler.dense." + name[len("pooler.") :]
    if name.startswith("predictions.dense."):
        return "cls.predictions.transform.dense." + name[len("predictions.dense.") :]
    if name.startswith("predictions.LayerNorm."):
        return "cls.predictions.transform.LayerNorm." + name[len("predictions.LayerNorm.") :]
    if name == "predictions.bias":
        return "cls.predictions.bias"
    return name


def hf_state_dict(
    model, labels: list[str] | None = None
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """(tensors, config.json values) of `model` in Hugging Face format; `labels`
    (a run's labels.txt, in output order) name the classes in id2label."""

    backbone_e, head_e = model_entries(model)
    backbone = model if isinstance(model, AlbertBackbone) else model.backbone
    config = backbone.config
    state = export_state(backbone_e)
    heads = export_state(head_e)
    class_name = type(model).__name__
    arch = _HF_ARCHITECTURES.get(class_name)
    if arch is None:
        raise CheckpointError(f"{class_name} has no Hugging Face counterpart to write.")
    bert = _is_bert_shaped(config)
    values = {k: v for k, v in config.to_dict().items() if k != "embedding_projection"}
    if bert:
        arch = arch.replace("Albert", "Bert").replace("BertForPreTraining", "BertForMaskedLM")
        values.update(model_type="bert", architectures=[arch])
        for k in (
            "embedding_size",
            "num_hidden_groups",
            "inner_group_num",
            "classifier_dropout_prob",
        ):
            values.pop(k)
        prefix = "" if arch == "BertModel" else "bert."
        tensors = {prefix + _canonical_to_bert(k): v for k, v in state.items()}
        heads = {k: v for k, v in heads.items() if not k.startswith("sop_classifier.")}
        tensors.update({_canonical_to_bert(k): v for k, v in heads.items()})
        if "predictions.bias" in heads:
            tensors["cls.predictions.decoder.bias"] = heads["predictions.bias"]
    else:
        if not config.uses_projection:
            # Hugging Face ALBERT always has the E -> H layer; with E == H an
            # identity matrix gives exactly the same outputs.
            h = config.hidden_size
            state["encoder.embedding_hidden_mapping_in.weight"] = np.eye(h, dtype=np.float32)
            state["encoder.embedding_hidden_mapping_in.bias"] = np.zeros(h, np.float32)
        values.update(model_type="albert", architectures=[arch])
        prefix = "" if arch == "AlbertModel" else "albert."
        tensors = {prefix + k: v for k, v in state.items()}
        # The decoder weight and bias are tied to the token table and
        # predictions.bias; transformers does not store them either.
        tensors.update(heads)
    num_labels = getattr(model, "num_labels", None)
    if num_labels is not None and arch.endswith(("SequenceClassification", "TokenClassification")):
        if labels is not None and len(labels) != num_labels:
            raise CheckpointError(
                f"{len(labels)} label names given for a model with {num_labels} outputs."
            )
        names = list(labels) if labels is not None else [f"LABEL_{i}" for i in range(num_labels)]
        values["num_labels"] = num_labels
        values["id2label"] = {str(i): name for i, name in enumerate(names)}
        values["label2id"] = {name: i for i, name in enumerate(names)}
        problem = _HF_PROBLEM.get(getattr(model, "problem_type", None))
        if problem and arch.endswith("SequenceClassification"):
            values["problem_type"] = problem
    return tensors, values


def _hf_tokenizer_config(written: Any, tokenizer: Any, lower_case: bool | None) -> dict | None:
    """tokenizer_config.json for the tokenizer file written: without it transformers'
    AlbertTokenizer strips accents that a multilingual SentencePiece model (e5's)
    keeps: the fine-tuned French teacher on ONNX Runtime int8 scored 0.805 on its
    128 test texts that way, 0.852 read as this config says (transformers 5.3
    ignores `keep_accents`; benchmarks/peers/student_server.py applies it)."""
    if not isinstance(written, str):
        return None
    case = lower_case if lower_case is not None else getattr(tokenizer, "lower_case", None)
    if written.endswith(".txt"):
        case = WordPieceTokenizer.load(written).lower_case if case is None else case
        return {"tokenizer_class": "BertTokenizer", "do_lower_case": bool(case)}
    spm = AlbertTokenizer.load(written)
    case = spm.lower_case if case is None else case
    # A model whose own normalizer folds case (`nmt_nfkc_cf`, as a pruned teacher
    # vocabulary's) lower-cases without `lower_case`: transformers must too, since
    # its converted tokenizer drops that normalizer. Accents stay (sentencepiece.py).
    case = bool(case) or spm.normalization_rule.endswith("_cf")
    return {"tokenizer_class": "AlbertTokenizer", "do_lower_case": case, "keep_accents": True}


def save_huggingface(
    model,
    out_dir: str | os.PathLike,
    tokenizer: Any = None,
    labels: list[str] | None = None,
    lower_case: bool | None = None,
) -> str:
    """Write `config.json` + `model.safetensors` (+ `spiece.model`) for transformers.

    A backbone becomes `AlbertModel`; head models become the matching
    `AlbertFor...` class. A BERT-shaped model (no projection, one layer per
    group) becomes `BertModel` with `vocab.txt`.

    Args:
        model: an `AlbertBackbone` or an albert-tf head model.
        out_dir: a new (or empty) folder.
        tokenizer: an `AlbertTokenizer` / `WordPieceTokenizer`, a path to
            `spiece.model` / `vocab.txt` or a folder holding one, or None.
        labels: class names in output order for config.json's id2label
            (default LABEL_0, LABEL_1, ...).
        lower_case: whether the tokenizer lower-cases, for tokenizer_config.json
            (default: the tokenizer's own, or what its file implies).
    Returns:
        out_dir.
    """
    tensors, values = hf_state_dict(model, labels)
    with _atomic_dir(out_dir) as tmp:
        write_safetensors(tensors, os.path.join(tmp, "model.safetensors"))
        _write_json(values, os.path.join(tmp, "config.json"))
        written = _copy_tokenizer(tokenizer, tmp)
        config = _hf_tokenizer_config(written, tokenizer, lower_case)
        if config is not None:
            _write_json(config, os.path.join(tmp, "tokenizer_config.json"))
    return os.fspath(out_dir)


def save_keras_hub_preset(model, out_dir: str | os.PathLike, tokenizer: Any = None) -> str:
    """Write a keras-hub preset (`config.json`, `model.weights.h5`, `metadata.json`,
    `tokenizer.json` + `assets/tokenizer/vocabulary.spm`) that
    `keras_hub.models.AlbertBackbone.from_preset(out_dir)` loads.

    keras-hub presets here hold the backbone; heads are not written.
    """

    backbone = model if isinstance(model, AlbertBackbone) else model.backbone
    config = backbone.config
    kh = config_to_keras_hub(config)
    state = export_state(backbone_entries(backbone))
    if not config.uses_projection:
        h = config.hidden_size
        state["encoder.embedding_hidden_mapping_in.weight"] = np.eye(h, dtype=np.float32)
        state["encoder.embedding_hidden_mapping_in.bias"] = np.zeros(h, np.float32)
    assign_state(keras_hub_entries(kh), InMemoryState(state, "albert-tf model"))
    with _atomic_dir(out_dir) as tmp:
        kh.save_to_preset(tmp)
        if tokenizer is not None:
            import keras_hub

            spm_dir = tempfile.mkdtemp()
            try:
                path = _copy_tokenizer(tokenizer, spm_dir)
                if path is None or path.endswith(".txt"):
                    raise CheckpointError(
                        "keras-hub ALBERT presets need a SentencePiece tokenizer."
                    )
                keras_hub.models.AlbertTokenizer(proto=path).save_to_preset(tmp)
            finally:
                shutil.rmtree(spm_dir, ignore_errors=True)
    return os.fspath(out_dir)


def save_albert_tf(model, out_dir: str | os.PathLike, tokenizer: Any = None) -> str:
    """Write `model.keras` + `albert_config.json` (+ tokenizer file)."""

    backbone = model if isinstance(model, AlbertBackbone) else model.backbone
    with _atomic_dir(out_dir) as tmp:
        model.save(os.path.join(tmp, "model.keras"))
        backbone.config.to_json_file(os.path.join(tmp, "albert_config.json"))
        _copy_tokenizer(tokenizer, tmp)
    return os.fspath(out_dir)
