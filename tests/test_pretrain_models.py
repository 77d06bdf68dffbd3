"""MaskedLMHead, AlbertMaskedLM and AlbertPretrainer: numerics against numpy, fit, saving."""

import os

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertConfig, AlbertMaskedLM, AlbertPretrainer
from albert_tf.models import MaskedLMHead

FIXTURE_SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")


def _config(vocab_size=50):
    return AlbertConfig(
        vocab_size=vocab_size,
        embedding_size=8,
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )


def _batch(rng, batch=4, seq=10, predictions=3, vocab=50):
    x = {
        "token_ids": rng.integers(5, vocab, (batch, seq)).astype("int32"),
        "segment_ids": np.zeros((batch, seq), "int32"),
        "padding_mask": np.ones((batch, seq), "int32"),
        "mask_positions": np.sort(rng.integers(1, seq, (batch, predictions)), 1).astype("int32"),
    }
    y = {
        "mlm_labels": rng.integers(5, vocab, (batch, predictions)).astype("int32"),
        "mlm_weights": (rng.random((batch, predictions)) > 0.3).astype("float32"),
        "sop_labels": rng.integers(0, 2, (batch,)).astype("int32"),
    }
    return x, y


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


def _layer_norm(x, gamma, beta, eps=1e-12):
    mean = x.mean(-1, keepdims=True)
    var = x.var(-1, keepdims=True)
    return (x - mean) / np.sqrt(var + eps) * gamma + beta


def _log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def test_head_matches_numpy_and_ties_output_to_token_table():
    table = keras.layers.Embedding(30, 6)
    table.build((None,))
    head = MaskedLMHead(table)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 12)).astype("float32")
    positions = np.array([[0, 3], [4, 1]], "int32")
    head(x, positions)  # builds
    head.output_bias.assign(rng.normal(size=30).astype("float32"))
    got = keras.ops.convert_to_numpy(head(x, positions))

    gathered = np.take_along_axis(x, positions[..., None], axis=1)
    kernel, bias = (keras.ops.convert_to_numpy(w) for w in head.dense.weights)
    gamma, beta = (keras.ops.convert_to_numpy(w) for w in head.layer_norm.weights)
    h = _layer_norm(_gelu_tanh(gathered @ kernel + bias), gamma, beta)
    emb = keras.ops.convert_to_numpy(table.embeddings)
    want = h @ emb.T + keras.ops.convert_to_numpy(head.output_bias)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
    # The table is the backbone's, not a copy the head owns.
    assert all("embeddings" not in w.path for w in head.weights)


def test_pretrainer_weight_names_and_output_shapes():
    model = AlbertPretrainer(AlbertBackbone(_config()))
    paths = {w.path for w in model.weights}
    for name in (
        "mlm_head/dense/kernel",
        "mlm_head/layer_norm/gamma",
        "mlm_head/output_bias",
        "sop_classifier/kernel",
        "embeddings/token_embedding/embeddings",
    ):
        assert name in paths
    x, _ = _batch(np.random.default_rng(1))
    out = model(x)
    assert tuple(out["mlm_logits"].shape) == (4, 3, 50)
    assert tuple(out["sop_logits"].shape) == (4, 2)


@pytest.mark.parametrize("groups,inner", [(1, 1), (2, 1), (1, 2)])
def test_last_block_at_read_rows_equals_full_sequence_output(groups, inner):
    # The pretrainer's last block computes only [CLS] and the masked rows; the
    # result must equal running the whole backbone and gathering afterwards.
    config = _config()
    config = AlbertConfig(
        **{
            **config.to_dict(),
            "num_hidden_layers": 4,
            "num_hidden_groups": groups,
            "inner_group_num": inner,
        }
    )
    backbone = AlbertBackbone(config)
    model = AlbertPretrainer(backbone)
    x, _ = _batch(np.random.default_rng(2))
    x["padding_mask"][1, 7:] = 0
    full = backbone({k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")})
    mlm = model.mlm_head(full["sequence_output"], x["mask_positions"])
    sop = model.sop_classifier(full["pooled_output"])
    out = model(x)
    np.testing.assert_allclose(out["mlm_logits"], mlm, atol=1e-5)
    np.testing.assert_allclose(out["sop_logits"], sop, atol=1e-5)


def test_pretrainer_loss_is_weighted_mlm_plus_sop_cross_entropy():
    model = AlbertPretrainer(AlbertBackbone(_config()))
    model.compile(optimizer="sgd")
    x, y = _batch(np.random.default_rng(2))
    out = {k: keras.ops.convert_to_numpy(v) for k, v in model(x).items()}
    got = float(model.compute_loss(x, y, model(x)))

    mlm_nll = -np.take_along_axis(_log_softmax(out["mlm_logits"]), y["mlm_labels"][..., None], -1)[
        ..., 0
    ]
    mlm = (mlm_nll * y["mlm_weights"]).sum() / y["mlm_weights"].sum()
    sop_nll = -np.take_along_axis(_log_softmax(out["sop_logits"]), y["sop_labels"][:, None], -1)
    assert got == pytest.approx(mlm + sop_nll.mean(), rel=1e-5)


def test_fit_lowers_loss_and_reports_both_accuracies():
    model = AlbertPretrainer(AlbertBackbone(_config()))
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    x, y = _batch(np.random.default_rng(3), batch=16)
    history = model.fit(x, y, epochs=10, batch_size=8, verbose=0).history
    assert {"mlm_accuracy", "sop_accuracy", "mlm_loss", "sop_loss"} <= set(history)
    assert history["loss"][-1] < 0.8 * history["loss"][0]


def test_pretrainer_saves_and_loads(tmp_path):
    model = AlbertPretrainer(AlbertBackbone(_config()))
    x, _ = _batch(np.random.default_rng(4))
    path = str(tmp_path / "pretrainer.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(
        keras.ops.convert_to_numpy(restored(x)["mlm_logits"]),
        keras.ops.convert_to_numpy(model(x)["mlm_logits"]),
        atol=1e-6,
    )


def test_masked_lm_shares_the_pretrainer_head_weights():
    backbone = AlbertBackbone(_config())
    pretrainer = AlbertPretrainer(backbone)
    mlm = AlbertMaskedLM(backbone)
    mlm.mlm_head.set_weights(pretrainer.mlm_head.get_weights())
    x, _ = _batch(np.random.default_rng(5))
    full = keras.ops.convert_to_numpy(
        mlm({k: x[k] for k in ("token_ids", "segment_ids", "padding_mask")})
    )
    at_positions = keras.ops.convert_to_numpy(pretrainer(x)["mlm_logits"])
    np.testing.assert_allclose(
        np.take_along_axis(full, x["mask_positions"][..., None], axis=1), at_positions, atol=1e-5
    )


def test_predict_masked_ranks_candidates_for_each_mask():
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

    tok = AlbertTokenizer.load(FIXTURE_SPM)
    mlm = AlbertMaskedLM(AlbertBackbone(_config(vocab_size=tok.vocab_size)))
    result = mlm.predict_masked(["a [MASK] film", "[MASK] and [MASK]"], tok, top_k=3)
    assert [len(r) for r in result] == [1, 2]
    for candidates in (c for r in result for c in r):
        scores = [c["score"] for c in candidates]
        assert len(candidates) == 3 and scores == sorted(scores, reverse=True)
        assert all(
            isinstance(c["token"], str) and 0 <= c["token_id"] < tok.vocab_size for c in candidates
        )
    with pytest.raises(ValueError, match="no \\[MASK\\]"):
        mlm.predict_masked("nothing to fill", tok)


def test_mixed_bfloat16_trains_with_float32_logits():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    try:
        model = AlbertPretrainer(AlbertBackbone(_config()))
        model.compile(optimizer=keras.optimizers.Adam(1e-2))
        x, y = _batch(np.random.default_rng(6), batch=16)
        out = model(x)
        assert out["mlm_logits"].dtype == "float32" and out["sop_logits"].dtype == "float32"
        assert model.backbone.token_embedding.embeddings.dtype == "float32"
        losses = model.fit(x, y, epochs=6, batch_size=8, verbose=0).history["loss"]
        assert np.isfinite(losses).all() and losses[-1] < losses[0]
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
