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

from albert_tf.convert import load_classifier
from albert_tf.models import AlbertClassifier
from albert_tf.training.builders import build_tokenizer, preset_backbone
from albert_tf.training.evaluation import (
    classification_metrics,
    plot_confusion_matrix,
    regression_metrics,
)
from albert_tf.training.finetune import Split, finetune, predict_logits
from albert_tf.training.pretraining import pretrain_on_texts
from albert_tf.training.run_folder import RunFolder, write_text_atomic

__all__ = ["RecipeResult", "build_tokenizer", "evaluate_model", "train_text_classifier"]


@dataclass
class RecipeResult:
    run_dir: str
    metrics: dict[str, Any]
    parameters: int
    seconds: float


def evaluate_model(
    model,
    tokenizer,
    split: Split,
    labels: list[str],
    max_length: int,
    out_dir: str | None = None,
    name: str = "test",
) -> dict[str, Any]:
    """Metrics for one split; with `out_dir` also `<name>_metrics.json` and a
    confusion-matrix PNG."""
    logits = predict_logits(model, tokenizer, split, max_length)
    task = getattr(model, "problem_type", "single_label")
    if task == "regression":
        metrics: dict[str, Any] = regression_metrics(split.labels, logits[:, 0])
    elif task == "multi_label":
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
    labels: list[str],
    out_dir: str,
    preset: str = "small",
    config_overrides: dict[str, Any] | None = None,
    pretrained: str | None = None,
    tokenizer_path: str | None = None,
    vocab_size: int | None = None,
    task: str | None = None,
    epochs: int = 3,
    batch_size: int = 32,
    learning_rate: float = 1e-4,
    max_length: int = 128,
    patience: int = 2,
    pretrain_texts: list[str] | None = None,
    pretrain_epochs: int = 1,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
    monitor: tuple[str, str] | None = None,
) -> RecipeResult:
    """Train and evaluate an AlbertClassifier; everything lands in `out_dir`.
    `monitor`: the epoch kept (`finetune`)."""

    start = time.time()
    # What export verifies on, kept now so it never reads the user's file again.
    RunFolder(out_dir).write_held_out(validation, test, labels, list(train.texts))
    pretrain_metrics: dict[str, float] = {}
    texts = train.texts + (train.pairs or [])
    tokenizer = build_tokenizer(texts, out_dir, vocab_size, tokenizer_path, pretrained)
    if pretrained:
        # The converters read the checkpoint (from_pretrained imports albert_tf.convert).
        model = load_classifier(pretrained, num_labels=len(labels))
    else:
        overrides = config_overrides or {}
        backbone = preset_backbone(preset, tokenizer.vocab_size, max_length, **overrides)
        if pretrain_texts:
            pretrain_metrics = _pretrain_in_domain(
                backbone, tokenizer, pretrain_texts, pretrain_epochs, batch_size, max_length,
                verbose,
            )  # fmt: skip
        num_outputs = 1 if task == "regression" else len(labels)
        model = AlbertClassifier(backbone, num_labels=num_outputs, problem_type=task)

    fit = finetune(
        model,
        tokenizer,
        train,
        validation,
        labels=labels,
        out_dir=out_dir,
        epochs=epochs,
        batch_size=batch_size,
        learning_rate=learning_rate,
        max_length=max_length,
        patience=patience,
        monitor=monitor,
        info={
            "preset": preset,
            "pretrained": pretrained,
            "pretrain_texts": len(pretrain_texts or []),
            **(info or {}),
        },
        verbose=verbose,
    )
    metrics: dict[str, Any] = {"validation": fit.best}
    if pretrain_metrics:
        metrics["pretraining"] = pretrain_metrics
    if test is not None and len(test.texts):
        metrics["test"] = evaluate_model(
            model, tokenizer, test, labels, max_length, out_dir, "test"
        )
    # Record the test figures in run.json beside the training facts.
    RunFolder(out_dir).update_info(metrics=dict(metrics), parameters=int(model.count_params()))
    return RecipeResult(out_dir, metrics, int(model.count_params()), time.time() - start)


def _pretrain_in_domain(
    backbone, tokenizer, texts: list[str], epochs: int, batch_size: int, max_length: int, verbose
) -> dict[str, float]:
    """Pre-train `backbone` on the task's own texts; its last-epoch figures."""
    print(f"In-domain pre-training on {len(texts)} texts ...", flush=True)
    result = pretrain_on_texts(
        backbone, tokenizer, texts, epochs=epochs, batch_size=batch_size,
        max_length=max_length, verbose=verbose,
    )  # fmt: skip
    figures = {k: round(float(v[-1]), 4) for k, v in result.history.items() if v}
    chance = result.chance_levels
    figures.update(
        {k: round(float(chance[k]), 4) for k in ("mlm_chance", "sop_chance") if k in chance}
    )
    return figures
