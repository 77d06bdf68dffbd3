"""One entry point per fine-tuning task, for `albert-tf train --task ...` and scripts.

Tasks and their data files:
    classify, pairs, regression, multi_label   CSV/TSV/JSONL read by `read_table`
        (`pairs` needs `pair_column`; `multi_label` labels are lists in JSONL)
    token            CoNLL-style file (word ... tag per line, blank line between sentences)
    qa               SQuAD v1.1 / v2.0 JSON
    multiple_choice  JSON lines `{"context", "choices": [...], "label"}`

build_task_model(task, backbone, num_labels)   the Keras model for the task
compile_task_model(model, learning_rate)        with the task's loss and metrics
make_task_dataset(task, path, tokenizer, ...)   TaskData: arrays + what evaluation needs
evaluate_task(task, model, data)                the task's own metrics (EM/F1, entity F1, ...)
train_task(task, TaskFiles(train, ...), out_dir)  token / qa / multiple_choice end to end: tokenizer,
                                                model, fit, metrics, run folder

Example:
>>> data = make_task_dataset("qa", "train-v2.0.json", tok, max_length=384)  # doctest: +SKIP
>>> model = compile_task_model(build_task_model("qa", backbone), 3e-5)      # doctest: +SKIP
>>> model.fit(data.dataset(batch_size=16, shuffle=True), epochs=2)          # doctest: +SKIP
>>> evaluate_task("qa", model, make_task_dataset("qa", "dev-v2.0.json", tok))  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import functools
import math
import os
from typing import Any

import numpy as np

from albert_tf.convert import load_multiple_choice, load_question_answerer, load_token_classifier
from albert_tf.data.labels import LabelVocabulary
from albert_tf.data.multiple_choice import multiple_choice_arrays, read_multiple_choice
from albert_tf.data.pipeline import prefetched
from albert_tf.data.readers import read_table
from albert_tf.data.squad import (
    decode_predictions,
    features_to_arrays,
    read_squad,
    squad_evaluate,
    squad_features,
)
from albert_tf.data.token_labels import label_list, read_conll, token_label_arrays, word_predictions
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from albert_tf.models.token_classifier import AlbertTokenClassifier
from albert_tf.training.builders import ModelSource, build_tokenizer, preset_backbone
from albert_tf.training.finetune import FinetuneSettings
from albert_tf.training.fit_and_save import fit_and_save
from albert_tf.training.optimizers import compile_for_training
from albert_tf.training.run_folder import HEAD_TASKS, save_run

TASKS = ("classify", "pairs", "regression", "multi_label", "token", "qa", "multiple_choice")
# Tasks whose head is not an AlbertClassifier (the classify tasks go through
# albert_tf.training.recipe.train_text_classifier).
_PROBLEM_TYPES = {
    "classify": "single_label",
    "pairs": "single_label",
    "regression": "regression",
    "multi_label": "multi_label",
}


def _check_task(task: str) -> None:
    if task not in TASKS:
        raise ValueError(f"Unknown task {task!r}; choose one of {', '.join(TASKS)}.")


@dataclasses.dataclass
class TaskData:
    """Model-ready arrays of one split, plus what decoding and scoring need."""

    task: str
    x: dict[str, np.ndarray]
    y: Any  # np.ndarray, or a dict of arrays for qa
    labels: list[str] | None = None  # output index -> name (classify/token/multi_label)
    examples: list | None = None  # qa: SquadExample list; token: (words, tags) sentences
    features: list | None = None  # qa: SquadFeature list (one per window)
    word_ids: np.ndarray | None = None  # token: word index of each first piece, else -1

    @property
    def num_labels(self) -> int:
        if self.task == "regression":
            return 1
        return len(self.labels) if self.labels else 2

    def __len__(self) -> int:
        return len(next(iter(self.x.values())))

    def dataset(self, batch_size: int = 32, shuffle: bool = False, seed: int = 0):
        """A batched `tf.data.Dataset` of (x, y), reshuffled each epoch when `shuffle`."""
        import tensorflow as tf

        ds = tf.data.Dataset.from_tensor_slices((self.x, self.y))
        if shuffle:
            ds = ds.shuffle(len(self), seed=seed, reshuffle_each_iteration=True)
        return prefetched(ds.batch(batch_size))


def build_task_model(task: str, backbone, num_labels: int = 2, **head_kwargs):
    """The head model for `task` on `backbone` (`num_labels` is ignored by qa/multiple_choice)."""
    _check_task(task)
    if task in _PROBLEM_TYPES:
        if task == "regression":
            num_labels = 1
        return AlbertClassifier(
            backbone, num_labels=num_labels, problem_type=_PROBLEM_TYPES[task], **head_kwargs
        )
    if task == "token":
        return AlbertTokenClassifier(backbone, num_labels=num_labels, **head_kwargs)
    if task == "qa":
        return AlbertQuestionAnswerer(backbone, **head_kwargs)

    return AlbertMultipleChoice(backbone, **head_kwargs)


def compile_task_model(model, learning_rate: float = 1e-4, optimizer=None):
    """Compile with the model's own `default_loss()` / `default_metrics()`; returns the model."""
    import keras

    model.compile(
        optimizer=optimizer or keras.optimizers.Adam(learning_rate),
        loss=model.default_loss(),
        metrics=model.default_metrics(),
    )
    return model


def make_task_dataset(
    task: str,
    path: str,
    tokenizer,
    *,
    max_length: int = 128,
    labels: list[str] | None = None,
    doc_stride: int = 128,
    max_query_length: int = 64,
    text_column: str = "text",
    pair_column: str | None = None,
    label_column: str = "label",
) -> TaskData:
    """Read `path` for `task` and tokenize it into a `TaskData`.

    Args:
        tokenizer: an `AlbertTokenizer`.
        labels: the label names to use (pass the training split's
            `TaskData.labels` for validation/test, so ids agree); by default
            they are collected from this file.
        doc_stride, max_query_length: SQuAD windowing (qa only).
        text_column, pair_column, label_column: columns for the classify tasks.
    """
    _check_task(task)
    if task == "qa":
        examples = read_squad(path)
        features = squad_features(
            examples,
            tokenizer,
            max_length,
            doc_stride=doc_stride,
            max_query_length=max_query_length,
        )
        x, y = features_to_arrays(features)
        return TaskData(task, x, y, examples=examples, features=features)
    if task == "token":
        sentences = read_conll(path)
        labels = list(labels) if labels else label_list(sentences)
        x, y, word_ids = token_label_arrays(sentences, tokenizer, labels, max_length)
        return TaskData(task, x, y, labels=labels, examples=sentences, word_ids=word_ids)
    if task == "multiple_choice":
        examples = read_multiple_choice(path)
        x, y = multiple_choice_arrays(examples, tokenizer, max_length)
        if y is None:
            raise ValueError(f'{path}: every example needs a "label" to train or evaluate.')
        return TaskData(task, x, y, examples=examples)
    return _classification_data(
        task, path, tokenizer, max_length, labels, text_column, pair_column, label_column
    )


def _classification_data(task, path, tokenizer, max_length, labels, text, pair, label) -> TaskData:
    if task == "pairs" and not pair:
        raise ValueError("The pairs task needs pair_column (the second text's column).")
    data = read_table(path, text_column=text, label_column=label, pair_column=pair)
    if data.labels is None:
        raise ValueError(f"{path}: no labels in column {label!r}.")
    x = tokenizer(data.texts, data.pairs, max_length=max_length, padding="max_length")
    if task == "regression":
        try:
            y = np.asarray([float(v) for v in data.labels], dtype="float32")
        except (TypeError, ValueError) as e:
            raise ValueError(f"{path}: regression labels must be numbers ({e}).") from e
        return TaskData(task, x, y, labels=["score"])
    vocab = LabelVocabulary(labels) if labels else LabelVocabulary.from_labels(data.labels)
    if task == "multi_label":
        rows = [v if isinstance(v, list | tuple) else [v] for v in data.labels]
        y = vocab.encode_multi_hot(rows, source=data.source, rows=data.rows)
    else:
        y = vocab.encode(data.labels, source=data.source, rows=data.rows)
    return TaskData(task, x, y, labels=vocab.names)


def _entity_spans(tags: list[str]) -> set[tuple[str, int, int]]:
    """(type, first word, last word) of each BIO/IOB entity."""
    spans, start, kind = set(), None, None
    for i, tag in enumerate([*tags, "O"]):
        prefix, _, name = tag.partition("-")
        continues = prefix == "I" and kind == name and start is not None
        if start is not None and not continues:
            spans.add((kind, start, i - 1))
            start, kind = None, None
        if prefix in ("B", "I") and not continues:
            start, kind = i, name
    return spans


def evaluate_task(
    task: str,
    model,
    data: TaskData,
    batch_size: int = 32,
    max_answer_length: int = 30,
    null_score_diff_threshold: float = 0.0,
) -> dict[str, float]:
    """The task's metrics on `data`.

    qa: exact_match / f1 (official SQuAD rules; v2 no-answer handling when the
    data has unanswerable questions); token: word accuracy and entity
    precision/recall/F1 (exact BIO spans); multiple_choice: accuracy; the
    classify tasks: `model.evaluate` (loss and the head's metrics).
    """
    _check_task(task)
    if task == "qa":
        out = model.predict(data.x, batch_size=batch_size, verbose=0)
        v2 = any(e.is_impossible for e in data.examples)
        predictions = decode_predictions(
            data.examples,
            data.features,
            out["start_logits"],
            out["end_logits"],
            max_answer_length=max_answer_length,
            version_2_with_negative=v2,
            null_score_diff_threshold=null_score_diff_threshold,
        )
        return squad_evaluate(data.examples, predictions.answers)
    if task == "token":
        logits = model.predict(data.x, batch_size=batch_size, verbose=0)
        predicted = word_predictions(logits, data.word_ids, data.labels)
        correct = total = found = gold_count = hits = 0
        for (_, gold), guess in zip(data.examples, predicted):
            gold = list(gold)[: len(guess)]  # words cut by max_length are not scored
            correct += sum(g == p for g, p in zip(gold, guess))
            total += len(gold)
            gold_spans, guess_spans = _entity_spans(gold), _entity_spans(guess)
            hits += len(gold_spans & guess_spans)
            found += len(guess_spans)
            gold_count += len(gold_spans)
        precision = hits / found if found else 0.0
        recall = hits / gold_count if gold_count else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return {
            "word_accuracy": correct / total if total else 0.0,
            "entity_precision": precision,
            "entity_recall": recall,
            "entity_f1": f1,
        }
    if task == "multiple_choice":
        logits = model.predict(data.x, batch_size=batch_size, verbose=0)
        return {"accuracy": float((logits.argmax(-1) == data.y).mean())}
    return {
        k: float(v)
        for k, v in model.evaluate(
            data.x, data.y, batch_size=batch_size, verbose=0, return_dict=True
        ).items()
    }


def task_texts(task: str, path: str) -> list[str]:
    """The raw texts of a head task's file (to train a tokenizer on)."""
    if task == "token":
        return [" ".join(words) for words, _ in read_conll(path)]
    if task == "qa":
        examples = read_squad(path)
        return sorted({e.context for e in examples}) + [e.question for e in examples]
    if task == "multiple_choice":
        examples = read_multiple_choice(path)
        return [e["context"] for e in examples] + [c for e in examples for c in e["choices"]]
    raise ValueError(f"task_texts handles {HEAD_TASKS}, not {task!r}.")


def _run_labels(task: str, data: TaskData) -> list[str]:
    # labels.txt names the output units: tags, the two QA outputs, or one score per choice.
    if task == "token":
        return list(data.labels)
    if task == "qa":
        return ["start_logits", "end_logits"]
    return ["choice"]


def _head_model(task: str, source: ModelSource, tokenizer, max_length: int, num_labels: int):
    """The checkpoint's model (with its head when it carries one), or a fresh preset."""
    if not source.pretrained:
        backbone = preset_backbone(source.preset, tokenizer.vocab_size, max_length)
        return build_task_model(task, backbone, num_labels=num_labels)
    if task == "token":
        return load_token_classifier(source.pretrained, num_labels=num_labels)
    if task == "qa":
        return load_question_answerer(source.pretrained)
    return load_multiple_choice(source.pretrained)


def _fit_and_score(task: str, model, train, splits: dict, batch_size: int, **fit_options):
    """`fit_and_save` on `train` (validation: `splits["validation"]`); the fit and
    the metrics of each of `splits`."""
    fit = fit_and_save(
        model,
        train.dataset(batch_size, shuffle=True),
        splits["validation"].dataset(batch_size) if "validation" in splits else None,
        **fit_options,
    )
    metrics: dict[str, Any] = {"train_loss": fit.history["loss"][-1], "best_validation": fit.best}
    for name, data in splits.items():
        metrics[name] = evaluate_task(task, model, data, batch_size=batch_size)
    return fit, metrics


@dataclasses.dataclass(frozen=True)
class TaskFiles:
    """A head task's data files, each in the task's own format (module docstring)."""

    train: str
    validation: str | None = None
    test: str | None = None


def train_task(
    task: str,
    files: TaskFiles,
    out_dir: str,
    settings: FinetuneSettings | None = None,
    source: ModelSource | None = None,
    max_length: int = 128,
    doc_stride: int = 128,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
) -> dict[str, Any]:
    """Fine-tune a token / qa / multiple_choice head and write a run folder.

    The tokenizer and model come from `source` (`builders.ModelSource`: the
    checkpoint's, with its head when it carries one, or a fresh preset with a
    tokenizer trained on the training file's texts). AdamW with warmup and
    linear decay, trained through `fit_and_save` (early stopping on validation
    loss after `settings.patience` epochs, best checkpoint, TensorBoard logs,
    resume). Metrics (`evaluate_task`) on the validation and test files go into
    run.json, whose "task" is the task name.

    Returns `{"run_dir", "metrics", "parameters"}`.
    """
    s, source = settings or FinetuneSettings(), source or ModelSource()

    if task not in HEAD_TASKS:
        raise ValueError(
            f"train_task trains {', '.join(HEAD_TASKS)}; {task!r} is a classifier task "
            "(albert_tf.training.recipe.train_text_classifier)."
        )
    os.makedirs(out_dir, exist_ok=True)
    # The file's texts are read only when a tokenizer is trained on them.
    texts = functools.partial(task_texts, task, files.train)
    tokenizer = build_tokenizer(texts, source.vocab_size, source.tokenizer_path, source.pretrained)
    options = dict(max_length=max_length, doc_stride=doc_stride)
    train = make_task_dataset(task, files.train, tokenizer, **options)
    model = _head_model(task, source, tokenizer, max_length, train.num_labels)
    steps = s.epochs * math.ceil(len(train) / s.batch_size)
    compile_for_training(model, steps, s.learning_rate, warmup_fraction=s.warmup_fraction,
                         weight_decay=s.weight_decay)  # fmt: skip
    splits = {}
    for name, path in (("validation", files.validation), ("test", files.test)):
        if path:
            splits[name] = make_task_dataset(task, path, tokenizer, labels=train.labels, **options)
    fit_options = dict(epochs=s.epochs, out_dir=out_dir, patience=s.patience, verbose=verbose)
    fit, metrics = _fit_and_score(task, model, train, splits, s.batch_size, **fit_options)
    run_info = {
        "task": task,
        "max_length": max_length,
        "data": dataclasses.asdict(files),
        "settings": {
            **dataclasses.asdict(source),
            **dataclasses.asdict(s),
            "epochs_run": fit.epochs_run,
        },
        "metrics": metrics,
        **({"doc_stride": doc_stride} if task == "qa" else {}),
        **(info or {}),
    }
    save_run(out_dir, model, tokenizer, _run_labels(task, train), run_info)
    return {"run_dir": out_dir, "metrics": metrics, "parameters": int(model.count_params())}
