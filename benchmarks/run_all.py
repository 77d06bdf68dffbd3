"""Run every comparison, one subprocess at a time with the same threads, then
rewrite BENCHMARKS.md (`make bench`), or one part of them (`make bench PART=frontier`):
each part is meant to finish within an hour on a 2-core machine with nothing else
running, and each section of the report names its date and CPU.

Example:
    python -m benchmarks.run_all                      # everything
    python -m benchmarks.run_all --part frontier      # one part (PARTS)
    python -m benchmarks.run_all --quick              # smoke run, minutes
    python -m benchmarks.run_all --only student_latency training --threads 2
    python -m benchmarks.run_all --report-only        # just rewrite BENCHMARKS.md
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time

from benchmarks.common import ROOT, thread_env

# name -> module: the benchmarks BENCHMARKS.md reports, in its order (report.py
# reads their results files). bench_recipe_defaults is not here: its table records
# the validation sweeps that chose the defaults, each run by hand with its own
# --set, and the report keeps showing them; so is student_op_profile. bench_long_texts
# (the head + tail cut's measurement, docs/CONTRACTS.md section 1) is not in the report.
# student_latency times the movie_reviews student that accuracy trains.
BENCHMARKS = {
    "accuracy": "benchmarks.bench_accuracy",
    "unseen": "benchmarks.bench_unseen",
    "unseen_languages": "benchmarks.bench_unseen",
    "frontier": "benchmarks.bench_frontier",
    "frontier_thucnews": "benchmarks.bench_frontier",
    "frontier_trec": "benchmarks.bench_frontier",
    "frontier_sms_spam": "benchmarks.bench_frontier",
    "frontier_bol_reviews_nl": "benchmarks.bench_frontier",
    "frontier_amazon_reviews_fr": "benchmarks.bench_frontier",
    "student_latency": "benchmarks.bench_student_latency",
    "export_latency": "benchmarks.bench_export_latency",
    "training": "benchmarks.bench_training",
    "scaling": "benchmarks.bench_scaling",
}
# `make bench PART=name`: groups that each fit in an hour here. frontier: the demo on
# movie_reviews, three more students, the peers (frontier_zh: the same on the Chinese
# THUCNews headlines, frontier_trec on TREC questions, frontier_sms on SMS spam,
# frontier_nl and frontier_fr on Dutch and French reviews); accuracy: the demo on four sets.
PARTS = {
    "frontier": ["frontier"],
    "frontier_zh": ["frontier_thucnews"],
    "frontier_trec": ["frontier_trec"],
    "frontier_sms": ["frontier_sms_spam"],
    "frontier_nl": ["frontier_bol_reviews_nl"],
    "frontier_fr": ["frontier_amazon_reviews_fr"],
    "accuracy": ["accuracy"],
    "unseen": ["unseen", "unseen_languages"],
    "speed": ["student_latency", "export_latency", "training", "scaling"],
}
# These take --threads N; the latency benchmarks time 1 and 2 threads side by
# side by default (their tables compare the two), so they get no --threads.
OWN = {
    "frontier",
    "frontier_thucnews",
    "frontier_trec",
    "frontier_sms_spam",
    "frontier_bol_reviews_nl",
    "frontier_amazon_reviews_fr",
    "accuracy",
    "unseen",
    "unseen_languages",
    "training",
    "scaling",
}
# Flags a benchmark always gets here: BENCHMARKS.md shows where the student's time
# goes, which only --profile measures.
ALWAYS = {
    "student_latency": ["--profile"],
    "frontier_thucnews": ["--dataset", "thucnews_titles"],
    "frontier_trec": ["--dataset", "trec"],
    "frontier_sms_spam": ["--dataset", "sms_spam"],
    "frontier_bol_reviews_nl": ["--dataset", "bol_reviews_nl"],
    "frontier_amazon_reviews_fr": ["--dataset", "amazon_reviews_fr"],
    "unseen_languages": [
        "--datasets", "thucnews_titles", "bol_reviews_nl", "amazon_reviews_fr",
        "--results-name", "unseen_languages",
    ],
}  # fmt: skip


def discover() -> dict[str, str]:
    """The benchmarks `make bench` runs (BENCHMARKS)."""
    return dict(BENCHMARKS)


def _script(module: str) -> str:
    return os.path.join(ROOT, *module.split(".")) + ".py"


def _accepts(module: str, flag: str) -> bool:
    try:
        with open(_script(module), encoding="utf-8") as f:
            return flag in f.read()
    except OSError:
        return False


def wait_for_quiet(cores: int, settle: float = 0.75, limit_s: float = 300.0) -> float:
    """Sleep until the 1-minute load is at most `settle` x cores (the previous
    benchmark kept every core busy, and a script that starts above the core count
    refuses to write its results); the load when done."""
    deadline = time.time() + limit_s
    load = os.getloadavg()[0]
    while load > settle * cores and time.time() < deadline:
        print(
            f"[run_all] 1-minute load {load:.2f}; waiting for <= {settle * cores:.2f}", flush=True
        )
        time.sleep(15)
        load = os.getloadavg()[0]
    return load


def run_one(name: str, threads: int, quick: bool, extra: list[str]) -> tuple[str, float, int]:
    module = discover()[name]
    if not os.path.exists(_script(module)):
        print(f"[{name}] skipped: {_script(module)} does not exist yet", flush=True)
        return name, 0.0, -1
    cmd = [sys.executable, "-m", module]
    if name in OWN:
        cmd += ["--threads", str(threads)]
    if quick and _accepts(module, "--quick"):
        cmd.append("--quick")
    cmd += ALWAYS.get(name, []) + extra
    load = wait_for_quiet(os.cpu_count() or 1)
    print(f"\n[{name}] $ {' '.join(cmd)}  (1-minute load {load:.2f})", flush=True)
    start = time.time()
    rc = subprocess.call(cmd, cwd=ROOT, env=thread_env(threads))
    seconds = time.time() - start
    print(f"[{name}] exit {rc} after {seconds:.0f} s", flush=True)
    return name, seconds, rc


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run_all")
    names = discover()
    parser.add_argument("--only", nargs="+", choices=sorted(names), help="run a subset")
    parser.add_argument("--part", choices=sorted(PARTS), help="one part (PARTS)")
    parser.add_argument("--skip", nargs="+", choices=sorted(names), default=[])
    parser.add_argument("--threads", type=int, default=2, help="threads for every library")
    parser.add_argument("--quick", action="store_true", help="small sizes and few repeats")
    parser.add_argument("--report-only", action="store_true", help="only rewrite BENCHMARKS.md")
    args, extra = parser.parse_known_args(argv)
    status = []
    if not args.report_only:
        wanted = args.only or (PARTS[args.part] if args.part else list(names))
        chosen = [n for n in wanted if n not in args.skip]
        for k, name in enumerate(chosen, 1):
            print(f"[run_all] {k}/{len(chosen)} {name}", flush=True)
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
