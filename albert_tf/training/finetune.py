"""Fine-tune a classifier with `model.fit`: AdamW + warmup/decay, early
stopping on validation, best checkpoint kept, TensorBoard logs, resumable."""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field
from typing import Any

import keras
import numpy as np

from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.data.readers import TextDataset
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.run_folder import save_run


@dataclass
class Split:
    """Texts (and optional second texts) with encoded labels (int or float)."""

    texts: list[str]
    labels: np.ndarray
    pairs: list[str] | None = None

    def __post_init__(self):
        self.labels = np.asarray(self.labels)
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels.")
        if self.pairs is not None and len(self.pairs) != len(self.texts):
            raise ValueError(f"{len(self.texts)} texts but {len(self.pairs)} second texts.")


@dataclass
class FitResult:
    history: dict[str, list[float]]
    run_dir: str | None
    seconds: float
    epochs_run: int
    best: dict[str, float] = field(default_factory=dict)


def compile_classifier(
    model,
    total_steps: int,
    learning_rate: float = 5e-5,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    optimizer: str = "adamw",
    jit_compile: bool | str = "auto",
) -> None:
    model.compile(
        optimizer=create_optimizer(
            optimizer,
            learning_rate=learning_rate,
            total_steps=max(total_steps, 1),
            warmup_fraction=warmup_fraction,
            weight_decay=weight_decay,
        ),
        loss=model.default_loss(),
        metrics=model.default_metrics(),
        jit_compile=jit_compile,
    )


def finetune(
    model,
    tokenizer,
    train: Split,
    validation: Split | None = None,
    labels: list[str] | None = None,
    out_dir: str | None = None,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 5e-5,
    max_length: int = 128,
    patience: int = 2,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
    seed: int = 0,
) -> FitResult:
    """Train `model` (an AlbertClassifier) and, with `out_dir`, write a run folder.

    A killed run started again with the same `out_dir` resumes from the last
    finished epoch (keras BackupAndRestore), so nothing but the current epoch
    is lost.
    """
    start = time.time()
    train_ds = make_tf_dataset(
        _as_text_dataset(train), tokenizer, train.labels, max_length=max_length,
        batch_size=batch_size, shuffle=True, seed=seed,
    )  # fmt: skip
    val_ds = None
    if validation is not None and len(validation.texts):
        val_ds = make_tf_dataset(
            _as_text_dataset(validation), tokenizer, validation.labels,
            max_length=max_length, batch_size=batch_size,
        )  # fmt: skip
    steps = math.ceil(len(train.texts) / batch_size) * epochs
    compile_classifier(model, steps, learning_rate, warmup_fraction, weight_decay)

    # Classifiers keep the epoch with the best validation accuracy: validation
    # loss rises as soon as a model grows confident, often epochs before its
    # accuracy peaks. Regression keeps the lowest loss.
    by_accuracy = getattr(model, "problem_type", "regression") != "regression"
    prefix = "val_" if val_ds is not None else ""
    monitor = prefix + ("accuracy" if by_accuracy else "loss")
    mode = "max" if by_accuracy else "min"
    callbacks: list[keras.callbacks.Callback] = []
    best_path = None
    if out_dir:
        os.makedirs(out_dir, exist_ok=True)
        best_path = os.path.join(out_dir, "checkpoints", "best.weights.h5")
        os.makedirs(os.path.dirname(best_path), exist_ok=True)
        callbacks += [
            keras.callbacks.BackupAndRestore(os.path.join(out_dir, "backup")),
            keras.callbacks.ModelCheckpoint(
                best_path, monitor=monitor, mode=mode, save_best_only=True, save_weights_only=True
            ),
            keras.callbacks.TensorBoard(os.path.join(out_dir, "logs")),
        ]
    if val_ds is not None and patience:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor=monitor, mode=mode, patience=patience, restore_best_weights=True
            )
        )
    history = model.fit(
        train_ds,
        validation_data=val_ds,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
    )
    if best_path and os.path.exists(best_path):
        model.load_weights(best_path)
    hist = {k: [float(v) for v in vals] for k, vals in history.history.items()}
    best = {}
    if monitor in hist and hist[monitor]:
        i = int(np.argmax(hist[monitor]) if mode == "max" else np.argmin(hist[monitor]))
        best = {k: vals[i] for k, vals in hist.items() if len(vals) > i}
    result = FitResult(hist, None, time.time() - start, len(hist.get("loss", [])), best)
    if out_dir:
        run_info = {
            "task": model.problem_type,
            "max_length": max_length,
            "num_labels": model.num_labels,
            "parameters": int(model.count_params()),
            "train_examples": len(train.texts),
            "epochs_run": result.epochs_run,
            "train_seconds": round(result.seconds, 1),
            "best_validation": best,
            **(info or {}),
        }
        save_run(
            out_dir, model, tokenizer, labels or [str(i) for i in range(model.num_labels)], run_info
        )
        result.run_dir = out_dir
    return result


def predict_logits(
    model, tokenizer, split: Split | list[str], max_length: int, batch_size: int = 64
):
    """Logits in input order."""
    data = _as_text_dataset(split) if isinstance(split, Split) else list(split)
    # Unshuffled, unbucketed: batches come back in input order, each padded
    # only to its own longest text.
    ds = make_tf_dataset(data, tokenizer, max_length=max_length, batch_size=batch_size)
    return np.concatenate([np.asarray(model(batch, training=False)) for batch in ds])


def _as_text_dataset(split: Split) -> TextDataset:
    return TextDataset(texts=split.texts, labels=None, pairs=split.pairs)
