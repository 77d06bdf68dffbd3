"""AlbertTokenClassifier: sequence output -> dropout -> per-token logits."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask, dropout_and_logits

# Hugging Face's and PyTorch's "ignore this position" label.
IGNORE_INDEX = -100


@keras.saving.register_keras_serializable(package="albert_tf")
class MaskedTokenAccuracy(keras.metrics.Metric):
    """Accuracy over the positions whose label is not `ignore_index`.

    `SparseCategoricalAccuracy` would count padding and non-first word pieces
    (label -100) as errors, hiding how well the words themselves are tagged.
    """

    def __init__(self, ignore_index: int = IGNORE_INDEX, name: str = "accuracy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.ignore_index = ignore_index
        self.correct = self.add_variable(shape=(), initializer="zeros", name="correct")
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = ops.cast(y_true, "int32")
        valid = ops.cast(ops.not_equal(y_true, self.ignore_index), "float32")
        predicted = ops.cast(ops.argmax(y_pred, axis=-1), "int32")
        hit = ops.cast(ops.equal(predicted, y_true), "float32") * valid
        self.correct.assign_add(ops.sum(hit))
        self.total.assign_add(ops.sum(valid))

    def result(self):
        return ops.divide_no_nan(self.correct, self.total)

    def reset_state(self):
        self.correct.assign(0.0)
        self.total.assign(0.0)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "ignore_index": self.ignore_index}


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertTokenClassifier(BackboneTask):
    """Token classification (NER, POS tagging): one label per input position.

    Outputs logits [batch, seq, num_labels]. Word-level labels go on the first
    piece of each word and every other position gets -100 (see
    `albert_tf.data.token_labels`); `default_loss()` ignores those positions.
    The layout matches Hugging Face `AlbertForTokenClassification`: its
    `classifier` is our layer named "logits".

    Args:
        backbone: an `AlbertBackbone`.
        num_labels: number of tags.
        dropout: dropout before the output layer; defaults to the backbone
            config's `classifier_dropout_prob`.

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertTokenClassifier(backbone, num_labels=5)
    >>> model.predict({"token_ids": np.ones((1, 8), "int32"),
    ...                "segment_ids": np.zeros((1, 8), "int32"),
    ...                "padding_mask": np.ones((1, 8), "int32")}, verbose=0).shape
    (1, 8, 5)
    """

    def __init__(
        self,
        backbone: AlbertBackbone,
        num_labels: int = 2,
        dropout: float | None = None,
        **kwargs,
    ):
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}.")

        # === Layers ===
        dropout, dropout_layer, logits_layer = dropout_and_logits(backbone, num_labels, dropout)

        # === Functional model ===
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        logits = logits_layer(dropout_layer(sequence))
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.num_labels = num_labels
        self.dropout = dropout
        self.logits_layer = logits_layer

    def default_loss(self) -> keras.losses.Loss:
        """Cross-entropy averaged over the positions whose label is not -100."""
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=True, ignore_class=IGNORE_INDEX
        )

    def default_metrics(self) -> list:
        return [MaskedTokenAccuracy(name="accuracy")]

    def head_config(self) -> dict[str, Any]:
        return {"num_labels": self.num_labels, "dropout": self.dropout}
