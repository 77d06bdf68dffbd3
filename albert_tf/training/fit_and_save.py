"""The one `model.fit` set-up that every trainer shares (fine-tuning, the task
heads, distillation, pre-training): early stopping on validation, the best
checkpoint, TensorBoard logs, resume after a kill, and datasets of a known
length (so progress bars show step counts and Keras never warns that "your
input ran out of data").

Resume comes in two grains. A `tf.data.Dataset` resumes from its last finished
epoch (keras BackupAndRestore): enough when an epoch takes minutes. A
`StepStream` (an endless dataset that can start after any batch) resumes at
the exact step (`resumable.StepBackup`): what a large pre-training corpus,
whose one epoch may take hours, needs.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from albert_tf.data.pipeline import with_known_length
from albert_tf.training.backup import EpochBackup
from albert_tf.training.resumable import StepBackup, fit_from_step
from albert_tf.training.run_inputs import record_written

BEST_WEIGHTS = os.path.join("checkpoints", "best.weights.h5")
BACKUP_DIR = "backup"
LOGS_DIR = "logs"


@dataclass
class FitResult:
    history: dict[str, list[float]]
    run_dir: str | None
    seconds: float
    epochs_run: int
    best: dict[str, float] = field(default_factory=dict)


@dataclass
class StepStream:
    """Training batches for a step-exact resume: `make(skip)` is an endless
    dataset in a fixed order starting after `skip` batches; an epoch is
    `steps_per_epoch` of them."""

    make: Callable[[int], tf.data.Dataset]
    steps_per_epoch: int


def monitor_for(model: Any, has_validation: bool) -> tuple[str, str]:
    """(metric, mode) that picks the best epoch. Classifiers keep the best
    validation accuracy: validation loss rises as soon as a model grows
    confident, often epochs before its accuracy peaks. Others keep the lowest loss."""
    prefix = "val_" if has_validation else ""
    by_accuracy = getattr(model, "problem_type", "regression") not in ("regression", None)
    return (prefix + "accuracy", "max") if by_accuracy else (prefix + "loss", "min")


def _first_inputs(train: tf.data.Dataset | StepStream) -> Any:
    batch = next(iter((train.make(0) if isinstance(train, StepStream) else train).take(1)))
    return batch[0] if isinstance(batch, tuple) else batch


def _output_callbacks(out_dir: str, metric: str, mode: str) -> list[keras.callbacks.Callback]:
    best_path = os.path.join(out_dir, BEST_WEIGHTS)
    os.makedirs(os.path.dirname(best_path), exist_ok=True)
    return [
        keras.callbacks.ModelCheckpoint(
            best_path, monitor=metric, mode=mode, save_best_only=True, save_weights_only=True
        ),
        keras.callbacks.TensorBoard(os.path.join(out_dir, LOGS_DIR)),
    ]


class _RecordWritten(keras.callbacks.Callback):
    """written.json after each epoch: a run killed later has recorded what it wrote so
    far, so --overwrite can remove it (`run_inputs.record_written`)."""

    def __init__(self, out_dir: str):
        super().__init__()
        self.out_dir = out_dir

    def on_epoch_end(self, epoch, logs=None):
        record_written(self.out_dir)


def fit_and_save(
    model: keras.Model,
    train: tf.data.Dataset | StepStream,
    validation: tf.data.Dataset | None = None,
    *,
    epochs: int,
    out_dir: str | None = None,
    monitor: tuple[str, str] | None = None,
    patience: int = 2,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
    save_freq: int = 100,
    write: bool = True,
) -> FitResult:
    """Fit a compiled `model` and leave it holding its best epoch's weights.

    With `out_dir`: `out_dir/backup` lets a killed run started again resume
    (from its last finished epoch; for a `StepStream` from its last checkpoint,
    taken every `save_freq` steps), `out_dir/checkpoints/best.weights.h5` keeps
    the best epoch, `out_dir/logs` has TensorBoard logs. With validation data
    and `patience`, training stops after `patience` epochs without improvement.
    `write=False` (the non-chief workers of a distributed run) resumes from the
    backup but writes nothing. Writing the run folder is the caller's
    (`RunFolder.write`), once the model's final metrics are known.
    """
    start = time.time()
    validation = with_known_length(validation) if validation is not None else None
    metric, mode = monitor or monitor_for(model, validation is not None)
    if out_dir and not model.built:
        # A backup needs built weights to restore into (a Distiller wrapper is
        # only built by its first call).
        model(_first_inputs(train), training=False)
    callbacks = list(callbacks or [])
    if out_dir and write:
        callbacks += _output_callbacks(out_dir, metric, mode)
        callbacks.append(_RecordWritten(out_dir))
    if validation is not None and patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=metric, mode=mode, patience=patience, restore_best_weights=True
            )
        )
    fit_kwargs = dict(validation_data=validation, verbose=verbose)
    if isinstance(train, StepStream):
        history = _fit_stream(
            model, train, epochs, out_dir, save_freq, write, callbacks, fit_kwargs
        )
    else:
        if out_dir and write:
            callbacks.insert(0, EpochBackup(os.path.join(out_dir, BACKUP_DIR)))
        fitted = model.fit(
            with_known_length(train), epochs=epochs, callbacks=callbacks,
            shuffle=False,  # the datasets shuffle themselves, seeded
            **fit_kwargs,
        )  # fmt: skip
        history = {k: [float(v) for v in vals] for k, vals in fitted.history.items()}
    best_path = os.path.join(out_dir, BEST_WEIGHTS) if out_dir and write else None
    if best_path and os.path.exists(best_path):
        model.load_weights(best_path)
    best: dict[str, float] = {}
    if history.get(metric):
        i = int(np.argmax(history[metric]) if mode == "max" else np.argmin(history[metric]))
        best = {k: vals[i] for k, vals in history.items() if len(vals) > i}
    return FitResult(history, out_dir, time.time() - start, len(history.get("loss", [])), best)


def _fit_stream(
    model: keras.Model,
    train: StepStream,
    epochs: int,
    out_dir: str | None,
    save_freq: int,
    write: bool,
    callbacks: list[keras.callbacks.Callback],
    fit_kwargs: dict[str, Any],
) -> dict[str, list[float]]:
    start = 0
    if out_dir:
        backup = StepBackup(os.path.join(out_dir, BACKUP_DIR), save_freq, write=write)
        start = backup.restore(model)
        callbacks = [*callbacks, backup]
    return fit_from_step(
        model, train.make, start=start, epochs=epochs, steps_per_epoch=train.steps_per_epoch,
        callbacks=callbacks, **fit_kwargs,
    )  # fmt: skip
