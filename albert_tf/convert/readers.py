"""Readers, one per checkpoint format, each giving a `Checkpoint` in canonical names.

Formats:
- Hugging Face ALBERT folder: `config.json` (model_type "albert") + `model.safetensors`.
- Hugging Face BERT folder (model_type "bert"): loads as an unshared ALBERT with
  no embedding projection; sentence-transformers folders (keys without the
  `bert.` prefix) too.
- The original Google release: `albert_config.json` + `model.ckpt-*` (TF1 names
  `bert/encoder/transformer/group_0/inner_group_0/...`), read with
  `tf.train.load_checkpoint`, no graph code.
- A keras-hub preset folder: `config.json` + `model.weights.h5`.
- An albert-tf folder: `model.keras` (what `albert-tf convert --to albert-tf` writes).
"""

from __future__ import annotations

import glob
import json
import os
import re

import numpy as np

import albert_tf.models  # noqa: F401  (registers the classes for load_model)
from albert_tf.config import AlbertConfig, ConfigError
from albert_tf.convert.checkpoint import Checkpoint, Tensor
from albert_tf.convert.errors import CheckpointError
from albert_tf.convert.keras_hub_weights import keras_hub_entries, keras_hub_to_config
from albert_tf.convert.safetensors_io import SafetensorsFile
from albert_tf.convert.weight_map import export_state, model_entries

PICKLE_FILES = (
    "pytorch_model.bin",
    "pytorch_model.bin.index.json",
    "tf_model.h5",
    "flax_model.msgpack",
)
SPM_NAMES = (
    "spiece.model",
    "30k-clean.model",
    "assets/tokenizer/vocabulary.spm",
    "sentencepiece.model",
)


def find_tokenizer_file(folder: str) -> str | None:
    for name in (*SPM_NAMES, "vocab.txt", "assets/tokenizer/vocabulary.txt"):
        path = os.path.join(folder, name)
        if os.path.isfile(path):
            return path
    return None


def _read_json(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            values = json.load(f)
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise CheckpointError(f"{path}: not valid JSON ({e}).") from e
    if not isinstance(values, dict):
        raise CheckpointError(f"{path}: expected a JSON object.")
    return values


def _config(values: dict, path: str, **overrides) -> AlbertConfig:
    try:
        return AlbertConfig.from_dict({**values, **overrides})
    except (ConfigError, TypeError) as e:
        raise CheckpointError(f"{path}: {e}") from e


# --------------------------------------------------------------- Hugging Face
def _safetensors_files(folder: str) -> list[str]:
    single = os.path.join(folder, "model.safetensors")
    if os.path.isfile(single):
        return [single]
    index = os.path.join(folder, "model.safetensors.index.json")
    if os.path.isfile(index):
        weight_map = _read_json(index).get("weight_map", {})
        return sorted({os.path.join(folder, f) for f in weight_map.values()})
    pickles = [p for p in PICKLE_FILES if os.path.exists(os.path.join(folder, p))]
    if pickles:
        raise CheckpointError(
            f"{folder}: holds {', '.join(pickles)} but no model.safetensors. Pickle-based "
            f"checkpoints can run code when loaded, so albert-tf never opens them. Convert them "
            f"once with transformers, e.g. `AutoModel.from_pretrained(folder)"
            f".save_pretrained(out, safe_serialization=True)`, or download the safetensors "
            f"version of the model."
        )
    raise CheckpointError(f"{folder}: no model.safetensors (nor a sharded index) found.")


def _open_safetensors(folder: str) -> dict[str, tuple[str, SafetensorsFile]]:
    """Raw tensor name -> (name, file) across all shards."""
    out = {}
    for path in _safetensors_files(folder):
        if not os.path.isfile(path):
            raise CheckpointError(f"{path}: listed in the shard index but missing.")
        f = SafetensorsFile(path)
        for key in f.keys():
            out[key] = (key, f)
    return out


def _tensor(name: str, f: SafetensorsFile) -> Tensor:
    return Tensor(name, f.path, lambda: f[name])


_BERT_LAYER_PARTS = {
    "attention.self.query": "attention.query",
    "attention.self.key": "attention.key",
    "attention.self.value": "attention.value",
    "attention.output.dense": "attention.dense",
    "attention.output.LayerNorm": "attention.LayerNorm",
    "intermediate.dense": "ffn",
    "output.dense": "ffn_output",
    "output.LayerNorm": "full_layer_layer_norm",
}
_BERT_OTHER = {
    "pooler.dense.": "pooler.",
    "cls.predictions.transform.dense.": "predictions.dense.",
    "cls.predictions.transform.LayerNorm.": "predictions.LayerNorm.",
    "cls.predictions.bias": "predictions.bias",
}


def bert_to_canonical(name: str) -> str | None:
    """A Hugging Face BERT tensor name -> canonical ALBERT name (layer i = group i)."""
    name = name.removeprefix("bert.")
    # Old BERT checkpoints name LayerNorm parameters gamma/beta.
    name = re.sub(r"LayerNorm\.gamma$", "LayerNorm.weight", name)
    name = re.sub(r"LayerNorm\.beta$", "LayerNorm.bias", name)
    m = re.fullmatch(r"encoder\.layer\.(\d+)\.(.+)\.(weight|bias)", name)
    if m:
        part = _BERT_LAYER_PARTS.get(m.group(2))
        if part is None:
            return None
        return f"encoder.albert_layer_groups.{m.group(1)}.albert_layers.0.{part}.{m.group(3)}"
    for old, new in _BERT_OTHER.items():
        if name.startswith(old):
            return new + name[len(old) :]
    if name.startswith(("embeddings.", "classifier.", "qa_outputs.")):
        return None if name.endswith("position_ids") else name
    return None


def read_huggingface(folder: str) -> Checkpoint:
    config_path = os.path.join(folder, "config.json")
    values = _read_json(config_path)
    model_type = values.get("model_type", "albert")
    raw = _open_safetensors(folder)
    tensors: dict[str, Tensor] = {}
    if model_type == "albert":
        config = _config(values, config_path, embedding_projection=True)
        for key, (name, f) in raw.items():
            tensors[key.removeprefix("albert.")] = _tensor(name, f)
        kind = "huggingface"
    elif model_type == "bert":
        layers = int(values.get("num_hidden_layers", 12))
        config = _config(
            values,
            config_path,
            embedding_size=values.get("hidden_size", 768),
            num_hidden_groups=layers,
            inner_group_num=1,
            embedding_projection=False,
        )
        for key, (name, f) in raw.items():
            canonical = bert_to_canonical(key)
            if canonical is not None:
                tensors[canonical] = _tensor(name, f)
        kind = "bert"
    else:
        raise CheckpointError(
            f"{config_path}: model_type {model_type!r} is neither 'albert' nor 'bert'."
        )
    extra = {
        k: values[k] for k in ("num_labels", "id2label", "label2id", "problem_type") if k in values
    }
    if "id2label" in values and "num_labels" not in extra:
        extra["num_labels"] = len(values["id2label"])
    return Checkpoint(
        kind=kind,
        label=folder,
        config=config,
        tensors=tensors,
        tokenizer_file=find_tokenizer_file(folder),
        architectures=tuple(values.get("architectures") or ()),
        extra=extra,
    )


# --------------------------------------------------------------- Google TF1
_GOOGLE_BLOCK_PARTS = {
    "attention_1/self/query": "attention.query",
    "attention_1/self/key": "attention.key",
    "attention_1/self/value": "attention.value",
    "attention_1/output/dense": "attention.dense",
    "LayerNorm": "attention.LayerNorm",
    "ffn_1/intermediate/dense": "ffn",
    "ffn_1/intermediate/output/dense": "ffn_output",
    "LayerNorm_1": "full_layer_layer_norm",
}
_GOOGLE_SCOPES = {
    "bert/embeddings/LayerNorm": "embeddings.LayerNorm",
    "bert/encoder/embedding_hidden_mapping_in": "encoder.embedding_hidden_mapping_in",
    "bert/pooler/dense": "pooler",
    "cls/predictions/transform/dense": "predictions.dense",
    "cls/predictions/transform/LayerNorm": "predictions.LayerNorm",
}
_GOOGLE_PARAM = {"kernel": "weight", "bias": "bias", "gamma": "weight", "beta": "bias"}


def google_to_canonical(name: str) -> tuple[str, bool] | None:
    """An original ALBERT TF1 variable name -> (canonical name, transpose?)."""
    name = name.removeprefix("module/")
    tables = {
        "bert/embeddings/word_embeddings": "embeddings.word_embeddings.weight",
        "bert/embeddings/position_embeddings": "embeddings.position_embeddings.weight",
        "bert/embeddings/token_type_embeddings": "embeddings.token_type_embeddings.weight",
        "cls/predictions/output_bias": "predictions.bias",
        # [2, H] and [num_labels, H] are stored [out, in] already.
        "cls/seq_relationship/output_weights": "sop_classifier.classifier.weight",
        "cls/seq_relationship/output_bias": "sop_classifier.classifier.bias",
        "output_weights": "classifier.weight",
        "output_bias": "classifier.bias",
    }
    if name in tables:
        return tables[name], False
    scope, _, param = name.rpartition("/")
    if param not in _GOOGLE_PARAM:
        return None
    m = re.fullmatch(r"bert/encoder/transformer/group_(\d+)/inner_group_(\d+)/(.+)", scope)
    if m:
        part = _GOOGLE_BLOCK_PARTS.get(m.group(3))
        if part is None:
            return None
        base = f"encoder.albert_layer_groups.{m.group(1)}.albert_layers.{m.group(2)}.{part}"
    elif scope in _GOOGLE_SCOPES:
        base = _GOOGLE_SCOPES[scope]
    else:
        return None
    return f"{base}.{_GOOGLE_PARAM[param]}", param == "kernel"


def find_google_checkpoint(folder: str) -> str:
    """The checkpoint prefix inside a Google release folder."""
    import tensorflow as tf

    latest = tf.train.latest_checkpoint(folder)
    if latest and os.path.exists(latest + ".index"):
        return latest
    indexes = sorted(glob.glob(os.path.join(folder, "*.ckpt*.index")))
    if not indexes:
        raise CheckpointError(f"{folder}: no model.ckpt-*.index file found.")

    def step(path):
        m = re.search(r"-(\d+)\.index$", path)
        return int(m.group(1)) if m else (10**12 if path.endswith("-best.index") else -1)

    return max(indexes, key=step)[: -len(".index")]


def read_google(folder_or_prefix: str) -> Checkpoint:
    import tensorflow as tf

    if os.path.isdir(folder_or_prefix):
        folder, prefix = folder_or_prefix, find_google_checkpoint(folder_or_prefix)
    else:
        prefix = folder_or_prefix.removesuffix(".index")
        folder = os.path.dirname(prefix) or "."
    config_path = os.path.join(folder, "albert_config.json")
    if not os.path.isfile(config_path):
        raise CheckpointError(f"{folder}: no albert_config.json beside the checkpoint.")
    values = _read_json(config_path)
    try:
        reader = tf.train.load_checkpoint(prefix)
        shapes = reader.get_variable_to_shape_map()
    except Exception as e:  # TF raises DataLossError, NotFoundError, ...
        raise CheckpointError(f"{prefix}: cannot open the TF checkpoint ({e}).") from e
    tensors: dict[str, Tensor] = {}
    data_file = prefix + ".data-*"
    for var in shapes:
        mapped = google_to_canonical(var)
        if mapped is None:
            continue  # optimizer slots, global_step, ...
        canonical, transpose = mapped

        def read(var=var, transpose=transpose):
            value = reader.get_tensor(var)
            return value.T if transpose else value

        tensors[canonical] = Tensor(var, data_file, read)
    # The original code's "gelu" is the tanh approximation (Hugging Face's
    # "gelu_new"); exact erf GELU would be a small but real numerical change.
    act = values.get("hidden_act", "gelu")
    overrides = {"hidden_act": "gelu_new" if act == "gelu" else act}
    e, h = values.get("embedding_size", 128), values.get("hidden_size", 768)
    overrides["embedding_projection"] = (
        e != h or "encoder.embedding_hidden_mapping_in.weight" in tensors
    )
    if "embedding_size" not in values:
        overrides["embedding_size"] = h
    config = _config(values, config_path, **overrides)
    extra = {}
    if "classifier.weight" in tensors:
        extra["num_labels"] = (
            int(shapes["output_weights"][0]) if "output_weights" in shapes else None
        )
    return Checkpoint(
        kind="google",
        label=prefix,
        config=config,
        tensors=tensors,
        tokenizer_file=find_tokenizer_file(folder),
        architectures=(),
        extra=extra,
    )


# --------------------------------------------------------------- keras-hub
def read_keras_hub(folder: str) -> Checkpoint:
    import keras_hub

    weights = os.path.join(folder, "model.weights.h5")
    try:
        kh = keras_hub.models.AlbertBackbone.from_preset(folder)
    except Exception as e:
        raise CheckpointError(f"{weights}: cannot load the keras-hub preset ({e}).") from e
    state = export_state(keras_hub_entries(kh))
    tensors = {n: Tensor(n, weights, lambda v=v: v) for n, v in state.items()}
    return Checkpoint(
        kind="keras-hub",
        label=folder,
        config=keras_hub_to_config(kh),
        tensors=tensors,
        tokenizer_file=find_tokenizer_file(folder),
    )


# --------------------------------------------------------------- albert-tf
def read_albert_tf(folder: str) -> Checkpoint:
    import keras

    path = os.path.join(folder, "model.keras")
    try:
        model = keras.saving.load_model(path, compile=False)
    except Exception as e:
        raise CheckpointError(f"{path}: cannot load the Keras model ({e}).") from e
    backbone_e, head_e = model_entries(model)
    state = export_state(backbone_e + head_e)
    tensors = {n: Tensor(n, path, lambda v=v: v) for n, v in state.items()}
    backbone = getattr(model, "backbone", model)
    extra = {}
    if getattr(model, "num_labels", None):
        extra["num_labels"] = model.num_labels
    problem = {
        "single_label": "single_label_classification",
        "multi_label": "multi_label_classification",
    }
    if getattr(model, "problem_type", None):
        extra["problem_type"] = problem.get(model.problem_type, model.problem_type)
    preprocessor = getattr(model, "preprocessor", None)  # a TextClassifier carries its own
    return Checkpoint(
        kind="albert-tf",
        label=folder,
        config=backbone.config,
        tensors=tensors,
        tokenizer_file=None if preprocessor else find_tokenizer_file(folder),
        tokenizer=preprocessor.tokenizer if preprocessor else None,
        architectures=(type(model).__name__,),
        extra=extra,
    )


def np_float32(value) -> np.ndarray:
    return np.asarray(value, dtype=np.float32)
