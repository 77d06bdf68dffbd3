"""Two-worker MultiWorkerMirroredStrategy equals one worker; a SIGKILLed run resumes exactly.

Each training runs in its own process (tests/pretrain_worker.py): a very small
pretrainer on fixed synthetic data, 2 epochs x 5 steps, global batch 8.
"""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

WORKER = os.path.join(os.path.dirname(__file__), "pretrain_worker.py")
TIMEOUT_S = 300


def _start(args, log_path, env=None):
    log = open(log_path, "w")
    base = {k: v for k, v in os.environ.items() if k != "TF_CONFIG"}
    env = {**base, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})}
    proc = subprocess.Popen(
        [sys.executable, WORKER, *args], stdout=log, stderr=subprocess.STDOUT, env=env
    )
    proc.log_file = log
    proc.log_path = log_path
    return proc


def _finish(proc):
    try:
        code = proc.wait(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        code = "timeout"
    proc.log_file.close()
    with open(proc.log_path) as f:
        tail = f.read()[-3000:]
    assert code == 0, f"{proc.args} ended with {code}:\n{tail}"


def _weights(path):
    with np.load(path) as data:
        return {k: data[k] for k in data.files}


def _max_diff(a, b):
    assert a.keys() == b.keys()
    return max(float(np.abs(a[k] - b[k]).max()) for k in a)


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """Uninterrupted single-process run, started once and shared by both tests."""
    folder = tmp_path_factory.mktemp("reference")
    out = str(folder / "weights.npz")
    proc = _start(["--out", out], str(folder / "log.txt"))

    def wait():
        if proc.returncode is None:
            _finish(proc)
        return _weights(out)

    yield wait
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_two_workers_end_with_the_weights_of_one(tmp_path, reference):
    ports = _free_ports(2)
    procs = []
    for index in range(2):
        tf_config = {
            "cluster": {"worker": [f"127.0.0.1:{p}" for p in ports]},
            "task": {"type": "worker", "index": index},
        }
        procs.append(
            _start(
                ["--out", str(tmp_path / f"w{index}.npz"), "--strategy", "multi_worker"],
                str(tmp_path / f"worker{index}.txt"),
                env={"TF_CONFIG": json.dumps(tf_config)},
            )
        )
    try:
        for proc in procs:
            _finish(proc)
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
    two_workers = _weights(tmp_path / "w0.npz")
    one_worker = reference()
    assert not (tmp_path / "w1.npz").exists()  # only the chief writes
    # Same global batch, gradients summed across workers, clipping after the sum:
    # only float summation order differs (Adam amplifies it a little).
    assert _max_diff(two_workers, one_worker) < 5e-4


def test_sigkill_mid_epoch_then_resume_equals_uninterrupted(tmp_path, reference):
    run_dir = str(tmp_path / "run")
    backup = os.path.join(run_dir, "backup")
    out = str(tmp_path / "resumed.npz")
    log = str(tmp_path / "killed.txt")
    # Checkpoints every 3 steps; stop after step 7 (epoch 2 of 5-step epochs, mid-epoch).
    proc = _start(["--out", out, "--run-dir", run_dir, "--save-freq", "3", "--block-at", "7"], log)
    deadline = time.monotonic() + TIMEOUT_S
    try:
        while "BLOCKED 7" not in open(log).read():
            assert proc.poll() is None, open(log).read()[-3000:]
            assert time.monotonic() < deadline, "the training never reached step 7"
            time.sleep(0.2)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.log_file.close()
    assert proc.returncode == -signal.SIGKILL
    with open(os.path.join(backup, "training_state.json")) as f:
        assert json.load(f) == {"global_step": 6}  # step 7 was lost with the process
    assert not os.path.exists(out)

    resumed = _start(
        ["--out", out, "--run-dir", run_dir, "--save-freq", "3"], str(tmp_path / "r.txt")
    )
    _finish(resumed)
    with open(tmp_path / "r.txt") as f:
        assert "DONE 10" in f.read()  # 10 optimizer steps in all, none repeated
    assert _max_diff(_weights(out), reference()) < 1e-6
