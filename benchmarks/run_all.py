"""Run every comparison, one subprocess at a time with the same threads, then
rewrite BENCHMARKS.md (`make bench`).

Example:
    python -m benchmarks.run_all                      # everything
    python -m benchmarks.run_all --quick              # smoke run, minutes
    python -m benchmarks.run_all --only accuracy inference --threads 2
    python -m benchmarks.run_all --report-only        # just rewrite BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, thread_env

# name -> module; the last three are written by the pre-training, distillation
# and export work and are run when present.
BENCHMARKS = {
    "accuracy": "benchmarks.bench_accuracy",
    "inference": "benchmarks.bench_inference",
    "training": "benchmarks.bench_training",
    "scaling": "benchmarks.bench_scaling",
    "pretrain_throughput": "benchmarks.bench_pretrain_throughput",
    "distill": "benchmarks.bench_distill",
    "export_latency": "benchmarks.bench_export_latency",
}
# Scripts of our own take --threads and --quick; the others get what they accept.
OWN = {"accuracy", "inference", "training", "scaling"}


def discover() -> dict[str, str]:
    """BENCHMARKS plus any other benchmarks/bench_*.py added later (run last)."""
    found = dict(BENCHMARKS)
    here = os.path.join(ROOT, "benchmarks")
    for fname in sorted(os.listdir(here)):
        if fname.startswith("bench_") and fname.endswith(".py"):
            name = fname[len("bench_") : -len(".py")]
            found.setdefault(name, f"benchmarks.{fname[:-3]}")
    return found


def _script(module: str) -> str:
    return os.path.join(ROOT, *module.split(".")) + ".py"


def _accepts(module: str, flag: str) -> bool:
    try:
        with open(_script(module), encoding="utf-8") as f:
            return flag in f.read()
    except OSError:
        return False


def run_one(name: str, threads: int, quick: bool, extra: list[str]) -> tuple[str, float, int]:
    module = discover()[name]
    if not os.path.exists(_script(module)):
        print(f"[{name}] skipped: {_script(module)} does not exist yet", flush=True)
        return name, 0.0, -1
    cmd = [sys.executable, "-m", module]
    if name in OWN or _accepts(module, "--threads"):
        cmd += ["--threads", str(threads)]
    if quick and (name in OWN or _accepts(module, "--quick")):
        cmd.append("--quick")
    cmd += extra
    print(f"\n[{name}] $ {' '.join(cmd)}", flush=True)
    start = time.time()
    rc = subprocess.call(cmd, cwd=ROOT, env=thread_env(threads))
    seconds = time.time() - start
    print(f"[{name}] exit {rc} after {seconds:.0f} s", flush=True)
    return name, seconds, rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all")
    names = discover()
    parser.add_argument("--only", nargs="+", choices=sorted(names), help="run a subset")
    parser.add_argument("--skip", nargs="+", choices=sorted(names), default=[])
    parser.add_argument("--threads", type=int, default=2, help="threads for every library")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    parser.add_argument("--report-only", action="store_true", help="only rewrite BENCHMARKS.md")
    args, extra = parser.parse_known_args(argv)
    status = []
    if not args.report_only:
        for name in args.only or list(names):
            if name not in args.skip:
                status.append(run_one(name, args.threads, args.quick, extra))
    from benchmarks.report import main as report_main

    report_main([])
    failed = [n for n, _, rc in status if rc > 0]
    for name, seconds, rc in status:
        state = "missing" if rc < 0 else ("ok" if rc == 0 else f"FAILED (exit {rc})")
        print(f"  {name:<22} {state:<18} {seconds:6.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
