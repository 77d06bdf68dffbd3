"""Our AlbertBackbone and keras_hub.models.AlbertBackbone agree with copied weights.

keras-hub (0.32) uses the tanh GELU and LayerNorm epsilon 1e-12, as the
published checkpoints and our defaults do, and always has the E -> H
projection; its attention masks padding with keras' masked softmax instead of
an additive -10000, which gives the same probabilities in float32. So every
group setting keras-hub supports matches to float32 round-off.
"""

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertConfig
from albert_tf.convert.keras_hub_weights import config_to_keras_hub, keras_hub_entries
from albert_tf.convert.weight_map import (
    InMemoryState,
    assign_state,
    backbone_entries,
    export_state,
)

TOL = 1e-5


def _config(groups, inner):
    return AlbertConfig(
        vocab_size=97,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=4,
        num_hidden_groups=groups,
        inner_group_num=inner,
        num_attention_heads=4,
        intermediate_size=48,
        max_position_embeddings=24,
    )


def _inputs():
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 97, size=(3, 10)).astype("int32")
    mask = np.ones_like(ids)
    mask[1, 7:] = 0
    mask[2, 4:] = 0
    ids[mask == 0] = 0
    segments = np.zeros_like(ids)
    segments[:, 5:] = 1
    return {"token_ids": ids, "segment_ids": segments * mask, "padding_mask": mask}


def _randomize(entries):
    # Larger than the default init so that a swapped tensor cannot hide.
    rng = np.random.default_rng(1)
    for e in entries:
        shape = tuple(e.variable.shape)
        base = 1.0 if e.name.endswith("LayerNorm.weight") or "layer_norm.weight" in e.name else 0.0
        e.variable.assign(base + 0.2 * rng.standard_normal(shape).astype("float32"))


def _check(ours, theirs):
    x = _inputs()
    a, b = ours(x), theirs(x)
    valid = x["padding_mask"].astype(bool)
    seq_a, seq_b = np.asarray(a["sequence_output"]), np.asarray(b["sequence_output"])
    assert np.abs(seq_a[valid] - seq_b[valid]).max() < TOL
    assert np.abs(seq_a - seq_b).max() < TOL
    assert np.abs(np.asarray(a["pooled_output"]) - np.asarray(b["pooled_output"])).max() < TOL


@pytest.mark.parametrize("groups, inner", [(1, 1), (2, 1), (1, 2), (2, 2)])
def test_ours_to_keras_hub(groups, inner):
    ours = AlbertBackbone(_config(groups, inner))
    _randomize(backbone_entries(ours))
    theirs = config_to_keras_hub(ours.config)
    assign_state(
        keras_hub_entries(theirs), InMemoryState(export_state(backbone_entries(ours)), "ours")
    )
    _check(ours, theirs)


@pytest.mark.parametrize("groups, inner", [(2, 2), (4, 1)])
def test_keras_hub_to_ours(groups, inner):
    theirs = config_to_keras_hub(_config(groups, inner))
    _randomize(keras_hub_entries(theirs))
    ours = AlbertBackbone(_config(groups, inner))
    assign_state(
        backbone_entries(ours), InMemoryState(export_state(keras_hub_entries(theirs)), "kh")
    )
    _check(ours, theirs)


def test_every_keras_hub_weight_is_mapped():
    theirs = config_to_keras_hub(_config(2, 2))
    mapped = {id(e.variable) for e in keras_hub_entries(theirs)}
    assert {id(v) for v in theirs.weights} == mapped


def test_every_weight_of_ours_is_mapped():
    ours = AlbertBackbone(_config(2, 2))
    mapped = {id(e.variable) for e in backbone_entries(ours)}
    assert {id(v) for v in ours.weights} == mapped
