"""The exported batch-1 forward pass equals the Keras classifier, and stays free of shape arithmetic."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
import tensorflow as tf

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
from export.serving import serving_module


def _classifier(groups: int, inner: int, layers: int = 4) -> AlbertClassifier:
    config = AlbertConfig.from_preset(
        "tiny",
        vocab_size=50,
        embedding_size=8,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=24,
        num_hidden_layers=layers,
        num_hidden_groups=groups,
        inner_group_num=inner,
        max_position_embeddings=16,
        classifier_dropout_prob=0.0,
    )
    return AlbertClassifier(AlbertBackbone(config), num_labels=3)


def _inputs(length: int, real: int):
    rng = np.random.default_rng(length + real)
    ids = rng.integers(5, 50, (1, length)).astype(np.int32)
    mask = (np.arange(length) < real).astype(np.int32)[None, :]
    segs = (np.arange(length) >= real // 2).astype(np.int32)[None, :] * mask
    return ids, mask, segs


def _keras_probs(model, ids, mask, segs) -> np.ndarray:
    logits = model({"token_ids": ids, "segment_ids": segs, "padding_mask": mask})
    return tf.nn.softmax(logits).numpy()


@pytest.mark.parametrize("groups,inner", [(1, 1), (2, 1), (2, 2)])
@pytest.mark.parametrize("multiplicative", [False, True])
@pytest.mark.parametrize("first_token_only", [False, True])
def test_single_text_graph_equals_keras(groups, inner, multiplicative, first_token_only):
    model = _classifier(groups, inner)
    ids, mask, segs = _inputs(12, 9)
    module = serving_module(
        model,
        max_length=12,
        first_token_only=first_token_only,
        multiplicative_mask=multiplicative,
    )
    ours = module.serve(ids=ids, mask=mask, segment_ids=segs)["probability"].numpy()
    np.testing.assert_allclose(ours, _keras_probs(model, ids, mask, segs), atol=1e-5)


def test_dynamic_length_signature_runs_any_length():
    model = _classifier(1, 1)
    module = serving_module(model, max_length=16, dynamic_length=True)
    for length in (3, 7, 16):
        ids, mask, segs = _inputs(length, length)
        ours = module.serve(ids=ids, mask=mask, segment_ids=segs)["probability"].numpy()
        np.testing.assert_allclose(ours, _keras_probs(model, ids, mask, segs), atol=1e-5)


def _op_counts(tflite_bytes: bytes) -> Counter:
    from mediapipe.tasks.metadata import schema_py_generated as fb

    names = {v: k for k, v in vars(fb.BuiltinOperator).items() if not k.startswith("_")}
    model = fb.Model.GetRootAsModel(tflite_bytes, 0)
    graph = model.Subgraphs(0)
    counts: Counter = Counter()
    for i in range(graph.OperatorsLength()):
        code = model.OperatorCodes(graph.Operators(i).OpcodeIndex())
        counts[names[max(code.BuiltinCode(), code.DeprecatedBuiltinCode())]] += 1
    return counts


def test_dynamic_length_tflite_has_no_per_layer_shape_ops():
    from export import to_tflite

    def counts(layers: int) -> Counter:
        model = _classifier(1, 1, layers)
        return _op_counts(to_tflite(model, mode="float32", max_length=16, dynamic_length=True))

    four, eight = counts(4), counts(8)
    # Length-dependent shapes are read once (input clipping, positions), not
    # once per layer: doubling the layers adds no shape arithmetic.
    for op in ("SHAPE", "PACK", "REDUCE_PROD", "GATHER", "CONCATENATION", "STRIDED_SLICE"):
        assert four[op] == eight[op], (op, four, eight)
    assert eight["FULLY_CONNECTED"] > four["FULLY_CONNECTED"]
