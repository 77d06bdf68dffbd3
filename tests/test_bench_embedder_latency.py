"""BENCHMARKS.md's lines for the embedder bundle against MiniLM on ONNX Runtime int8
(benchmarks/bench_embedder_latency.py, run by hand on a finished embedder bundle)."""

from __future__ import annotations

import json

from benchmarks.bench_embedder_latency import OURS, TEACHER
from benchmarks.report import embedder_latency_lines


def _payload(ours_ms: float, teacher_ms: float) -> dict:
    rows = [
        {"texts": "TREC questions", "count": 500, "threads": 1, "system": OURS,
         "p50_ms": ours_ms, "p95_ms": ours_ms * 2, "model_mb": 5.8,
         "speedup_of_ours": round(teacher_ms / ours_ms, 2)},
        {"texts": "TREC questions", "count": 500, "threads": 1, "system": TEACHER,
         "p50_ms": teacher_ms, "p95_ms": teacher_ms * 2, "model_mb": 23.0,
         "speedup_of_ours": round(teacher_ms / ours_ms, 2)},
    ]  # fmt: skip
    return {
        "command": "python -m benchmarks.bench_embedder_latency", "finished": "2026-12-07",
        "machine": {"cpu": "Test CPU", "usable_cores": 2},
        "settings": {"bundle": "b", "bundle_bytes": 5_930_000, "max_length": 128,
                     "dynamic_length": False, "repeats": 3, "onnx_int8_recipe": "quantize_dynamic",
                     "batch": 1},
        "rows": rows,
    }  # fmt: skip


def test_missing_results_say_what_to_run(tmp_path):
    lines, ratios = embedder_latency_lines(str(tmp_path))
    assert "bench_embedder_latency" in "\n".join(lines) and ratios == []


def test_the_table_and_the_key_ratio_come_from_the_results(tmp_path):
    (tmp_path / "embedder_latency.json").write_text(json.dumps(_payload(2.0, 5.0)))
    lines, ratios = embedder_latency_lines(str(tmp_path))
    text = "\n".join(lines)
    assert f"| TREC questions (500) | 1 | {OURS} | 2.00 |" in text
    assert "5.93 MB" in text  # the bundle folder, tokenizer included
    assert len(ratios) == 1 and "**2.5x the teacher's speed**" in ratios[0]
