"""AlbertMultipleChoice: score each (context, choice) pair, softmax over choices."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask, dropout_and_logits


@keras.saving.register_keras_serializable(package="albert_tf")
class FlattenChoices(keras.layers.Layer):
    """[batch, num_choices, seq] -> [batch * num_choices, seq] (the backbone sees pairs)."""

    def call(self, x):
        return ops.reshape(x, (-1, ops.shape(x)[-1]))

    def compute_output_shape(self, input_shape):
        batch, choices, seq = input_shape
        rows = None if batch is None or choices is None else batch * choices
        return (rows, seq)


@keras.saving.register_keras_serializable(package="albert_tf")
class UnflattenChoices(keras.layers.Layer):
    """[batch * num_choices, 1] scores -> [batch, num_choices], shaped like `reference`."""

    def call(self, scores, reference):
        return ops.reshape(scores, (-1, ops.shape(reference)[1]))

    def compute_output_shape(self, scores_shape, reference_shape):
        return (reference_shape[0], reference_shape[1])


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMultipleChoice(BackboneTask):
    """Multiple choice (SWAG, RACE, COPA style): one score per choice.

    Inputs `token_ids`, `segment_ids`, `padding_mask` are int32
    [batch, num_choices, seq]: choice k is packed as `[CLS] context [SEP]
    choice_k [SEP]`. Each pair goes through the backbone; its pooled output ->
    dropout -> Dense(1) named "logits" gives the score. Output: logits
    [batch, num_choices]; labels are the index of the right choice. The
    layout matches Hugging Face `AlbertForMultipleChoice` (its `classifier` is
    our "logits"). `num_choices` may differ from batch to batch.

    Args:
        backbone: an `AlbertBackbone`.
        dropout: dropout before the output layer; defaults to the backbone
            config's `classifier_dropout_prob`.

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertMultipleChoice(backbone)
    >>> x = np.ones((2, 4, 8), "int32")
    >>> model.predict({"token_ids": x, "segment_ids": 0 * x, "padding_mask": x},
    ...               verbose=0).shape
    (2, 4)
    """

    def __init__(self, backbone: AlbertBackbone, dropout: float | None = None, **kwargs):

        # === Layers ===
        dropout, dropout_layer, logits_layer = dropout_and_logits(backbone, 1, dropout)
        flatten = {
            name: FlattenChoices(name=f"flatten_{name}")
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        unflatten = UnflattenChoices(name="choice_logits")

        # === Functional model ===
        inputs = {
            name: keras.Input(shape=(None, None), dtype="int32", name=name)
            for name in ("token_ids", "segment_ids", "padding_mask")
        }
        flat = {name: flatten[name](tensor) for name, tensor in inputs.items()}
        pooled = backbone(flat)["pooled_output"]
        scores = logits_layer(dropout_layer(pooled))
        logits = unflatten(scores, inputs["token_ids"])
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.dropout = dropout
        self.logits_layer = logits_layer

    def default_loss(self) -> keras.losses.Loss:
        """Softmax cross-entropy over the choices."""
        return keras.losses.SparseCategoricalCrossentropy(from_logits=True)

    def default_metrics(self) -> list:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def head_config(self) -> dict[str, Any]:
        return {"dropout": self.dropout}
