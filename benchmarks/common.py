"""Shared pieces of the benchmark scripts: machine facts, timing statistics,
thread settings, the peer venv (PyTorch / transformers / ONNX Runtime) and
atomic results files, written only when the machine was quiet at the start
of the run (1-minute load average at most the core count; set
ALBERT_TF_BENCH_ALLOW_BUSY=1 to write anyway, and the report marks the figures).

Example:
>>> stats = summarize([3.0, 1.0, 2.0])
>>> stats["median"], stats["n"]
(2.0, 3)
"""

from __future__ import annotations

import datetime as _dt
import importlib.metadata
import json
import os
import platform
import shlex
import subprocess
import sys
import tempfile
import time
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
RESULTS_DIR = os.path.join(HERE, "results")
PEERS_DIR = os.path.join(HERE, "peers")
# The peers' venv: `make bench-venv` creates it next to the checkout.
DEFAULT_BENCH_VENV = os.path.join(os.path.dirname(ROOT), "benchvenv")

# The load when a benchmark script starts: every script imports this module first.
START_LOAD = [round(x, 2) for x in os.getloadavg()]
# ... and when, so that each results file says how long its run took (`make bench`
# parts are meant to finish within an hour).
START_TIME = time.time()
ALLOW_BUSY_ENV = "ALBERT_TF_BENCH_ALLOW_BUSY"

LIBRARIES = (
    "tensorflow",
    "keras",
    "keras-hub",
    "ai-edge-litert",
    "numpy",
    "scikit-learn",
    "sentencepiece",
)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


# The instruction sets that decide which kernels TensorFlow / XNNPACK can use:
# bfloat16 matmuls are only fast with AVX512_BF16 (or AMX), int8 ones with VNNI.
_CPU_FEATURES = ("avx2", "fma", "avx512f", "avx512_vnni", "avx_vnni", "avx512_bf16", "amx_bf16")


def cpu_features() -> list[str]:
    """The SIMD features of `_CPU_FEATURES` this CPU has (from /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [name for name in _CPU_FEATURES if name in flags]
    except OSError:
        pass
    return []


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("MemTotal:"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def library_versions(names: tuple[str, ...] = LIBRARIES) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out


def machine_info() -> dict[str, Any]:
    """CPU model and features, cores, memory, OS, Python and library versions, and
    the load average at the start of the run and now (a high load means noisy numbers)."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    return {
        "cpu": _cpu_model(),
        "cpu_features": cpu_features(),
        "cores": os.cpu_count(),
        "usable_cores": usable,
        "memory_gib": _memory_gib(),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "libraries": library_versions(),
        "load_average_at_start": START_LOAD,
        "load_average": [round(x, 2) for x in os.getloadavg()],
        "omp_wait_policy": os.environ.get(
            "OMP_WAIT_POLICY", "default (PASSIVE for peers when load > 2x cores)"
        ),
    }


def summarize(samples: list[float] | np.ndarray) -> dict[str, Any]:
    """Median with p25-p75 and min-max of repeated measurements."""
    a = np.asarray(samples, dtype=np.float64)
    if a.size == 0:
        raise ValueError("summarize needs at least one sample.")
    return {
        "median": round(float(np.median(a)), 4),
        "p25": round(float(np.percentile(a, 25)), 4),
        "p75": round(float(np.percentile(a, 75)), 4),
        "min": round(float(a.min()), 4),
        "max": round(float(a.max()), 4),
        "n": int(a.size),
    }


def row(
    group: str,
    system: str,
    metric: str,
    samples: list[float] | None = None,
    unit: str = "",
    value: float | None = None,
    lower_is_better: bool = True,
    baseline: bool = False,
    ours: bool = False,
    key: bool = True,
    plot_only: bool = False,
    **extra: Any,
) -> dict[str, Any]:
    """One results row: repeated `samples` (median + spread) or a single `value`.

    `key=False` keeps an "ours" row out of the Key ratios; `plot_only` rows are
    drawn in plots but not tabulated (e.g. loss-curve points)."""
    out: dict[str, Any] = {"group": group, "system": system, "metric": metric, "unit": unit}
    if samples is not None:
        out.update(summarize(samples))
    elif value is not None:
        out.update({"median": round(float(value), 4), "n": 1})
    else:
        raise ValueError("row needs samples or a value.")
    out.update(lower_is_better=lower_is_better, baseline=baseline, ours=ours)
    if not key:
        out["key"] = False
    if plot_only:
        out["plot_only"] = True
    if extra:
        out["extra"] = extra
    return out


def set_tf_threads(threads: int) -> None:
    """Same thread count for every library: call before TensorFlow runs anything."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)


def thread_env(threads: int) -> dict[str, str]:
    """Environment that pins BLAS/OpenMP pools (PyTorch, ONNX Runtime, TF oneDNN)."""
    env = dict(os.environ)
    for key in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        env[key] = str(threads)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "OMP_WAIT_POLICY" not in env and os.getloadavg()[0] > 2 * (os.cpu_count() or 1):
        # On an oversubscribed machine spinning OpenMP workers (PyTorch, ONNX
        # Runtime) wait for descheduled peers and slow down many-fold; sleep instead.
        env["OMP_WAIT_POLICY"] = "PASSIVE"
    return env


def folder_bytes(folder: str) -> int:
    """Bytes of every file under `folder` (a bundle, a saved model)."""
    return sum(
        os.path.getsize(os.path.join(root, name))
        for root, _, names in os.walk(folder)
        for name in names
    )


def peak_rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), MiB."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024.0, 1)
    except OSError:
        pass
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def bench_python() -> str | None:
    """The peers' interpreter ($ALBERT_TF_BENCH_VENV or ../benchvenv), or None."""
    venv = os.environ.get("ALBERT_TF_BENCH_VENV", DEFAULT_BENCH_VENV)
    python = os.path.join(venv, "bin", "python")
    return python if os.access(python, os.X_OK) else None


def missing_venv_reason() -> str:
    venv = os.environ.get("ALBERT_TF_BENCH_VENV", DEFAULT_BENCH_VENV)
    return (
        f"peer venv {venv} is missing: run `make bench-venv` (PyTorch, transformers, ONNX Runtime)"
    )


def run_peer(script: str, args: list[str], threads: int, timeout: float = 3600) -> dict[str, Any]:
    """Run `benchmarks/peers/<script>` in the peer venv; it prints one JSON object last.

    Raises RuntimeError with the tail of its output when it fails.
    """
    python = bench_python()
    if python is None:
        raise RuntimeError(missing_venv_reason())
    cmd = [python, os.path.join(PEERS_DIR, script), *args, "--threads", str(threads)]
    print("  $", " ".join(shlex.quote(c) for c in cmd), flush=True)
    proc = subprocess.run(
        cmd, env=thread_env(threads), capture_output=True, text=True, timeout=timeout
    )
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-8:])
        raise RuntimeError(f"{script} failed (exit {proc.returncode}):\n{tail}")
    lines = [ln for ln in proc.stdout.strip().splitlines() if ln.startswith("{")]
    if not lines:
        raise RuntimeError(f"{script} printed no JSON; stderr tail: {proc.stderr[-800:]}")
    return json.loads(lines[-1])


def rotated(names: list, start: int) -> list:
    """`names` starting at position `start` (mod len): each system takes each slot in
    turn, whether the turns are calls (round robin) or processes (rounds)."""
    if not names:
        return []
    k = start % len(names)
    return names[k:] + names[:k]


def alternate_rounds(systems: list, rounds: int, labels: dict, run, skipped: list, tag: str):
    """Yield (system, run(system)) for `rounds` passes over `systems`, the order
    rotated per pass, so a slow spell on the machine lands on every system instead
    of on one. A system whose run raises is recorded in `skipped` (and left out of
    later passes); a run returning None yields nothing."""
    for round_index in range(rounds):
        for system in rotated(list(systems), round_index):
            label = labels[system]
            if any(s["system"] == label for s in skipped):
                continue
            print(f"[{tag}] round {round_index + 1}/{rounds}: {label} ...", flush=True)
            try:
                got = run(system)
            except Exception as err:
                skipped.append({"system": label, "reason": f"failed: {str(err)[-400:]}"})
                print(f"  failed: {err}", flush=True)
                continue
            if got is not None:
                yield system, got


def text_table(head: list[str], lines: list[list[str]], footnote: str = "") -> str:
    """Columns padded to their widest cell, ` | ` between them, a rule under the head."""
    widths = [max(len(x) for x in col) for col in zip(head, *lines)]
    out = [" | ".join(h.ljust(w) for h, w in zip(head, widths))]
    out.append("-+-".join("-" * w for w in widths))
    out += [" | ".join(x.ljust(w) for x, w in zip(line, widths)) for line in lines]
    return "\n".join(out + ([footnote] if footnote else []))


def command_line() -> str:
    """The command that made a results file, as a user would type it."""
    module = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    return " ".join(["python -m", f"benchmarks.{module}", *map(shlex.quote, sys.argv[1:])])


def busy_at_start(machine: dict[str, Any]) -> str | None:
    """Why the run started on a busy machine (1-minute load above the cores), or None."""
    cores = machine.get("usable_cores") or os.cpu_count() or 1
    load = (machine.get("load_average_at_start") or START_LOAD)[0]
    return f"1-minute load average {load} above {cores} cores" if load > cores else None


def run_cli(args: list[str], log_path: str) -> float:
    """Run `albert-tf ARGS` as a user would, its output appended to `log_path`;
    seconds taken. A failure raises RuntimeError naming the log."""
    start = time.time()
    with open(log_path, "a", encoding="utf-8") as log:
        rc = subprocess.call(
            [sys.executable, "-m", "albert_tf.cli", *args],
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    if rc != 0:
        raise RuntimeError(f"albert-tf {' '.join(args)} failed (exit {rc}); see {log_path}")
    return round(time.time() - start, 1)


def read_json(path: str) -> dict[str, Any]:
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_results(name: str, payload: dict[str, Any], results_dir: str = RESULTS_DIR) -> str | None:
    """Write `<results_dir>/<name>.json` atomically with machine facts and the command.

    Writes nothing (and returns None) when the machine was busy at the start of
    the run, unless $ALBERT_TF_BENCH_ALLOW_BUSY=1: then the machine is marked busy."""
    machine = payload.pop("machine", None) or machine_info()
    machine.setdefault("load_average_at_start", START_LOAD)
    busy = busy_at_start(machine)
    if busy and os.environ.get(ALLOW_BUSY_ENV) != "1":
        print(
            f"{name}.json not written: {busy} at the start of the run ({ALLOW_BUSY_ENV}=1 writes it anyway).",
            flush=True,
        )
        return None
    if busy:
        machine["busy"] = True
    os.makedirs(results_dir, exist_ok=True)
    payload = {
        "benchmark": name,
        "command": payload.pop("command", None) or command_line(),
        "finished": _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "wall_seconds": round(time.time() - START_TIME),
        "machine": machine,
        **payload,
    }
    path = os.path.join(results_dir, f"{name}.json")
    fd, tmp = tempfile.mkstemp(dir=results_dir, prefix=f".{name}.", suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(payload, f, indent=1, default=float)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600
    os.replace(tmp, path)
    print(f"wrote {path}", flush=True)
    return path
