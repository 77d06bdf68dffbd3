"""AlbertClassifier: pooled output -> dropout -> dense logits."""

from __future__ import annotations

from typing import Any

import keras

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask, dropout_and_logits

PROBLEM_TYPES = ("single_label", "multi_label", "regression")


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertClassifier(BackboneTask):
    """Sequence classification (single texts or pairs), multi-label, or regression.

    Outputs logits [batch, num_labels] (raw scores: apply softmax, sigmoid or
    nothing as `problem_type` says). `num_labels=1` means regression unless
    `problem_type` says otherwise. Text pairs need nothing special here: the
    tokenizer packs `[CLS] a [SEP] b [SEP]` with segment ids 0 and 1.

    Args:
        backbone: an `AlbertBackbone`.
        num_labels: output width.
        dropout: dropout before the output layer; defaults to the backbone
            config's `classifier_dropout_prob`.
        problem_type: "single_label", "multi_label" or "regression".

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertClassifier(backbone, num_labels=2)
    >>> model.predict({"token_ids": np.ones((1, 8), "int32"),
    ...                "segment_ids": np.zeros((1, 8), "int32"),
    ...                "padding_mask": np.ones((1, 8), "int32")}, verbose=0).shape
    (1, 2)
    """

    def __init__(
        self,
        backbone: AlbertBackbone,
        num_labels: int = 2,
        dropout: float | None = None,
        problem_type: str | None = None,
        **kwargs,
    ):
        if num_labels < 1:
            raise ValueError(f"num_labels must be >= 1, got {num_labels}.")
        if problem_type is None:
            problem_type = "regression" if num_labels == 1 else "single_label"
        if problem_type not in PROBLEM_TYPES:
            raise ValueError(f"problem_type {problem_type!r} is not one of {PROBLEM_TYPES}.")

        # === Layers ===
        dropout, dropout_layer, logits_layer = dropout_and_logits(backbone, num_labels, dropout)

        # === Functional model ===
        inputs = backbone.input
        pooled = backbone(inputs)["pooled_output"]
        logits = logits_layer(dropout_layer(pooled))
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.num_labels = num_labels
        self.dropout = dropout
        self.problem_type = problem_type
        self.logits_layer = logits_layer
        self.dropout_layer = dropout_layer

    def head(self, pooled_output, training=None):
        """Logits from the backbone's pooled output: the layers above the backbone."""
        return self.logits_layer(self.dropout_layer(pooled_output, training=training))

    def default_loss(self) -> keras.losses.Loss:
        """The loss that fits `problem_type` (from logits)."""
        if self.problem_type == "regression":
            return keras.losses.MeanSquaredError()
        if self.problem_type == "multi_label":
            return keras.losses.BinaryCrossentropy(from_logits=True)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self) -> list:
        if self.problem_type == "regression":
            return [keras.metrics.MeanAbsoluteError(name="mae")]
        if self.problem_type == "multi_label":
            return [keras.metrics.BinaryAccuracy(name="accuracy", threshold=0.0)]
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def head_config(self) -> dict[str, Any]:
        return {
            "num_labels": self.num_labels,
            "dropout": self.dropout,
            "problem_type": self.problem_type,
        }
