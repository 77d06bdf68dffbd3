"""The run folder: a classifier is saved as one TextClassifier (tokenizer, length
and labels inside), both tokenizer kinds round-trip, run.json is version 2, old
folders (tokenizer and labels beside the model) load mapped to the new fields, and
a missing file is named."""

import json
import os

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
from albert_tf.training.run_folder import RunFolderError, load_run, save_run
from tests.old_runs import save_old_run

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
SPM = os.path.join(FIXTURES, "tiny_spiece.model")
VOCAB = os.path.join(FIXTURES, "hf", "bert_tiny", "vocab.txt")
TEXTS = ["the film is charming", "Dull AND slow", "an unseen word: zyzzyva"]


def tiny_classifier(vocab_size, problem_type="single_label", num_labels=2):
    config = AlbertConfig(
        vocab_size=vocab_size, embedding_size=8, hidden_size=16, num_hidden_layers=1,
        num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
    )  # fmt: skip
    return AlbertClassifier(
        AlbertBackbone(config), num_labels=num_labels, problem_type=problem_type
    )


def logits(model, tokenizer):
    return np.asarray(model(tokenizer(TEXTS, max_length=16), training=False))


def test_sentencepiece_run_round_trips_with_a_version_2_run_json(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    model = tiny_classifier(tok.vocab_size)
    save_run(str(tmp_path), model, tok, ["neg", "pos"], {"task": "classify", "max_length": 16})
    run = load_run(str(tmp_path))
    assert (run.task, run.problem_type, run.tokenizer_kind) == (
        "classify",
        "single_label",
        "sentencepiece",
    )
    info = json.loads((tmp_path / "run.json").read_text())
    assert info["version"] == 2 and info["parameters"] == model.count_params()
    assert info["tokenizer"] == {
        "kind": "sentencepiece",
        "file": "model.keras",
        "lower_case": tok.lower_case,
        "truncation": "head",
    }
    # One object: no tokenizer or labels file beside the model.
    assert sorted(os.listdir(tmp_path)) == ["albert_config.json", "model.keras", "run.json"]
    assert run.labels == ["neg", "pos"] and run.max_length == 16
    assert run.tokenizer.serialized_model == tok.serialized_model
    assert run.tokenizer.lower_case == tok.lower_case
    np.testing.assert_allclose(logits(run.model, run.tokenizer), logits(model, tok), atol=1e-6)


def test_wordpiece_run_round_trips_with_its_casing(tmp_path):
    # A cased vocabulary: the casing must survive, or "AND" would tokenize as "and".
    tok = WordPieceTokenizer.load(VOCAB, lower_case=False)
    model = tiny_classifier(tok.vocab_size)
    save_run(str(tmp_path), model, tok, ["neg", "pos"], {"task": "classify", "max_length": 16})
    assert not (tmp_path / "spiece.model").exists()
    run = load_run(str(tmp_path))
    assert run.tokenizer_kind == "wordpiece" and isinstance(run.tokenizer, WordPieceTokenizer)
    assert run.tokenizer.vocab == tok.vocab and run.tokenizer.lower_case is False
    assert (run.tokenizer.cls_id, run.tokenizer.sep_id) == (tok.cls_id, tok.sep_id)
    assert run.tokenizer.encode("Dull AND slow") == tok.encode("Dull AND slow")
    np.testing.assert_allclose(logits(run.model, run.tokenizer), logits(model, tok), atol=1e-6)
    # Without run.json the casing still comes back, from tokenizer_config.json.
    os.remove(tmp_path / "run.json")
    assert load_run(str(tmp_path)).tokenizer.lower_case is False


def test_old_run_json_task_holding_the_problem_type_is_mapped(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    save_old_run(tmp_path, tiny_classifier(tok.vocab_size, "multi_label", 3), tok,
                 ["a", "b", "c"], {})  # fmt: skip
    old = {"task": "multi_label", "max_length": 24, "dataset": "bbc_news", "metrics": {"x": 1}}
    (tmp_path / "run.json").write_text(json.dumps(old))
    run = load_run(str(tmp_path))
    assert (run.task, run.problem_type, run.max_length) == ("multi_label", "multi_label", 24)
    assert run.data["dataset"] == "bbc_news" and run.data["train"] is None
    assert run.info["metrics"] == {"x": 1} and run.version == 2


def test_old_head_run_keeps_its_task_and_its_training_file(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    save_run(str(tmp_path), tiny_classifier(tok.vocab_size), tok, ["O", "B-X"], {})
    old = {"task": "token", "max_length": 16, "dataset": "data/ner.conll"}
    (tmp_path / "run.json").write_text(json.dumps(old))
    run = load_run(str(tmp_path))
    assert (run.task, run.problem_type) == ("token", None)
    assert run.data["train"] == os.path.abspath("data/ner.conll")


def test_trainer_info_with_a_problem_type_as_task_is_written_as_version_2(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    model = tiny_classifier(tok.vocab_size, "regression", 1)
    data = {"train": "train.csv", "text_column": "review"}
    save_run(str(tmp_path), model, tok, ["score"], {"task": "regression", "data": data})
    info = json.loads((tmp_path / "run.json").read_text())
    assert (info["task"], info["problem_type"]) == ("regression", "regression")
    assert info["data"]["train"] == os.path.abspath("train.csv")
    assert info["data"]["text_column"] == "review" and info["data"]["label_column"] == "label"


def test_unknown_data_field_is_refused(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    with pytest.raises(ValueError, match="textcolumn"):
        save_run(str(tmp_path), tiny_classifier(tok.vocab_size), tok, ["a", "b"],
                 {"data": {"textcolumn": "x"}})  # fmt: skip


@pytest.mark.parametrize(
    "removed, named",
    [(["labels.txt"], "labels.txt"), (["spiece.model"], "spiece.model")],
)
def test_a_missing_file_of_an_old_run_is_named(tmp_path, removed, named):
    tok = AlbertTokenizer.load(SPM)
    save_old_run(tmp_path, tiny_classifier(tok.vocab_size), tok, ["a", "b"], {})
    for name in removed:
        os.remove(tmp_path / name)
    with pytest.raises(RunFolderError, match=named):
        load_run(str(tmp_path))


def test_a_missing_folder_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="no-such-run"):
        load_run(str(tmp_path / "no-such-run"))


def _saved_run(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    save_run(
        str(tmp_path), tiny_classifier(tok.vocab_size), tok, ["neg", "pos"], {"max_length": 16}
    )
    return tmp_path


def test_an_old_run_loads_from_its_files(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    model = tiny_classifier(tok.vocab_size)
    save_old_run(tmp_path, model, tok, ["neg", "pos"], {"max_length": 16})
    run = load_run(str(tmp_path))
    assert run.labels == ["neg", "pos"] and run.tokenizer.serialized_model == tok.serialized_model
    np.testing.assert_allclose(logits(run.model, run.tokenizer), logits(model, tok), atol=1e-6)


def test_a_reordered_labels_file_of_an_old_run_is_refused_with_both_orders(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    save_old_run(tmp_path, tiny_classifier(tok.vocab_size), tok, ["neg", "pos"], {})
    run = tmp_path
    (run / "labels.txt").write_text("pos\nneg\n")
    with pytest.raises(ValueError) as caught:
        load_run(str(run))
    assert str(caught.value) == (
        f"{run / 'labels.txt'} lists ['pos', 'neg'] but {run / 'run.json'} recorded "
        "['neg', 'pos'] with the model: labels.txt was changed after training"
    )


@pytest.mark.parametrize("damage", ["truncate", "random"])
def test_a_damaged_model_file_is_named_as_damaged_not_missing(tmp_path, damage):
    run = _saved_run(tmp_path)
    path = run / "model.keras"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3] if damage == "truncate" else os.urandom(4096))
    with pytest.raises(ValueError) as caught:
        load_run(str(run))
    assert str(caught.value) == (
        f"{path} is not a Keras model file (not a zip archive: truncated or corrupt)"
    )


def test_an_invalid_run_json_is_named(tmp_path):
    run = _saved_run(tmp_path)
    (run / "run.json").write_text("{not json")
    with pytest.raises(ValueError, match=rf"^{run / 'run.json'}: not a readable run.json"):
        load_run(str(run))
