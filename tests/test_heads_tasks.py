"""albert_tf.training.tasks: the per-task entry points the CLI calls."""

import os

import numpy as np
import pytest

from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.training.builders import ModelSource
from albert_tf.training.finetune import FinetuneSettings
from albert_tf.training.tasks import (
    TASKS,
    TaskFiles,
    _entity_spans,
    build_task_model,
    compile_task_model,
    evaluate_task,
    make_task_dataset,
    train_task,
)
from tests.heads_helpers import FIXTURES, SQUAD_FIXTURE, tiny_backbone


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))


def test_every_task_builds_its_head():
    shapes = {}
    for task in TASKS:
        model = build_task_model(task, tiny_backbone(60), num_labels=3)
        out = model.output  # symbolic: no data needed to check the head's shape
        if isinstance(out, dict):
            shapes[task] = {k: tuple(v.shape) for k, v in out.items()}
        else:
            shapes[task] = tuple(out.shape)
    assert shapes == {
        "classify": (None, 3),
        "pairs": (None, 3),
        "regression": (None, 1),
        "multi_label": (None, 3),
        "token": (None, None, 3),
        "qa": {"start_logits": (None, None), "end_logits": (None, None)},
        "multiple_choice": (None, None),
    }
    with pytest.raises(ValueError, match="Unknown task 'ner'"):
        build_task_model("ner", tiny_backbone(60))


def test_entity_spans_follow_bio():
    tags = ["B-PER", "I-PER", "O", "B-LOC", "I-LOC", "I-ORG", "B-LOC"]
    assert _entity_spans(tags) == {("PER", 0, 1), ("LOC", 3, 4), ("ORG", 5, 5), ("LOC", 6, 6)}


@pytest.mark.parametrize(
    "task,path,metric",
    [
        ("token", "ner_tiny.conll", "entity_f1"),
        ("qa", SQUAD_FIXTURE, "f1"),
        ("multiple_choice", "choices_tiny.jsonl", "accuracy"),
    ],
)
def test_head_tasks_read_fit_and_evaluate(tok, task, path, metric):
    data = make_task_dataset(task, os.path.join(FIXTURES, path), tok, max_length=48)
    model = compile_task_model(
        build_task_model(task, tiny_backbone(tok.vocab_size), num_labels=data.num_labels), 1e-3
    )
    history = model.fit(data.dataset(batch_size=4, shuffle=True), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    result = evaluate_task(task, model, data)
    assert metric in result and 0.0 <= result[metric] <= 100.0


def test_pairs_task_reads_two_columns(tok, tmp_path):
    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label\nthe film was fine,it was good,yes\na dull plot,great acting,no\n")
    data = make_task_dataset(
        "pairs", str(path), tok, max_length=16, text_column="a", pair_column="b"
    )
    assert data.labels == ["no", "yes"] and data.y.tolist() == [1, 0]
    assert data.x["segment_ids"].max() == 1
    with pytest.raises(ValueError, match="pair_column"):
        make_task_dataset("pairs", str(path), tok, text_column="a")


def test_train_task_writes_a_loadable_run_folder(tmp_path):
    from albert_tf.training.run_folder import load_run

    ner = os.path.join(FIXTURES, "ner_tiny.conll")
    result = train_task(
        "token",
        TaskFiles(ner, validation=ner),
        str(tmp_path / "run"),
        FinetuneSettings(epochs=1, batch_size=4),
        ModelSource("tiny", tokenizer_path=os.path.join(FIXTURES, "tiny_spiece.model")),
        max_length=48,
        verbose=0,
    )
    assert set(result["metrics"]["validation"]) >= {"word_accuracy", "entity_f1"}
    run = load_run(result["run_dir"])
    assert run.task == "token" and run.labels[0] == "O" and len(run.labels) == 7
    assert run.problem_type is None and run.data["train"] == os.path.abspath(ner)
    # The shared fit path: best checkpoint, TensorBoard logs, resume backup.
    assert (tmp_path / "run" / "checkpoints" / "best.weights.h5").exists()
    assert (tmp_path / "run" / "logs").is_dir()
    assert run.model.num_labels == 7
    with pytest.raises(ValueError, match="classifier task"):
        train_task("classify", TaskFiles(ner), str(tmp_path / "x"))
