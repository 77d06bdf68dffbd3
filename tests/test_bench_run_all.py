"""`make bench` (benchmarks/run_all.py): it waits for a settled machine before each
benchmark, and never erases the hand-run recipe-defaults table."""

from __future__ import annotations

import os

import pytest

from benchmarks import bench_recipe_defaults, run_all


def test_waits_until_the_load_settles(monkeypatch):
    loads = iter([2.4, 1.9, 1.4, 0.2])
    slept = []
    monkeypatch.setattr(os, "getloadavg", lambda: (next(loads), 0.0, 0.0))
    monkeypatch.setattr(run_all.time, "sleep", slept.append)
    assert run_all.wait_for_quiet(cores=2) == 1.4
    assert len(slept) == 2


def test_gives_up_waiting_after_its_limit(monkeypatch):
    monkeypatch.setattr(os, "getloadavg", lambda: (9.0, 9.0, 9.0))
    monkeypatch.setattr(run_all.time, "sleep", lambda s: None)
    clock = iter(range(0, 10_000, 100))
    monkeypatch.setattr(run_all.time, "time", lambda: next(clock))
    assert run_all.wait_for_quiet(cores=2, limit_s=300) == 9.0


def test_make_bench_leaves_the_recipe_sweeps_to_hand_runs():
    assert "recipe_defaults" not in run_all.discover()
    assert list(run_all.discover())[:2] == ["accuracy", "unseen"]  # student_latency needs it


def test_recipe_defaults_with_nothing_to_measure_writes_nothing(tmp_path, monkeypatch, capsys):
    written = []
    monkeypatch.setattr(bench_recipe_defaults, "write_results", lambda *a: written.append(a))
    with pytest.raises(SystemExit) as exit_:
        bench_recipe_defaults.main([])
    assert exit_.value.code == 2
    assert "nothing to measure" in capsys.readouterr().err
    assert written == []


def test_make_bench_profiles_the_student_so_the_report_shows_where_time_goes(monkeypatch):
    calls = []
    monkeypatch.setattr(run_all, "wait_for_quiet", lambda cores: 0.0)
    monkeypatch.setattr(run_all.subprocess, "call", lambda cmd, **kw: calls.append(cmd) or 0)
    run_all.run_one("student_latency", threads=2, quick=False, extra=[])
    assert calls[0][-1] == "--profile" and "benchmarks.bench_student_latency" in calls[0]
