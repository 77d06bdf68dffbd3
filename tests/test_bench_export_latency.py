"""benchmarks/bench_export_latency.py: its systems, row schema, ratios to keras-hub's
dynamic-range export, the fastest default-verified mode, the table, the manifest
facts and the cache stamp; and the report's ALBERT-base subsection reading its
results file. Nothing here converts a model."""

from __future__ import annotations

import json
import os

from benchmarks import bench_export_latency as bench
from benchmarks.report import write_report

SCHEMA = {
    "system", "precision", "sequence_length", "threads", "p50_ms", "p95_ms",
    "peak_rss_mb", "model_mb", "agreement",
}  # fmt: skip
STATS = {"peak_rss_mb": 100.0, "model_mb": 10.4}


def _rows(threads=2):
    specs = {s["key"]: s for s in bench.systems(["dynamic", "int4", "int8"])}
    made = [
        ("ours_dynamic", [100.0, 110.0, 120.0], {"agreement": 1.0, "default_verified": True}),
        ("ours_int4", [80.0, 90.0, 100.0], {"agreement": 0.995, "default_verified": True}),
        ("ours_int8", [50.0, 50.0, 50.0], {"agreement": 0.6, "default_verified": False}),
        ("keras_hub_float32", [200.0, 200.0, 200.0], {"agreement": 1.0}),
        ("keras_hub_dynamic", [180.0, 180.0, 180.0], {"agreement": 1.0}),
    ]
    return [bench.make_row(specs[k], threads, ms, STATS, f) for k, ms, f in made]


def test_systems_are_our_modes_then_keras_hubs_two_with_shared_precision_labels():
    specs = bench.systems(["dynamic", "int4"])
    assert [s["key"] for s in specs] == [
        "ours_dynamic", "ours_int4", "keras_hub_float32", "keras_hub_dynamic",
    ]  # fmt: skip
    by_key = {s["key"]: s for s in specs}
    assert by_key["ours_dynamic"]["precision"] == by_key["keras_hub_dynamic"]["precision"]
    assert [s["ours"] for s in specs] == [True, True, False, False]
    assert set(bench.MODES) == set(bench.PRECISION)


def test_modes_match_the_exporters():
    from export.converter import MODES

    assert tuple(bench.MODES) == tuple(MODES)


def test_rows_have_the_schema_precision_and_padded_length():
    rows = _rows()
    for r in rows:
        assert SCHEMA <= set(r)
        assert r["sequence_length"] == "padded to 128" and r["threads"] == 2
    assert rows[0]["p50_ms"] == 110.0 and rows[0]["p95_ms"] == 119.0
    assert rows[0]["system"] == bench.OURS and rows[-1]["system"] == bench.KERAS_HUB
    json.dumps(rows)  # JSON-ready


def test_ratios_are_to_keras_hub_dynamic_at_the_same_thread_count():
    rows = bench.add_ratios(_rows(2) + _rows(1)[:1])
    assert [r["ratio_to_keras_hub_dynamic"] for r in rows[:5]] == [0.611, 0.5, 0.278, 1.111, 1.0]
    assert rows[5]["ratio_to_keras_hub_dynamic"] is None  # 1 thread: no keras-hub row


def test_fastest_verified_ignores_failed_verification_and_gives_the_speedup():
    best = bench.fastest_verified(bench.add_ratios(_rows()))
    assert best == {
        "2": {
            "mode": "int4",
            "p50_ms": 90.0,
            "ratio_to_keras_hub_dynamic": 0.5,
            "speedup_vs_keras_hub_dynamic": 2.0,
        }
    }
    line = bench.headline(best)[0]
    assert "int4" in line and "2.0x faster" in line and "meets the 1.5x" in line
    assert "misses" in bench.headline(best, target=2.5)[0]


def test_table_marks_ours_and_verification():
    text = bench.format_table(bench.add_ratios(_rows()))
    lines = text.splitlines()
    assert len(lines) == 2 + 5 + 1
    assert "albert-tf bundle *" in lines[2] and "0.611" in lines[2] and "yes" in lines[2]
    assert "NO" in lines[4] and lines[6].startswith("keras-hub LiteRT export ")


def _bundle(folder, passed=True, min_agreement=0.99):
    os.makedirs(folder)
    verification = {
        "num_texts": 200,
        "thresholds": {"min_agreement": min_agreement, "max_accuracy_drop": 0.01},
        "label_agreement": 0.995,
        "max_prob_diff": 0.012345,
        "passed": passed,
        "failures": [] if passed else ["runtime: label agreement 0.5 < 0.99"],
    }
    with open(os.path.join(folder, "manifest.json"), "w") as f:
        json.dump({"quantization": "int4", "verification": verification}, f)
    return str(folder)


def test_verification_facts_need_the_default_thresholds(tmp_path):
    facts = bench.verification_facts(_bundle(tmp_path / "a"))
    assert facts["agreement"] == 0.995 and facts["max_prob_diff"] == 0.0123
    assert facts["default_verified"] is True and facts["verified_on"] == 200
    assert not bench.verification_facts(_bundle(tmp_path / "b", passed=False))["default_verified"]
    assert not bench.verification_facts(_bundle(tmp_path / "c", min_agreement=0.5))[
        "default_verified"
    ]


def test_work_dir_keeps_the_cache_until_the_set_up_changes(tmp_path):
    work = str(tmp_path / "work")
    bench.work_dir(work, fresh=False)
    (tmp_path / "work" / "kept").write_text("x")
    bench.work_dir(work, fresh=False)
    assert (tmp_path / "work" / "kept").exists()
    bench.work_dir(work, fresh=True)
    assert not (tmp_path / "work" / "kept").exists()
    (tmp_path / "work" / "kept").write_text("x")
    (tmp_path / "work" / "stamp.json").write_text("{}")  # another shape
    bench.work_dir(work, fresh=False)
    assert not (tmp_path / "work" / "kept").exists()


def test_report_reads_albert_base_latency(tmp_path):
    rows = bench.add_ratios(_rows())
    payload = {
        "benchmark": "albert_base_latency",
        "command": "python -m benchmarks.bench_export_latency --threads 2",
        "machine": {"cpu": "Test CPU", "usable_cores": 2, "load_average_at_start": [0.1]},
        "settings": {
            "keras_hub_export": bench.KERAS_HUB_HOW,
            "skipped": {"ours_int16x8": "RuntimeError: no int16 kernel"},
            "fastest_default_verified": bench.fastest_verified(rows),
        },
        "rows": rows,
    }
    with open(tmp_path / "albert_base_latency.json", "w") as f:
        json.dump(payload, f)
    out = tmp_path / "BENCHMARKS.md"
    write_report(str(tmp_path), str(out))
    text = out.read_text()
    section = text[text.index("### ALBERT-base, length 128") :]
    assert "benchmarks/results/albert_base_latency.json" in section
    assert bench.KERAS_HUB_HOW.replace("|", "\\|") in section  # the export, in the settings
    assert (
        "| albert-tf bundle | int4 weights, dynamic-range | padded to 128 | 2 | 90.00 |" in section
    )
    assert "int4 90.00 ms, **2.00x faster**" in section
    assert "Not timed: ours_int16x8" in section
    ratios = text[text.index("## Key ratios") : text.index("## Which model")]
    assert "int8 dynamic-range, padded to 128, 2 threads: albert-tf bundle 110.0 ms vs" in ratios
    assert "int4" not in ratios  # keras-hub has no int4 row: no like-for-like ratio
