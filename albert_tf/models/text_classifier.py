"""TextClassifier: an AlbertClassifier that fits, evaluates and predicts on raw strings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import keras
import numpy as np

from albert_tf.config import AlbertConfig
from albert_tf.data.labels import LabelVocabulary
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.models.text_preprocessor import TextPreprocessor
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, RUN_TRUNCATION, AlbertTokenizer

# Position embeddings a fresh backbone gets at least: room to fine-tune longer later.
MIN_POSITIONS = 512
# The SentencePiece vocabulary `from_texts` trains at most (fewer when the texts
# are too few for it).
DEFAULT_VOCAB_SIZE = 8000


@keras.saving.register_keras_serializable(package="albert_tf")
class TextClassifier(AlbertClassifier):
    """ALBERT text classification on raw strings, as keras-hub's tasks do.

    The graph is `AlbertClassifier`'s (token ids in, logits out: what TFLite
    export converts); `preprocessor` turns strings into its inputs and label
    names into targets, and is saved with the model, so a
    `keras.saving.load_model` of the `.keras` file fits and predicts on strings.
    `fit`, `evaluate` and `predict` take a list of texts, or `(texts, pairs)`
    for text pairs; anything else (token dicts, datasets) goes to Keras as is.
    Targets are label names (or their indices); for multi-label models lists of
    names; for regression numbers.

    Args:
        backbone: an `AlbertBackbone`.
        preprocessor: a `TextPreprocessor` (tokenizer, sequence length, label names).
        num_labels: output width (default: the preprocessor's label count, 1 for
            regression).
        dropout, problem_type: as in `AlbertClassifier`.

    Example:
    >>> texts = ["a fine film", "dull and long"] * 8
    >>> clf = TextClassifier.from_texts(texts, ["neg", "pos"], preset="tiny",
    ...                                 sequence_length=16)  # doctest: +SKIP
    >>> clf.fit(texts, ["pos", "neg"] * 8, epochs=1)          # doctest: +SKIP
    >>> clf.predict_labels(["a fine film"])                  # doctest: +SKIP
    ['pos']
    """

    def __init__(
        self,
        backbone: AlbertBackbone,
        preprocessor: TextPreprocessor,
        num_labels: int | None = None,
        dropout: float | None = None,
        problem_type: str | None = None,
        **kwargs,
    ):
        if num_labels is None:
            names = preprocessor.label_names
            num_labels = 1 if problem_type == "regression" or names is None else len(names)
        super().__init__(
            backbone, num_labels=num_labels, dropout=dropout, problem_type=problem_type, **kwargs
        )
        names = preprocessor.label_names
        if self.problem_type != "regression" and (names is None or len(names) != num_labels):
            raise ValueError(
                f"A {self.problem_type} classifier of {num_labels} outputs needs as many label "
                f"names, got {names}"
            )
        self.preprocessor = preprocessor

    # ------------------------------------------------------------------ build
    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        label_names: Sequence[str] | None,
        preset: str = "small",
        sequence_length: int = 128,
        vocab_size: int | None = None,
        problem_type: str | None = None,
        **config_overrides: Any,
    ) -> TextClassifier:
        """A fresh model of `preset`'s shape with a SentencePiece vocabulary trained
        on `texts` (at most `vocab_size` pieces, default DEFAULT_VOCAB_SIZE)."""
        tokenizer = AlbertTokenizer.train(
            list(texts),
            vocab_size=DEFAULT_VOCAB_SIZE if vocab_size is None else vocab_size,
            shrink_to_fit=vocab_size is None,
        )
        tokenizer.truncation, tokenizer.head_share = RUN_TRUNCATION, HEAD_SHARE
        positions = max(MIN_POSITIONS, int(sequence_length))
        config = AlbertConfig.from_preset(
            preset,
            vocab_size=tokenizer.vocab_size,
            **{"max_position_embeddings": positions, **config_overrides},
        )
        preprocessor = TextPreprocessor(tokenizer, sequence_length, label_names)
        return cls(AlbertBackbone(config), preprocessor, problem_type=problem_type)

    @classmethod
    def from_classifier(
        cls, model: AlbertClassifier, preprocessor: TextPreprocessor
    ) -> TextClassifier:
        """`model` (its backbone shared, its output layer's weights copied) with a
        preprocessor: what a recipe that trained an `AlbertClassifier` saves."""
        if isinstance(model, TextClassifier):
            return model
        clf = cls(
            model.backbone,
            preprocessor,
            num_labels=model.num_labels,
            dropout=model.dropout,
            problem_type=model.problem_type,
            name=model.name,
        )
        clf.logits_layer.set_weights(model.logits_layer.get_weights())
        return clf

    # ------------------------------------------------------- keras on strings
    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs) -> None:
        """Keras' compile; "auto" picks AdamW (1e-4), the problem type's loss and metrics."""
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(learning_rate=1e-4, weight_decay=0.01)
        super().compile(
            optimizer=optimizer,
            loss=self.default_loss() if loss == "auto" else loss,
            metrics=self.default_metrics() if metrics == "auto" else metrics,
            **kwargs,
        )

    def get_compile_config(self) -> dict[str, Any]:
        # A loaded model is compiled with the "auto" choices (its optimizer state is
        # not kept), so it can `evaluate` and `fit` at once.
        return {"auto": True}

    def compile_from_config(self, config: dict[str, Any]) -> None:
        self.compile()
        # Built now, so the saved optimizer variables load into it (as Keras does).
        self.optimizer.build(self.trainable_variables)

    def fit(self, x=None, y=None, batch_size=None, validation_data=None, shuffle=True, **kwargs):
        if not self.compiled:
            self.compile()
        if isinstance(validation_data, tuple) and _is_texts(validation_data[0]):
            validation_data = self._batches(*validation_data[:2], batch_size)
        if _is_texts(x):
            x, y = self._batches(x, y, batch_size, shuffle=shuffle, seed=0), None
            batch_size = None
        if hasattr(x, "element_spec"):
            # A dataset comes shuffled (ours bucketed by length too); Keras would warn.
            shuffle = False
        return super().fit(
            x, y, batch_size=batch_size, validation_data=validation_data, shuffle=shuffle, **kwargs
        )

    def evaluate(self, x=None, y=None, batch_size=None, **kwargs):
        if not self.compiled:
            self.compile()
        if _is_texts(x):
            x, y, batch_size = self._batches(x, y, batch_size), None, None
        return super().evaluate(x, y, batch_size=batch_size, **kwargs)

    def predict(self, x, batch_size=None, verbose="auto", **kwargs) -> np.ndarray:
        """Logits (raw scores) in input order."""
        if _is_texts(x):
            x, batch_size = self._batches(x, None, batch_size), None
        return super().predict(x, batch_size=batch_size, verbose=verbose, **kwargs)

    def predict_labels(self, x, batch_size: int | None = None) -> list:
        """Label names (lists of names for multi-label models, numbers for regression)."""
        logits = self.predict(x, batch_size=batch_size, verbose=0)
        if self.problem_type == "regression":
            return [float(v) for v in logits[:, 0]]
        if self.problem_type == "multi_label":
            names = self.preprocessor.label_names
            return [[n for n, on in zip(names, row) if on] for row in logits > 0]
        return self.preprocessor.decode_labels(logits.argmax(-1))

    def _batches(self, x, y=None, batch_size=None, shuffle=False, seed=0):
        texts, pairs = _texts_and_pairs(x)
        targets = None if y is None else self._targets(y)
        return self.preprocessor.dataset(
            texts, targets, pairs, batch_size=batch_size or 32, shuffle=shuffle, seed=seed
        )

    def _targets(self, y) -> np.ndarray:
        if self.problem_type == "regression":
            return np.asarray(y, dtype=np.float32).reshape(-1, 1)
        names = LabelVocabulary(self.preprocessor.label_names)
        if self.problem_type == "multi_label":
            if isinstance(y, np.ndarray) and y.ndim == 2:
                return y.astype(np.float32)
            return names.encode_multi_hot(list(y), source="the targets given")
        y = list(np.asarray(y).tolist()) if isinstance(y, np.ndarray) else list(y)
        if all(isinstance(v, int) and not isinstance(v, bool) for v in y):
            return np.asarray(y, dtype=np.int32)
        return self.preprocessor.encode_labels(y)

    # ----------------------------------------------------------------- config


def _is_texts(x: Any) -> bool:
    """A list (or array) of strings, or a `(texts, pairs)` tuple of two such lists."""
    if isinstance(x, str):
        return True
    if isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], str):
        return _is_texts(x[0]) and _is_texts(x[1])
    if isinstance(x, np.ndarray):
        return x.dtype.kind in "UO" and (x.size == 0 or isinstance(x.flat[0], str))
    return isinstance(x, list | tuple) and len(x) > 0 and all(isinstance(t, str) for t in x)


def _texts_and_pairs(x: Any) -> tuple[list[str], list[str] | None]:
    if isinstance(x, str):
        return [x], None
    if isinstance(x, tuple) and len(x) == 2 and not isinstance(x[0], str):
        return [str(t) for t in x[0]], [str(t) for t in x[1]]
    return [str(t) for t in x], None
