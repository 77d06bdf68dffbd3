"""AlbertPretrainer: masked LM + sentence-order prediction, trained with plain `fit`."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask, head_dense
from albert_tf.models.masked_lm_head import MaskedLMHead


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertPretrainer(BackboneTask):
    """ALBERT's pre-training model: masked-LM logits and sentence-order logits.

    Inputs: the backbone's `token_ids`, `segment_ids`, `padding_mask` plus
    `mask_positions` (int32 [batch, P], the positions to predict).
    Outputs: `{"mlm_logits": [batch, P, V], "sop_logits": [batch, 2]}`.

    Labels `y` are a dict: `mlm_labels` [batch, P] (original token ids),
    `mlm_weights` [batch, P] (1 for a real prediction, 0 for padding; a
    `sample_weight` array may be given instead) and `sop_labels` [batch]
    (0 = segments in order, 1 = swapped). The loss is the weighted mean
    masked-LM cross-entropy plus the sentence-order cross-entropy, both
    normalised over the *global* batch, so that N replicas take exactly the
    step one replica would take on their union. Metrics: `mlm_loss`,
    `sop_loss`, `mlm_accuracy`, `sop_accuracy`.

    Any `AlbertBackbone` works, also one loaded from a checkpoint
    (`albert_tf.convert.load_backbone`) to continue pre-training.

    Args:
        backbone: an `AlbertBackbone`.

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertPretrainer(backbone)
    >>> model.compile(optimizer="adam")
    >>> x = {"token_ids": np.ones((4, 8), "int32"), "segment_ids": np.zeros((4, 8), "int32"),
    ...      "padding_mask": np.ones((4, 8), "int32"), "mask_positions": np.ones((4, 2), "int32")}
    >>> y = {"mlm_labels": np.ones((4, 2), "int32"), "mlm_weights": np.ones((4, 2), "float32"),
    ...      "sop_labels": np.zeros((4,), "int32")}
    >>> history = model.fit(x, y, epochs=1, verbose=0)
    >>> sorted(history.history)
    ['loss', 'mlm_accuracy', 'mlm_loss', 'sop_accuracy', 'sop_loss']
    """

    def __init__(self, backbone: AlbertBackbone, **kwargs):
        # === Layers ===
        mlm_head = MaskedLMHead.for_backbone(backbone)
        # No dropout before it: the original ALBERT pre-training graph has none.
        sop_classifier = head_dense(backbone, 2, "sop_classifier", dtype=backbone.dtype_policy)

        # === Functional model ===
        inputs = dict(backbone.input)
        inputs["mask_positions"] = keras.Input(shape=(None,), dtype="int32", name="mask_positions")
        # The backbone's own layers, but the last block computes only the rows
        # the heads read: [CLS] for the pooler and the masked positions (21 of
        # 128 at ALBERT's settings), which saves most of one layer's work.
        mask_positions = inputs["mask_positions"]
        read_rows = ops.concatenate([ops.zeros_like(mask_positions[:, :1]), mask_positions], axis=1)
        x = backbone.embeddings(inputs["token_ids"], inputs["segment_ids"])
        rows = backbone.encoder(x, inputs["padding_mask"], last_layer_positions=read_rows)
        mlm_logits = mlm_head(rows[:, 1:, :])
        sop_logits = ops.cast(sop_classifier(backbone.pooler(rows[:, 0, :])), "float32")
        super().__init__(
            inputs=inputs,
            outputs={"mlm_logits": mlm_logits, "sop_logits": sop_logits},
            **kwargs,
        )

        # === Config ===
        self.backbone = backbone
        self.mlm_head = mlm_head
        self.sop_classifier = sop_classifier
        self.mlm_loss_tracker = keras.metrics.Mean(name="mlm_loss")
        self.sop_loss_tracker = keras.metrics.Mean(name="sop_loss")
        self.mlm_accuracy = keras.metrics.SparseCategoricalAccuracy(name="mlm_accuracy")
        self.sop_accuracy = keras.metrics.SparseCategoricalAccuracy(name="sop_accuracy")

    # ------------------------------------------------------------------ loss
    @staticmethod
    def _unpack_labels(y, sample_weight):
        if not isinstance(y, dict) or "mlm_labels" not in y or "sop_labels" not in y:
            raise ValueError(
                "AlbertPretrainer needs y = {'mlm_labels': [batch, P], 'sop_labels': [batch], "
                "optionally 'mlm_weights': [batch, P]}; got "
                f"{sorted(y) if isinstance(y, dict) else type(y).__name__}."
            )
        mlm_labels = ops.cast(y["mlm_labels"], "int32")
        weights = y.get("mlm_weights", sample_weight)
        if isinstance(weights, dict):
            weights = weights.get("mlm_logits", weights.get("mlm_weights"))
        if weights is None:
            weights = ops.ones_like(mlm_labels, dtype="float32")
        return mlm_labels, ops.cast(weights, "float32"), ops.cast(y["sop_labels"], "int32")

    @staticmethod
    def _global_sum(value):
        # Summed over replicas so every replica divides by the same total.
        context = tf.distribute.get_replica_context()
        if context is None or context.num_replicas_in_sync == 1:
            return value
        return context.all_reduce(tf.distribute.ReduceOp.SUM, value)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        mlm_labels, weights, sop_labels = self._unpack_labels(y, sample_weight)
        mlm_ce = keras.losses.sparse_categorical_crossentropy(
            mlm_labels, y_pred["mlm_logits"], from_logits=True
        )
        sop_ce = keras.losses.sparse_categorical_crossentropy(
            sop_labels, y_pred["sop_logits"], from_logits=True
        )
        local_mlm_sum = ops.sum(mlm_ce * weights)
        local_weight = ops.sum(weights)
        local_batch = ops.cast(ops.shape(sop_ce)[0], "float32")
        global_weight = self._global_sum(local_weight)
        global_batch = self._global_sum(local_batch)
        # Each replica returns its share of the global loss; Keras sums the
        # gradients over replicas, which then equal the global gradient.
        mlm_loss = local_mlm_sum / ops.maximum(global_weight, 1e-5)
        sop_loss = ops.sum(sop_ce) / ops.maximum(global_batch, 1.0)
        self.mlm_loss_tracker.update_state(
            local_mlm_sum / ops.maximum(local_weight, 1e-5), sample_weight=local_weight
        )
        self.sop_loss_tracker.update_state(ops.mean(sop_ce), sample_weight=local_batch)
        total = mlm_loss + sop_loss
        if self.losses:
            replicas = tf.distribute.get_strategy().num_replicas_in_sync
            total = total + ops.sum(self.losses) / replicas
        return total

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        mlm_labels, weights, sop_labels = self._unpack_labels(y, sample_weight)
        self.mlm_accuracy.update_state(mlm_labels, y_pred["mlm_logits"], sample_weight=weights)
        self.sop_accuracy.update_state(sop_labels, y_pred["sop_logits"])
        results = self.get_metrics_result()
        if isinstance(tf.distribute.get_strategy(), tf.distribute.MultiWorkerMirroredStrategy):
            # Keras 3 averages each logged value over workers with
            # reduce(axis=0), which fails for scalars (tensorflow#72388).
            results = {k: ops.reshape(v, (1,)) for k, v in results.items()}
        return results

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras 3.15 starts fit() under a strategy by `strategy.reduce`-ing the
        # first batch, which fails for dict inputs under
        # MultiWorkerMirroredStrategy (reduce takes no nests). That batch only
        # serves to trace an unbuilt model or compiled metrics; this functional
        # model is built and compiles neither, so build the optimizer only.
        nothing_to_trace = self._compile_metrics is None and self._compile_loss is None
        if self._distribute_strategy is None or not (self.built and nothing_to_trace):
            return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
        with self.distribute_strategy.scope():
            self._symbolic_build(data_batch=None)

    # ---------------------------------------------------------------- config
