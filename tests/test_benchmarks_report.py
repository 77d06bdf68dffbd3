"""The report writer turns results JSON into BENCHMARKS.md (four sections, tables,
PNG plots) and the results writer refuses figures from a busy machine (the
benchmarks themselves are never run here)."""

import json
import os

import pytest

from benchmarks import common
from benchmarks.common import row, write_results
from benchmarks.report import COST, SHIP, SPEED, TRAIN, write_report

QUIET = {"cpu": "Test CPU 9000", "usable_cores": 4, "load_average_at_start": [0.5, 0.5, 0.5]}
SYSTEMS = (
    ("TF-IDF + logistic regression", "float64", None, 0.75, None, None, None),
    ("teacher (MiniLM, fine-tuned)", "float32 (Keras)", 64, 0.85, 22_700_000, None, None),
    ("student (Keras)", "float32 (Keras)", 64, 0.83, 5_600_000, None, None),
    ("student bundle (dynamic range)", "int8 weights (LiteRT)", "exact, up to 64", 0.82, 5_600_000, 5.7, 2.6),
    ("from scratch (small preset)", "float32 (Keras)", 128, 0.72, 1_900_000, None, None),
)  # fmt: skip


def _write(folder, name, payload):
    with open(os.path.join(folder, f"{name}.json"), "w") as f:
        json.dump(payload, f)


def _accuracy_rows():
    rows = []
    for k, dataset in enumerate(("movie_reviews", "sms_spam")):
        for system, precision, length, acc, params, mb, p50 in SYSTEMS:
            rows.append(
                {"dataset": dataset, "system": system, "precision": precision,
                 "sequence_length": length, "test_accuracy": acc + k / 10, "macro_f1": None,
                 "parameters": params, "model_mb": mb, "p50_ms": p50 and p50 + k,
                 "p95_ms": None, "seconds": 1.0}
            )  # fmt: skip
    return rows


def _results(folder):
    cmd = {"command": "python -m benchmarks.bench_x", "settings": {"threads": 2}}
    _write(folder, "accuracy", {**cmd, "machine": QUIET, "rows": _accuracy_rows()})
    keys = "system precision sequence_length threads p50_ms p95_ms peak_rss_mb model_mb agreement accuracy"
    student = [
        ("teacher bundle", "int8 weights (LiteRT)", 64, 2, 19.0, 26.0, 300.0, 23.0, 1.0, 0.85),
        ("student bundle", "int8 weights (LiteRT)", 64, 2, 3.9, 10.3, 120.0, 5.8, 0.99, 0.84),
        ("student bundle", "int8 weights (LiteRT)", "exact, up to 64", 2, 2.6, 9.9, 130.0, 6.0, 0.99, 0.84),
        ("student (Keras)", "float32 (Keras)", 64, 2, 40.0, 50.0, 900.0, 22.0, 1.0, 0.84),
    ]  # fmt: skip
    busy = {**QUIET, "load_average_at_start": [9.0, 9.0, 9.0], "busy": True}
    rows = [dict(zip(keys.split(), r, strict=True)) for r in student]
    _write(folder, "student_latency", {**cmd, "machine": busy, "rows": rows})
    tokens = [
        row("tokens/s", "albert-tf (Keras/TF)", "tokens_per_s", [4.0, 5.0], ours=True, first_step_s=3.0),
        row("tokens/s", "keras-hub AlbertTextClassifier (TF)", "tokens_per_s", [8.0, 10.0], baseline=True),
        row("to loss 0.2", "albert-tf (Keras/TF)", "seconds", value=26.0, step=60),
    ] + [
        row("curve", "albert-tf (Keras/TF)", "val_loss", value=1 / (t + 1), plot_only=True, train_seconds=t)
        for t in range(3)
    ]  # fmt: skip
    _write(folder, "training", {**cmd, "machine": QUIET, "notes": ["Batch 32."], "rows": tokens})
    scaling = [
        row(f"len {n}", s, "latency_ms", [n / 8, n / 4], ours=o, baseline=not o, seq_length=n)
        for n in (16, 32)
        for s, o in (("albert-tf (Keras/TF)", True), ("keras-hub", False))
    ] + [row("tiny", "albert-tf (Keras/TF)", "latency_ms", [1.0], preset="tiny", parameters=2e6)]
    _write(folder, "scaling", {**cmd, "machine": QUIET, "rows": scaling, "key_groups": ["len 32"]})


def test_report_has_four_sections_marks_busy_machine_and_draws(tmp_path):
    _results(tmp_path)
    out = tmp_path / "BENCHMARKS.md"
    write_report(str(tmp_path), str(out))
    text = out.read_text()
    assert len(text.splitlines()) <= 250
    heads = [text.index(f"## {title}") for title in (SHIP, SPEED, TRAIN, COST)]
    assert heads == sorted(heads)
    speed = text[heads[1] : heads[2]]
    assert (
        "measured on a busy machine" in speed
        and "measured on a busy machine" not in text[: heads[1]]
    )
    assert "| student (Keras) | float32 (Keras) | padded to 64 | 0.830 | 0.930 | 5.60M |" in text
    assert "`python -m benchmarks.bench_x`" in text and "Test CPU 9000" in text
    for png in ("accuracy_vs_latency.png", "student_latency.png", "training_tokens_per_s.png"):
        assert (tmp_path / png).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert f"]({png})" in text
    ratios = text[text.index("## Key ratios") : heads[0]]
    assert "-2.0 points" in ratios  # student vs teacher, both float32 Keras padded to 64
    assert "student bundle 3.90 ms vs teacher bundle 19.00 ms = **0.21x" in ratios
    assert "(busy machine)" in ratios
    assert "0.50x (higher is better)" in ratios  # tokens/s vs keras-hub
    assert "student (Keras) 40" not in ratios  # float32 Keras row: no int8 LiteRT base
    assert "exact" not in ratios  # the exact-length row has no like-for-like base


def test_key_ratios_name_the_cpu_and_the_default_bundle_meets_its_fastest_peer(tmp_path):
    _results(tmp_path)
    machine = {**QUIET, "cpu_features": ["avx2", "fma"]}
    ours = {
        "system": "albert-tf bundle",
        "precision": "int8 dynamic",
        "threads": 1,
        "sequence_length": "exact",
        "p50_ms": 2.0,
        "key": "ours_dynamic",
        "ours": True,
        "fastest_peer": "ONNX Runtime int8 dynamic (exact)",
        "ratio_to_fastest_peer": 0.8,
    }
    peer = {**ours, "system": "ONNX Runtime", "p50_ms": 2.5, "key": "onnx_int8", "ours": False}
    peer.pop("ratio_to_fastest_peer")
    _write(tmp_path, "student_latency", {"command": "x", "machine": machine, "rows": [ours, peer]})
    write_report(str(tmp_path), str(tmp_path / "B.md"))
    text = (tmp_path / "B.md").read_text()
    line = "albert-tf bundle 2.00 ms vs ONNX Runtime 2.50 ms = **0.80x (lower is better)**"
    assert f"{line} [Test CPU 9000, avx2/fma]" in text
    assert "1 thread(s): 2.00 ms against the fastest peer on the same weights, ONNX Runtime" in text
    assert "**1.25x faster**" in text


def test_sections_without_results_say_what_to_run(tmp_path):
    _write(tmp_path, "accuracy", {"command": "x", "machine": QUIET, "rows": _accuracy_rows()})
    write_report(str(tmp_path), str(tmp_path / "B.md"))
    text = (tmp_path / "B.md").read_text()
    assert "| student (Keras) | float32 (Keras) | padded to 64 | 0.830 | 0.930 | 5.60M |" in text
    for command in ("bench_student_latency", "bench_export_latency", "bench_training"):
        assert f"Not measured yet: run `python -m benchmarks.{command}`." in text
    assert "Not measured yet: run `python -m benchmarks.bench_scaling`." in text


@pytest.mark.parametrize("allowed", [False, True])
def test_results_from_a_busy_machine_are_refused_unless_allowed(
    tmp_path, monkeypatch, capsys, allowed
):
    monkeypatch.setattr(common, "START_LOAD", [9.0, 9.0, 9.0])
    if allowed:
        monkeypatch.setenv(common.ALLOW_BUSY_ENV, "1")
    else:
        monkeypatch.delenv(common.ALLOW_BUSY_ENV, raising=False)
    path = write_results("x", {"machine": {"usable_cores": 2}, "rows": []}, str(tmp_path))
    if not allowed:
        assert path is None and not list(tmp_path.iterdir())
        assert capsys.readouterr().out.count("\n") == 1
        return
    machine = json.loads((tmp_path / "x.json").read_text())["machine"]
    assert machine["busy"] and machine["load_average_at_start"] == [9.0, 9.0, 9.0]


def test_results_from_a_quiet_machine_record_the_start_load(tmp_path, monkeypatch):
    monkeypatch.setattr(common, "START_LOAD", [0.1, 0.2, 0.3])
    write_results("y", {"rows": []}, str(tmp_path))
    machine = json.loads((tmp_path / "y.json").read_text())["machine"]
    assert machine["load_average_at_start"] == [0.1, 0.2, 0.3] and "busy" not in machine
    assert "cpu_features" in machine


def test_unseen_data_sets_get_a_table_that_flags_a_loss_to_tfidf(tmp_path):
    _results(tmp_path)
    common_keys = {"labels": 2, "bundle_agreement": 1.0, "bundle_mb": 5.8}
    rows = [
        {"dataset": "tweets", "train_texts": 3356, "tfidf_test_accuracy": 0.838,
         "teacher_test_accuracy": 0.94, "student_test_accuracy": 0.9,
         "bundle_test_accuracy": 0.89, **common_keys},
        {"dataset": "nyt_editorials", "train_texts": 3908, "tfidf_test_accuracy": 0.75,
         "teacher_test_accuracy": 0.77, "student_test_accuracy": 0.74,
         "bundle_test_accuracy": 0.765, **common_keys},
        {"dataset": "trec", "error": "albert-tf train ... failed (exit 2)"},
    ]  # fmt: skip
    _write(tmp_path, "unseen", {"command": "python -m benchmarks.bench_unseen", "rows": rows})
    out = tmp_path / "BENCHMARKS.md"
    write_report(str(tmp_path), str(out))
    text = out.read_text()
    section = text[text.index("### On data no default was chosen on") :]
    assert "| tweets | 3356 | 2 | 0.838 | 0.94 | 0.9 | 0.89 | 1.00 | 5.80 | yes |" in section
    assert "| nyt_editorials |" in section and "| **no** |" in section
    assert "failed: albert-tf train" in section
