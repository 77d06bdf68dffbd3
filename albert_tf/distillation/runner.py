"""The whole distillation recipe behind `albert-tf distill`: load a teacher, cache
its logits, train a student with the Distiller, evaluate, write a run folder."""

from __future__ import annotations

import json
import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from albert_tf.config import AlbertConfig
from albert_tf.convert import load_classifier, load_tokenizer
from albert_tf.distillation.data import distillation_dataset
from albert_tf.distillation.distiller import UNLABELLED, Distiller
from albert_tf.distillation.student_init import student_from_teacher as from_teacher
from albert_tf.distillation.teacher_logits import compute_teacher_logits
from albert_tf.distillation.vocabulary import prune_vocabulary
from albert_tf.models import AlbertBackbone, AlbertClassifier
from albert_tf.training.fit_and_save import fit_and_save
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.recipe import build_tokenizer, evaluate_model
from albert_tf.training.run_folder import MODEL_FILE, RunFolder, save_run, write_text_atomic
from albert_tf.wordpiece import WordPieceTokenizer


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


def distill_run(
    teacher: Teacher,
    train,
    validation,
    test,
    labels: list[str],
    out_dir: str,
    unlabelled: list[str] | None = None,
    preset: str = "small",
    tokenizer_path: str | None = None,
    vocab_size: int = 8000,
    temperature: float = 2.0,
    alpha: float = 0.5,
    hidden_weight: float = 0.0,
    attention_weight: float = 0.0,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 2e-4,
    max_length: int = 128,
    teacher_max_length: int | None = None,
    seed: int = 0,
    info: dict[str, Any] | None = None,
    verbose: int | str = 2,
    student_from_teacher: int = 0,
    student_layers: int | None = None,
    teacher_layers: list[int] | None = None,
    student_basis: str = "sum",
    init_backbone=None,
    prune_vocab: bool = False,
    patience: int = 2,
) -> dict[str, Any]:
    """Distill `teacher` into a fresh student of `preset`; returns metrics.

    `train`/`validation`/`test` are `albert_tf.training.finetune.Split`s with int
    labels. The teacher's logits are cached in `out_dir/teacher_logits*.npz`.

    `student_from_teacher=E` (> 0) replaces the preset student with
    `albert_tf.distillation.student_init.student_from_teacher(init_backbone, E,
    student_layers, teacher_layers, student_basis)`: the teacher's tokenizer, a
    rank-(E-1) factorized embedding and shared copies of teacher layers.
    `init_backbone` defaults to the teacher's own backbone. With `prune_vocab`
    the student keeps only the teacher's WordPiece tokens that the training and
    unlabelled texts use (`albert_tf.distillation.prune_vocabulary`).
    """

    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    t_len = int(teacher_max_length or teacher.max_length)
    width = int(teacher.model.output_shape[-1])
    order = label_permutation(teacher.labels, labels, width)

    def teacher_logits(texts, name):
        logits = compute_teacher_logits(
            teacher.model,
            teacher.tokenizer,
            texts,
            t_len,
            path=os.path.join(out_dir, f"{name}.npz"),
        )
        return logits if order is None else logits[:, order]

    extra = list(unlabelled or [])
    texts = list(train.texts) + extra
    keras.utils.set_random_seed(seed)
    if student_from_teacher:
        source = init_backbone if init_backbone is not None else teacher.model.backbone
        tokenizer, kept = teacher.tokenizer, None
        if prune_vocab:
            tokenizer, kept = _pruned(teacher, texts)
        backbone = from_teacher(
            source,
            student_from_teacher,
            student_layers,
            teacher_layers,
            student_basis,
            token_ids=kept,
        )
        preset = f"from_teacher(E={student_from_teacher})"
    else:
        tokenizer = build_tokenizer(train.texts, out_dir, vocab_size, tokenizer_path)
        config = AlbertConfig.from_preset(
            preset, vocab_size=tokenizer.vocab_size, max_position_embeddings=max(512, max_length)
        )
        backbone = AlbertBackbone(config)
    student = AlbertClassifier(backbone, num_labels=len(labels))

    y = np.concatenate([np.asarray(train.labels), np.full(len(extra), UNLABELLED)]).astype(np.int32)
    live = hidden_weight > 0 or attention_weight > 0
    same = tokenizer is teacher.tokenizer or _same_tokenizer(tokenizer, teacher.tokenizer)
    common = dict(
        tokenizer=tokenizer,
        teacher_tokenizer=None if same else teacher.tokenizer,
        max_length=max_length,
        teacher_max_length=t_len,
    )
    if live and order is not None:
        raise ValueError("hidden/attention transfer needs the teacher's labels in data order.")
    train_ds = distillation_dataset(
        texts,
        y,
        teacher_logits=None if live or alpha == 1.0 else teacher_logits(texts, "teacher_logits"),
        batch_size=batch_size,
        shuffle=True,
        seed=seed,
        **common,
    )
    val_ds = None
    if validation is not None:
        val_ds = distillation_dataset(
            validation.texts,
            np.asarray(validation.labels, np.int32),
            teacher_logits=None
            if live or alpha == 1.0
            else teacher_logits(validation.texts, "teacher_logits_validation"),
            batch_size=64,
            **common,
        )
    distiller = Distiller(
        student,
        teacher.model if live else None,
        temperature=temperature,
        alpha=alpha,
        hidden_weight=hidden_weight,
        attention_weight=attention_weight,
    )
    steps = math.ceil(len(texts) / batch_size) * epochs
    distiller.compile(optimizer=create_optimizer("adamw", learning_rate, steps, 0.1, 0.01))
    # One fit path for every trainer; the Distiller's checkpoints hold the
    # student (and the frozen teacher it wraps), so the best epoch comes back whole.
    fit = fit_and_save(
        distiller,
        train_ds,
        val_ds,
        epochs=epochs,
        out_dir=out_dir,
        monitor=("val_accuracy", "max") if val_ds is not None else ("loss", "min"),
        patience=patience,
        verbose=verbose,
    )
    watched = fit.history.get("val_accuracy") or fit.history.get("loss", [])
    best_epoch = int(np.argmax(watched) if val_ds is not None else np.argmin(watched))
    metrics: dict[str, Any] = {"history": fit.history, "best_epoch": best_epoch + 1}
    if test is not None:
        metrics["test"] = evaluate_model(student, tokenizer, test, labels, max_length, out_dir)
        t_logits = teacher_logits(test.texts, "teacher_logits_test")
        metrics["teacher_test_accuracy"] = float(
            (t_logits.argmax(-1) == np.asarray(test.labels)).mean()
        )
    run_info = {
        "task": "classify",
        "problem_type": "single_label",
        "max_length": max_length,
        "num_labels": len(labels),
        "parameters": int(student.count_params()),
        "teacher_parameters": int(teacher.model.count_params()),
        "distillation": {
            "teacher": teacher.source,
            "temperature": temperature,
            "alpha": alpha,
            "hidden_weight": hidden_weight,
            "attention_weight": attention_weight,
            "unlabelled_texts": len(extra),
        },
        "preset": preset,
        "settings": {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "patience": patience,
            "seed": seed,
        },
        "train_examples": len(train.texts),
        "epochs_run": len(metrics["history"].get("loss", [])),
        "train_seconds": round(time.time() - start, 1),
        "metrics": {k: v for k, v in metrics.items() if k != "history"},
        **(info or {}),
    }
    if student_from_teacher:
        run_info["distillation"].update(
            student_from_teacher=student_from_teacher,
            student_layers=student.backbone.config.num_hidden_layers,
            teacher_layers=list(teacher_layers) if teacher_layers is not None else None,
            student_basis=student_basis,
            student_vocabulary=tokenizer.vocab_size,
            pruned_vocabulary=bool(prune_vocab),
        )
    save_run(out_dir, student, tokenizer, labels, run_info)  # spiece.model or vocab.txt
    write_text_atomic(
        os.path.join(out_dir, "history.json"), json.dumps(metrics["history"], indent=1)
    )
    return {
        "run_dir": out_dir,
        "parameters": run_info["parameters"],
        "teacher_parameters": run_info["teacher_parameters"],
        "test_accuracy": metrics.get("test", {}).get("accuracy"),
        "teacher_test_accuracy": metrics.get("teacher_test_accuracy"),
        "seconds": round(time.time() - start, 1),
    }
