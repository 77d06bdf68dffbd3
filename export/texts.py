"""Held-out texts (verification) and training texts (int8 calibration) for an export.

Sources, in order: a texts file given by the user (`label<TAB>text` lines, or one
text per line without labels), else the dataset named in run.json, loaded with
`albert_tf.datasets.load`.

Example:
>>> calib, held_out, gold = load_texts(run, "heldout.tsv", {"neg": 0, "pos": 1})  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any


def read_texts_file(path: str, label_index: dict[str, int]) -> tuple[list[str], list[int] | None]:
    """`label<TAB>text` lines (labels must be the run's) or plain text lines."""
    if not os.path.exists(path):
        raise FileNotFoundError(f"Texts file not found: {path}")
    texts, gold = [], []
    with open(path, encoding="utf-8") as f:
        lines = [line.rstrip("\n") for line in f if line.strip()]
    if not lines:
        raise ValueError(f"Texts file is empty: {path}")
    labelled = all("\t" in line and line.split("\t", 1)[0] in label_index for line in lines)
    for line in lines:
        if labelled:
            label, text = line.split("\t", 1)
            gold.append(label_index[label])
            texts.append(text)
        else:
            texts.append(line)
    return texts, (gold if labelled else None)


def _split_parts(split: Any) -> tuple[list[str], list[Any]] | None:
    if split is None:
        return None
    if isinstance(split, tuple) and len(split) == 2:
        return list(split[0]), list(split[1])
    if isinstance(split, dict):
        for tk, lk in (("texts", "labels"), ("text", "label")):
            if tk in split and lk in split:
                return list(split[tk]), list(split[lk])
    if hasattr(split, "texts") and hasattr(split, "labels"):
        return list(split.texts), list(split.labels)
    return None


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _from_dataset(dataset: Any, label_index: dict[str, int]):
    name = dataset.get("name") if isinstance(dataset, dict) else dataset
    if not isinstance(name, str):
        return None
    try:
        from albert_tf.datasets import load
    except ImportError:
        return None
    data = load(name)
    train = _split_parts(_get(data, "train"))
    held = None
    for key in ("test", "validation", "dev"):
        held = _split_parts(_get(data, key))
        if held:
            break
    if train is None or held is None:
        return None
    names = getattr(data, "label_names", None) or _get(data, "label_names")

    def to_index(label):
        if isinstance(label, str):
            return label_index[label]
        if names is not None and names[int(label)] in label_index:
            return label_index[names[int(label)]]
        return int(label)

    return train[0], held[0], [to_index(label) for label in held[1]]


def load_texts(run, texts_file: str | None, label_index: dict[str, int]):
    """(calibration texts, held-out texts, held-out gold indices or None)."""
    if texts_file:
        texts, gold = read_texts_file(texts_file, label_index)
        return texts, texts, gold
    found = _from_dataset(run.info.get("dataset"), label_index)
    if found is None:
        raise ValueError(
            f"No held-out texts: run.json in {run.path} names no dataset that "
            "albert_tf.datasets can load; pass a texts file (--texts FILE, lines "
            "'label<TAB>text' or plain texts)."
        )
    return found
