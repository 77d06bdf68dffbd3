"""The one `model.fit` set-up that trainers share: early stopping on validation,
the best checkpoint, TensorBoard logs, resume after a kill, and datasets of a
known length (so progress bars show step counts and Keras never warns that
"your input ran out of data")."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np
import tensorflow as tf

BEST_WEIGHTS = os.path.join("checkpoints", "best.weights.h5")


@dataclass
class FitResult:
    history: dict[str, list[float]]
    run_dir: str | None
    seconds: float
    epochs_run: int
    best: dict[str, float] = field(default_factory=dict)


def with_known_length(dataset: tf.data.Dataset) -> tf.data.Dataset:
    """`dataset` with its number of batches set, counted once when tf.data does
    not know it (length bucketing makes it depend on the texts)."""
    if int(dataset.cardinality()) >= 0:
        return dataset
    steps = int(dataset.reduce(np.int64(0), lambda count, _: count + 1))
    return dataset.apply(tf.data.experimental.assert_cardinality(steps))


def monitor_for(model: Any, has_validation: bool) -> tuple[str, str]:
    """(metric, mode) that picks the best epoch. Classifiers keep the best
    validation accuracy: validation loss rises as soon as a model grows
    confident, often epochs before its accuracy peaks. Others keep the lowest loss."""
    prefix = "val_" if has_validation else ""
    by_accuracy = getattr(model, "problem_type", "regression") not in ("regression", None)
    return (prefix + "accuracy", "max") if by_accuracy else (prefix + "loss", "min")


def fit_and_save(
    model: keras.Model,
    train: tf.data.Dataset,
    validation: tf.data.Dataset | None = None,
    *,
    epochs: int,
    out_dir: str | None = None,
    monitor: tuple[str, str] | None = None,
    patience: int = 2,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
) -> FitResult:
    """Fit a compiled `model` and leave it holding its best epoch's weights.

    With `out_dir`: `out_dir/backup` lets a killed run started again resume
    from its last finished epoch, `out_dir/checkpoints/best.weights.h5` keeps
    the best epoch, `out_dir/logs` has TensorBoard logs. With validation data
    and `patience`, training stops after `patience` epochs without improvement.
    Writing the run folder is the caller's (`RunFolder.write`), once the
    model's final metrics are known.
    """
    start = time.time()
    train = with_known_length(train)
    validation = with_known_length(validation) if validation is not None else None
    metric, mode = monitor or monitor_for(model, validation is not None)
    callbacks = list(callbacks or [])
    best_path = None
    if out_dir and not model.built:
        # BackupAndRestore needs built weights to restore into (a Distiller
        # wrapper is only built by its first call).
        model(next(iter(train.take(1)))[0], training=False)
    if out_dir:
        best_path = os.path.join(out_dir, BEST_WEIGHTS)
        os.makedirs(os.path.dirname(best_path), exist_ok=True)
        callbacks += [
            keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup")),
            keras.callbacks.ModelCheckpoint(
                best_path, monitor=metric, mode=mode, save_best_only=True, save_weights_only=True
            ),
            keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")),
        ]
    if validation is not None and patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=metric, mode=mode, patience=patience, restore_best_weights=True
            )
        )
    history = model.fit(
        train,
        validation_data=validation,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,  # the datasets shuffle themselves, seeded
    )
    if best_path and os.path.exists(best_path):
        model.load_weights(best_path)
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    best: dict[str, float] = {}
    if hist.get(metric):
        i = int(np.argmax(hist[metric]) if mode == "max" else np.argmin(hist[metric]))
        best = {k: vals[i] for k, vals in hist.items() if len(vals) > i}
    return FitResult(hist, out_dir, time.time() - start, len(hist.get("loss", [])), best)
