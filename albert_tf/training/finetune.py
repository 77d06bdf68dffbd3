"""Fine-tune a classifier: AdamW + warmup/decay through the shared
`fit_and_save` path (early stopping on validation, best checkpoint kept,
TensorBoard logs, resumable), then the run folder."""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.data.readers import TextDataset
from albert_tf.data.split import Split  # noqa: F401  (re-exported: callers import it from here)
from albert_tf.training.fit_and_save import FitResult, fit_and_save
from albert_tf.training.optimizers import compile_for_training
from albert_tf.training.run_folder import save_run


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
    monitor: tuple[str, str] | None = None,
) -> FitResult:
    """Train `model` (an AlbertClassifier) and, with `out_dir`, write a run folder.

    `monitor` (metric, "min"/"max") picks the epoch kept; None: `monitor_for`'s
    (validation accuracy for classifiers).

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
    compile_for_training(model, steps, learning_rate, warmup_fraction=warmup_fraction,
                         weight_decay=weight_decay)  # fmt: skip
    result = fit_and_save(
        model, train_ds, val_ds, epochs=epochs, out_dir=out_dir, monitor=monitor,
        patience=patience, verbose=verbose,
    )  # fmt: skip
    result.run_dir = None
    result.seconds = time.time() - start
    best = result.best
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
            "settings": {
                "epochs": epochs,
                "batch_size": batch_size,
                "learning_rate": learning_rate,
                "patience": patience,
                "warmup_fraction": warmup_fraction,
                "weight_decay": weight_decay,
                "seed": seed,
                "monitor": list(monitor) if monitor else None,
            },
            "metrics": {"validation": best},
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
