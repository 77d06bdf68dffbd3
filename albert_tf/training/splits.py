"""TextDataset (str labels) -> Split (encoded labels) for the task at hand."""

from __future__ import annotations

import numpy as np

from albert_tf.data.labels import LabelVocabulary
from albert_tf.data.readers import DataError, TextDataset
from albert_tf.data.split import Split


def regression_targets(dataset: TextDataset) -> np.ndarray:
    """Labels parsed as floats; a label that is not a number names its row."""
    out = np.empty(len(dataset), np.float32)
    for i, label in enumerate(dataset.labels or []):
        try:
            out[i] = float(label)
        except (TypeError, ValueError):
            raise DataError(
                f"{dataset.row_name(i)}: regression label {label!r} is not a number"
            ) from None
    return out


def to_split(dataset: TextDataset, vocab: LabelVocabulary | None, task: str) -> Split:
    """Encode labels: indices for single-label, multi-hot rows for multi-label,
    floats for regression. Unseen labels raise an error naming file and line."""
    if dataset.labels is None:
        raise DataError(f"{dataset.source} has no labels")
    if task == "regression":
        labels = regression_targets(dataset)
    else:
        assert vocab is not None
        labels = vocab.encode_dataset(dataset)
    return Split(dataset.texts, labels, dataset.pairs)


def label_vocabulary(train: TextDataset, task: str) -> LabelVocabulary | None:
    if task == "regression":
        return None
    vocab = LabelVocabulary.from_labels(train.labels or [])
    if task == "single_label" and len(vocab.names) < 2:
        # A one-label "classifier" scores 1.0 on anything and learns nothing.
        raise ValueError(
            f"{train.source or 'the training data'}: every row has the label "
            f"{vocab.names[0]!r}; a classifier needs at least two labels"
        )
    return vocab
