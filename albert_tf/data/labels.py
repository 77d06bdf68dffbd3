"""The label vocabulary: label names <-> output indices, saved as labels.txt."""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from albert_tf.io.files import write_text_atomic
from export.runtime import LABELS_FILE


class UnknownLabelError(ValueError):
    """A label that the vocabulary (i.e. the training data) never saw."""


class LabelVocabulary:
    """Ordered label names; index i is output unit i of the classifier.

    Args:
        names: the label names in index order (unique, non-empty, no newline).

    Example:
    >>> vocab = LabelVocabulary.from_labels(["pos", "neg", "pos"])
    >>> vocab.names, vocab.encode(["neg", "pos"]).tolist()
    (['neg', 'pos'], [0, 1])
    >>> vocab.encode(["neutral"], source="test.csv", rows=[17])
    Traceback (most recent call last):
    UnknownLabelError: line 17 of test.csv: label 'neutral' not seen in training (known: neg, pos)
    """

    def __init__(self, names: Sequence[str]):
        names = [str(n) for n in names]
        if not names:
            raise ValueError("A label vocabulary needs at least one label")
        seen = set()
        for n in names:
            if not n.strip() or "\n" in n:
                raise ValueError(f"Label {n!r} is empty or has a newline")
            if n in seen:
                raise ValueError(f"Label {n!r} appears twice")
            seen.add(n)
        self.names = names
        self._index = {n: i for i, n in enumerate(names)}

    @classmethod
    def from_labels(cls, labels: Iterable[Any]) -> LabelVocabulary:
        """The sorted set of labels seen in training (lists count each item,
        for multi-label data). All-integer labels sort numerically ("2" < "10")."""
        found = set()
        for label in labels:
            if isinstance(label, list | tuple):
                found.update(str(x) for x in label)
            else:
                found.add(str(label))
        if all(_is_int(n) for n in found):
            return cls(sorted(found, key=int))
        return cls(sorted(found))

    @classmethod
    def load(cls, path: str | os.PathLike) -> LabelVocabulary:
        """Read labels.txt (or a folder holding one)."""
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, LABELS_FILE)
        return cls(read_labels(path))

    def save(self, path: str | os.PathLike) -> str:
        """Write labels.txt (a file path, or a folder that gets labels.txt); atomic."""
        path = os.fspath(path)
        if os.path.isdir(path):
            path = os.path.join(path, LABELS_FILE)
        write_labels(path, self.names)
        return path

    def __len__(self) -> int:
        return len(self.names)

    def __contains__(self, label: Any) -> bool:
        return str(label) in self._index

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LabelVocabulary) and self.names == other.names

    def __repr__(self) -> str:
        return f"LabelVocabulary({self.names!r})"

    def get_config(self) -> dict[str, Any]:
        return {"names": list(self.names)}

    def encode(
        self,
        labels: Sequence[Any],
        source: str | None = None,
        rows: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Label names -> int32 indices; an unseen label raises `UnknownLabelError`
        naming where it came from (`rows` are line numbers in `source`)."""
        out = np.empty(len(labels), dtype=np.int32)
        unknown = []
        for i, label in enumerate(labels):
            idx = self._index.get(str(label))
            if idx is None:
                unknown.append(i)
                out[i] = -1
            else:
                out[i] = idx
        if unknown:
            self._raise_unknown([str(labels[i]) for i in unknown], unknown, source, rows)
        return out

    def encode_multi_hot(
        self,
        labels: Sequence[Sequence[Any]],
        source: str | None = None,
        rows: Sequence[int] | None = None,
    ) -> np.ndarray:
        """Lists of label names -> float32 multi-hot rows, for multi-label tasks."""
        out = np.zeros((len(labels), len(self.names)), dtype=np.float32)
        bad_rows, bad_labels = [], []
        for i, row in enumerate(labels):
            items = row if isinstance(row, list | tuple) else [row]
            for label in items:
                idx = self._index.get(str(label))
                if idx is None:
                    bad_rows.append(i)
                    bad_labels.append(str(label))
                else:
                    out[i, idx] = 1.0
        if bad_rows:
            self._raise_unknown(bad_labels, bad_rows, source, rows)
        return out

    def encode_dataset(self, dataset) -> np.ndarray:
        """Encode a `TextDataset`'s labels, naming its file and lines on error."""
        if dataset.labels is None:
            raise ValueError(f"{dataset.source} has no labels")
        multi = any(isinstance(x, list | tuple) for x in dataset.labels)
        fn = self.encode_multi_hot if multi else self.encode
        return fn(dataset.labels, source=dataset.source, rows=dataset.rows)

    def decode(self, indices: Iterable[int]) -> list[str]:
        """Indices -> label names."""
        out = []
        for i in np.asarray(list(indices)).reshape(-1):
            if not 0 <= int(i) < len(self.names):
                raise ValueError(f"Label index {int(i)} is outside 0..{len(self.names) - 1}")
            out.append(self.names[int(i)])
        return out

    def _raise_unknown(self, labels, positions, source, rows) -> None:
        def where(i: int) -> str:
            place = f"line {rows[i]}" if rows is not None else f"example {i}"
            return f"{place} of {source}" if source else place

        known = ", ".join(self.names[:20]) + (" ..." if len(self.names) > 20 else "")
        msg = f"{where(positions[0])}: label {labels[0]!r} not seen in training (known: {known})"
        if len(positions) > 1:
            others = sorted(set(labels) - {labels[0]})
            msg += f"; {len(positions) - 1} more rows have unseen labels"
            if others:
                msg += f" ({', '.join(repr(x) for x in others[:10])})"
        raise UnknownLabelError(msg)


def write_labels(path: str, labels: Sequence[str]) -> None:
    """labels.txt: one name a line, in output index order (atomic)."""
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


def _is_int(text: str) -> bool:
    try:
        int(text)
    except ValueError:
        return False
    return True
