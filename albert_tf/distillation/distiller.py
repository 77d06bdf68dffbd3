"""Distiller: train a student classifier on a frozen teacher's soft targets with `model.fit`."""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf
from keras import ops

from albert_tf.distillation.settings import DistillSettings

# Label value of a row that has no gold label (unlabelled in-domain text):
# such a row contributes the soft (teacher) loss only.
UNLABELLED = -1

STUDENT_KEYS = ("token_ids", "segment_ids", "padding_mask")
TEACHER_PREFIX = "teacher_"
TEACHER_LOGITS = "teacher_logits"
# The loss weights' defaults (documented in `DistillSettings`).
DEFAULTS = DistillSettings()


def albert_forward(classifier, inputs: dict, training: bool = False):
    """Logits, hidden states and attention probabilities of an `AlbertClassifier`
    in one pass: the backbone's own graph (`AlbertBackbone.internals_model`),
    then the classifier's head.

    Returns `(logits, hidden_states, attentions)`: hidden states are the
    embedding output and each layer's output; attentions are one
    [batch, heads, seq, seq] tensor per block application.
    """
    internals = classifier.backbone.internals_model()(inputs, training=training)
    logits = classifier.head(internals["pooled_output"], training=training)
    return logits, internals["hidden_states"], internals["attentions"]


def uniform_layer_map(student_layers: int, teacher_layers: int) -> list[tuple[int, int]]:
    """Student hidden-state index -> teacher hidden-state index, spread evenly
    (index 0 is the embedding output of both; TinyBERT's mapping)."""
    return [(i, round(i * teacher_layers / student_layers)) for i in range(student_layers + 1)]


@keras.saving.register_keras_serializable(package="albert_tf")
class Distiller(keras.Model):
    """Knowledge distillation of a frozen teacher into a student, trained with `fit`.

    The loss of a batch is

        loss = alpha * hard + (1 - alpha) * T**2 * soft
               [+ hidden_weight * hidden + attention_weight * attention]

    - `hard`: cross-entropy of the student's logits with the gold labels,
      averaged over the labelled rows of the batch (rows whose label is
      `UNLABELLED` (-1) are left out; 0 when a batch has none).
    - `soft`: KL(softmax(teacher / T) || softmax(student / T)), summed over
      classes and averaged over all rows. The T**2 factor (Hinton et al. 2015)
      keeps its gradient on the scale of the hard loss whatever T is.
    - `hidden` (optional): mean squared error between projected student hidden
      states and the teacher's, at the layers `layer_map` pairs (a learned
      Dense projection when the widths differ). Token by token when both see
      the same tokens; on the [CLS] vector when their tokenizers differ.
    - `attention` (optional): mean squared error between the head-averaged
      attention probabilities of paired layers (same tokenizer only).

    `alpha = 1` is exactly hard-label training: the teacher is not even run.

    Inputs (`x` of `fit`/`evaluate`), a dict of:
      `token_ids`, `segment_ids`, `padding_mask`: the student's tokens;
      `teacher_token_ids`, `teacher_segment_ids`, `teacher_padding_mask`
        (optional): the same texts through the teacher's own tokenizer; without
        them the teacher sees the student's tokens;
      `teacher_logits` (optional): precomputed teacher logits; the teacher
        model is then not run for the soft loss (the fast path for big teachers).
    `y`: int labels, `UNLABELLED` (-1) for rows with no gold label.
    `albert_tf.distillation.distillation_dataset` builds such batches from texts.

    Args:
        student: the model to train (an `AlbertClassifier`; any Keras model
            that maps the three inputs to logits for soft/hard losses only).
        teacher: a Keras model giving logits; frozen here. May be None when
            every batch carries `teacher_logits`.
        temperature: T > 0.
        alpha: weight of the hard loss, in [0, 1].
        hidden_weight: weight of the hidden-state loss (needs AlbertClassifier
            student and teacher).
        attention_weight: weight of the attention loss (same tokenizer only).
        layer_map: (student index, teacher index) pairs of hidden states;
            default `uniform_layer_map`.

    Example:
    >>> student = AlbertClassifier(AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100)))
    >>> distiller = Distiller(student, teacher, temperature=2.0, alpha=0.5)  # doctest: +SKIP
    >>> distiller.compile(optimizer="adam")  # doctest: +SKIP
    >>> distiller.fit(distillation_dataset(texts, labels, tokenizer, teacher_logits=t))  # +SKIP
    >>> save_run("runs/student", distiller.student, tokenizer, labels, {...})  # doctest: +SKIP
    """

    def __init__(
        self,
        student: keras.Model,
        teacher: keras.Model | None = None,
        temperature: float = DEFAULTS.temperature,
        alpha: float = DEFAULTS.alpha,
        hidden_weight: float = DEFAULTS.hidden_weight,
        attention_weight: float = DEFAULTS.attention_weight,
        layer_map: list[tuple[int, int]] | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not temperature > 0:
            raise ValueError(f"temperature must be > 0, got {temperature!r}.")
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha!r}.")
        if hidden_weight < 0 or attention_weight < 0:
            raise ValueError("hidden_weight and attention_weight must be >= 0.")
        intermediate = hidden_weight > 0 or attention_weight > 0
        if intermediate:
            for role, model in (("student", student), ("teacher", teacher)):
                if model is None or not hasattr(model, "backbone"):
                    raise ValueError(
                        f"hidden/attention transfer needs an AlbertClassifier {role}; got "
                        f"{type(model).__name__}."
                    )
        self.student = student
        self.teacher = teacher
        if teacher is not None:
            teacher.trainable = False
        self.temperature = float(temperature)
        self.alpha = float(alpha)
        self.hidden_weight = float(hidden_weight)
        self.attention_weight = float(attention_weight)
        self.layer_map = None
        self.hidden_projection = None
        if intermediate:
            s_cfg, t_cfg = student.backbone.config, teacher.backbone.config
            self.layer_map = [
                (int(s), int(t))
                for s, t in (
                    layer_map or uniform_layer_map(s_cfg.num_hidden_layers, t_cfg.num_hidden_layers)
                )
            ]
            for s, t in self.layer_map:
                if not (0 <= s <= s_cfg.num_hidden_layers and 0 <= t <= t_cfg.num_hidden_layers):
                    raise ValueError(
                        f"layer_map pair ({s}, {t}) is outside the student's 0..."
                        f"{s_cfg.num_hidden_layers} or the teacher's 0..."
                        f"{t_cfg.num_hidden_layers} hidden states."
                    )
            if hidden_weight > 0 and s_cfg.hidden_size != t_cfg.hidden_size:
                # One projection shared by all layers (as in TinyBERT): it is
                # trained with the student and dropped when the student is saved.
                self.hidden_projection = keras.layers.Dense(
                    t_cfg.hidden_size, name="hidden_projection"
                )
                self.hidden_projection.build((None, None, s_cfg.hidden_size))
        elif layer_map is not None:
            self.layer_map = [(int(s), int(t)) for s, t in layer_map]

        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.hard_tracker = keras.metrics.Mean(name="hard_loss")
        self.soft_tracker = keras.metrics.Mean(name="kl")
        self.hidden_tracker = keras.metrics.Mean(name="hidden_loss")
        self.attention_tracker = keras.metrics.Mean(name="attention_loss")
        self.accuracy_tracker = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.agreement_tracker = keras.metrics.Mean(name="teacher_agreement")

    # ------------------------------------------------------------------ model
    @staticmethod
    def student_inputs(x: dict) -> dict:
        return {k: x[k] for k in STUDENT_KEYS}

    @staticmethod
    def teacher_inputs(x: dict) -> dict:
        if f"{TEACHER_PREFIX}token_ids" in x:
            return {k: x[f"{TEACHER_PREFIX}{k}"] for k in STUDENT_KEYS}
        return {k: x[k] for k in STUDENT_KEYS}

    def call(self, inputs, training=None):
        """The student's logits (what `predict` gives)."""
        return self.student(self.student_inputs(inputs), training=training)

    @property
    def metrics(self):
        found = [self.loss_tracker, self.hard_tracker, self.accuracy_tracker]
        if self.alpha < 1.0:
            found += [self.soft_tracker, self.agreement_tracker]
        if self.hidden_weight > 0:
            found.append(self.hidden_tracker)
        if self.attention_weight > 0:
            found.append(self.attention_tracker)
        return found

    # ----------------------------------------------------------------- losses
    def distillation_loss(self, y, student_logits, teacher_logits=None) -> dict[str, Any]:
        """`loss`, `hard` and `soft` (the KL, before T**2 and 1 - alpha) of a batch.

        `y` holds int labels, `UNLABELLED` where a row has none.
        """
        y = ops.reshape(ops.cast(y, "int32"), (-1,))
        student_logits = ops.cast(student_logits, "float32")
        labelled = ops.cast(ops.greater_equal(y, 0), "float32")
        hard_rows = keras.losses.sparse_categorical_crossentropy(
            ops.maximum(y, 0), student_logits, from_logits=True
        )
        hard = ops.sum(hard_rows * labelled) / ops.maximum(ops.sum(labelled), 1.0)
        out = {"hard": hard, "loss": hard}
        if self.alpha == 1.0:
            return out
        if teacher_logits is None:
            raise ValueError(
                "alpha < 1 needs the teacher's logits: give a teacher model or a "
                "`teacher_logits` input."
            )
        t = self.temperature
        teacher_logits = ops.stop_gradient(ops.cast(teacher_logits, "float32"))
        log_p_teacher = ops.log_softmax(teacher_logits / t, axis=-1)
        log_p_student = ops.log_softmax(student_logits / t, axis=-1)
        kl_rows = ops.sum(ops.exp(log_p_teacher) * (log_p_teacher - log_p_student), axis=-1)
        soft = ops.mean(kl_rows)
        out["soft"] = soft
        out["loss"] = self.alpha * hard + (1.0 - self.alpha) * t * t * soft
        return out

    def _hidden_loss(self, s_hidden, t_hidden, s_mask, same_tokens: bool):
        total = 0.0
        mask = ops.cast(s_mask, "float32")[:, :, None]
        for s, t in self.layer_map:
            hs, ht = s_hidden[s], ops.stop_gradient(t_hidden[t])
            if self.hidden_projection is not None:
                hs = self.hidden_projection(hs)
            if same_tokens:
                sq = ops.mean(ops.square(hs - ht), axis=-1, keepdims=True)
                total += ops.sum(sq * mask) / ops.maximum(ops.sum(mask), 1.0)
            else:
                total += ops.mean(ops.square(hs[:, 0, :] - ht[:, 0, :]))
        return total / len(self.layer_map)

    def _attention_loss(self, s_attn, t_attn, s_mask):
        s_inner = self.student.backbone.config.inner_group_num
        t_inner = self.teacher.backbone.config.inner_group_num
        mask = ops.cast(s_mask, "float32")
        pair_mask = mask[:, :, None] * mask[:, None, :]
        total = 0.0
        pairs = [(s, t) for s, t in self.layer_map if s > 0 and t > 0]
        if not pairs:
            raise ValueError("attention transfer needs layer_map pairs above the embeddings.")
        for s, t in pairs:
            # The last block of layer i holds that layer's attention.
            a_s = ops.mean(s_attn[s * s_inner - 1], axis=1)
            a_t = ops.stop_gradient(ops.mean(t_attn[t * t_inner - 1], axis=1))
            total += ops.sum(ops.square(a_s - a_t) * pair_mask) / ops.maximum(
                ops.sum(pair_mask), 1.0
            )
        return total / len(pairs)

    def compute_losses(self, x: dict, y, training: bool = False) -> dict[str, Any]:
        """Every loss term of a batch, and the student's and teacher's logits."""
        intermediate = self.hidden_weight > 0 or self.attention_weight > 0
        s_inputs = self.student_inputs(x)
        if intermediate:
            s_logits, s_hidden, s_attn = albert_forward(self.student, s_inputs, training)
        else:
            s_logits = self.student(s_inputs, training=training)
        t_logits = None
        if self.alpha < 1.0 or intermediate:
            t_logits = x.get(TEACHER_LOGITS)
            same_tokens = f"{TEACHER_PREFIX}token_ids" not in x
            if intermediate:
                if self.attention_weight > 0 and not same_tokens:
                    raise ValueError(
                        "attention transfer needs the teacher to see the student's tokens; "
                        "these batches carry teacher_token_ids of another tokenizer."
                    )
                live, t_hidden, t_attn = albert_forward(
                    self.teacher, self.teacher_inputs(x), training=False
                )
                if t_logits is None:
                    t_logits = live
            elif t_logits is None:
                if self.teacher is None:
                    raise ValueError(
                        "No teacher: the Distiller has no teacher model and the batch has no "
                        "`teacher_logits`."
                    )
                t_logits = self.teacher(self.teacher_inputs(x), training=False)
        out = self.distillation_loss(y, s_logits, t_logits)
        out["student_logits"], out["teacher_logits"] = s_logits, t_logits
        if self.hidden_weight > 0:
            out["hidden"] = self._hidden_loss(
                s_hidden, t_hidden, s_inputs["padding_mask"], same_tokens
            )
            out["loss"] = out["loss"] + self.hidden_weight * out["hidden"]
        if self.attention_weight > 0:
            out["attention"] = self._attention_loss(s_attn, t_attn, s_inputs["padding_mask"])
            out["loss"] = out["loss"] + self.attention_weight * out["attention"]
        return out

    def _update_metrics(self, out, y):
        y = ops.reshape(ops.cast(y, "int32"), (-1,))
        labelled = ops.cast(ops.greater_equal(y, 0), "float32")
        self.loss_tracker.update_state(out["loss"])
        self.hard_tracker.update_state(out["hard"])
        self.accuracy_tracker.update_state(
            ops.maximum(y, 0), out["student_logits"], sample_weight=labelled
        )
        if "soft" in out:
            self.soft_tracker.update_state(out["soft"])
            same = ops.equal(
                ops.argmax(out["student_logits"], -1), ops.argmax(out["teacher_logits"], -1)
            )
            self.agreement_tracker.update_state(ops.cast(same, "float32"))
        if "hidden" in out:
            self.hidden_tracker.update_state(out["hidden"])
        if "attention" in out:
            self.attention_tracker.update_state(out["attention"])
        return {m.name: m.result() for m in self.metrics}

    # -------------------------------------------------------------- training
    def train_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        with tf.GradientTape() as tape:
            out = self.compute_losses(x, y, training=True)
        weights = self.trainable_weights
        grads = tape.gradient(out["loss"], weights)
        self.optimizer.apply_gradients(zip(grads, weights))
        return self._update_metrics(out, y)

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self._update_metrics(self.compute_losses(x, y, training=False), y)

    def predict_step(self, data):
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        return self.student(self.student_inputs(x), training=False)

    # ----------------------------------------------------------------- config
    def get_config(self) -> dict[str, Any]:
        return {
            "student": keras.saving.serialize_keras_object(self.student),
            "teacher": (
                keras.saving.serialize_keras_object(self.teacher) if self.teacher else None
            ),
            "temperature": self.temperature,
            "alpha": self.alpha,
            "hidden_weight": self.hidden_weight,
            "attention_weight": self.attention_weight,
            "layer_map": self.layer_map,
            "name": self.name,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Distiller:
        config = dict(config)
        config["student"] = keras.saving.deserialize_keras_object(config["student"])
        if config.get("teacher") is not None:
            config["teacher"] = keras.saving.deserialize_keras_object(config["teacher"])
        return cls(**config)
