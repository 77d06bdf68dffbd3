"""How fast is the deployed student? Its bundle against other runtimes, same weights.

One run folder (default: the default recipe's movie_reviews student that
`bench_accuracy` trains first in `make bench`, else `make demo`'s) is timed on real
movie_reviews test sentences, batch 1, the tokenizer inside every timed call:
- ours: the bundle `export_run` writes (dynamic-range int8), at exact length
  (`dynamic_length=True`) and at fixed length, through `export.runtime.Classifier`;
- the stock TFLite converter on the Keras model (dynamic-range optimization,
  fixed length = the run's max_length, padded) with the run's own tokenizer:
  what a user gets without our export;
- the run converted by `albert-tf convert --to huggingface`, in the peer venv
  (`make bench-venv`): ONNX Runtime float32 and dynamic int8, PyTorch dynamic
  int8 and float32, each with the HF fast tokenizer at exact length.
Each system runs in a long-lived process of its own (so peak RSS is its own);
the systems take turns text by text (round robin, the order rotated per text),
with the same texts and thread count. Per system: p50 / p95 latency, peak RSS,
model size, label agreement with the Keras student, accuracy on the timed texts,
and the p50 ratio to the fastest peer. `--profile` splits our dynamic-length
bundle's calls into tokenizer / input set-up / invoke / output and compares
XNNPACK on and off (the LiteRT Python API has no per-op profiler).

Writes benchmarks/results/student_latency.json.

Example:
    python -m benchmarks.bench_student_latency --run runs/demo/run --threads 1 2 --profile
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from collections import Counter

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.common import (  # noqa: E402
    PEERS_DIR,
    bench_python,
    missing_venv_reason,
    rotated,
    run_peer,
    text_table,
    thread_env,
    write_results,
)

# `make bench` trains the default recipe's movie_reviews student in its accuracy
# step; `make demo` trains the same recipe into runs/demo.
RUNS_MADE_BY = {
    os.path.join(ROOT, "runs", "accuracy", "movie_reviews", "run"): "bench_accuracy",
    os.path.join(ROOT, "runs", "demo", "run"): "make demo",
}
DEFAULT_RUN = next((r for r in RUNS_MADE_BY if os.path.isdir(r)), next(iter(RUNS_MADE_BY)))
WORK_ROOT = os.path.join(ROOT, "runs", "student_latency")
SERVER = os.path.join(PEERS_DIR, "student_server.py")
PHASES = ("tokenizer", "setup", "invoke", "output")
PROFILER_NOTE = (
    "ai-edge-litert's Python Interpreter exposes no per-op profiler (its "
    "experimental_force_delegate_node_profiling needs a C++ profiler attached, and "
    "tools/benchmark_litert_model.py times whole models), so the invoke time is "
    "broken down by XNNPACK on vs off and by which ops XNNPACK takes."
)


# ------------------------------------------------------------------ systems
def systems(max_length: int) -> list[dict]:
    """The timed systems, in table order. `venv` "ours" = this venv, "peer" = bench venv."""
    fixed = f"fixed {max_length}"
    # TFLite dynamic range, ORT and PyTorch quantize_dynamic: int8 weights,
    # activations quantized at run time; one label so like rows compare.
    dr = "int8 dynamic"
    return [
        dict(key="ours_dynamic", server="ours", system="albert-tf bundle", precision=dr,
             sequence_length="exact", venv="ours", ours=True,
             tokenizer="the bundle's (no TF)"),
        dict(key="ours_fixed", server="ours", system="albert-tf bundle", precision=dr,
             sequence_length=fixed, venv="ours", ours=True,
             tokenizer="the bundle's (no TF)"),
        dict(key="tflite_plain", server="tflite_plain", system="TFLite converter (plain)",
             precision=dr, sequence_length=fixed, venv="ours", ours=False,
             tokenizer="the run's (TF)"),
        dict(key="onnx_fp32", server="onnx_fp32", system="ONNX Runtime", precision="float32",
             sequence_length="exact", venv="peer", ours=False, tokenizer="HF fast"),
        dict(key="onnx_int8", server="onnx_int8", system="ONNX Runtime",
             precision="int8 dynamic", sequence_length="exact", venv="peer", ours=False,
             tokenizer="HF fast"),
        dict(key="torch_int8", server="torch_int8", system="PyTorch", precision="int8 dynamic",
             sequence_length="exact", venv="peer", ours=False, tokenizer="HF fast"),
        dict(key="torch_fp32", server="torch_fp32", system="PyTorch", precision="float32",
             sequence_length="exact", venv="peer", ours=False, tokenizer="HF fast"),
    ]  # fmt: skip


# ---------------------------------------------------------- pure functions
def latency_stats(ms) -> dict:
    """p50 / p95 (ms) of per-call times."""
    a = np.asarray(ms, dtype=np.float64)
    if a.size == 0:
        raise ValueError("latency_stats needs at least one time.")
    return {
        "p50_ms": round(float(np.percentile(a, 50)), 3),
        "p95_ms": round(float(np.percentile(a, 95)), 3),
        "n": int(a.size),
    }


def agreement(labels, reference) -> float:
    """Fraction of positions where `labels` equals `reference`."""
    a, b = np.asarray(labels), np.asarray(reference)
    if a.shape != b.shape or a.size == 0:
        raise ValueError(f"need two equal, non-empty label lists ({a.shape} vs {b.shape}).")
    return round(float(np.mean(a == b)), 4)


def add_ratios(rows: list[dict]) -> list[dict]:
    """Set `ratio_to_fastest_peer` (p50 / the fastest non-ours p50 at the same thread
    count) and `fastest_peer` on every row; None when a thread count has no peer."""
    for threads in {r["threads"] for r in rows}:
        group = [r for r in rows if r["threads"] == threads]
        peers = [r for r in group if not r.get("ours") and r.get("p50_ms")]
        best = min(peers, key=lambda r: r["p50_ms"]) if peers else None
        for r in group:
            r["fastest_peer"] = label_of(best) if best else None
            r["ratio_to_fastest_peer"] = (
                round(r["p50_ms"] / best["p50_ms"], 3) if best and r.get("p50_ms") else None
            )
    return rows


def label_of(row: dict) -> str:
    return f"{row['system']} {row['precision']} ({row['sequence_length']})"


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the rows (one line per system and thread count)."""
    head = [
        "system", "precision", "length", "thr", "p50 ms", "p95 ms", "x fastest peer",
        "RSS MB", "model MB", "agree", "acc",
    ]  # fmt: skip

    def fmt(v, spec=""):
        return "-" if v is None else format(v, spec)

    lines = [
        [
            r["system"] + (" *" if r.get("ours") else ""),
            r["precision"],
            r["sequence_length"],
            str(r["threads"]),
            fmt(r.get("p50_ms"), ".2f"),
            fmt(r.get("p95_ms"), ".2f"),
            fmt(r.get("ratio_to_fastest_peer"), ".2f"),
            fmt(r.get("peak_rss_mb"), ".0f"),
            fmt(r.get("model_mb"), ".2f"),
            fmt(r.get("agreement"), ".3f"),
            fmt(r.get("accuracy"), ".3f"),
        ]
        for r in sorted(rows, key=lambda r: r["threads"])
    ]
    return text_table(head, lines, "* ours; x fastest peer = p50 / the fastest non-ours p50")


def summarize_profile(phases: dict[str, list[float]], lengths: list[int], resized: list[bool]):
    """Where our calls' time goes: per-phase mean / p50 (ms), share of the mean
    total, set-up with and without an interpreter resize, and a line
    invoke_ms = fixed + per_token * length fitted over the texts."""
    total = np.sum([np.asarray(phases[p], np.float64) for p in PHASES], axis=0)
    mean_total = float(total.mean())
    out = {
        "calls": int(total.size),
        "total_p50_ms": round(float(np.median(total)), 3),
        "total_mean_ms": round(mean_total, 3),
        "phases_ms": {},
    }
    for p in PHASES:
        a = np.asarray(phases[p], np.float64)
        out["phases_ms"][p] = {
            "mean": round(float(a.mean()), 4),
            "p50": round(float(np.median(a)), 4),
            "share": round(float(a.mean()) / mean_total, 3) if mean_total else None,
        }
    setup = np.asarray(phases["setup"], np.float64)
    flags = np.asarray(resized, bool)
    out["resized_calls"] = int(flags.sum())
    out["setup_mean_ms_resized"] = round(float(setup[flags].mean()), 4) if flags.any() else None
    out["setup_mean_ms_cached"] = round(float(setup[~flags].mean()), 4) if (~flags).any() else None
    lengths_a = np.asarray(lengths, np.float64)
    out["mean_length"] = round(float(lengths_a.mean()), 1)
    if np.unique(lengths_a).size >= 2:
        slope, intercept = np.polyfit(lengths_a, np.asarray(phases["invoke"], np.float64), 1)
        out["invoke_vs_length"] = {
            "fixed_ms": round(float(intercept), 4),
            "per_token_ms": round(float(slope), 5),
        }
    return out


# ------------------------------------------------ profile (TF-free process)
def _interpreter(model_path: str, threads, **kwargs):
    from ai_edge_litert.interpreter import Interpreter

    from export.runtime import LITERT_NOTICES
    from export.runtime.quiet_stderr import filtered_stderr

    with filtered_stderr(LITERT_NOTICES):
        return Interpreter(model_path=model_path, num_threads=threads, **kwargs)


def _resize(interpreter, length: int) -> None:
    for d in interpreter.get_input_details():
        interpreter.resize_tensor_input(d["index"], (1, length), strict=True)
    interpreter.allocate_tensors()


def delegated_ops(model_path: str, length: int) -> dict:
    """How many of the model's ops XNNPACK takes at `length` (node fusion off, so
    each delegated op gets a DELEGATE node of its own), and the types it leaves."""
    interpreter = _interpreter(model_path, 1, experimental_disable_delegate_node_fusion=True)
    _resize(interpreter, length)
    ops = interpreter._get_ops_details()
    delegated_outputs = {int(t) for o in ops if o["op_name"] == "DELEGATE" for t in o["outputs"]}
    model_ops = [o for o in ops if o["op_name"] != "DELEGATE"]
    left = [
        o["op_name"] for o in model_ops if not {int(t) for t in o["outputs"]} <= delegated_outputs
    ]
    return {
        "length": int(length),
        "model_ops": len(model_ops),
        "delegated_to_xnnpack": len(model_ops) - len(left),
        "op_types": dict(Counter(o["op_name"] for o in model_ops).most_common()),
        "not_delegated": dict(Counter(left).most_common()),
    }


def xnnpack_on_off(clf, lengths: list[int], repeats: int) -> dict:
    """Invoke-only time at each text's length with the default delegates (XNNPACK)
    and without them, the two interpreters taking turns."""
    from ai_edge_litert.interpreter import OpResolverType

    kinds = {
        "on": _interpreter(clf.model_path, clf.num_threads),
        "off": _interpreter(
            clf.model_path,
            clf.num_threads,
            experimental_op_resolver_type=OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
        ),
    }
    current = dict.fromkeys(kinds)
    times = {k: [] for k in kinds}
    for rep in range(repeats):
        for i, length in enumerate(lengths):
            for kind in rotated(list(kinds), i + rep):
                interpreter = kinds[kind]
                if current[kind] != length:
                    _resize(interpreter, length)
                    current[kind] = length
                for d in interpreter.get_input_details():
                    interpreter.set_tensor(d["index"], np.ones((1, length), np.int32))
                t0 = time.perf_counter()
                interpreter.invoke()
                times[kind].append((time.perf_counter() - t0) * 1e3)
    on, off = (float(np.median(times[k])) for k in ("on", "off"))
    return {
        "invoke_p50_ms_xnnpack_on": round(on, 3),
        "invoke_p50_ms_xnnpack_off": round(off, 3),
        "xnnpack_speedup": round(off / on, 2) if on else None,
    }


def profile_calls(clf, texts: list[str], repeats: int) -> dict:
    """Each text's `Classifier.predict_proba([text])` done step by step (the same
    steps as `Classifier._predict` for one text), each step timed."""
    phases = {p: [] for p in PHASES}
    lengths, resized, labels = [], [], []
    for rep in range(repeats):
        for text in texts:
            t0 = time.perf_counter()
            pieces = clf.encoder.pieces(text)
            length = clf.input_length(len(pieces) + 2)
            ids, mask, segs = clf.encoder.pack(pieces, clf.max_length, pad_to=length)
            t1 = time.perf_counter()
            threads = clf.threads_for(length)
            was_cached = (length, clf._threads_of(threads)) in clf._by_length
            interpreter = clf._interpreter_for(length, threads)
            interpreter.set_tensor(clf._inputs["ids"], ids)
            interpreter.set_tensor(clf._inputs["mask"], mask)
            interpreter.set_tensor(clf._inputs["segment_ids"], segs)
            t2 = time.perf_counter()
            interpreter.invoke()
            t3 = time.perf_counter()
            label = int(np.array(interpreter.get_tensor(clf._output))[0].argmax())
            t4 = time.perf_counter()
            for name, (a, b) in zip(PHASES, ((t0, t1), (t1, t2), (t2, t3), (t3, t4))):
                phases[name].append((b - a) * 1e3)
            lengths.append(length)
            resized.append(not was_cached)
            if rep == 0:
                labels.append(label)
    return {"phases": phases, "lengths": lengths, "resized": resized, "labels": labels}


def profile_bundle(clf, texts: list[str], repeats: int) -> dict:
    """Where a dynamic-length bundle's time goes (runs where `clf` lives: no TF)."""
    import importlib.metadata

    raw = profile_calls(clf, texts, repeats)
    out = summarize_profile(raw["phases"], raw["lengths"], raw["resized"])
    expected = [int(p.argmax()) for p in clf.predict_proba(list(texts))]
    out["labels_match_predict"] = raw["labels"] == expected
    out["threads"] = clf.num_threads
    out["max_interpreters"] = clf.max_interpreters
    text_lengths = raw["lengths"][: len(texts)]
    out["xnnpack"] = xnnpack_on_off(clf, text_lengths, repeats)
    out["ops"] = delegated_ops(clf.model_path, int(np.median(text_lengths)))
    out["op_profiler"] = PROFILER_NOTE
    out["ai_edge_litert"] = importlib.metadata.version("ai-edge-litert")
    return out


def format_profile(profile: dict) -> str:
    lines = [
        f"profile, albert-tf bundle exact length, {profile['threads']} thread(s), "
        f"{profile['calls']} calls, mean {profile['mean_length']} tokens: "
        f"total p50 {profile['total_p50_ms']:.3f} ms, mean {profile['total_mean_ms']:.3f} ms"
    ]
    for name, p in profile["phases_ms"].items():
        lines.append(
            f"  {name:<9} mean {p['mean']:.4f} ms  p50 {p['p50']:.4f} ms  {p['share']:.1%}"
        )
    lines.append(
        f"  set-up: {profile['resized_calls']} of {profile['calls']} calls resized an "
        f"interpreter (mean {profile['setup_mean_ms_resized']} ms) vs "
        f"{profile['setup_mean_ms_cached']} ms cached"
    )
    fit = profile.get("invoke_vs_length")
    if fit:
        lines.append(
            f"  invoke ~ {fit['fixed_ms']:.3f} ms + {fit['per_token_ms'] * 1e3:.1f} us/token"
        )
    x, ops = profile["xnnpack"], profile["ops"]
    lines.append(
        f"  invoke p50 XNNPACK on {x['invoke_p50_ms_xnnpack_on']:.3f} ms, off "
        f"{x['invoke_p50_ms_xnnpack_off']:.3f} ms (x{x['xnnpack_speedup']})"
    )
    lines.append(
        f"  XNNPACK takes {ops['delegated_to_xnnpack']} of {ops['model_ops']} ops; "
        f"left to builtin kernels: {ops['not_delegated']}"
    )
    return "\n".join(lines)


# ------------------------------------------------------------- artifacts
def _stamp(run_dir: str) -> dict:
    st = os.stat(os.path.join(run_dir, "model.keras"))
    return {"run": os.path.abspath(run_dir), "model_keras": [st.st_size, st.st_mtime_ns]}


def work_dir(run_dir: str, fresh: bool) -> str:
    """runs/student_latency/<run name>/, emptied when the run's model changed."""
    work = os.path.join(WORK_ROOT, os.path.basename(os.path.abspath(run_dir)))
    stamp_path = os.path.join(work, "stamp.json")
    stamp = _stamp(run_dir)
    old = None
    if os.path.exists(stamp_path):
        with open(stamp_path, encoding="utf-8") as f:
            old = json.load(f)
    if fresh or old != stamp:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    with open(stamp_path, "w", encoding="utf-8") as f:
        json.dump(stamp, f)
    return work


def reusable_bundle(candidate: str, run_dir: str, dynamic: bool, max_length: int) -> bool:
    """Whether `candidate` is a dynamic-range bundle of this run, newer than its model."""
    path = os.path.join(candidate, "manifest.json")
    if not os.path.exists(path):
        return False
    with open(path, encoding="utf-8") as f:
        m = json.load(f)
    return (
        m.get("run", {}).get("name") == os.path.basename(os.path.abspath(run_dir))
        and m.get("quantization") == "dynamic"
        and bool(m.get("dynamic_length")) == dynamic
        and int(m.get("max_length", -1)) == max_length
        and os.path.getmtime(path) > os.path.getmtime(os.path.join(run_dir, "model.keras"))
    )


def our_bundle(run_dir: str, work: str, dynamic: bool, max_length: int, log) -> str:
    name = "dynamic_length" if dynamic else "fixed_length"
    out = os.path.join(work, f"bundle_{name}")
    if reusable_bundle(out, run_dir, dynamic, max_length):
        log(f"[bench] reusing {os.path.relpath(out, ROOT)}")
        return out
    from export import BundleSettings, export_run

    log(f"[bench] exporting {name} bundle to {os.path.relpath(out, ROOT)}")
    return export_run(
        run_dir, out, log=lambda m: None, settings=BundleSettings(dynamic_length=dynamic)
    )


def plain_tflite(model, max_length: int, work: str, log) -> tuple[str, str]:
    """The stock converter's dynamic-range model at [1, max_length]; (path, how).

    `TFLiteConverter.from_keras_model` is tried first; TF 2.21's fails on Keras 3
    models (TypeError inside its Keras-2 tracing). `from_concrete_functions` on a
    tf.function would convert but keep the weights as uninitialized resource
    variables, so the fallback is what Keras 3 documents: `model.export(...,
    format="tf_saved_model")`, then `TFLiteConverter.from_saved_model`."""
    path = os.path.join(work, "plain_dynamic_range.tflite")
    how_path = path + ".how.txt"
    if os.path.exists(path) and os.path.exists(how_path):
        with open(how_path, encoding="utf-8") as f:
            return path, f.read()
    import tensorflow as tf

    log("[bench] converting the Keras model with the stock TFLite converter")
    try:
        converter = tf.lite.TFLiteConverter.from_keras_model(model)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        flat = converter.convert()
        how = "TFLiteConverter.from_keras_model + Optimize.DEFAULT"
    except Exception as e:  # noqa: BLE001 - any failure: use the documented route
        first = (str(e).strip().splitlines() or [type(e).__name__])[-1][:200]
        saved = os.path.join(work, "plain_saved_model")
        shutil.rmtree(saved, ignore_errors=True)
        spec = {
            n: tf.TensorSpec([1, max_length], tf.int32, name=n)
            for n in ("token_ids", "segment_ids", "padding_mask")
        }
        model.export(saved, format="tf_saved_model", input_signature=[spec], verbose=False)
        converter = tf.lite.TFLiteConverter.from_saved_model(saved)
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
        flat = converter.convert()
        shutil.rmtree(saved, ignore_errors=True)
        how = (
            f"from_keras_model failed ({type(e).__name__}: {first}); used "
            "model.export(format='tf_saved_model') + TFLiteConverter.from_saved_model "
            "+ Optimize.DEFAULT"
        )
    with open(path, "wb") as f:
        f.write(flat)
    with open(how_path, "w", encoding="utf-8") as f:
        f.write(how)
    return path, how


def hf_folder(run_dir: str, work: str, log) -> str:
    out = os.path.join(work, "hf")
    if os.path.exists(os.path.join(out, "model.safetensors")):
        return out
    shutil.rmtree(out, ignore_errors=True)
    log("[bench] albert-tf convert RUN --to huggingface")
    cmd = [sys.executable, "-m", "albert_tf.cli", "convert", run_dir, out, "--to", "huggingface"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"convert failed: {(proc.stderr or proc.stdout)[-800:]}")
    return out


# ----------------------------------------------------------------- servers
class Server:
    """One system's timing process (benchmarks/peers/student_server.py)."""

    def __init__(self, python: str, args: list[str], threads: int, log_path: str):
        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [python, SERVER, *args, "--threads", str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            env=thread_env(threads),
            cwd=ROOT,
        )
        self.ready = self.recv()

    def recv(self) -> dict:
        while True:
            line = self.proc.stdout.readline()
            if not line:
                self._log.flush()
                with open(self.log_path, encoding="utf-8", errors="replace") as f:
                    tail = "\n".join(f.read().strip().splitlines()[-8:])
                raise RuntimeError(f"server exited (rc {self.proc.poll()}):\n{tail}")
            if line.startswith("{"):
                out = json.loads(line)
                if "error" in out:
                    raise RuntimeError(out["error"])
                return out

    def ask(self, command: str) -> dict:
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return self.recv()

    def close(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.write("quit\n")
                self.proc.stdin.flush()
                self.proc.wait(timeout=30)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        self._log.close()


def server_args(spec: dict, paths: dict, texts_file: str, run_dir: str, max_length: int):
    args = ["--system", spec["server"], "--texts", texts_file]
    if spec["key"] in ("ours_dynamic", "ours_fixed"):
        return args + ["--model", paths[spec["key"]]]
    if spec["key"] == "tflite_plain":
        return args + ["--model", paths["tflite_plain"], "--run", run_dir]
    return args + [
        "--model", paths["hf"], "--work", paths["onnx"], "--max-length", str(max_length),
    ]  # fmt: skip


def time_round_robin(servers: dict[str, Server], n_texts: int, repeats: int, gap_s: float):
    """Per-call ms and first-pass labels of each server, the servers taking turns."""
    names = list(servers)
    samples = {n: [] for n in names}
    labels = {n: [None] * n_texts for n in names}
    for rep in range(repeats):
        for i in range(n_texts):
            for name in rotated(names, i + rep):
                out = servers[name].ask(f"call {i}")
                samples[name].append(out["ms"])
                if rep == 0:
                    labels[name][i] = out["label"]
                if gap_s:
                    time.sleep(gap_s)  # let spinning worker threads go idle
    return samples, labels


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument(
        "--run", default=DEFAULT_RUN,
        help="student run folder (default: bench_accuracy's movie_reviews run, else make demo's)",
    )  # fmt: skip
    p.add_argument("--texts", type=int, default=200, help="movie_reviews test texts to time")
    p.add_argument("--repeats", type=int, default=5, help="timed passes over the texts")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--gap-ms", type=float, default=10.0, help="idle time between calls")
    p.add_argument("--skip", default="", help="comma list of system keys to leave out")
    p.add_argument("--profile", action="store_true", help="split our dynamic bundle's time")
    p.add_argument("--quick", action="store_true", help="20 texts, 1 repeat (smoke run)")
    p.add_argument("--fresh", action="store_true", help="rebuild the cached conversions")
    args = p.parse_args(argv)
    if args.quick:
        args.texts, args.repeats = 20, 1
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

    def log(message: str) -> None:
        print(message, flush=True)

    from albert_tf.data.packaged import load
    from albert_tf.io.quiet_tensorflow import import_tensorflow

    import_tensorflow()
    from albert_tf.training.run_folder import load_run
    from export.verify import keras_probabilities

    run_dir = os.path.abspath(args.run)
    if not os.path.isdir(run_dir):
        makers = " or ".join(f"{m} ({os.path.relpath(r, ROOT)})" for r, m in RUNS_MADE_BY.items())
        print(f"bench_student_latency: no run folder {run_dir}; {makers} makes one", flush=True)
        return 2
    run = load_run(run_dir)
    max_length = int(run.max_length)
    data = load("movie_reviews").test
    texts = list(data.texts[: args.texts])
    gold = [run.labels.index(label) for label in data.labels[: args.texts]]
    keras_labels = keras_probabilities(
        run.model, run.tokenizer, texts, max_length, run.problem_type
    ).argmax(-1)
    exact_lengths = [
        min(len(run.tokenizer.encode(t)) + 2, max_length) for t in texts
    ]  # [CLS] pieces [SEP]

    work = work_dir(run_dir, args.fresh)
    texts_file = os.path.join(work, "texts.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(texts, f)

    skip = set(filter(None, args.skip.split(",")))
    specs = [s for s in systems(max_length) if s["key"] not in skip]
    skipped = {k: "--skip" for k in skip}
    peer_python = bench_python()
    if peer_python is None:
        for s in specs:
            if s["venv"] == "peer":
                skipped[s["key"]] = missing_venv_reason()
        specs = [s for s in specs if s["venv"] != "peer"]

    paths: dict[str, str] = {}
    notes: dict[str, str] = {}
    keys = {s["key"] for s in specs}
    if "ours_dynamic" in keys or args.profile:
        paths["ours_dynamic"] = our_bundle(run_dir, work, True, max_length, log)
    if "ours_fixed" in keys:
        paths["ours_fixed"] = our_bundle(run_dir, work, False, max_length, log)
    if "tflite_plain" in keys:
        paths["tflite_plain"], notes["tflite_plain"] = plain_tflite(
            run.model, max_length, work, log
        )
    if any(s["venv"] == "peer" for s in specs):
        paths["hf"] = hf_folder(run_dir, work, log)
        paths["onnx"] = os.path.join(work, "onnx")
        if keys & {"onnx_fp32", "onnx_int8"}:
            log("[bench] torch.onnx.export + onnxruntime quantize_dynamic (once)")
            made = run_peer(
                "student_server.py",
                ["--system", "prepare_onnx", "--model", paths["hf"], "--work", paths["onnx"]],
                threads=1,
            )
            notes["onnx_int8"] = made["int8_recipe"]
    del run  # the timing servers load their own copies

    rows, profiles, server_facts = [], {}, {}
    for threads in args.threads:
        servers: dict[str, Server] = {}
        try:
            for s in specs:
                python = sys.executable if s["venv"] == "ours" else peer_python
                log(f"[bench] {threads} thread(s): starting {s['key']}")
                servers[s["key"]] = Server(
                    python,
                    server_args(s, paths, texts_file, run_dir, max_length),
                    threads,
                    os.path.join(work, f"server_{s['key']}_t{threads}.log"),
                )
            if args.profile and "ours_dynamic" not in servers:
                servers["ours_dynamic"] = Server(
                    sys.executable,
                    server_args(systems(max_length)[0], paths, texts_file, run_dir, max_length),
                    threads,
                    os.path.join(work, f"server_ours_dynamic_t{threads}.log"),
                )
            timed = {k: v for k, v in servers.items() if k in keys}
            log(f"[bench] {threads} thread(s): timing {len(timed)} systems round robin")
            samples, labels = time_round_robin(timed, len(texts), args.repeats, args.gap_ms / 1e3)
            for s in specs:
                stats = servers[s["key"]].ask("stats")
                server_facts[f"{s['key']}_t{threads}"] = {
                    k: stats[k]
                    for k in ("versions", "torch_loaded", "tensorflow_loaded", "unk_fraction")
                    if k in stats
                }
                if stats.get("unk_fraction", 0) > 0.05:
                    log(f"[bench] WARNING {s['key']}: {stats['unk_fraction']:.0%} [UNK] pieces")
                rows.append(
                    {
                        "system": s["system"],
                        "precision": s["precision"],
                        "sequence_length": s["sequence_length"],
                        "threads": threads,
                        **latency_stats(samples[s["key"]]),
                        "peak_rss_mb": stats["peak_rss_mb"],
                        "model_mb": stats["model_mb"],
                        "agreement": agreement(labels[s["key"]], keras_labels),
                        "accuracy": agreement(labels[s["key"]], gold),
                        "ours": s["ours"],
                        "key": s["key"],
                        "tokenizer": s["tokenizer"],
                    }
                )
            if args.profile:
                log(f"[bench] {threads} thread(s): profiling our dynamic-length bundle")
                profiles[str(threads)] = servers["ours_dynamic"].ask(f"profile {args.repeats}")
        finally:
            for server in servers.values():
                server.close()

    add_ratios(rows)
    payload = {
        "title": "The deployed student against other runtimes, same weights",
        "settings": {
            "run": os.path.relpath(run_dir, ROOT),
            "texts": len(texts),
            "repeats": args.repeats,
            "threads": args.threads,
            "batch": 1,
            "gap_ms": args.gap_ms,
            "max_length": max_length,
            "mean_exact_length": round(float(np.mean(exact_lengths)), 1),
            "keras_accuracy": agreement(keras_labels, gold),
            "quick": args.quick,
            "load_average": [round(x, 2) for x in os.getloadavg()],
            "artifacts": {k: os.path.relpath(v, ROOT) for k, v in paths.items()},
            "plain_tflite": notes.get("tflite_plain"),
            "onnx_int8": notes.get("onnx_int8"),
            "skipped": skipped,
            "servers": server_facts,
            "notes": [
                "Each call: tokenizer + model + argmax for one text, timed inside the "
                "system's own process; systems take turns text by text.",
                "agreement: labels equal to the Keras student's (padded to max_length); "
                "accuracy: against the gold labels of the timed texts.",
                "model_mb: the model file (bundle model.tflite, .tflite, .onnx, "
                "model.safetensors or the quantized state_dict).",
            ],
        },
        "rows": rows,
    }
    if args.profile:
        payload["profile"] = profiles
    print(format_table(rows))
    for profile in profiles.values():
        print(format_profile(profile))
    write_results("student_latency", payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
