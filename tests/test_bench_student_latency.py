"""benchmarks/bench_student_latency.py: its statistics, ratios, table, round robin
and profile summary; the profile and a peer server on a tiny model (slow)."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from benchmarks import bench_student_latency as bench
from benchmarks.common import bench_python


def _row(system, p50, threads=2, ours=False, precision="float32", length="exact"):
    return {
        "system": system,
        "precision": precision,
        "sequence_length": length,
        "threads": threads,
        "p50_ms": p50,
        "p95_ms": p50 * 2,
        "peak_rss_mb": 100.0,
        "model_mb": 5.0,
        "agreement": 1.0,
        "accuracy": 0.9,
        "ours": ours,
    }


def test_latency_stats_are_percentiles_of_the_calls():
    stats = bench.latency_stats(list(range(1, 101)))
    assert stats == {"p50_ms": 50.5, "p95_ms": 95.05, "n": 100}
    with pytest.raises(ValueError):
        bench.latency_stats([])


def test_agreement_counts_equal_labels_and_refuses_unequal_lists():
    assert bench.agreement([1, 0, 1, 1], np.array([1, 1, 1, 1])) == 0.75
    with pytest.raises(ValueError):
        bench.agreement([1, 0], [1])


def test_rotated_gives_each_system_each_slot():
    names = ["a", "b", "c"]
    assert [bench.rotated(names, i)[0] for i in range(4)] == ["a", "b", "c", "a"]
    assert sorted(bench.rotated(names, 5)) == names


def test_ratios_are_to_the_fastest_peer_of_the_same_thread_count():
    rows = [
        _row("ours", 2.0, ours=True),
        _row("ORT", 4.0),
        _row("torch", 8.0),
        _row("ours", 3.0, threads=1, ours=True),
        _row("ORT", 6.0, threads=1),
    ]
    bench.add_ratios(rows)
    assert [r["ratio_to_fastest_peer"] for r in rows] == [0.5, 1.0, 2.0, 0.5, 1.0]
    assert rows[0]["fastest_peer"] == "ORT float32 (exact)"
    alone = bench.add_ratios([_row("ours", 2.0, ours=True)])
    assert alone[0]["ratio_to_fastest_peer"] is None


def test_table_lists_every_row_and_marks_ours():
    rows = bench.add_ratios([_row("albert-tf bundle", 2.0, ours=True), _row("PyTorch", 8.0)])
    rows[1]["peak_rss_mb"] = None
    table = bench.format_table(rows).splitlines()
    assert "x fastest peer" in table[0]
    assert table[2].startswith("albert-tf bundle *") and "0.25" in table[2]
    assert table[3].startswith("PyTorch") and " - " in table[3]


def test_systems_name_precision_and_length():
    specs = bench.systems(64)
    assert [s["key"] for s in specs][:2] == ["ours_dynamic", "ours_fixed"]
    assert {s["sequence_length"] for s in specs} == {"exact", "fixed 64"}
    assert {s["venv"] for s in specs if not s["ours"]} == {"ours", "peer"}


class _FakeServer:
    def __init__(self, name, log):
        self.name, self.log = name, log

    def ask(self, command):
        i = int(command.split()[1])
        self.log.append((self.name, i))
        return {"ms": float(len(self.log)), "label": i % 2}


def test_round_robin_takes_turns_and_keeps_first_pass_labels():
    log = []
    servers = {n: _FakeServer(n, log) for n in ("a", "b")}
    samples, labels = bench.time_round_robin(servers, n_texts=3, repeats=2, gap_s=0)
    assert [n for n, _ in log[:6]] == ["a", "b", "b", "a", "a", "b"]
    assert [i for _, i in log[:6]] == [0, 0, 1, 1, 2, 2]
    assert len(samples["a"]) == len(samples["b"]) == 6
    assert labels == {"a": [0, 1, 0], "b": [0, 1, 0]}


def test_profile_summary_splits_time_and_fits_invoke_against_length():
    lengths = [10, 20, 30, 40]
    phases = {
        "tokenizer": [0.1] * 4,
        "setup": [0.5, 0.02, 0.5, 0.02],
        "invoke": [1.0 + 0.05 * n for n in lengths],
        "output": [0.01] * 4,
    }
    out = bench.summarize_profile(phases, lengths, [True, False, True, False])
    shares = [p["share"] for p in out["phases_ms"].values()]
    assert abs(sum(shares) - 1.0) < 0.01
    assert out["resized_calls"] == 2
    assert out["setup_mean_ms_resized"] == 0.5 and out["setup_mean_ms_cached"] == 0.02
    assert out["invoke_vs_length"] == {"fixed_ms": 1.0, "per_token_ms": 0.05}
    assert "invoke_vs_length" not in bench.summarize_profile(phases, [8] * 4, [False] * 4)


def test_bundle_is_reused_only_for_this_run_mode_and_length(tmp_path):
    run = tmp_path / "my_run"
    run.mkdir()
    (run / "model.keras").write_bytes(b"x")
    bundle = tmp_path / "bundle"
    bundle.mkdir()
    manifest = {
        "run": {"name": "my_run"},
        "quantization": "dynamic",
        "dynamic_length": True,
        "max_length": 64,
    }
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    os.utime(run / "model.keras", (1, 1))
    assert bench.reusable_bundle(str(bundle), str(run), True, 64)
    assert not bench.reusable_bundle(str(bundle), str(run), False, 64)
    assert not bench.reusable_bundle(str(bundle), str(run), True, 128)
    assert not bench.reusable_bundle(str(tmp_path / "none"), str(run), True, 64)
    os.utime(run / "model.keras")  # retrained after the export
    os.utime(bundle / "manifest.json", (2, 2))
    assert not bench.reusable_bundle(str(bundle), str(run), True, 64)


@pytest.mark.slow
def test_profile_of_a_tiny_dynamic_bundle(tmp_path_factory):
    from export.runtime import Classifier
    from tests.export_helpers import bundle, trained_run

    clf = Classifier(bundle(tmp_path_factory, dynamic_length=True), num_threads=1)
    texts = trained_run(tmp_path_factory)["texts"][:12]
    profile = bench.profile_bundle(clf, texts, repeats=1)
    assert profile["labels_match_predict"]
    assert profile["calls"] == 12 and set(profile["phases_ms"]) == set(bench.PHASES)
    assert 0 < profile["ops"]["delegated_to_xnnpack"] <= profile["ops"]["model_ops"]
    assert profile["xnnpack"]["invoke_p50_ms_xnnpack_off"] > 0
    assert "XNNPACK takes" in bench.format_profile(profile)


@pytest.mark.slow
@pytest.mark.skipif(bench_python() is None, reason="no peer venv (make bench-venv)")
def test_peer_server_times_a_converted_tiny_run(tmp_path_factory, tmp_path):
    from tests.export_helpers import MAX_LENGTH, trained_run

    trained = trained_run(tmp_path_factory)
    hf = bench.hf_folder(trained["run_dir"], str(tmp_path), log=lambda m: None)
    texts = trained["texts"][:4]
    texts_file = tmp_path / "texts.json"
    texts_file.write_text(json.dumps(texts))
    args = ["--system", "torch_fp32", "--model", hf, "--texts", str(texts_file)]
    server = bench.Server(
        bench_python(),
        [*args, "--max-length", str(MAX_LENGTH)],
        threads=1,
        log_path=str(tmp_path / "server.log"),
    )
    try:
        assert server.ready["ready"] and server.ready["unk_fraction"] < 0.5
        replies = [server.ask(f"call {i}") for i in range(len(texts))]
        stats = server.ask("stats")
    finally:
        server.close()
    assert all(r["ms"] > 0 and r["label"] in (0, 1) for r in replies)
    assert stats["peak_rss_mb"] > 0 and stats["model_mb"] > 0
    assert server.proc.returncode == 0


def test_alternate_rounds_rotates_and_drops_a_failed_system():
    from benchmarks.common import alternate_rounds

    calls, skipped = [], []

    def run(system):
        calls.append(system)
        if system == "b":
            raise RuntimeError("boom")
        return system.upper()

    got = list(
        alternate_rounds(["a", "b", "c"], 2, {"a": "A", "b": "B", "c": "C"}, run, skipped, "t")
    )
    assert calls == ["a", "b", "c", "c", "a"]  # round 2 starts one later; b is not run again
    assert got == [("a", "A"), ("c", "C"), ("c", "C"), ("a", "A")]
    assert skipped == [{"system": "B", "reason": "failed: boom"}]
