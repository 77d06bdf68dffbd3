"""The whole distillation recipe behind `albert-tf distill`: load a teacher, cache
its logits, train a student with the Distiller, evaluate, write a run folder."""

from __future__ import annotations

import dataclasses
import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from albert_tf.convert import load_classifier, load_tokenizer
from albert_tf.distillation.data import distillation_dataset
from albert_tf.distillation.distiller import UNLABELLED, Distiller
from albert_tf.distillation.settings import DistillSettings
from albert_tf.distillation.student_init import student_from_teacher as from_teacher
from albert_tf.distillation.teacher_logits import compute_teacher_logits
from albert_tf.distillation.vocabulary import prune_vocabulary
from albert_tf.models import AlbertClassifier, TextClassifier, TextPreprocessor
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
from albert_tf.training.builders import build_tokenizer, preset_backbone
from albert_tf.training.fit_and_save import FitResult, fit_and_save
from albert_tf.training.optimizers import compile_for_training
from albert_tf.training.recipe import evaluate_model
from albert_tf.training.run_folder import MODEL_FILE, RunFolder, save_run, write_text_atomic
from albert_tf.training.stage_clock import StageClock


@dataclass
class Teacher:
    """A frozen teacher classifier with its own tokenizer (and label order, when known)."""

    model: Any
    tokenizer: Any
    labels: list[str] | None = None
    max_length: int = 128
    source: str = ""
    info: dict[str, Any] = field(default_factory=dict)


def load_teacher(path: str) -> Teacher:
    """A run folder (`model.keras` with `spiece.model` or a WordPiece `vocab.txt`),
    or a checkpoint with a classification head that `albert_tf.convert` reads."""
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, MODEL_FILE)):
        run = RunFolder(path).load(labels_required=False)
        return Teacher(run.model, run.tokenizer, run.labels, run.max_length, path, run.info)
    model = load_classifier(path)
    tokenizer = load_tokenizer(path)
    if tokenizer is None:
        raise FileNotFoundError(f"Teacher checkpoint {path} has no tokenizer file.")
    return Teacher(model, tokenizer, None, 128, path, {})


def label_permutation(teacher_labels: list[str] | None, labels: list[str], width: int):
    """Column order that puts the teacher's logits in the student's label order."""
    if teacher_labels is None:
        if width != len(labels):
            raise ValueError(
                f"The teacher outputs {width} scores but the data has {len(labels)} labels."
            )
        return None
    if sorted(teacher_labels) != sorted(labels):
        raise ValueError(f"Teacher labels {teacher_labels} differ from the data's labels {labels}.")
    order = [teacher_labels.index(name) for name in labels]
    return None if order == list(range(len(labels))) else np.array(order)


def _pruned(teacher: Teacher, texts: list[str]):
    if not isinstance(teacher.tokenizer, WordPieceTokenizer):
        raise ValueError(
            f"Vocabulary pruning needs a WordPiece teacher (vocab.txt); the teacher "
            f"{teacher.source!r} has a {type(teacher.tokenizer).__name__}."
        )
    return prune_vocabulary(teacher.tokenizer, texts)


def _same_tokenizer(a, b) -> bool:
    return getattr(a, "serialized_model", None) is not None and getattr(
        a, "serialized_model", None
    ) == getattr(b, "serialized_model", 0)


# Pieces per text the recipe picks from: 64 holds 95% of sentence-like data
# (movie reviews: 45 pieces at the 95th percentile); longer texts (news, e-mails)
# get 128, whose cost (attention grows with its square) still trains in minutes
# on a laptop CPU. A longer --max-length is the user's call.
LENGTH_STEPS = (64, 128)


def sample_texts(texts: list[str], size: int = 2000) -> list[str]:
    """About `size` of `texts`, evenly spaced: enough to measure their lengths."""
    return texts[:: max(1, len(texts) // size)]


def packed_lengths(tokenizer: Any, texts: list[str]) -> np.ndarray:
    return np.array([len(tokenizer.encode(t)) + 2 for t in sample_texts(texts)] or [0])


def choose_max_length(tokenizer: Any, texts: list[str]) -> int:
    """The shortest LENGTH_STEPS entry that holds 95% of `texts` ([CLS] and [SEP] counted)."""
    needed = float(np.percentile(packed_lengths(tokenizer, texts), 95))
    return next((n for n in LENGTH_STEPS if needed <= n), LENGTH_STEPS[-1])


def spread_layers(teacher_layers: int, groups: int) -> list[int]:
    """One teacher layer per group, at the middle of each 1/groups of the depth."""
    return [
        min(teacher_layers - 1, (teacher_layers * (2 * g + 1)) // (2 * groups))
        for g in range(groups)
    ]


@dataclass
class TeacherScores:
    """The teacher's logits for a text list, cached in `out_dir/<name>.npz` and
    put in the student's label order."""

    teacher: Teacher
    out_dir: str
    max_length: int
    order: np.ndarray | None
    # (texts, the teacher's logits of them) -> the scores the student learns
    # (`ngram_teacher.NgramBlend`); the cache holds the teacher's own logits.
    blend: Any = None

    def __call__(self, texts: list[str], name: str) -> np.ndarray:
        logits = compute_teacher_logits(
            self.teacher.model, self.teacher.tokenizer, texts, self.max_length,
            path=os.path.join(self.out_dir, f"{name}.npz"),
        )  # fmt: skip
        logits = logits if self.order is None else logits[:, self.order]
        return logits if self.blend is None else self.blend(texts, logits)


def student_backbone(
    teacher: Teacher,
    texts: list[str],
    train_texts: list[str],
    settings: DistillSettings,
    out_dir: str,
    init_backbone: Any = None,
    vocabulary: tuple[Any, np.ndarray] | None = None,
) -> tuple[Any, Any, str]:
    """(backbone, tokenizer, preset name) of the student: the teacher's own
    layers (`student_from_teacher`, its vocabulary pruned to `texts` with
    `prune_vocab`, or `vocabulary` when the caller already pruned it), or a
    fresh preset with a tokenizer trained on `train_texts`."""
    s = settings
    if not s.embedding_width:
        tokenizer = build_tokenizer(train_texts, s.vocab_size, s.tokenizer_path)
        return preset_backbone(s.preset, tokenizer.vocab_size, s.max_length), tokenizer, s.preset
    source = init_backbone if init_backbone is not None else teacher.model.backbone
    tokenizer, kept = teacher.tokenizer, None
    if s.prune_vocab:
        tokenizer, kept = vocabulary or _pruned(teacher, texts)
    layers = teacher_layers_of(s, source.config.num_hidden_layers)
    units = s.student_intermediate(source.config.intermediate_size)
    sample = None
    if units < source.config.intermediate_size:
        # The feed-forward units kept are those that vary most on the user's texts.
        sample = dict(
            teacher.tokenizer(sample_texts(train_texts, 256), max_length=s.max_length,
                              padding="max_length")
        )  # fmt: skip
    backbone = from_teacher(
        source, s.embedding_width, s.student_layers, layers, s.student_basis, token_ids=kept,
        intermediate_size=units, sample_inputs=sample,
    )  # fmt: skip
    return backbone, tokenizer, f"from_teacher(E={s.embedding_width})"


def teacher_layers_of(settings: DistillSettings, depth: int) -> list[int]:
    """The teacher layers a from-teacher student copies: `teacher_layers`, or
    `groups` of them spread over the teacher's `depth`."""
    if settings.teacher_layers is not None:
        return list(settings.teacher_layers)
    return spread_layers(depth, settings.groups)


def distillation_datasets(
    texts: list[str],
    y: np.ndarray,
    validation: Any,
    tokenizer: Any,
    scores: TeacherScores,
    settings: DistillSettings,
):
    """(train, validation or None) batches: the student's and, when it differs,
    the teacher's tokens, with the cached teacher logits unless the teacher runs live."""
    teacher_tokenizer = scores.teacher.tokenizer
    same = tokenizer is teacher_tokenizer or _same_tokenizer(tokenizer, teacher_tokenizer)
    common = dict(
        tokenizer=tokenizer,
        teacher_tokenizer=None if same else teacher_tokenizer,
        max_length=settings.max_length,
        teacher_max_length=scores.max_length,
    )
    cached = not settings.transfers_states and settings.alpha != 1.0
    train_ds = distillation_dataset(
        texts, y, teacher_logits=scores(texts, "teacher_logits") if cached else None,
        batch_size=settings.batch_size, shuffle=True, seed=settings.seed, **common,
    )  # fmt: skip
    if validation is None:
        return train_ds, None
    val_logits = scores(validation.texts, "teacher_logits_validation") if cached else None
    val_ds = distillation_dataset(
        validation.texts, np.asarray(validation.labels, np.int32), teacher_logits=val_logits,
        batch_size=64, **common,
    )  # fmt: skip
    return train_ds, val_ds


def fit_student(
    student: AlbertClassifier,
    teacher: Teacher,
    train_ds,
    val_ds,
    num_texts: int,
    settings: DistillSettings,
    out_dir: str,
) -> FitResult:
    s = settings
    distiller = Distiller(
        student, teacher.model if s.transfers_states else None, temperature=s.temperature,
        alpha=s.alpha, hidden_weight=s.hidden_weight, attention_weight=s.attention_weight,
    )  # fmt: skip
    compile_for_training(distiller, math.ceil(num_texts / s.batch_size) * s.epochs, s.learning_rate)
    # One fit path for every trainer; the Distiller's checkpoints hold the
    # student (and the frozen teacher it wraps), so the best epoch comes back whole.
    return fit_and_save(
        distiller, train_ds, val_ds, epochs=s.epochs, out_dir=out_dir,
        monitor=("val_accuracy", "max") if val_ds is not None else ("loss", "min"),
        patience=s.patience, verbose=s.verbose,
    )  # fmt: skip


def distill_run(
    teacher: Teacher,
    train,
    validation,
    test,
    labels: list[str],
    out_dir: str,
    unlabelled: list[str] | None = None,
    settings: DistillSettings | None = None,
    init_backbone: Any = None,
    info: dict[str, Any] | None = None,
    vocabulary: tuple[Any, np.ndarray] | None = None,
    blend: Any = None,
    **options: Any,
) -> dict[str, Any]:
    """Distill `teacher` into a student and write its run folder; returns a summary.

    `train`/`validation`/`test` are `albert_tf.training.finetune.Split`s with int
    labels. `options` are `DistillSettings` fields (preset=, temperature=,
    epochs=, ...), or pass `settings`. The teacher's logits are cached in
    `out_dir/teacher_logits*.npz`.

    `embedding_width=E` (> 0) replaces the preset student with
    `albert_tf.distillation.student_init.student_from_teacher(init_backbone, E,
    student_layers, teacher_layers, student_basis)`: the teacher's tokenizer, a
    rank-(E-1) factorized embedding and shared copies of teacher layers.
    `max_length` None picks 64 or 128 from the training texts (`choose_max_length`).
    `init_backbone` defaults to the teacher's own backbone. With `prune_vocab`
    the student keeps only the teacher's WordPiece tokens that the training and
    unlabelled texts use (`albert_tf.distillation.prune_vocabulary`); pass its
    `(tokenizer, kept)` result as `vocabulary` when it is already computed for
    those texts (the default recipe sizes the student with it). `blend` turns the
    teacher's logits into the scores the student learns (`TeacherScores.blend`).
    """
    start = time.time()
    s = dataclasses.replace(settings or DistillSettings(), **options)
    if s.max_length is None:
        s = dataclasses.replace(s, max_length=choose_max_length(teacher.tokenizer, train.texts))
    os.makedirs(out_dir, exist_ok=True)
    order = label_permutation(teacher.labels, labels, int(teacher.model.output_shape[-1]))
    if s.transfers_states and order is not None:
        raise ValueError("hidden/attention transfer needs the teacher's labels in data order.")
    max_length = int(s.teacher_max_length or teacher.max_length)
    scores = TeacherScores(teacher, out_dir, max_length, order, blend)
    extra = list(unlabelled or [])
    texts = list(train.texts) + extra
    keras.utils.set_random_seed(s.seed)
    clock = StageClock()
    backbone, tokenizer, preset = student_backbone(
        teacher, texts, train.texts, s, out_dir, init_backbone, vocabulary
    )
    student = AlbertClassifier(backbone, num_labels=len(labels))
    y = np.concatenate([np.asarray(train.labels), np.full(len(extra), UNLABELLED)]).astype(np.int32)
    clock.lap("student_init")
    train_ds, val_ds = distillation_datasets(texts, y, validation, tokenizer, scores, s)
    clock.lap("teacher_logits_and_batches")
    fit = fit_student(student, teacher, train_ds, val_ds, len(texts), s, out_dir)
    clock.lap("student_fit")
    metrics = {"best_epoch": _best_epoch(fit.history, val_ds is not None)}
    if test is not None:
        metrics.update(_test_metrics(student, tokenizer, test, labels, scores, s, out_dir))
    clock.lap("student_test")
    run_info = {
        **_run_info(student, teacher, tokenizer, s, preset, len(extra)),
        "train_examples": len(train.texts),
        "epochs_run": fit.epochs_run,
        "train_seconds": round(time.time() - start, 1),
        "metrics": metrics,
        **(info or {}),
    }
    run_info["stage_seconds"] = {**run_info.get("stage_seconds", {}), **clock.stages}
    _write_run(
        out_dir, student, tokenizer, labels, run_info, fit.history, (train, validation, test)
    )
    return _summary(out_dir, run_info, time.time() - start)


def _summary(out_dir: str, run_info: dict[str, Any], seconds: float) -> dict[str, Any]:
    """What `distill_run` returns: the run folder and its headline figures."""
    metrics = run_info["metrics"]
    return {
        "run_dir": out_dir,
        "parameters": run_info["parameters"],
        "teacher_parameters": run_info["teacher_parameters"],
        "test_accuracy": metrics.get("test", {}).get("accuracy"),
        "teacher_test_accuracy": metrics.get("teacher_test_accuracy"),
        "seconds": round(seconds, 1),
    }


def _best_epoch(history: dict[str, list[float]], validated: bool) -> int:
    """The kept epoch, from 1: best validation accuracy, else least training loss."""
    if validated:
        return int(np.argmax(history["val_accuracy"])) + 1
    return int(np.argmin(history.get("loss", []))) + 1


def _write_run(out_dir, student, tokenizer, labels, run_info, history, splits) -> None:
    """The run folder: model, tokenizer and run.json, the held-out texts export
    verifies on, and the per-epoch history."""
    train, validation, test = splits
    save_run(out_dir, student, tokenizer, labels, run_info)
    RunFolder(out_dir).write_held_out(validation, test, labels, list(train.texts))
    write_text_atomic(os.path.join(out_dir, "history.json"), json.dumps(history, indent=1))


def _test_metrics(student, tokenizer, test, labels, scores, settings, out_dir) -> dict[str, Any]:
    """The student's test metrics and the teacher's accuracy on the same texts."""
    t_logits = scores(test.texts, "teacher_logits_test")
    return {
        "test": evaluate_model(
            TextClassifier.from_classifier(
                student, TextPreprocessor(tokenizer, settings.max_length, labels)
            ),
            test,
            out_dir,
        ),
        "teacher_test_accuracy": float((t_logits.argmax(-1) == np.asarray(test.labels)).mean()),
    }


def _run_info(student, teacher, tokenizer, settings, preset: str, unlabelled: int) -> dict:
    """run.json's description of the student and how it was distilled."""
    s = settings
    distillation: dict[str, Any] = {
        "teacher": teacher.source,
        "temperature": s.temperature,
        "alpha": s.alpha,
        "hidden_weight": s.hidden_weight,
        "attention_weight": s.attention_weight,
        "unlabelled_texts": unlabelled,
    }
    if s.embedding_width:
        distillation.update(
            student_from_teacher=s.embedding_width,  # run.json's name for E
            student_layers=student.backbone.config.num_hidden_layers,
            teacher_layers=list(s.teacher_layers) if s.teacher_layers is not None else None,
            student_basis=s.student_basis,
            student_vocabulary=tokenizer.vocab_size,
            pruned_vocabulary=bool(s.prune_vocab),
        )
    return {
        "task": "classify",
        "problem_type": "single_label",
        "max_length": s.max_length,
        "num_labels": student.num_labels,
        "parameters": int(student.count_params()),
        "teacher_parameters": int(teacher.model.count_params()),
        "distillation": distillation,
        "preset": preset,
        "settings": {
            "epochs": s.epochs,
            "batch_size": s.batch_size,
            "learning_rate": s.learning_rate,
            "patience": s.patience,
            "seed": s.seed,
        },
    }
