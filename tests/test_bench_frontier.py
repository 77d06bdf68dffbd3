"""The frontier benchmark's bookkeeping (benchmarks/bench_frontier.py): which systems
are beaten, the issue's two checks on the default bundle, and the report section.
The benchmark itself (training, peers, timing) is run by `make bench PART=frontier`."""

from __future__ import annotations

import json
import os

from benchmarks import bench_frontier
from benchmarks.bench_frontier import DEFAULT_SYSTEM, TEACHER_ONNX, frontier, targets
from benchmarks.report import FRONTIER, write_report


def _row(system: str, accuracy: float, p50: float, kind: str = "peer") -> dict:
    return {"system": system, "accuracy": accuracy, "p50_ms": p50, "p95_ms": p50 * 2,
            "model_mb": 1.0, "kind": kind, "parameters": None,
            "validation_accuracy": None}  # fmt: skip


def test_a_system_both_slower_and_less_accurate_than_another_is_off_the_frontier():
    rows = [_row("fast", 0.80, 0.1), _row("slow good", 0.85, 5.0), _row("slow bad", 0.79, 6.0)]
    frontier(rows)
    assert [r["on_frontier"] for r in rows] == [True, True, False]
    assert rows[2]["beaten_by"] == ["fast", "slow good"]


def test_a_tie_on_both_axes_beats_neither():
    rows = [_row("a", 0.8, 1.0), _row("b", 0.8, 1.0)]
    frontier(rows)
    assert all(r["on_frontier"] for r in rows)


def test_targets_compare_the_default_bundle_with_the_teacher_on_onnx_runtime():
    rows = [_row(DEFAULT_SYSTEM, 0.835, 2.0, "ours"), _row(TEACHER_ONNX, 0.843, 4.4, "teacher")]
    frontier(rows)
    t = targets(rows)
    assert t["speedup_vs_teacher_onnx_int8"] == 2.2
    assert t["points_below_teacher_onnx_int8"] == 0.8
    assert t["fast_and_close"] and t["default_on_frontier"]
    rows[0]["p50_ms"] = 2.5  # 1.76x: not fast enough
    frontier(rows)
    assert not targets(rows)["fast_and_close"]


def test_the_report_shows_the_table_the_skipped_peers_and_the_plot(tmp_path):
    rows = [_row(DEFAULT_SYSTEM, 0.835, 2.0, "ours"), _row(TEACHER_ONNX, 0.843, 4.4, "teacher"),
            _row("TF-IDF + logistic regression", 0.79, 0.2)]  # fmt: skip
    rows[1]["note"] = "failed verification, written with --force: runtime: agreement 0.98"
    frontier(rows)
    payload = {
        "command": "python -m benchmarks.bench_frontier", "finished": "2026-12-07 08:00 UTC",
        "wall_seconds": 2520,
        "machine": {"cpu": "Test CPU", "usable_cores": 2, "load_average_at_start": [0.1] * 3},
        "settings": {"dataset": "movie_reviews", "threads": 2,
                     "skipped": {"MediaPipe Model Maker": "pip could not install it"},
                     "plot": "benchmarks/results/frontier_movie_reviews.png"},
        "targets": targets(rows), "rows": rows,
    }  # fmt: skip
    with open(os.path.join(tmp_path, "frontier_movie_reviews.json"), "w") as f:
        json.dump(payload, f)
    text = open(write_report(str(tmp_path), str(tmp_path / "BENCHMARKS.md"))).read()
    section = text.split(f"## {FRONTIER}")[1].split("\n## ")[0]
    assert "| TF-IDF + logistic regression | 0.790 |" in section
    assert "Not measured: MediaPipe Model Maker: pip could not install it" in section
    assert "frontier_movie_reviews.png" in section
    assert f"- {TEACHER_ONNX}: failed verification, written with --force" in section
    assert "2.2x faster" in text  # a key ratio
    assert "2026-12-07 08:00 UTC, the run took 42 min" in section


def test_every_shape_is_a_recipe_setting():
    from albert_tf.distillation.settings import StudentRecipe

    for fields in bench_frontier.SHAPES.values():
        StudentRecipe(**fields)  # an unknown field would raise


def test_validation_accuracy_is_the_kept_epochs_not_the_training_accuracy(tmp_path):
    distilled, finetuned = tmp_path / "student", tmp_path / "teacher"
    distilled.mkdir(), finetuned.mkdir()
    (distilled / "run.json").write_text(json.dumps({"metrics": {"best_epoch": 1}}))
    (distilled / "history.json").write_text(json.dumps({"val_accuracy": [0.83, 0.82]}))
    (finetuned / "run.json").write_text(
        json.dumps({"metrics": {"validation": {"accuracy": 0.78, "val_accuracy": 0.84}}})
    )
    assert bench_frontier.validation_accuracy(str(distilled)) == 0.83
    assert bench_frontier.validation_accuracy(str(finetuned)) == 0.84
