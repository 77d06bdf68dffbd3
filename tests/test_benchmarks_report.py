"""The report writer turns results JSON into markdown tables and PNG plots
(the benchmarks themselves are never run here)."""

import json
import os

from benchmarks.common import row
from benchmarks.report import write_report


def _results(folder):
    rows = [
        row(
            "batch 1",
            "peer",
            "latency_ms",
            [10.0, 12.0, 14.0],
            unit="ms",
            baseline=True,
            seq_length=16,
        ),
        row("batch 1", "ours", "latency_ms", [4.0, 5.0, 6.0], unit="ms", ours=True, seq_length=16),
        row("batch 1", "ours", "latency_ms", [8.0, 9.0, 10.0], unit="ms", ours=True, seq_length=32),
        row("batch 1", "peer", "latency_ms", [20.0, 22.0, 24.0], unit="ms", seq_length=32),
    ]
    payload = {
        "benchmark": "scaling",
        "command": "python -m benchmarks.bench_scaling --quick",
        "machine": {"cpu": "Test CPU 9000", "cores": 2, "usable_cores": 2, "memory_gib": 8.0},
        "skipped": [{"system": "onnxruntime", "reason": "venv missing"}],
        "rows": rows,
        "plots": [
            {
                "file": "scaling_test.png",
                "title": "t",
                "kind": "line",
                "x": "seq_length",
                "metric": "latency_ms",
            }
        ],
    }
    with open(os.path.join(folder, "scaling.json"), "w") as f:
        json.dump(payload, f)
    # A file from another helper in its own shape: shown as a generic table.
    with open(os.path.join(folder, "distill.json"), "w") as f:
        json.dump({"teacher": {"accuracy": 0.8}, "student_accuracy": 0.79}, f)


def test_report_has_table_ratio_machine_and_png(tmp_path):
    _results(tmp_path)
    out = tmp_path / "BENCHMARKS.md"
    write_report(str(tmp_path), str(out))
    text = out.read_text()
    # The table row for ours carries its median, spread and ratio to the baseline (5/12).
    assert "| ours | 5.00 | 4.50-5.50" in text
    assert "0.42x" in text
    assert "Test CPU 9000" in text and "python -m benchmarks.bench_scaling --quick" in text
    assert "Not run: onnxruntime" in text
    assert "student_accuracy" in text
    png = tmp_path / "scaling_test.png"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "](scaling_test.png)" in text


def test_readme_ratio_block_is_rewritten_from_results(tmp_path):
    from benchmarks.report import update_readme

    _results(tmp_path)
    readme = tmp_path / "README.md"
    readme.write_text(
        "intro\n<!-- benchmarks:ratios:start -->\nold\n<!-- benchmarks:ratios:end -->\nend\n"
    )
    assert update_readme(str(tmp_path), str(readme))
    text = readme.read_text()
    assert "old" not in text and "0.42x" in text and text.endswith("end\n")
