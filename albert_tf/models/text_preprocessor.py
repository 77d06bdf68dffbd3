"""TextPreprocessor: raw strings and label names -> what an ALBERT classifier eats."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from albert_tf.data.labels import LabelVocabulary
from albert_tf.data.pipeline import make_tf_dataset, with_known_length
from albert_tf.data.readers import TextDataset
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, AlbertTokenizer
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

# The tokenizer file each kind keeps in the saved model's assets.
TOKENIZER_KINDS = {"sentencepiece": AlbertTokenizer, "wordpiece": WordPieceTokenizer}


@keras.saving.register_keras_serializable(package="albert_tf")
class TextPreprocessor(keras.layers.Layer):
    """The tokenizer, sequence length, long-text cut and label names of a classifier.

    One object, saved inside the classifier's `.keras` file (the tokenizer's
    file travels as an asset), so a loaded model fits and predicts on raw
    strings. Tokenizing runs in Python (SentencePiece's or tensorflow-text's
    C++), before the graph: the batches it makes are padded to their longest
    text, not to `sequence_length`.

    Args:
        tokenizer: an `AlbertTokenizer` or `WordPieceTokenizer`; its
            `truncation` says how texts longer than `sequence_length` are cut.
        sequence_length: packed length, `[CLS]` and `[SEP]` included.
        label_names: output unit i is `label_names[i]` (None for regression).

    Example:
    >>> tok = AlbertTokenizer.load("tests/fixtures/tiny_spiece.model")
    >>> pre = TextPreprocessor(tok, sequence_length=16, label_names=["neg", "pos"])
    >>> pre(["a fine film"])["token_ids"].shape[0], pre.encode_labels(["pos"]).tolist()
    (1, [1])
    """

    def __init__(
        self,
        tokenizer: AlbertTokenizer | WordPieceTokenizer | None = None,
        sequence_length: int = 128,
        label_names: Sequence[str] | None = None,
        tokenizer_kind: str | None = None,
        tokenizer_config: dict[str, Any] | None = None,
        **kwargs,
    ):
        super().__init__(trainable=False, **kwargs)
        if int(sequence_length) < 3:
            raise ValueError(f"sequence_length must be >= 3, got {sequence_length}")
        self.sequence_length = int(sequence_length)
        self.label_names = None if label_names is None else list(LabelVocabulary(label_names).names)
        # A loaded preprocessor gets its tokenizer from the assets (`load_assets`);
        # until then only its kind and settings are known.
        self.tokenizer = tokenizer
        self._tokenizer_kind = tokenizer_kind or (tokenizer and _kind_of(tokenizer))
        self._tokenizer_config = tokenizer_config or {}
        self.built = True  # no weights: nothing to build

    # ------------------------------------------------------------------ texts
    def call(
        self, texts: Sequence[str] | str, pairs: Sequence[str] | str | None = None
    ) -> dict[str, np.ndarray]:
        """`token_ids`, `segment_ids`, `padding_mask` (int32, padded to the longest)."""
        return self._ready_tokenizer()(texts, pairs, max_length=self.sequence_length)

    def __call__(self, texts, pairs=None, **kwargs):
        # Python-side, never traced: skip Layer.__call__'s tensor conversion of strings.
        return self.call(texts, pairs)

    def dataset(
        self,
        texts: Sequence[str],
        targets: np.ndarray | None = None,
        pairs: Sequence[str] | None = None,
        batch_size: int = 32,
        shuffle: bool = False,
        seed: int = 0,
    ):
        """A `tf.data.Dataset` of (inputs, targets) batches for `fit`/`evaluate`, or
        of inputs for `predict` (in input order when not shuffled)."""
        data = TextDataset(
            texts=list(texts), labels=None, pairs=None if pairs is None else list(pairs)
        )
        batches = make_tf_dataset(
            data, self._ready_tokenizer(), targets, max_length=self.sequence_length,
            batch_size=batch_size, shuffle=shuffle, seed=seed,
        )  # fmt: skip
        # Keras shows progress in steps, and warns of "ran out of data", without it.
        return with_known_length(batches)

    # ----------------------------------------------------------------- labels
    def encode_labels(self, labels: Sequence[Any]) -> np.ndarray:
        """Label names -> int32 output indices (an unseen name raises, naming it)."""
        if self.label_names is None:
            raise ValueError("This preprocessor has no label names (a regression model?)")
        return LabelVocabulary(self.label_names).encode(list(labels), source="the labels given")

    def decode_labels(self, indices: Sequence[int] | np.ndarray) -> list[str]:
        if self.label_names is None:
            raise ValueError("This preprocessor has no label names (a regression model?)")
        return [self.label_names[int(i)] for i in indices]

    # ----------------------------------------------------------------- saving
    def _ready_tokenizer(self):
        if self.tokenizer is None:
            raise ValueError("TextPreprocessor has no tokenizer (loaded without its assets?)")
        return self.tokenizer

    def save_assets(self, dir_path: str) -> None:
        self._ready_tokenizer().save(dir_path)

    def load_assets(self, dir_path: str) -> None:
        config = {"truncation": "head", "head_share": HEAD_SHARE, **self._tokenizer_config}
        cls = TOKENIZER_KINDS[self._tokenizer_kind]
        self.tokenizer = cls.load(
            dir_path,
            lower_case=config.get("lower_case"),
            truncation=config["truncation"],
            head_share=config["head_share"],
        )

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        tokenizer = self._ready_tokenizer()
        config.update(
            {
                "sequence_length": self.sequence_length,
                "label_names": self.label_names,
                "tokenizer_kind": _kind_of(tokenizer),
                "tokenizer_config": {
                    "lower_case": bool(tokenizer.lower_case),
                    "truncation": tokenizer.truncation,
                    "head_share": float(tokenizer.head_share),
                },
            }
        )
        config.pop("trainable", None)
        return config


def _kind_of(tokenizer: Any) -> str:
    for kind, cls in TOKENIZER_KINDS.items():
        if isinstance(tokenizer, cls):
            return kind
    raise TypeError(f"Not a tokenizer of ours: {type(tokenizer).__name__}")
