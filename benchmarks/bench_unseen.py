"""Does the default recipe hold on data it was never tuned on? Four packaged
sets that no default was chosen on (trec, amazon_reviews, tweets,
nyt_editorials), each run the way a user with their own files runs it:

1. the packaged split written out as train.csv / validation.csv / test.csv
   (columns text,label);
2. `albert-tf train --data train.csv --validation validation.csv --test
   test.csv --out RUN` with no model flags (the default distillation recipe);
3. `albert-tf export RUN --out BUNDLE --num-verify N` (verified on the whole
   test file the run recorded, N its rows);
4. TF-IDF + logistic regression (`albert_tf.training.baselines`) on the same files,
   C chosen on validation.

A killed benchmark, run again, resumes: finished runs and bundles are reused
(`albert-tf train` resumes a half-finished run itself).

Example:
    python -m benchmarks.bench_unseen                     # all four, ~30 min on 2 cores
    python -m benchmarks.bench_unseen --datasets trec
"""

from __future__ import annotations

import argparse
import csv
import os
from typing import Any

from benchmarks.common import ROOT, read_json, run_cli, write_results

DATASETS = ("trec", "amazon_reviews", "tweets", "nyt_editorials")
# Other languages (albert_tf.data.packaged_languages), reported as `unseen_languages`.
LANGUAGES = ("thucnews_titles", "bol_reviews_nl", "amazon_reviews_fr")
SPLITS = ("train", "validation", "test")


def write_csvs(dataset: str, folder: str) -> dict[str, str]:
    """The packaged split as the CSV files a user would have; their paths."""
    from albert_tf.data.packaged import load

    data = load(dataset)
    os.makedirs(folder, exist_ok=True)
    paths = {}
    for split in SPLITS:
        part = getattr(data, split)
        path = os.path.join(folder, f"{split}.csv")
        paths[split] = path
        if os.path.isfile(path):
            continue
        with open(path + ".tmp", "w", encoding="utf-8", newline="") as f:
            writer = csv.writer(f)
            writer.writerow(["text", "label"])
            writer.writerows(zip(part.texts, part.labels, strict=True))
        os.replace(path + ".tmp", path)
    return paths


def tfidf_floor(paths: dict[str, str]) -> dict[str, Any]:
    from albert_tf.data.readers import read_table
    from albert_tf.training.baselines import tfidf_logistic_regression
    from albert_tf.training.splits import label_vocabulary, to_split

    tables = [read_table(paths[s]) for s in SPLITS]
    vocab = label_vocabulary(tables[0], "single_label")
    return tfidf_logistic_regression(*(to_split(t, vocab, "single_label") for t in tables))


def run_dataset(dataset: str, folder: str) -> dict[str, Any]:
    paths = write_csvs(dataset, folder)
    run, bundle, log = (os.path.join(folder, n) for n in ("run", "bundle", "log.txt"))
    seconds: dict[str, float] = {}
    floor = tfidf_floor(paths)
    seconds["tfidf"] = floor["seconds"]
    info = read_json(os.path.join(run, "run.json")) if os.path.isfile(run + "/run.json") else {}
    if not info.get("metrics", {}).get("test"):
        args = ["train", "--data", paths["train"], "--validation", paths["validation"]]
        seconds["train"] = run_cli(args + ["--test", paths["test"], "--out", run], log)
        info = read_json(os.path.join(run, "run.json"))
    manifest_path = os.path.join(bundle, "manifest.json")
    test_rows = info["metrics"]["test"]["num_examples"]
    if not (
        os.path.isfile(manifest_path)
        and read_json(manifest_path)["verification"]["num_texts"] == test_rows
    ):
        # --num-verify: the bundle is scored on the whole test file, as the student is.
        export = ["export", run, "--out", bundle, "--num-verify", str(test_rows)]
        seconds["export"] = run_cli(export, log)
    manifest = read_json(manifest_path)
    verification = manifest["verification"]
    teacher = info.get("teacher", {})
    return {
        "dataset": dataset,
        "train_texts": info.get("train_examples"),
        "labels": len(info.get("labels") or []),
        "max_length": info.get("max_length"),
        "tfidf_test_accuracy": floor.get("test_accuracy"),
        "tfidf_C": floor.get("C"),
        "tfidf_features": floor.get("features"),
        "tfidf_validation_by_features": floor.get("validation_by_features"),
        "teacher_source": (info.get("teacher_choice") or {}).get("source"),
        "teacher_coverage": (info.get("teacher_choice") or {}).get("coverage"),
        "teacher_test_accuracy": teacher.get("metrics", {}).get("test", {}).get("accuracy"),
        "student_test_accuracy": info["metrics"]["test"]["accuracy"],
        "student_macro_f1": info["metrics"]["test"].get("macro_f1"),
        "bundle_test_accuracy": verification.get("runtime", {}).get("accuracy"),
        "bundle_agreement": verification.get("label_agreement"),
        "bundle_passed": verification.get("passed"),
        "bundle_mb": round(manifest["model_size_bytes"] / 1e6, 2),
        "student_parameters": info.get("parameters"),
        "teacher_parameters": teacher.get("parameters"),
        "seconds": seconds,
    }


def print_table(rows: list[dict]) -> None:
    head = f"{'dataset':<16}{'train':>7}{'TF-IDF':>8}{'teacher':>9}{'student':>9}{'bundle':>8}"
    print("\n" + head + f"{'agree':>7}{'MB':>6}")
    for r in rows:
        cells = [r[k] for k in ("tfidf_test_accuracy", "teacher_test_accuracy")]
        cells += [r[k] for k in ("student_test_accuracy", "bundle_test_accuracy")]
        accs = "".join(f"{c:>9.3f}" if c is not None else f"{'-':>9}" for c in cells)
        agree = r["bundle_agreement"] or 0
        print(f"{r['dataset']:<16}{r['train_texts']:>7}{accs}{agree:>7.3f}{r['bundle_mb']:>6.2f}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_unseen")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS + LANGUAGES)
    p.add_argument("--results-name", default="unseen", help="unseen_languages for LANGUAGES")
    p.add_argument("--runs", default=os.path.join(ROOT, "runs", "unseen"))
    p.add_argument("--threads", type=int, default=2, help="(the CLI uses all cores)")
    args = p.parse_args(argv)
    rows = []
    for k, dataset in enumerate(args.datasets, 1):
        print(f"[unseen] {k}/{len(args.datasets)} {dataset}", flush=True)
        try:
            rows.append(run_dataset(dataset, os.path.join(args.runs, dataset)))
        except RuntimeError as err:  # one failed run must not lose the other rows
            print(f"[unseen] {dataset} failed: {err}", flush=True)
            rows.append({"dataset": dataset, "error": str(err)})
    done = [r for r in rows if "error" not in r]
    print_table(done)
    wins = {r["dataset"]: r["student_test_accuracy"] >= r["tfidf_test_accuracy"] for r in done}
    print("student at or above TF-IDF:", wins, flush=True)
    settings = {
        "datasets": args.datasets,
        "commands": "albert-tf train --data/--validation/--test CSVs; albert-tf export RUN",
    }
    write_results(
        args.results_name, {"settings": settings, "rows": rows, "student_at_or_above_tfidf": wins}
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
