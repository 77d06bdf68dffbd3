"""Benchmark inputs made from a small JSON spec with numpy only, so every
library (in either venv) times exactly the same token ids and masks.

Example:
>>> from benchmarks.peers.inputs import make_batches
>>> [b["token_ids"].shape for b in make_batches({"batch": 2, "lengths": [5, 3]}, 100)]
[(2, 5)]
"""

from __future__ import annotations

import json
import sys

import numpy as np


def make_batches(case: dict, vocab_size: int, seed: int = 0) -> list[dict[str, np.ndarray]]:
    """Batches for one case: `lengths` are real token counts; with batch 1 each
    length is its own batch (its own shape), otherwise rows are grouped `batch`
    at a time and padded to the longest row (pad id 0, mask 0)."""
    rng = np.random.default_rng(seed)
    lengths = list(case["lengths"])
    batch = int(case["batch"])
    out = []
    for start in range(0, len(lengths), batch):
        group = lengths[start : start + batch]
        if len(group) < batch and batch > 1 and out:
            break  # drop a ragged tail: every timed batch has the same row count
        width = max(group)
        ids = np.zeros((len(group), width), np.int32)
        mask = np.zeros((len(group), width), np.int32)
        for i, n in enumerate(group):
            ids[i, :n] = rng.integers(5, vocab_size, n)
            ids[i, 0], ids[i, n - 1] = 2, 3  # [CLS] ... [SEP]
            mask[i, :n] = 1
        out.append({"token_ids": ids, "padding_mask": mask, "segment_ids": np.zeros_like(ids)})
    return out


def timed(fn, batches, repeats: int, warmup: int = 1) -> list[float]:
    """Milliseconds per batch: each repeat runs every batch once, each timed alone."""
    import time

    for _ in range(warmup):
        for b in batches:
            fn(b)
    samples = []
    for _ in range(repeats):
        for b in batches:
            t0 = time.perf_counter()
            fn(b)
            samples.append((time.perf_counter() - t0) * 1000.0)
    return samples


def peak_rss_mb() -> float:
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    return float("nan")


def emit(payload: dict) -> None:
    """The one JSON line the parent reads."""
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()
