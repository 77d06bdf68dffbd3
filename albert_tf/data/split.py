"""Deterministic, stratified train/validation/test splits, and `Split`: one
split's texts with their labels encoded for training."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from albert_tf.data.readers import TextDataset


@dataclass
class Split:
    """Texts (and optional second texts) with encoded labels (int or float)."""

    texts: list[str]
    labels: np.ndarray
    pairs: list[str] | None = None

    def __post_init__(self):
        self.labels = np.asarray(self.labels)
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels.")
        if self.pairs is not None and len(self.pairs) != len(self.texts):
            raise ValueError(f"{len(self.texts)} texts but {len(self.pairs)} second texts.")


# The split a run makes of a single --data file (and the packaged sets use):
# run.json records it so that export and evaluate find the same test part.
DEFAULT_SPLIT = {"fractions": [0.8, 0.1, 0.1], "seed": 0}


def split_dataset(
    dataset: TextDataset,
    fractions: Sequence[float] = tuple(DEFAULT_SPLIT["fractions"]),
    seed: int = 0,
    stratify: bool = True,
) -> tuple[TextDataset, ...]:
    """Split into parts of the given fractions (e.g. train/validation/test).

    The same data and seed always give the same split. With `stratify` (and
    single labels), each label is split separately, so every part keeps the
    label balance; within a part the order is shuffled. A label with fewer
    examples than parts goes to the first part.

    Example:
    >>> train, validation, test = split_dataset(ds, (0.8, 0.1, 0.1), seed=0)
    """
    fractions = [float(f) for f in fractions]
    if len(fractions) < 2 or any(f < 0 for f in fractions) or abs(sum(fractions) - 1) > 1e-6:
        raise ValueError(
            f"fractions must be >= 2 non-negative numbers summing to 1, got {fractions}"
        )
    rng = np.random.default_rng(seed)
    n = len(dataset)
    if stratify and dataset.labels is not None and _single_labels(dataset.labels):
        groups: dict[str, list[int]] = defaultdict(list)
        for i, label in enumerate(dataset.labels):
            groups[str(label)].append(i)
        group_list = [groups[k] for k in sorted(groups)]
    else:
        group_list = [list(range(n))]
    parts: list[list[int]] = [[] for _ in fractions]
    for members in group_list:
        members = np.asarray(members)[rng.permutation(len(members))]
        for p, chunk in enumerate(_cut(members, fractions)):
            parts[p].extend(int(i) for i in chunk)
    out = []
    for part in parts:
        order = rng.permutation(len(part))
        out.append(dataset.subset([part[i] for i in order]))
    return tuple(out)


def _cut(members: np.ndarray, fractions: list[float]) -> list[np.ndarray]:
    # Later parts get round(n * f) each; the first part gets the rest, so no
    # example is lost to rounding and the first (train) part is never empty.
    n = len(members)
    sizes = [int(round(n * f)) for f in fractions[1:]]
    while sum(sizes) > n - 1 and any(sizes):
        sizes[sizes.index(max(sizes))] -= 1
    first = n - sum(sizes)
    bounds = np.cumsum([first, *sizes])[:-1]
    return np.split(members, bounds)


def _single_labels(labels) -> bool:
    return not any(isinstance(x, list | tuple) for x in labels)
