"""The whole text-classification recipe behind `albert-tf train` and `make demo`:
tokenizer -> (optional in-domain pre-training) -> fine-tuning -> evaluation ->
run folder."""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from albert_tf.models.text_classifier import TextClassifier
from albert_tf.training.builders import build_text_classifier
from albert_tf.training.evaluation import (
    classification_metrics,
    plot_confusion_matrix,
    regression_metrics,
)
from albert_tf.training.finetune import FinetuneSettings, Split, finetune, predict_logits
from albert_tf.training.pretraining import pretrain_on_texts
from albert_tf.training.run_folder import RunFolder, write_text_atomic

__all__ = ["RecipeResult", "build_text_classifier", "evaluate_model", "train_text_classifier"]


@dataclass
class RecipeResult:
    run_dir: str
    metrics: dict[str, Any]
    parameters: int
    seconds: float


def evaluate_model(
    clf: TextClassifier, split: Split, out_dir: str | None = None, name: str = "test"
) -> dict[str, Any]:
    """Metrics for one split; with `out_dir` also `<name>_metrics.json` and a
    confusion-matrix PNG."""
    logits = predict_logits(clf, split)
    labels = clf.preprocessor.label_names
    if clf.problem_type == "regression":
        metrics: dict[str, Any] = regression_metrics(split.labels, logits[:, 0])
    elif clf.problem_type == "multi_label":
        pred = logits > 0
        truth = np.asarray(split.labels) > 0.5
        metrics = {
            "exact_match": float((pred == truth).all(1).mean()),
            "label_accuracy": float((pred == truth).mean()),
            "num_examples": len(split.texts),
        }
    else:
        metrics = classification_metrics(split.labels, logits.argmax(-1), labels)
    if out_dir:
        write_text_atomic(
            os.path.join(out_dir, f"{name}_metrics.json"), json.dumps(metrics, indent=2)
        )
        if "confusion_matrix" in metrics:
            png = plot_confusion_matrix(
                metrics["confusion_matrix"],
                labels,
                os.path.join(out_dir, f"{name}_confusion_matrix.png"),
                title=f"{name}: accuracy {metrics['accuracy']:.3f}",
            )
            # Relative to the run folder: run.json (and the bundle manifests that
            # copy its metrics) never hold a path of the machine that trained.
            metrics["confusion_matrix_png"] = os.path.basename(png)
    return metrics


def train_text_classifier(
    train: Split,
    validation: Split | None,
    test: Split | None,
    clf: TextClassifier,
    out_dir: str,
    settings: FinetuneSettings | None = None,
    pretrain_epochs: int = 0,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
) -> RecipeResult:
    """Train `clf` (from `builders.build_text_classifier`) and evaluate it; everything
    lands in `out_dir`. `pretrain_epochs` > 0 first pre-trains its backbone on the
    training texts (masked LM + sentence order)."""
    start = time.time()
    settings = settings or FinetuneSettings()
    # What export verifies on, kept now so it never reads the user's file again.
    RunFolder(out_dir).write_held_out(
        validation, test, clf.preprocessor.label_names, list(train.texts)
    )
    metrics: dict[str, Any] = {}
    if pretrain_epochs:
        metrics["pretraining"] = _pretrain_in_domain(
            clf, list(train.texts), pretrain_epochs, settings.batch_size, verbose
        )
    fit = finetune(clf, train, validation, settings, out_dir, info=info, verbose=verbose)
    metrics = {"validation": fit.best, **metrics}
    if test is not None and len(test.texts):
        metrics["test"] = evaluate_model(clf, test, out_dir, "test")
    # Record the test figures in run.json beside the training facts.
    RunFolder(out_dir).update_info(metrics=dict(metrics), parameters=int(clf.count_params()))
    return RecipeResult(out_dir, metrics, int(clf.count_params()), time.time() - start)


def _pretrain_in_domain(
    clf: TextClassifier, texts: list[str], epochs: int, batch_size: int, verbose
) -> dict[str, float]:
    """Pre-train `clf`'s backbone on the task's own texts; its last-epoch figures."""
    print(f"In-domain pre-training on {len(texts)} texts ...", flush=True)
    pre = clf.preprocessor
    result = pretrain_on_texts(
        clf.backbone, pre.tokenizer, texts, epochs=epochs, batch_size=batch_size,
        max_length=pre.sequence_length, verbose=verbose,
    )  # fmt: skip
    figures = {k: round(float(v[-1]), 4) for k, v in result.history.items() if v}
    chance = result.chance_levels
    figures.update(
        {k: round(float(chance[k]), 4) for k in ("mlm_chance", "sop_chance") if k in chance}
    )
    return figures
