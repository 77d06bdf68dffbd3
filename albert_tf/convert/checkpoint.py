"""A checkpoint opened for reading: config, tensors under canonical names, tokenizer file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from albert_tf.config import AlbertConfig
from albert_tf.convert.errors import CheckpointError


@dataclasses.dataclass
class Tensor:
    """Where one canonical tensor comes from, and how to read it."""

    original_name: str
    file: str
    read: Callable[[], np.ndarray]


@dataclasses.dataclass
class Checkpoint:
    """What every reader returns.

    Attributes:
        kind: "huggingface", "bert", "google", "keras-hub" or "albert-tf".
        label: the folder or file, for messages.
        config: the `AlbertConfig` the weights fit.
        tensors: canonical name (see `weight_map`) -> `Tensor`.
        tokenizer_file: `spiece.model` (or `vocab.txt` for BERT) if present.
        tokenizer: the tokenizer itself, when it travels inside the model (an
            albert-tf `TextClassifier`'s preprocessor) rather than beside it.
        architectures: Hugging Face class names from `config.json` (may be empty).
        extra: other config values (num_labels, id2label, problem_type).
    """

    kind: str
    label: str
    config: AlbertConfig
    tensors: dict[str, Tensor]
    tokenizer_file: str | None = None
    tokenizer: Any = None
    architectures: tuple[str, ...] = ()
    extra: dict = dataclasses.field(default_factory=dict)

    def has(self, name: str) -> bool:
        return name in self.tensors

    def where(self, name: str) -> str:
        t = self.tensors[name]
        return f"{t.file}: tensor {t.original_name!r}"

    def describe(self, name: str) -> str:
        t = self.tensors.get(name)
        return repr(t.original_name) if t else f"{name!r} (Hugging Face ALBERT naming)"

    def get(self, name: str) -> np.ndarray:
        t = self.tensors[name]
        try:
            value = t.read()
        except CheckpointError:
            raise
        except Exception as e:  # a damaged file surfaces here as any library's error
            raise CheckpointError(f"{self.where(name)}: cannot be read ({e}).") from e
        return np.asarray(value, dtype=np.float32)

    def has_prefix(self, prefix: str) -> bool:
        return any(n.startswith(prefix) for n in self.tensors)

    def shape(self, name: str) -> tuple[int, ...]:
        return tuple(self.get(name).shape)
