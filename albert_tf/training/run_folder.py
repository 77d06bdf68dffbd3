"""The run folder: everything a trained model needs later (export, predict, evaluate).

Layout:
    model.keras          the trained Keras model (best checkpoint)
    spiece.model         the tokenizer
    labels.txt           label names, one per line, in output index order
    albert_config.json   the backbone's AlbertConfig
    run.json             task, max_length, dataset, metrics
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from typing import Any

MODEL_FILE = "model.keras"
TOKENIZER_FILE = "spiece.model"
LABELS_FILE = "labels.txt"
CONFIG_FILE = "albert_config.json"
RUN_FILE = "run.json"


@dataclass
class Run:
    """What `load_run` returns."""

    path: str
    model: Any
    tokenizer: Any
    labels: list[str]
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def max_length(self) -> int:
        return int(self.info.get("max_length", 128))

    @property
    def task(self) -> str:
        return str(self.info.get("task", "single_label"))


def write_text_atomic(path: str, text: str) -> None:
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.replace(tmp, path)


def write_labels(path: str, labels: list[str]) -> None:
    for label in labels:
        if "\n" in label or not label.strip():
            raise ValueError(
                f"Label {label!r} cannot be written to {path}: empty or has a newline."
            )
    write_text_atomic(path, "".join(f"{label}\n" for label in labels))


def read_labels(path: str) -> list[str]:
    if not os.path.exists(path):
        raise FileNotFoundError(f"Labels file not found: {path}")
    with open(path, encoding="utf-8") as f:
        labels = [line.rstrip("\n") for line in f if line.strip()]
    if not labels:
        raise ValueError(f"Labels file is empty: {path}")
    return labels


def save_run(
    run_dir: str,
    model,
    tokenizer,
    labels: list[str],
    info: dict[str, Any],
) -> str:
    """Write a run folder; files are written to temp names and renamed, so a
    crash never leaves a half-written model behind.

    The tokenizer goes in as spiece.model (SentencePiece), or through its own
    `save` (a WordPiece tokenizer writes vocab.txt: a student that kept its
    BERT teacher's vocabulary)."""
    os.makedirs(run_dir, exist_ok=True)
    tmp_model = os.path.join(run_dir, f".tmp-{MODEL_FILE}")
    model.save(tmp_model)
    os.replace(tmp_model, os.path.join(run_dir, MODEL_FILE))
    backbone = getattr(model, "backbone", None)
    if backbone is not None:
        write_text_atomic(os.path.join(run_dir, CONFIG_FILE), backbone.config.to_json_string())
    if getattr(tokenizer, "serialized_model", None) is None:
        tokenizer.save(run_dir)
    else:
        tok_tmp = os.path.join(run_dir, f".tmp-{TOKENIZER_FILE}")
        with open(tok_tmp, "wb") as f:
            f.write(tokenizer.serialized_model)
        os.replace(tok_tmp, os.path.join(run_dir, TOKENIZER_FILE))
    write_labels(os.path.join(run_dir, LABELS_FILE), list(labels))
    write_text_atomic(os.path.join(run_dir, RUN_FILE), json.dumps(info, indent=2, default=str))
    return run_dir


def load_run(run_dir: str, compile: bool = False) -> Run:
    """Load a run folder written by `save_run` (or `albert-tf train`)."""
    import keras

    import albert_tf  # noqa: F401  (registers the custom layers)
    from albert_tf.tokenizer import AlbertTokenizer

    if not os.path.isdir(run_dir):
        raise FileNotFoundError(f"Run folder not found: {run_dir}")
    for name in (MODEL_FILE, TOKENIZER_FILE, LABELS_FILE):
        if not os.path.exists(os.path.join(run_dir, name)):
            raise FileNotFoundError(f"Run folder {run_dir} has no {name}")
    info: dict[str, Any] = {}
    run_file = os.path.join(run_dir, RUN_FILE)
    if os.path.exists(run_file):
        with open(run_file, encoding="utf-8") as f:
            info = json.load(f)
    try:
        model = keras.models.load_model(os.path.join(run_dir, MODEL_FILE), compile=compile)
    except Exception as e:  # corrupt zip, missing weights, unknown class
        raise ValueError(f"Cannot load {os.path.join(run_dir, MODEL_FILE)}: {e}") from e
    tokenizer = AlbertTokenizer.load(os.path.join(run_dir, TOKENIZER_FILE))
    labels = read_labels(os.path.join(run_dir, LABELS_FILE))
    return Run(path=run_dir, model=model, tokenizer=tokenizer, labels=labels, info=info)


def copy_run(src: str, dst: str) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)
