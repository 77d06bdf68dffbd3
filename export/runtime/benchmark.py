"""Latency, throughput, size and memory of a bundle through the edge runtime.

Imports only what `export.runtime` does (plus stdlib), so it measures the
TensorFlow-free path.

Example:
>>> bench_bundle("bundle", ["a fine film"], threads=2, runs=10)  # doctest: +SKIP
{'p50_ms': 1.2, ...}
"""

from __future__ import annotations

import os
import resource
import time

import numpy as np

from export.runtime import TFLITE_FILE, Classifier


def _peak_rss_mb() -> float:
    # VmHWM (Linux) restarts at exec; ru_maxrss would still count the parent's
    # memory when a TensorFlow-loaded process spawned this one.
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # KiB on Linux


def bench_bundle(
    bundle_dir: str, texts: list[str], threads: int = 2, runs: int = 30, warmup: int = 3
) -> dict:
    """Per-text latency (each text classified alone, batch 1) over `runs` passes."""
    if not texts:
        raise ValueError("bench needs at least one text.")
    rss_before = _peak_rss_mb()
    classifier = Classifier(bundle_dir, num_threads=threads)
    for _ in range(warmup):
        for text in texts:
            classifier.predict_proba([text])
    times = []
    start = time.perf_counter()
    for _ in range(runs):
        for text in texts:
            t0 = time.perf_counter()
            classifier.predict_proba([text])
            times.append(time.perf_counter() - t0)
    total = time.perf_counter() - start
    times_ms = np.array(times) * 1000.0
    lengths = [min(classifier.encoder.token_count(t), classifier.max_length) for t in texts]
    return {
        "bundle": bundle_dir,
        "quantization": classifier.manifest.get("quantization"),
        "dynamic_length": classifier.dynamic_length,
        "max_length": classifier.max_length,
        "threads": threads,
        "texts": len(texts),
        "mean_tokens": float(np.mean(lengths)),
        "p50_ms": round(float(np.percentile(times_ms, 50)), 3),
        "p95_ms": round(float(np.percentile(times_ms, 95)), 3),
        "texts_per_s": round(len(times) / total, 1),
        "model_mb": round(os.path.getsize(os.path.join(bundle_dir, TFLITE_FILE)) / 1e6, 3),
        "peak_rss_mb": round(_peak_rss_mb(), 1),
        "peak_rss_before_load_mb": round(rss_before, 1),
    }


def main(argv: list[str] | None = None) -> int:
    """`python -m export.runtime.benchmark BUNDLE [--threads N] [--runs N] [--file F]`: JSON out.

    A process of its own, so peak memory is that of the TensorFlow-free runtime.
    """
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m export.runtime.benchmark")
    parser.add_argument("bundle")
    parser.add_argument("--file", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--warmup", type=int, default=3)
    args = parser.parse_args(argv)
    if args.file:
        with open(args.file, encoding="utf-8") as f:
            texts = [line.rstrip("\n") for line in f if line.strip()]
    else:
        texts = list(DEFAULT_TEXTS)
    print(json.dumps(bench_bundle(args.bundle, texts, args.threads, args.runs, args.warmup)))
    return 0


DEFAULT_TEXTS = [
    "a gripping, beautifully acted film that stays with you.",
    "dull, overlong and utterly forgettable.",
    "the jokes fall flat and the plot makes no sense.",
    "one of the most moving stories i have seen this year, with a score that lingers.",
]

if __name__ == "__main__":
    raise SystemExit(main())
