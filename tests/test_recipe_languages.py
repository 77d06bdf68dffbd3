"""The default recipe on text in another script: `--teacher` takes a Chinese BERT
(a Hugging Face folder) end to end (train, export verified by MediaPipe, predict), and a
teacher whose vocabulary lacks the script is measured, reported and used as named."""

from __future__ import annotations

import csv
import json
import os

import numpy as np
import pytest

from albert_tf.cli import main
from tests.convert_fixtures import fixture

FLAGS = ["--student-size", "0.9", "--max-length", "32", "--teacher-epochs", "1"]
FLAGS += ["--epochs", "1", "--augment-copies", "1"]


@pytest.fixture(scope="module")
def chinese_csv(tmp_path_factory):
    """Real Chinese headlines of two topics (THUCNews, packaged)."""
    from albert_tf.data.packaged import DatasetUnavailableError, load

    try:
        data = load("thucnews_titles")
    except DatasetUnavailableError as e:
        pytest.skip(f"thucnews_titles unavailable: {e}")
    rows = [
        (t, y) for t, y in zip(data.train.texts, data.train.labels) if y in ("sports", "stocks")
    ]
    path = tmp_path_factory.mktemp("zh") / "train.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(rows[:240])
    return str(path), [t for t, _ in rows[:240]]


def _chinese_bert(folder, texts: list[str]) -> str:
    """A tiny Hugging Face BERT folder whose WordPiece vocabulary is the texts' characters
    (as bert-base-chinese's is): config.json, model.safetensors, vocab.txt."""
    from albert_tf.convert.safetensors_io import write_safetensors

    chars = sorted({c for t in texts for c in t.lower() if not c.isspace()})
    # Each character alone and inside a word, as bert-base-chinese's vocabulary holds them.
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars, *(f"##{c}" for c in chars)]
    h, layers, ff = 32, 4, 64
    config = {
        "model_type": "bert", "architectures": ["BertModel"], "hidden_size": h,
        "num_hidden_layers": layers, "num_attention_heads": 2, "intermediate_size": ff,
        "vocab_size": len(vocab), "max_position_embeddings": 64, "type_vocab_size": 2,
        "hidden_act": "gelu", "layer_norm_eps": 1e-12,
    }  # fmt: skip
    rng = np.random.default_rng(0)

    def normal(*shape):
        return (0.02 * rng.standard_normal(shape)).astype(np.float32)

    tensors = {
        "embeddings.word_embeddings.weight": normal(len(vocab), h),
        "embeddings.position_embeddings.weight": normal(64, h),
        "embeddings.token_type_embeddings.weight": normal(2, h),
        "pooler.dense.weight": normal(h, h),
        "pooler.dense.bias": np.zeros(h, np.float32),
    }
    norms = ["embeddings.LayerNorm"]
    for i in range(layers):
        p = f"encoder.layer.{i}."
        for name, shape in (
            ("attention.self.query", (h, h)), ("attention.self.key", (h, h)),
            ("attention.self.value", (h, h)), ("attention.output.dense", (h, h)),
            ("intermediate.dense", (ff, h)), ("output.dense", (h, ff)),
        ):  # fmt: skip
            tensors[p + name + ".weight"] = normal(*shape)
            tensors[p + name + ".bias"] = np.zeros(shape[0], np.float32)
        norms += [p + "attention.output.LayerNorm", p + "output.LayerNorm"]
    for n in norms:
        tensors[n + ".weight"] = np.ones(h, np.float32)
        tensors[n + ".bias"] = np.zeros(h, np.float32)
    os.makedirs(folder, exist_ok=True)
    write_safetensors(tensors, os.path.join(folder, "model.safetensors"))
    with open(os.path.join(folder, "config.json"), "w", encoding="utf-8") as f:
        json.dump(config, f)
    with open(os.path.join(folder, "vocab.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(vocab) + "\n")
    return str(folder)


def test_a_chinese_bert_teacher_trains_exports_and_predicts(chinese_csv, tmp_path, capsys):
    data, texts = chinese_csv
    teacher = _chinese_bert(tmp_path / "bert_zh", texts)
    run, bundle = tmp_path / "run", tmp_path / "bundle"
    assert main(["train", "--data", data, "--teacher", teacher, *FLAGS, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"{teacher} reads 9" in out and "warning" not in out  # 98.9%: two marks are [UNK]
    info = json.loads((run / "run.json").read_text())
    assert info["teacher_choice"]["source"] == teacher
    # float32: this untrained-size student sits near 0.5, where int8 noise flips labels.
    assert main(["export", str(run), "--out", str(bundle), "--mode", "float32"]) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    verification = manifest["verification"]
    assert verification["passed"] and verification["mediapipe"]["agreement"] == 1.0
    assert verification["mediapipe"]["max_prob_diff"] == verification["runtime"]["max_prob_diff"]
    # The Keras-side WordPiece folds full-width punctuation ("：" to ":"), MediaPipe keeps
    # it (docs/CONTRACTS.md section 3): the report counts those texts, it does not hide them.
    assert 0 < verification["tokenization"]["texts_with_other_ids"] < 24
    capsys.readouterr()
    assert main(["predict", str(bundle), "沪指收涨 券商股领涨"]) == 0
    assert json.loads(capsys.readouterr().out)["label"] in ("sports", "stocks")


def test_a_teacher_without_the_script_is_reported_and_used_as_named(chinese_csv, tmp_path, capsys):
    data, _ = chinese_csv
    english = fixture("bert_tiny")
    run = tmp_path / "run"
    assert main(["train", "--data", data, "--teacher", english, *FLAGS, "--out", str(run)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {english} cannot read these texts" in out
    assert "--teacher packaged:e5 reads them" in out
    coverage = json.loads((run / "run.json").read_text())["teacher_choice"]["coverage"]
    assert coverage[english]["unknown_characters"] > 0.9
    assert coverage["packaged:minilm"]["unknown_characters"] > 0.3  # measured beside it
    assert coverage["packaged:e5"]["unknown_characters"] < 0.01
