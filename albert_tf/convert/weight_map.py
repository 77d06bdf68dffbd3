"""Which Keras variable holds which checkpoint tensor.

Every format is translated to one canonical naming, the Hugging Face ALBERT
one (`embeddings.word_embeddings.weight`, `encoder.albert_layer_groups.0.
albert_layers.0.attention.query.weight`, ..., `predictions.bias`,
`classifier.weight`), with torch's layout: a linear layer's weight is
[out, in], the transpose of a Keras kernel. Backbone names carry no `albert.`
prefix; head names are as Hugging Face writes them. Readers of other formats
(original Google TF1, BERT, keras-hub) rename into this naming, so one table
per model serves every format.
"""

from __future__ import annotations

import dataclasses

import keras
import numpy as np

from albert_tf.convert.errors import CheckpointError
from albert_tf.models.backbone import AlbertBackbone


@dataclasses.dataclass
class Entry:
    """One Keras variable and its canonical tensor.

    `transpose`: the canonical tensor is the transpose of the variable seen
    as the 2-D matrix `matrix_shape` ([in, out]; defaults to the variable's
    own shape). Other entries are only reshaped.
    """

    variable: keras.Variable
    name: str
    transpose: bool = False
    matrix_shape: tuple[int, ...] | None = None

    def to_canonical(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value)
        if self.transpose:
            value = value.reshape(self.matrix_shape or value.shape).T
        elif self.matrix_shape is not None:
            value = value.reshape(self.matrix_shape)
        return value

    def canonical_shape(self) -> tuple[int, ...]:
        shape = tuple(self.variable.shape)
        if self.matrix_shape is not None:
            shape = tuple(self.matrix_shape)
        return shape[::-1] if self.transpose else shape

    def from_canonical(self, value: np.ndarray) -> np.ndarray:
        value = np.asarray(value)
        if self.transpose:
            value = value.T
        return value.reshape(tuple(self.variable.shape))


def _dense(layer, name: str) -> list[Entry]:
    return [
        Entry(layer.kernel, f"{name}.weight", transpose=True),
        Entry(layer.bias, f"{name}.bias"),
    ]


def _norm(layer, name: str) -> list[Entry]:
    return [Entry(layer.gamma, f"{name}.weight"), Entry(layer.beta, f"{name}.bias")]


def backbone_entries(backbone) -> list[Entry]:
    """Entries of an `AlbertBackbone`, canonical names without the `albert.` prefix."""
    emb = backbone.embeddings
    entries = [
        Entry(emb.token_embedding.embeddings, "embeddings.word_embeddings.weight"),
        Entry(emb.position_embedding.embeddings, "embeddings.position_embeddings.weight"),
        Entry(emb.segment_embedding.embeddings, "embeddings.token_type_embeddings.weight"),
        *_norm(emb.layer_norm, "embeddings.LayerNorm"),
    ]
    if emb.projection_layer is not None:
        entries += _dense(emb.projection_layer, "encoder.embedding_hidden_mapping_in")
    enc = backbone.encoder
    for g in range(enc.num_hidden_groups):
        for i in range(enc.inner_group_num):
            block = enc.block(g, i)
            p = f"encoder.albert_layer_groups.{g}.albert_layers.{i}."
            entries += _dense(block.query, p + "attention.query")
            entries += _dense(block.key, p + "attention.key")
            entries += _dense(block.value, p + "attention.value")
            entries += _dense(block.attention_output, p + "attention.dense")
            entries += _norm(block.attention_layer_norm, p + "attention.LayerNorm")
            entries += _dense(block.intermediate, p + "ffn")
            entries += _dense(block.output_dense, p + "ffn_output")
            entries += _norm(block.output_layer_norm, p + "full_layer_layer_norm")
    entries += _dense(backbone.pooler, "pooler")
    return entries


# The head layers each model class carries, by the Keras layer name the model
# files use, and the Hugging Face names they map to.
def _layer(model, name):
    try:
        return model.get_layer(name)
    except ValueError:
        return None


def mlm_entries(head) -> list[Entry]:
    """A `MaskedLMHead` ("mlm_head"): Hugging Face `predictions.*`."""
    return [
        *_dense(head.dense, "predictions.dense"),
        *_norm(head.layer_norm, "predictions.LayerNorm"),
        Entry(head.output_bias, "predictions.bias"),
    ]


def head_entries(model) -> list[Entry]:
    """Entries of the heads of an ALBERT task model (none for a backbone)."""

    if isinstance(model, AlbertBackbone):
        return []
    entries: list[Entry] = []
    mlm = _layer(model, "mlm_head")
    if mlm is not None:
        entries += mlm_entries(mlm)
    sop = _layer(model, "sop_classifier")
    if sop is not None:
        entries += _dense(sop, "sop_classifier.classifier")
    qa = _layer(model, "qa_outputs")
    if qa is not None:
        entries += _dense(qa, "qa_outputs")
    logits = _layer(model, "logits")
    if logits is not None:
        entries += _dense(logits, "classifier")
    return entries


def model_entries(model) -> tuple[list[Entry], list[Entry]]:
    """(backbone entries, head entries) of a backbone or a task model."""
    backbone = getattr(model, "backbone", None) or model
    return backbone_entries(backbone), head_entries(model)


def export_state(entries: list[Entry]) -> dict[str, np.ndarray]:
    """Canonical name -> numpy array (float32) for every entry."""
    state = {}
    for e in entries:
        state[e.name] = np.ascontiguousarray(
            e.to_canonical(keras.ops.convert_to_numpy(e.variable)).astype(np.float32)
        )
    return state


def assign_state(entries: list[Entry], checkpoint, optional: tuple[str, ...] = ()) -> None:
    """Set every entry's variable from `checkpoint` (an object with `has`, `get`, `where`).

    Every missing tensor, and every tensor whose shape disagrees with the
    model built from the config, is an error naming the tensor and the file.
    Names in `optional` may be missing (the variable keeps its initial value).
    """
    missing = [e.name for e in entries if not checkpoint.has(e.name) and e.name not in optional]
    if missing:
        shown = ", ".join(checkpoint.describe(n) for n in missing[:5])
        more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
        raise CheckpointError(
            f"{checkpoint.label}: missing {len(missing)} tensor(s) the model needs: {shown}{more}."
        )
    for e in entries:
        if not checkpoint.has(e.name):
            continue
        value = checkpoint.get(e.name)
        want = e.canonical_shape()
        if tuple(value.shape) != want:
            raise CheckpointError(
                f"{checkpoint.where(e.name)}: shape {tuple(value.shape)} disagrees with the "
                f"config, which needs {want} (as Hugging Face lays it out); check that the "
                f"config file belongs to these weights."
            )
        if not np.all(np.isfinite(value)):
            raise CheckpointError(f"{checkpoint.where(e.name)}: contains NaN or infinite values.")
        e.variable.assign(e.from_canonical(value).astype(e.variable.dtype))


class InMemoryState:
    """A dict of canonical tensors seen as a checkpoint, for `assign_state`."""

    def __init__(self, state: dict[str, np.ndarray], label: str):
        self.state, self.label = state, label

    def has(self, name):
        return name in self.state

    def get(self, name):
        return self.state[name]

    def where(self, name):
        return f"{self.label}: tensor {name!r}"

    def describe(self, name):
        return repr(name)
