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

from albert_tf.config import AlbertConfig
from albert_tf.convert import load_tokenizer
from albert_tf.models import AlbertBackbone, AlbertClassifier
from albert_tf.pretraining import pretrain_on_texts
from albert_tf.tokenizer import AlbertTokenizer
from albert_tf.training.evaluation import (
    classification_metrics,
    plot_confusion_matrix,
    regression_metrics,
)
from albert_tf.training.finetune import Split, finetune, predict_logits
from albert_tf.training.run_folder import RunFolder, write_text_atomic


@dataclass
class RecipeResult:
    run_dir: str
    metrics: dict[str, Any]
    parameters: int
    seconds: float


def build_tokenizer(texts: list[str], out_dir: str, vocab_size: int, tokenizer_path: str | None):
    """Load a given SentencePiece model, or train one on the training texts."""

    if tokenizer_path:
        return AlbertTokenizer.load(tokenizer_path)
    os.makedirs(out_dir, exist_ok=True)
    return AlbertTokenizer.train(
        texts, vocab_size=vocab_size, model_path=os.path.join(out_dir, "spiece.model")
    )


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
            metrics["confusion_matrix_png"] = plot_confusion_matrix(
                metrics["confusion_matrix"],
                labels,
                os.path.join(out_dir, f"{name}_confusion_matrix.png"),
                title=f"{name}: accuracy {metrics['accuracy']:.3f}",
            )
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
    vocab_size: int = 8000,
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
) -> RecipeResult:
    """Train and evaluate an AlbertClassifier; everything lands in `out_dir`."""

    start = time.time()
    os.makedirs(out_dir, exist_ok=True)
    pretrain_metrics: dict[str, float] = {}
    if pretrained:
        model = AlbertClassifier.from_pretrained(pretrained, num_labels=len(labels))
        backbone = model.backbone

        tokenizer = (
            load_tokenizer(pretrained)
            if not tokenizer_path
            else build_tokenizer([], out_dir, vocab_size, tokenizer_path)
        )
    else:
        tokenizer = build_tokenizer(
            train.texts + (train.pairs or []), out_dir, vocab_size, tokenizer_path
        )
        config = AlbertConfig.from_preset(
            preset,
            vocab_size=tokenizer.vocab_size,
            max_position_embeddings=max(512, max_length),
            **(config_overrides or {}),
        )
        backbone = AlbertBackbone(config)
        num_outputs = 1 if task == "regression" else len(labels)
        if pretrain_texts:
            print(f"In-domain pre-training on {len(pretrain_texts)} texts ...", flush=True)
            history = pretrain_on_texts(
                backbone,
                tokenizer,
                pretrain_texts,
                epochs=pretrain_epochs,
                batch_size=batch_size,
                max_length=max_length,
                verbose=verbose,
            )
            pretrain_metrics = {k: round(float(v[-1]), 4) for k, v in history.history.items() if v}
            chance = history.chance_levels
            pretrain_metrics.update(
                {k: round(float(chance[k]), 4) for k in ("mlm_chance", "sop_chance") if k in chance}
            )
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
