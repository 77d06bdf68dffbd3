"""One writer per run folder (issue 32): real processes started together on one --out.

The lock alone is raced by many small processes released at the same instant, several
rounds; two real `albert-tf train` processes are raced as a user would race them. The
by-hand loop (`python -m tests.test_run_lock PAIRS`) runs more pairs of the latter.
"""

from __future__ import annotations

import errno
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ENV = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "PYTHONPATH": ROOT}
SPIECE = os.path.join(ROOT, "tests", "fixtures", "tiny_spiece.model")
LOCK = ".albert-tf.lock"

# Waits for the shared start instant, holds the folder a moment, logs "in"/"out" with
# times; a refusal prints its one line.
RACER = """
import os, sys, time
from albert_tf.training.run_inputs import RunFolderBusy, hold_run_folder
out, start, log = sys.argv[1], float(sys.argv[2]), sys.argv[3]
while time.time() < start:
    pass
try:
    with hold_run_folder(out):
        with open(log, "a") as f:
            f.write(f"in {time.time()} {os.getpid()}\\n")
        time.sleep(0.3)
        with open(log, "a") as f:
            f.write(f"out {time.time()} {os.getpid()}\\n")
except RunFolderBusy as e:
    print(e, file=sys.stderr)
    sys.exit(2)
"""


@pytest.mark.parametrize("round_", range(5))
def test_processes_released_together_get_the_folder_one_at_a_time(tmp_path, round_):
    out, log = tmp_path / "run", tmp_path / "log"
    start = time.time() + 1.5  # past every racer's start-up
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(out), str(start), str(log)],
            env=ENV,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = [(p.wait(timeout=60), p.stderr.read()) for p in racers]
    for p in racers:
        p.stderr.close()
    held = [line.split() for line in log.read_text().splitlines()]
    # Never two inside at once: "in" and "out" alternate, each pair one process's.
    assert [h[0] for h in held] == ["in", "out"] * (len(held) // 2)
    assert all(a[2] == b[2] for a, b in zip(held[::2], held[1::2]))
    winners = [code for code, _ in results if code == 0]
    assert len(winners) == len(held) // 2 >= 1
    for code, err in results:
        if code:
            assert code == 2 and len(err.strip().splitlines()) == 1
            assert "is in use by another albert-tf train (pid " in err
    assert not (out / LOCK).exists()  # released at exit


def test_a_dead_owners_lock_is_taken_over(tmp_path):
    out = tmp_path / "run"
    out.mkdir()
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    (out / LOCK).write_text(dead + "\n")
    from albert_tf.training.run_inputs import hold_run_folder

    with hold_run_folder(str(out)):
        assert (out / LOCK).read_text() == f"{os.getpid()}\n"
    assert not (out / LOCK).exists()


def _rows(path, n=40):
    rows = "".join(f"great fun film {i},pos\nawful dull mess {i},neg\n" for i in range(n))
    path.write_text("text,label\n" + rows)


def train_argv(data, out) -> list[str]:
    return [sys.executable, "-m", "albert_tf.cli", "train", "--data", str(data), "--out",
            str(out), "--recipe", "scratch", "--preset", "tiny", "--tokenizer", SPIECE,
            "--epochs", "1", "--max-length", "16", "--batch-size", "16"]  # fmt: skip


def race_two_trainings(data, out, said: list[str] | None = None) -> list[str]:
    """Two `albert-tf train` started at once on one --out; the problems seen (none: one
    finished run, the other refused with one line, nothing left over). The refusal's
    line goes into `said`."""
    procs = [
        subprocess.Popen(train_argv(data, out), env=ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    results = [(p.wait(timeout=300), p.stderr.read()) for p in procs]
    for p in procs:
        p.stderr.close()
    problems = []
    codes = sorted(code for code, _ in results)
    if codes != [0, 2]:
        problems.append(f"exit codes {codes}: {[e.strip()[-300:] for _, e in results]}")
    for code, err in results:
        lines = [line for line in err.splitlines() if line.strip()]
        if code == 2 and said is not None:
            said.extend(lines)
        if code == 2 and (len(lines) != 1 or not lines[0].startswith("albert-tf train: error:")):
            problems.append(f"the refused run said {lines}")
        if code == 2 and "in use" not in err and "finished run" not in err:
            problems.append(f"the refusal names neither the owner nor the run: {lines}")
    info = json.loads((out / "run.json").read_text()) if (out / "run.json").exists() else {}
    if not info.get("metrics", {}).get("test"):
        problems.append("no finished run.json")
    left = [n for n in (LOCK, "backup") if (out / n).exists()]
    if left:
        problems.append(f"left {left}")
    return problems


def test_two_trainings_started_together_on_one_folder(tmp_path):
    # One pair here (about 40 s: two TensorFlow start-ups); the rounds above race the
    # lock itself, and `python -m tests.test_run_lock 20` runs more pairs by hand.
    data = tmp_path / "train.csv"
    _rows(data)
    assert race_two_trainings(data, tmp_path / "run") == []


def test_a_full_disk_names_the_folder(tmp_path, monkeypatch, capsys):
    from albert_tf.cli import main
    from albert_tf.training import run_inputs

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_inputs, "write_text_atomic", full)
    data, out = tmp_path / "train.csv", tmp_path / "run"
    _rows(data, 4)
    code = main(train_argv(data, out)[3:])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1
    assert err[0] == (
        f"albert-tf train: error: no space left on device while writing {out}; free some "
        "space or choose another --out"
    )
    assert not out.exists()  # the folder this run made is gone again


if __name__ == "__main__":  # the by-hand loop: python -m tests.test_run_lock 20
    import tempfile

    pairs = int(sys.argv[1]) if len(sys.argv) > 1 else 10
    root = tempfile.mkdtemp(prefix="race-")
    _rows(pathlib.Path(root) / "train.csv")
    bad = 0
    for i in range(pairs):
        out = pathlib.Path(root) / f"run{i}"
        said: list[str] = []
        problems = race_two_trainings(pathlib.Path(root) / "train.csv", out, said)
        bad += bool(problems)
        print(f"pair {i + 1}: {'ok' if not problems else problems} {said}", flush=True)
        shutil.rmtree(out, ignore_errors=True)
    shutil.rmtree(root, ignore_errors=True)
    print(f"{pairs - bad} of {pairs} pairs handled well")
    sys.exit(1 if bad else 0)
