"""pretrain_on_texts (the demo hook) and the `albert-tf pretrain` command on small text."""

import json
import os

import keras
import numpy as np

from albert_tf import AlbertBackbone, AlbertConfig
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.training.pretraining import pretrain_on_texts

FIXTURE_SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
SENTENCES = [
    "the film was a quiet delight.",
    "the actors gave warm and funny performances.",
    "the story moved with grace through a small town.",
    "i would watch it again with my family.",
    "the music was loud and the ending was sad.",
    "nobody in the theater wanted to leave.",
]


def _docs(n=48):
    rng = np.random.default_rng(0)
    # Documents keep the sentences in a fixed order, so sentence order is learnable.
    return ["\n".join(SENTENCES[i : i + 3]) for i in rng.integers(0, 4, n)]


def _backbone(vocab_size):
    return AlbertBackbone(
        AlbertConfig(
            vocab_size=vocab_size,
            embedding_size=16,
            hidden_size=32,
            num_hidden_layers=2,
            num_attention_heads=2,
            intermediate_size=64,
            max_position_embeddings=64,
        )
    )


def test_pretrain_on_texts_lowers_loss_and_updates_the_backbone():
    tok = AlbertTokenizer.load(FIXTURE_SPM)
    backbone = _backbone(tok.vocab_size)
    before = backbone.token_embedding.embeddings.numpy().copy()
    history = pretrain_on_texts(
        backbone, tok, _docs(), epochs=4, batch_size=8, max_length=48, learning_rate=3e-3,
        duplicate_factor=2, verbose=0,
    )  # fmt: skip
    losses = history.history["loss"]
    assert len(losses) == 4 and losses[-1] < losses[0] - 0.5
    assert history.history["mlm_accuracy"][-1] > history.history["mlm_accuracy"][0]
    assert not np.allclose(backbone.token_embedding.embeddings.numpy(), before)


def test_pretrain_on_texts_keeps_the_best_validation_epoch_in_a_run_folder(tmp_path):
    tok = AlbertTokenizer.load(FIXTURE_SPM)
    backbone = _backbone(tok.vocab_size)
    result = pretrain_on_texts(
        backbone, tok, _docs(32), validation_texts=_docs(16), out_dir=str(tmp_path),
        epochs=3, batch_size=8, max_length=48, learning_rate=3e-3, verbose=0,
    )  # fmt: skip
    val_losses = result.history["val_loss"]
    assert len(val_losses) == result.epochs_run == 3
    assert result.best["val_loss"] == min(val_losses)
    assert (tmp_path / "checkpoints" / "best.weights.h5").exists() and (tmp_path / "logs").is_dir()
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["task"] == "pretrain" and info["metrics"]["validation"]["loss"] == min(val_losses)
    saved = keras.models.load_model(tmp_path / "backbone.keras")
    np.testing.assert_allclose(
        saved.token_embedding.embeddings.numpy(), backbone.token_embedding.embeddings.numpy()
    )


def test_cli_pretrain_writes_a_backbone_that_continues_from_itself(tmp_path):
    from albert_tf.cli import main

    corpus = tmp_path / "corpus.txt"
    corpus.write_text("\n\n".join(_docs(32)), encoding="utf-8")
    config = tmp_path / "config.json"
    _backbone(1000).config.to_json_file(config)
    out = tmp_path / "run"
    common = ["--data", str(corpus), "--tokenizer", FIXTURE_SPM, "--max-length", "48",
              "--batch-size", "8", "--precision", "float32", "--optimizer", "lamb"]  # fmt: skip
    assert main(["pretrain", *common, "--config", str(config), "--out", str(out)]) == 0
    assert {"backbone.keras", "spiece.model", "albert_config.json", "history.json"} <= set(
        os.listdir(out)
    )
    info = json.loads((out / "run.json").read_text())
    assert info["version"] == 2 and info["task"] == "pretrain" and info["problem_type"] is None
    assert info["settings"]["optimizer"] == "lamb" and "sop_accuracy" in info["metrics"]["train"]
    assert info["corpus"]["train"] == [str(corpus)]
    first = keras.models.load_model(out / "backbone.keras")
    # Continue pre-training from the written checkpoint.
    out2 = tmp_path / "run2"
    args = ["pretrain", *common, "--init-from", str(out / "backbone.keras"), "--out", str(out2)]
    assert main(args) == 0
    second = keras.models.load_model(out2 / "backbone.keras")
    assert second.config == first.config
    with open(out2 / "history.json") as f:
        assert "sop_accuracy" in json.load(f)


def test_strategy_names_and_precision_policy(monkeypatch):
    import pytest

    from albert_tf.training import distribute

    assert distribute.is_chief(distribute.get_strategy("default"))
    with pytest.raises(ValueError, match="Unknown strategy"):
        distribute.get_strategy("nccl")
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        distribute.get_strategy("multi_worker")
    monkeypatch.setattr(distribute, "cpu_has_avx512_bf16", lambda: True)
    assert distribute.recommended_precision() == "mixed_bfloat16"
    monkeypatch.setattr(distribute, "cpu_has_avx512_bf16", lambda: False)
    monkeypatch.setattr(distribute.tf.config, "list_physical_devices", lambda kind: [])
    assert distribute.recommended_precision() == "float32"
    try:
        assert distribute.set_precision("mixed_bfloat16") == "mixed_bfloat16"
        assert keras.mixed_precision.dtype_policy().name == "mixed_bfloat16"
    finally:
        keras.mixed_precision.set_dtype_policy("float32")
