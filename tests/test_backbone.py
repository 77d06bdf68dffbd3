"""AlbertBackbone: parameter counts, real sharing, numerics against numpy, saving."""

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertConfig
from tests.numpy_reference import albert_forward

# Published ALBERT v2 backbone sizes with a 30000 vocabulary (including the pooler).
PRESET_PARAMS = {
    "base": 11_683_584,
    "large": 17_683_968,
    "xlarge": 58_724_864,
    "xxlarge": 222_595_584,
}


def tiny(**overrides):
    values = dict(
        vocab_size=50,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=20,
    )
    values.update(overrides)
    return AlbertConfig(**values)


def inputs(batch=2, seq=7, vocab=50, pad_last=2, seed=0):
    rng = np.random.default_rng(seed)
    mask = np.ones((batch, seq), "int32")
    mask[0, seq - pad_last :] = 0
    return {
        "token_ids": rng.integers(0, vocab, (batch, seq)).astype("int32"),
        "segment_ids": (rng.random((batch, seq)) > 0.5).astype("int32"),
        "padding_mask": mask,
    }


@pytest.mark.parametrize("preset", sorted(PRESET_PARAMS))
def test_preset_parameter_counts_match_the_paper(preset):
    backbone = AlbertBackbone(AlbertConfig.from_preset(preset, vocab_size=30000))
    assert backbone.count_params() == PRESET_PARAMS[preset]


def test_base_parameter_count_does_not_grow_with_depth():
    counts = {
        layers: AlbertBackbone(
            AlbertConfig.from_preset("base", vocab_size=1000, num_hidden_layers=layers)
        ).count_params()
        for layers in (1, 24)
    }
    assert len(set(counts.values())) == 1, counts


def test_blocks_are_reused_not_copied():
    backbone = AlbertBackbone(tiny(num_hidden_layers=6, num_hidden_groups=2, inner_group_num=2))
    assert len(backbone.encoder.blocks) == 4
    block_paths = {w.path.split("/")[1] for w in backbone.weights if w.path.startswith("encoder/")}
    assert block_paths == {
        "group_0_inner_0",
        "group_0_inner_1",
        "group_1_inner_0",
        "group_1_inner_1",
    }


def test_weights_of_the_same_shape_start_different():
    # A Keras initializer instance reused for several weights draws the same values
    # each time: query, key, value and attention output would start identical
    # (and the converter then merges their matrix products into one).
    keras.utils.set_random_seed(0)
    backbone = AlbertBackbone(tiny(hidden_size=16, intermediate_size=16, embedding_size=16))
    block = backbone.encoder.block(0, 0)
    dense = (block.query, block.key, block.value, block.attention_output, block.intermediate)
    kernels = [np.asarray(layer.kernel) for layer in dense]
    for i in range(len(kernels)):
        for j in range(i):
            assert not np.allclose(kernels[i], kernels[j]), (dense[i].name, dense[j].name)
    tables = backbone.embeddings
    rows = [np.asarray(t.embeddings)[:2] for t in (
        tables.token_embedding, tables.position_embedding, tables.segment_embedding)]  # fmt: skip
    assert not np.allclose(rows[0], rows[1]) and not np.allclose(rows[1], rows[2])


@pytest.mark.parametrize(
    "groups, inner, layers, projection",
    [(1, 1, 3, True), (2, 1, 4, True), (1, 2, 2, True), (2, 2, 4, True), (3, 1, 3, False)],
)
def test_matches_independent_numpy_forward(groups, inner, layers, projection):
    config = tiny(
        num_hidden_layers=layers,
        num_hidden_groups=groups,
        inner_group_num=inner,
        embedding_size=8 if projection else 16,
        embedding_projection=projection,
    )
    backbone = AlbertBackbone(config)
    x = inputs()
    out = backbone(x)
    weights = {w.path: np.asarray(w.numpy(), "float64") for w in backbone.weights}
    seq, pooled = albert_forward(
        weights, config, x["token_ids"], x["segment_ids"], x["padding_mask"]
    )
    keep = x["padding_mask"].astype(bool)
    np.testing.assert_allclose(np.asarray(out["sequence_output"])[keep], seq[keep], atol=1e-5)
    np.testing.assert_allclose(np.asarray(out["pooled_output"]), pooled, atol=1e-5)


def test_no_projection_when_embedding_equals_hidden_and_disabled():
    backbone = AlbertBackbone(tiny(embedding_size=16, embedding_projection=False))
    assert not any("embedding_projection" in w.path for w in backbone.weights)


def test_any_sequence_length_up_to_max_positions():
    backbone = AlbertBackbone(tiny())
    for seq in (1, 5, 20):
        out = backbone(inputs(seq=seq, pad_last=0))
        assert tuple(out["sequence_output"].shape) == (2, seq, 16)


def test_padding_does_not_change_real_positions():
    backbone = AlbertBackbone(tiny())
    x = inputs(batch=1, seq=5, pad_last=0)
    padded = {k: np.pad(v, ((0, 0), (0, 3))) for k, v in x.items()}
    short = np.asarray(backbone(x)["sequence_output"])
    long = np.asarray(backbone(padded)["sequence_output"])[:, :5]
    np.testing.assert_allclose(short, long, atol=1e-5)


def test_keras_file_round_trip(tmp_path):
    backbone = AlbertBackbone(tiny(num_hidden_groups=2))
    x = inputs()
    before = backbone(x)["pooled_output"]
    backbone.save(tmp_path / "b.keras")
    restored = keras.models.load_model(tmp_path / "b.keras")
    assert restored.config == backbone.config
    np.testing.assert_allclose(restored(x)["pooled_output"], before, atol=1e-6)


def test_hidden_states_output_has_one_entry_per_layer_plus_embeddings():
    backbone = AlbertBackbone(tiny(num_hidden_layers=3), output_hidden_states=True)
    out = backbone(inputs())
    assert len(out["hidden_states"]) == 4
    np.testing.assert_allclose(out["hidden_states"][-1], out["sequence_output"])


def test_config_overrides_by_keyword():
    backbone = AlbertBackbone(tiny(), num_hidden_layers=4)
    assert backbone.config.num_hidden_layers == 4


@pytest.mark.parametrize("dtype", ["mixed_bfloat16", "mixed_float16"])
def test_mixed_precision_matches_float32_closely(dtype):
    reference = AlbertBackbone(tiny())
    low = AlbertBackbone(tiny(), dtype=dtype)
    low.set_weights(reference.get_weights())
    x = inputs()
    out = low(x)
    assert "16" in str(out["sequence_output"].dtype)
    assert all(w.dtype == "float32" for w in low.weights), "variables stay float32"
    np.testing.assert_allclose(
        np.asarray(out["pooled_output"], "float32"), reference(x)["pooled_output"], atol=2e-2
    )
