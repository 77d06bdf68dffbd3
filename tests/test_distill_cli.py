"""`albert-tf distill`: teacher run folder -> student run folder that loads like any run."""

import dataclasses
import json
import os

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig, AlbertTokenizer
from albert_tf.cli import main
from albert_tf.distillation import load_teacher_logits
from albert_tf.distillation.runner import label_permutation
from albert_tf.training.run_folder import load_run, save_run

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SPIECE = os.path.join(FIXTURES, "tiny_spiece.model")
POS = ["a good film", "great cast and plot", "fine and fun", "a lovely movie"]
NEG = ["a bad film", "dull plot", "awful cast", "a boring movie"]


@pytest.fixture(scope="module")
def teacher_dir(tmp_path_factory):
    folder = str(tmp_path_factory.mktemp("teacher"))
    tok = AlbertTokenizer.load(SPIECE)
    config = AlbertConfig(
        vocab_size=tok.vocab_size,
        embedding_size=16,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    teacher = AlbertClassifier(AlbertBackbone(config), num_labels=2)
    # Label order deliberately the reverse of the data's sorted order.
    save_run(folder, teacher, tok, ["pos", "neg"], {"task": "single_label", "max_length": 32})
    return folder


def test_distill_cli_writes_a_loadable_student_run(teacher_dir, tmp_path):
    data = tmp_path / "train.csv"
    rows = [(t, "pos") for t in POS * 5] + [(t, "neg") for t in NEG * 5]
    data.write_text("text,label\n" + "".join(f"{t},{lab}\n" for t, lab in rows))
    extra = tmp_path / "unlabelled.txt"
    extra.write_text("a good plot\nan awful film\n\nfun cast\n")
    out = str(tmp_path / "student")
    rc = main(
        [
            "distill",
            "--teacher",
            teacher_dir,
            "--data",
            str(data),
            "--unlabelled",
            str(extra),
            "--tokenizer",
            SPIECE,
            "--preset",
            "tiny",
            "--epochs",
            "1",
            "--batch-size",
            "8",
            "--max-length",
            "32",
            "--temperature",
            "3",
            "--alpha",
            "0.25",
            "--out",
            out,
        ]
    )
    assert rc == 0
    run = load_run(out)
    assert run.labels == ["neg", "pos"]
    info = json.load(open(os.path.join(out, "run.json")))
    assert info["distillation"]["temperature"] == 3.0
    assert info["distillation"]["unlabelled_texts"] == 3
    assert info["parameters"] == run.model.count_params()
    # The cached teacher logits cover the training rows plus the 3 unlabelled texts.
    logits = load_teacher_logits(os.path.join(out, "teacher_logits.npz"))
    assert logits.shape == (32 + 3, 2)
    assert "accuracy" in info["metrics"]["test"]


def test_distill_cli_names_a_missing_teacher(tmp_path, capsys):
    data = tmp_path / "train.csv"
    data.write_text("text,label\na,pos\nb,neg\n")
    rc = main(["distill", "--teacher", str(tmp_path / "nope"), "--data", str(data), "--out", "x"])
    assert rc == 2
    assert "nope" in capsys.readouterr().err


def test_teacher_labels_are_put_in_data_order():
    np.testing.assert_array_equal(label_permutation(["pos", "neg"], ["neg", "pos"], 2), [1, 0])
    assert label_permutation(["neg", "pos"], ["neg", "pos"], 2) is None
    with pytest.raises(ValueError, match="differ"):
        label_permutation(["a", "b"], ["neg", "pos"], 2)
    with pytest.raises(ValueError, match="outputs 3 scores"):
        label_permutation(None, ["neg", "pos"], 3)


def test_load_teacher_with_a_wordpiece_vocabulary(tmp_path):
    from albert_tf.distillation.runner import load_teacher
    from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

    vocab = WordPieceTokenizer.load(os.path.join(FIXTURES, "hf", "bert_tiny"))
    config = AlbertConfig(
        vocab_size=vocab.vocab_size,
        embedding_size=16,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        intermediate_size=32,
        max_position_embeddings=32,
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=2)
    model.save(str(tmp_path / "model.keras"))
    vocab.save(str(tmp_path))
    teacher = load_teacher(str(tmp_path))
    assert isinstance(teacher.tokenizer, WordPieceTokenizer) and teacher.labels is None
    x = vocab(["a film"], max_length=16)
    np.testing.assert_allclose(teacher.model.predict(x, verbose=0), model.predict(x, verbose=0))
    (tmp_path / "vocab.txt").unlink()
    with pytest.raises(FileNotFoundError, match="no tokenizer"):
        load_teacher(str(tmp_path))


def test_one_set_of_distillation_defaults():
    import argparse
    import inspect

    from albert_tf.commands import distill, train
    from albert_tf.distillation import Distiller
    from albert_tf.distillation.settings import DistillSettings, StudentRecipe

    defaults = DistillSettings()
    assert (defaults.epochs, defaults.alpha, defaults.learning_rate) == (2, 0.2, 3e-4)
    recipe = StudentRecipe()
    for field in dataclasses.fields(DistillSettings):
        assert getattr(recipe, field.name) == getattr(defaults, field.name)
    # Distiller(...) without loss weights uses the same ones.
    signature = inspect.signature(Distiller.__init__).parameters
    for name in ("temperature", "alpha", "hidden_weight", "attention_weight"):
        assert signature[name].default == getattr(defaults, name)
    # Every `albert-tf distill` setting flag defaults to None: the dataclass decides.
    parser = argparse.ArgumentParser()
    distill.register(parser.add_subparsers())
    args = parser.parse_args(["distill", "--teacher", "t", "--data", "d", "--out", "o"])
    assert all(getattr(args, name) is None for name in distill.SETTINGS)
    # `albert-tf train`'s default recipe fills the flags left out from the same values.
    train_parser = argparse.ArgumentParser()
    train.register(train_parser.add_subparsers())
    args = train._fill_defaults(
        train_parser.parse_args(["train", "--data", "d", "--out", "o"]), "distill"
    )
    for name in ("epochs", "batch_size", "learning_rate", "max_length", "patience"):
        assert getattr(args, name) == getattr(defaults, name)
