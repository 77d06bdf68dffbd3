"""`albert-tf evaluate RUN_DIR`: metrics of a trained run on a labelled file or data set."""

from __future__ import annotations

import argparse
import json
import os


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "evaluate",
        help="accuracy, macro-F1, confusion matrix (PNG); Pearson/Spearman for regression",
    )
    p.add_argument("run_dir")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="labelled file (.csv, .tsv, .jsonl)")
    src.add_argument("--dataset", help="packaged data set; its test split is used")
    p.add_argument("--text-column", default="text")
    p.add_argument("--pair-column", default=None)
    p.add_argument("--label-column", default="label")
    p.add_argument(
        "--encoding-errors",
        choices=["strict", "replace"],
        default="strict",
        help="bytes that are not UTF-8: stop with the line named (strict) or read them as U+FFFD",
    )
    p.add_argument("--out", help="folder for metrics JSON and PNG (default: the run folder)")
    p.add_argument("--name", default="eval", help="file name prefix for the outputs")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from albert_tf.data.labels import LabelVocabulary
    from albert_tf.data.readers import read_table
    from albert_tf.training.recipe import evaluate_model
    from albert_tf.training.run_folder import load_run
    from albert_tf.training.splits import to_split

    run = load_run(args.run_dir)
    if args.dataset:
        from albert_tf.data.packaged import load

        data = load(args.dataset).test
    else:
        data = read_table(
            args.data,
            args.text_column,
            args.label_column,
            args.pair_column,
            encoding_errors=args.encoding_errors,
        )
    if run.problem_type is None and run.task in ("classify", "pairs", "multi_label", "regression"):
        raise ValueError(
            f"{os.path.join(args.run_dir, 'run.json')}: field 'problem_type' is missing "
            f"(a {run.task!r} run records single_label, multi_label or regression)"
        )
    if run.problem_type is None:
        raise ValueError(
            f"{args.run_dir}: evaluate scores classifier runs; this run's task is {run.task!r}."
        )
    vocab = None if run.problem_type == "regression" else LabelVocabulary(run.labels)
    split = to_split(data, vocab, run.problem_type)
    metrics = evaluate_model(run.classifier, split, args.out or args.run_dir, args.name)
    shown = {k: v for k, v in metrics.items() if k not in ("f1_per_label",)}
    print(json.dumps(shown, indent=2))
    return 0
