"""Which model should I ship? Accuracy, size and latency of every system on the
packaged data sets, each on the same split (albert_tf.data.packaged.load):

- TF-IDF + logistic regression on the whole training split, C chosen on
  validation (`albert_tf.training.baselines`), the floor a user gets in a minute;
- the default recipe, exactly what `albert-tf demo --dataset X` runs (the same
  as `albert-tf train --dataset X` with no model flags): the fine-tuned MiniLM
  teacher, the distilled ALBERT student (Keras), and the student's
  dynamic-range bundle verified on the whole test split and timed by the edge
  runtime on real test texts (batch 1, 2 threads);
- the from-scratch recipe (`albert-tf train --dataset X --recipe scratch`:
  small preset, SentencePiece trained on the data, its own defaults).

Each data set runs in its own process, one after the other (nothing else should
run meanwhile). Finished runs under --runs are reused with --reuse, so a killed
benchmark resumes where it stopped.

Example:
    python -m benchmarks.bench_accuracy                       # all four data sets
    python -m benchmarks.bench_accuracy --datasets sms_spam --reuse
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
from typing import Any

from benchmarks.common import ROOT, read_json, run_cli, write_results

DATASETS = ("movie_reviews", "rotten_tomatoes", "sms_spam", "bbc_news")
SYSTEMS = (
    "TF-IDF + logistic regression",
    "teacher (MiniLM, fine-tuned)",
    "student (Keras)",
    "student bundle (dynamic range)",
    "from scratch (small preset)",
)


def default_recipe(dataset: str, folder: str, reuse: bool) -> dict[str, Any]:
    """`albert-tf demo --dataset X` into FOLDER; its summary.json."""
    summary = os.path.join(folder, "summary.json")
    if not (reuse and os.path.isfile(summary)):
        run_cli(["demo", "--dataset", dataset, "--out", folder], folder + ".log")
    return read_json(summary)


def scratch_recipe(dataset: str, folder: str, reuse: bool) -> dict[str, Any]:
    """`albert-tf train --dataset X --recipe scratch` into FOLDER; its run.json."""
    run_json = os.path.join(folder, "run.json")
    finished = os.path.isfile(run_json) and read_json(run_json).get("metrics", {}).get("test")
    if not (reuse and finished):
        args = ["train", "--dataset", dataset, "--recipe", "scratch", "--out", folder]
        seconds = run_cli(args + ["--overwrite"], folder + ".log")
        info = read_json(run_json)
        info["bench_seconds"] = seconds
        return info
    return read_json(run_json)


def _row(dataset: str, system: str, **fields: Any) -> dict[str, Any]:
    row = {
        "dataset": dataset,
        "system": system,
        "precision": None,
        "sequence_length": None,
        "test_accuracy": None,
        "macro_f1": None,
        "parameters": None,
        "model_mb": None,
        "p50_ms": None,
        "p95_ms": None,
        "seconds": None,
    }
    row.update(fields)
    return row


def dataset_rows(dataset: str, demo: dict[str, Any], scratch: dict[str, Any]) -> list[dict]:
    """The five systems' rows of one data set."""
    seconds = demo.get("seconds", {})
    floor, teacher, student = demo["tfidf_logreg"], demo["teacher"], demo["student"]
    bundle = demo.get("bundle", {})
    max_length = demo.get("max_length")
    scratch_test = scratch.get("metrics", {}).get("test", {})
    return [
        _row(
            dataset, SYSTEMS[0], precision="float64", test_accuracy=floor["test_accuracy"],
            seconds=seconds.get("floor"), C=floor.get("C"),
        ),
        _row(
            dataset, SYSTEMS[1], precision="float32 (Keras)", sequence_length=max_length,
            test_accuracy=teacher["test_accuracy"], parameters=teacher["parameters"],
        ),
        _row(
            dataset, SYSTEMS[2], precision="float32 (Keras)", sequence_length=max_length,
            test_accuracy=student["test_accuracy"], parameters=student["parameters"],
            seconds=seconds.get("recipe"),
        ),
        _row(
            dataset, SYSTEMS[3], precision="int8 weights, float32 activations (LiteRT)",
            sequence_length=f"exact, up to {max_length}",
            test_accuracy=bundle.get("test_accuracy"), parameters=student["parameters"],
            model_mb=bundle.get("model_mb"), p50_ms=bundle.get("p50_ms"),
            p95_ms=bundle.get("p95_ms"), agreement=bundle.get("label_agreement"),
            seconds=seconds.get("export"),
        ),
        _row(
            dataset, SYSTEMS[4], precision="float32 (Keras)",
            sequence_length=scratch.get("max_length"),
            test_accuracy=scratch_test.get("accuracy"), macro_f1=scratch_test.get("macro_f1"),
            parameters=scratch.get("parameters"), seconds=scratch.get("bench_seconds"),
            error=scratch.get("error"),
        ),
    ]  # fmt: skip


def targets(rows: list[dict]) -> dict[str, Any]:
    """Issue 16's targets, checked on the rows (True / False per data set)."""
    out: dict[str, Any] = {}
    by = {(r["dataset"], r["system"]): r for r in rows}
    for dataset in sorted({r["dataset"] for r in rows}):
        floor = by[(dataset, SYSTEMS[0])]["test_accuracy"]
        student = by[(dataset, SYSTEMS[2])]
        teacher = by[(dataset, SYSTEMS[1])]
        bundle = by[(dataset, SYSTEMS[3])]
        out[dataset] = {
            "student_at_or_above_tfidf": student["test_accuracy"] >= floor,
            "student_minus_tfidf_points": round(100 * (student["test_accuracy"] - floor), 1),
            "student_share_of_teacher": round(student["parameters"] / teacher["parameters"], 3),
            "bundle_mb_at_most_6": (bundle["model_mb"] or 99) <= 6.0,
            "agreement_at_least_0.99": (bundle.get("agreement") or 0) >= 0.99,
        }
    return out


def print_table(rows: list[dict]) -> None:
    print(f"\n{'dataset':<16}{'system':<34}{'test acc':>9}{'params':>9}{'MB':>6}{'p50 ms':>8}")
    for r in rows:
        acc = f"{r['test_accuracy']:.3f}" if r["test_accuracy"] is not None else "-"
        params = f"{r['parameters'] / 1e6:.2f}M" if r["parameters"] else "-"
        mb = f"{r['model_mb']:.2f}" if r["model_mb"] else "-"
        p50 = f"{r['p50_ms']:.2f}" if r["p50_ms"] else "-"
        print(f"{r['dataset']:<16}{r['system']:<34}{acc:>9}{params:>9}{mb:>6}{p50:>8}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_accuracy")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--runs", default=os.path.join(ROOT, "runs", "accuracy"))
    p.add_argument("--reuse", action="store_true", help="keep finished runs under --runs")
    # A killed benchmark, run again with --reuse, keeps what finished.
    p.add_argument("--skip-scratch", action="store_true", help="default recipe only")
    p.add_argument("--threads", type=int, default=2, help="(the CLI uses all cores)")
    p.add_argument(
        "--append", action="store_true",
        help="keep the other data sets' rows already in accuracy.json (each row says when it ran)",
    )  # fmt: skip
    args = p.parse_args(argv)
    os.makedirs(args.runs, exist_ok=True)
    rows: list[dict] = []
    for k, dataset in enumerate(args.datasets, 1):
        print(f"[accuracy] {k}/{len(args.datasets)} {dataset}: default recipe", flush=True)
        demo = default_recipe(dataset, os.path.join(args.runs, dataset), args.reuse)
        scratch: dict[str, Any] = {}
        if not args.skip_scratch:
            print(f"[accuracy] {k}/{len(args.datasets)} {dataset}: from scratch", flush=True)
            folder = os.path.join(args.runs, f"{dataset}-scratch")
            try:
                scratch = scratch_recipe(dataset, folder, args.reuse)
            except RuntimeError as err:  # one failed run must not lose the other rows
                print(f"[accuracy] {dataset}: from scratch failed: {err}", flush=True)
                scratch = {"error": str(err)}
        rows += dataset_rows(dataset, demo, scratch)
    print_table(rows)
    checks = targets(rows)
    print(json.dumps(checks, indent=1))
    settings = {"datasets": args.datasets, "recipe": "albert-tf demo defaults; scratch defaults"}
    payload = {"settings": settings, "rows": rows, "targets": checks}
    write_results("accuracy", _appended(payload, args.datasets) if args.append else payload)
    return 0


def _appended(payload: dict[str, Any], datasets: list[str]) -> dict[str, Any]:
    """The earlier rows of the data sets not run now, first, then the new ones;
    every row records the command and time of the run that made it."""
    from benchmarks.common import RESULTS_DIR, command_line

    old = read_json(os.path.join(RESULTS_DIR, "accuracy.json")) or {}
    stamp = {"command": old.get("command"), "finished": old.get("finished")}
    kept = [{**stamp, **r} for r in old.get("rows", []) if r.get("dataset") not in datasets]
    finished = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    now = {"command": command_line(), "finished": finished}
    rows = kept + [{**now, **r} for r in payload["rows"]]
    settings = {**payload["settings"], "datasets": sorted({r["dataset"] for r in rows})}
    return {"settings": settings, "rows": rows, "targets": targets(rows)}


if __name__ == "__main__":
    raise SystemExit(main())
