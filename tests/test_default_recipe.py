"""The default recipe: `albert-tf train --data x.csv` fine-tunes a pretrained teacher,
distills it into an ALBERT student within the size budget, and the student exports and
predicts as is. A tiny real BERT checkpoint (tests/fixtures/hf/bert_tiny, made by
tests/fixtures/make_hf_fixtures.py) stands in for MiniLM."""

from __future__ import annotations

import csv
import json

import pytest

from albert_tf.cli import main
from albert_tf.config import AlbertConfig
from albert_tf.distillation.default_recipe import student_parameters, student_shape
from albert_tf.distillation.runner import choose_max_length, spread_layers
from tests.convert_fixtures import fixture
from tests.export_helpers import movie_reviews

TEACHER = fixture("bert_tiny")
TINY = [
    "--teacher",
    TEACHER,
    "--student-size",
    "0.6",
    "--max-length",
    "32",
    "--teacher-epochs",
    "1",
]


def _csv(path, n: int = 240) -> str:
    (texts, labels), _ = movie_reviews(n_train=n, n_test=1)
    with open(path, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "label"])
        writer.writerows(zip(texts, labels))
    return str(path)


@pytest.fixture(scope="module")
def student(tmp_path_factory):
    root = tmp_path_factory.mktemp("recipe")
    data = _csv(root / "reviews.csv")
    out = root / "run"
    argv = ["train", "--data", data, *TINY, "--epochs", "1", "--augment-copies", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    return out


def test_student_is_distilled_from_the_fine_tuned_teacher_within_budget(student):
    info = json.loads((student / "run.json").read_text())
    teacher = json.loads((student / "teacher" / "run.json").read_text())
    assert info["recipe"]["name"] == "distill" and info["teacher"]["source"] == TEACHER
    assert info["teacher"]["parameters"] == teacher["parameters"]
    assert info["teacher"]["metrics"]["test"]["accuracy"] == teacher["metrics"]["test"]["accuracy"]
    assert info["parameters"] <= 0.6 * teacher["parameters"]
    # The teacher keeps its epoch of least validation loss (its probabilities are taught).
    assert teacher["settings"]["monitor"] == ["val_loss", "min"]
    assert "accuracy" in info["metrics"]["test"]
    from albert_tf.training.run_folder import load_run

    assert load_run(str(student)).tokenizer_kind == "wordpiece"


def test_student_shape_flags_reach_the_recipe(tmp_path, monkeypatch):
    # Caught before training: the tiny teacher's budget alone would give one group, so
    # a finished run could not tell an ignored --student-groups from an honoured one.
    from albert_tf.distillation import default_recipe

    seen = {}

    def stop(*args, **kwargs):
        seen["recipe"] = args[5]
        raise ValueError("stopped before training")

    monkeypatch.setattr(default_recipe, "train_distilled_classifier", stop)
    data = _csv(tmp_path / "x.csv", n=40)
    argv = ["train", "--data", data, "--student-layers", "6", "--student-groups", "3"]
    main([*argv, "--max-bundle-mb", "50", "--ffn-share", "0.5", "--out", str(tmp_path / "r")])
    recipe = seen["recipe"]
    assert (recipe.student_layers, recipe.groups, recipe.max_bundle_mb) == (6, 3, 50.0)
    assert recipe.ffn_share == 0.5


@pytest.mark.parametrize("share", ["0", "1.5"])
def test_ffn_share_out_of_range_is_one_line(tmp_path, capsys, share):
    data = _csv(tmp_path / "x.csv", n=40)
    out = tmp_path / "r"
    assert main(["train", "--data", data, "--ffn-share", share, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--ffn-share must be" in err[0]
    assert not out.exists()


def test_student_groups_must_divide_the_layers(tmp_path, capsys):
    data = _csv(tmp_path / "x.csv", n=40)
    out = tmp_path / "r"
    argv = ["train", "--data", data, "--student-layers", "3", "--student-groups", "2"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--student-layers 3 must be a multiple of --student-groups 2" in err[0]
    assert not out.exists()


def test_teacher_and_student_are_trained_on_new_runs_long_text_cut(student):
    from albert_tf.tokenizers.sentencepiece import RUN_TRUNCATION

    for folder in (student, student / "teacher"):
        entry = json.loads((folder / "run.json").read_text())["tokenizer"]
        assert entry["truncation"] == RUN_TRUNCATION and entry["head_share"] == 0.75


def test_student_exports_and_predicts_as_is(student, tmp_path, capsys):
    bundle = tmp_path / "bundle"
    # float32: this tiny student's probabilities sit near 0.5 on its 24 test texts, where
    # int8 weights flip labels (0.83 agreement once in CI); the real students verify in
    # the default dynamic mode at 0.99-1.00 (BENCHMARKS.md).
    assert main(["export", str(student), "--out", str(bundle), "--mode", "float32"]) == 0
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["tokenizer"]["kind"] == "wordpiece"
    assert manifest["verification"]["passed"] is True
    capsys.readouterr()
    assert main(["predict", str(bundle), "a warm, funny film"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["label"] in manifest["labels"]


@pytest.mark.parametrize(
    "flags, message",
    [
        (["--recipe", "finetune"], "--recipe finetune needs --pretrained CHECKPOINT"),
        (["--recipe", "distill", "--pretrained", "x"], "--pretrained is for --recipe finetune"),
        (["--recipe", "distill", "--preset", "tiny"], "--preset is a --recipe scratch setting"),
        (["--recipe", "scratch", "--teacher", "x"], "--teacher is a --recipe distill setting"),
        (["--pretrained", "x", "--student-size", "0.5"], "--student-size is a --recipe distill"),
        (["--pretrained", "x", "--student-groups", "1"], "--student-groups is a --recipe distill"),
        (["--recipe", "distill", "--task", "regression"], "--recipe distill trains single-label"),
        (["--recipe", "scratch", "--pretrained", "x"], "use --recipe finetune"),
    ],
)
def test_bad_flag_combinations_end_in_one_line(tmp_path, capsys, flags, message):
    out = tmp_path / "run"
    code = main(["train", "--data", str(tmp_path / "x.csv"), *flags, "--out", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1 and message in err[0]
    assert not out.exists()


def test_student_size_out_of_range_is_refused(tmp_path, capsys):
    data = _csv(tmp_path / "x.csv", n=40)
    code = main(["train", "--data", data, "--student-size", "1.5", "--out", str(tmp_path / "r")])
    assert code == 2
    assert "--student-size must be in (0, 1], got 1.5" in capsys.readouterr().err


def test_student_shape_is_the_widest_within_budget_and_drops_a_group_when_needed():
    config = AlbertConfig(
        vocab_size=30522,
        embedding_size=384,
        hidden_size=384,
        num_hidden_layers=6,
        num_attention_heads=12,
        intermediate_size=1536,
    )
    budget = 22_713_986 // 4
    width, groups = student_shape(config, 15_771, budget, 2, 2)
    assert groups == 2 and width % 8 == 0
    assert student_parameters(config, 15_771, width, 2, 2) <= budget
    assert student_parameters(config, 15_771, width + 8, 2, 2) > budget
    assert student_shape(config, 15_771, budget // 2, 2, 2)[1] == 1
    assert spread_layers(6, 2) == [1, 4] and spread_layers(3, 1) == [1]
    # Three layers cannot run over two groups: a budget too small for three drops to one.
    assert student_shape(config, 15_771, budget, 3, 2, layers=3)[1] == 1


def test_max_length_is_the_shortest_step_holding_95_percent_of_the_texts():
    from albert_tf.convert import load_tokenizer

    tokenizer = load_tokenizer(TEACHER)
    short = ["a warm, funny film"] * 100
    long = ["the film " * 60] * 100
    assert choose_max_length(tokenizer, short) == 64
    assert choose_max_length(tokenizer, long) == 128  # the longest step, not the text's length
    # 5% long texts do not move the choice; 10% do.
    assert choose_max_length(tokenizer, short[:95] + long[:5]) == 64
    assert choose_max_length(tokenizer, short[:90] + long[:10]) == 128


def test_bundle_keeps_only_the_position_rows_it_can_read(student, tmp_path):
    from ai_edge_litert.interpreter import Interpreter

    bundle = tmp_path / "bundle"
    # --force: this test reads the tables; label agreement is the test above's.
    assert main(["export", str(student), "--out", str(bundle), "--force"]) == 0
    max_length = json.loads((student / "run.json").read_text())["max_length"]
    interpreter = Interpreter(model_path=str(bundle / "model.tflite"))
    float_tables = []
    for detail in interpreter.get_tensor_details():
        try:
            value = interpreter.get_tensor(detail["index"])
        except ValueError:
            continue
        if value.ndim == 2 and value.dtype.kind == "f":
            float_tables.append(value.shape[0])
    # The position table is the only float [rows, E] constant; it has max_length rows,
    # not the model's max_position_embeddings.
    assert max_length in float_tables
    assert max(float_tables) <= max_length


def test_teacher_epochs_give_at_least_the_minimum_batches_unless_set():
    from albert_tf.distillation.default_recipe import StudentRecipe, teacher_epochs

    recipe = StudentRecipe()  # 250 batches of 32
    assert teacher_epochs(recipe, 8454) == 1  # movie_reviews: 265 batches an epoch
    assert teacher_epochs(recipe, 3608) == 3  # sms_spam: 113
    assert teacher_epochs(recipe, 10) == 5  # capped: a few rows get no 250 epochs
    assert teacher_epochs(StudentRecipe(teacher_epochs=2), 10) == 2


def test_small_data_sets_get_more_teacher_labelled_copies_unless_set():
    from albert_tf.distillation.default_recipe import StudentRecipe, augment_copies_for

    recipe = StudentRecipe()  # at least 9,000 texts for the student, 2 to 8 copies
    assert augment_copies_for(recipe, 8484) == 2  # movie_reviews: 25,452 texts already
    assert augment_copies_for(recipe, 3000) == 2  # 9,000 with 2 copies
    assert augment_copies_for(recipe, 2375) == 3  # bol_reviews_nl: 9,500
    assert augment_copies_for(recipe, 1028) == 8  # amazon_reviews_fr: 9,252
    assert augment_copies_for(recipe, 40) == 8  # capped: 360 texts, not 9,000
    assert augment_copies_for(recipe, 1028, num_unlabelled=6000) == 2  # 9,084 with them
    assert augment_copies_for(StudentRecipe(augment_copies=1), 40) == 1


def test_copies_of_long_texts_are_windows_of_the_text_and_short_ones_perturbed():
    from albert_tf.distillation.augment import augment_texts

    article = " ".join(f"w{i:02d}" for i in range(50))  # 3 characters a word
    short = "a warm and funny film"
    copies = augment_texts([article, short], copies=20, seed=3, window_chars=24)
    windows, perturbed = copies[0::2], copies[1::2]
    assert all(w in article and len(w.split()) == 8 for w in windows)
    # Random starts: the windows cover more of the article than its head and tail.
    assert len({w.split()[0] for w in windows}) > 5
    assert all(set(p.split()) <= set(short.split()) for p in perturbed)
    assert any(p != short for p in perturbed)
    # Without a window, the long text is perturbed as a whole.
    assert all(len(c.split()) != 8 for c in augment_texts([article], copies=5, seed=3))


def test_texts_without_spaces_are_augmented_character_by_character():
    from albert_tf.distillation.augment import augment_texts, text_units

    review = "这本书写得很好，值得一读。物流也很快"
    assert [u for u, _ in text_units("好书 good book！")] == ["好", "书", "good", "book", "！"]
    assert "".join(u + s for u, s in text_units("Thai ที่ดี")) == "Thai ที่ดี"
    copies = augment_texts([review], copies=30, seed=0)
    assert all(set(c) <= set(review) for c in copies)
    changed = [c for c in copies if c != review]
    assert len(changed) > 10  # one unspaced "word" would never change
    windows = augment_texts([review * 10], copies=10, seed=0, window_chars=12)
    assert all(len(w) == 12 and w in review * 10 for w in windows)
    assert len(set(windows)) > 3


def test_window_is_one_max_length_of_pieces_in_characters():
    from albert_tf.convert import load_tokenizer
    from albert_tf.distillation.default_recipe import window_characters

    tokenizer = load_tokenizer(TEACHER)
    texts = ["the film, " * 60] * 10  # 3 pieces per 8 characters: "the", "film", ","
    chars = window_characters(tokenizer, texts, max_length=34)
    assert chars == 32 * 8 // 3  # max_length less [CLS] and [SEP]


def test_the_student_budget_leaves_room_in_the_bundle_for_its_tokenizer():
    from albert_tf.convert import load_tokenizer
    from albert_tf.distillation.default_recipe import (
        BUNDLE_BYTES_PER_PARAMETER,
        bundle_parameters,
        tokenizer_bytes,
    )
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from tests.convert_fixtures import HF

    wordpiece = load_tokenizer(TEACHER)
    with open(f"{TEACHER}/vocab.txt", "rb") as f:
        assert tokenizer_bytes(wordpiece) == len(f.read())
    spiece = AlbertTokenizer.load(f"{HF}/spiece.model")
    assert tokenizer_bytes(spiece) == len(spiece.serialized_model)
    for tokenizer in (wordpiece, spiece):
        most = bundle_parameters(6.0, tokenizer)
        room = most * BUNDLE_BYTES_PER_PARAMETER + tokenizer_bytes(tokenizer)
        assert 0.98 * 6e6 < room <= 0.99 * 6e6 + BUNDLE_BYTES_PER_PARAMETER
