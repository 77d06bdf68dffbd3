"""AlbertQuestionAnswerer: extractive QA, a start and an end score per token."""

from __future__ import annotations

import keras

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask, head_dense


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertQuestionAnswerer(BackboneTask):
    """Extractive question answering (SQuAD v1.1 / v2.0).

    Inputs are `[CLS] question [SEP] context [SEP]` (segment ids 0 / 1).
    Outputs a dict: `start_logits` and `end_logits`, each [batch, seq]. The
    answer is the span (i, j), i <= j, with the highest start_i + end_j inside
    the context; for SQuAD v2 an unanswerable question points both at [CLS]
    (position 0). `albert_tf.data.squad` builds the features and decodes spans.
    The layout matches Hugging Face `AlbertForQuestionAnswering` (a Dense(2)
    named `qa_outputs` on the sequence output, no dropout).

    Train with `model.compile(loss=model.default_loss())` and labels
    `{"start_logits": start_positions, "end_logits": end_positions}`: Keras
    adds the two cross-entropies.

    Args:
        backbone: an `AlbertBackbone`.

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertQuestionAnswerer(backbone)
    >>> out = model.predict({"token_ids": np.ones((1, 8), "int32"),
    ...                      "segment_ids": np.zeros((1, 8), "int32"),
    ...                      "padding_mask": np.ones((1, 8), "int32")}, verbose=0)
    >>> out["start_logits"].shape, out["end_logits"].shape
    ((1, 8), (1, 8))
    """

    def __init__(self, backbone: AlbertBackbone, **kwargs):
        # === Layers ===
        qa_outputs = head_dense(backbone, 2, "qa_outputs")
        # Named identity layers so that the outputs (and TFLite tensors) carry
        # the names the Task Library / MediaPipe BERT question answerer uses.
        start = keras.layers.Identity(name="start_logits")
        end = keras.layers.Identity(name="end_logits")

        # === Functional model ===
        inputs = backbone.input
        sequence = backbone(inputs)["sequence_output"]
        logits = qa_outputs(sequence)
        outputs = {"start_logits": start(logits[..., 0]), "end_logits": end(logits[..., 1])}
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.qa_outputs = qa_outputs

    def default_loss(self) -> dict[str, keras.losses.Loss]:
        """Cross-entropy over positions for the start and for the end (summed by Keras)."""
        return {
            "start_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
            "end_logits": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        }

    def default_metrics(self) -> dict[str, list]:
        return {
            "start_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
            "end_logits": [keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
        }
