"""How cost grows: batch-1 latency vs sequence length (16..512, ALBERT-base) and
vs model size (tiny..large at length 128): albert-tf (Keras/TF) vs keras-hub
(TF) vs transformers (PyTorch float32, peer venv). Random weights (speed does
not depend on them); each system in its own process with the same threads.

Example:
    python -m benchmarks.bench_scaling --quick
    python -m benchmarks.bench_scaling --lengths 16 64 256 --presets tiny base
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

from benchmarks.common import (
    ROOT,
    alternate_rounds,
    bench_python,
    machine_info,
    missing_venv_reason,
    row,
    run_peer,
    thread_env,
    write_results,
)
from benchmarks.peers.inputs import emit, make_batches, timed

SYSTEMS = {
    "albert_tf": "albert-tf (Keras/TF)",
    "keras_hub": "keras-hub AlbertTextClassifier (TF)",
    "torch": "transformers (PyTorch float32)",
}
BASELINE = "keras_hub"
VOCAB = 30000


def plan(lengths: list[int], presets: list[str], seq_preset: str = "base") -> dict[str, list[int]]:
    """preset -> lengths to time: the length sweep on `seq_preset`, 128 for every size."""
    out: dict[str, list[int]] = {p: [128] for p in presets}
    out.setdefault(seq_preset, [])
    out[seq_preset] = sorted(set(out[seq_preset]) | set(lengths))
    return out


def _config(preset: str):
    from albert_tf.config import AlbertConfig

    return AlbertConfig.from_preset(preset, vocab_size=VOCAB, max_position_embeddings=512)


def worker(args) -> int:
    import keras
    import tensorflow as tf

    from benchmarks.common import set_tf_threads

    set_tf_threads(args.threads)
    with open(args.cases, encoding="utf-8") as f:
        spec = json.load(f)
    samples, params = {}, {}
    sig = {
        k: tf.TensorSpec([None, None], tf.int32)
        for k in ("token_ids", "segment_ids", "padding_mask")
    }
    for preset, item in spec["presets"].items():
        keras.utils.set_random_seed(0)
        config = _config(preset)
        if args.worker == "albert_tf":
            from albert_tf.models import AlbertBackbone, AlbertClassifier

            model = AlbertClassifier(AlbertBackbone(config), num_labels=2)
        else:
            import keras_hub

            from albert_tf.convert.keras_hub_weights import config_to_keras_hub

            model = keras_hub.models.AlbertTextClassifier(
                backbone=config_to_keras_hub(config), num_classes=2, preprocessor=None
            )
        params[preset] = int(model.count_params())

        @tf.function(input_signature=[sig], reduce_retracing=True)
        def forward(x, model=model):
            return model(x, training=False)

        def run(b, forward=forward):
            return forward({k: tf.constant(v) for k, v in b.items()}).numpy()

        for length in item["lengths"]:
            batches = make_batches({"batch": 1, "lengths": [length]}, VOCAB)
            samples[f"{preset}/{length}"] = timed(run, batches, spec["repeats"], warmup=1)
        del model, forward
        keras.backend.clear_session()
    emit({"samples": samples, "parameters": params})
    return 0


def run_system(system: str, cases: str, threads: int, machine: dict, skipped: list) -> dict | None:
    """One system's timings of every case, in a process of its own (None: skipped)."""
    if system == "torch":
        if bench_python() is None:
            skipped.append({"system": SYSTEMS[system], "reason": missing_venv_reason()})
            return None
        got = run_peer("hf_scaling.py", ["--cases", cases], threads)
        machine["peer_libraries"] = got.get("versions", {})
        return got
    cmd = [sys.executable, "-m", "benchmarks.bench_scaling", "--worker", system]
    cmd += ["--cases", cases, "--threads", str(threads)]
    proc = subprocess.run(cmd, cwd=ROOT, env=thread_env(threads), capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError("\n".join(proc.stderr.strip().splitlines()[-6:]))
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_scaling")
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    p.add_argument("--lengths", nargs="+", type=int, default=[16, 32, 64, 128, 256, 512])
    p.add_argument("--presets", nargs="+", default=["tiny", "small", "base", "large"])
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2, help="alternating passes over the systems")
    p.add_argument("--quick", action="store_true", help="3 repeats, lengths 16/128/512, no large")
    p.add_argument("--work", default=os.path.join(ROOT, "runs", "bench", "scaling"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    p.add_argument("--cases", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.quick:
        args.repeats, args.lengths, args.rounds = 3, [16, 128, 512], 1
        args.presets = [x for x in args.presets if x != "large"]
    start = time.time()
    os.makedirs(args.work, exist_ok=True)
    presets = plan(args.lengths, args.presets)
    spec = {"repeats": args.repeats, "presets": {}}
    params = {}
    for preset, lengths in presets.items():
        hf = {k: v for k, v in _config(preset).to_dict().items() if k != "embedding_projection"}
        spec["presets"][preset] = {"lengths": lengths, "hf_config": hf}
    cases = os.path.join(args.work, "cases.json")
    with open(cases, "w", encoding="utf-8") as f:
        json.dump(spec, f)

    rows, skipped, machine = [], [], machine_info()
    results, loads = {}, {}

    def run(system):
        return run_system(system, cases, args.threads, machine, skipped)

    for system, got in alternate_rounds(
        args.systems, args.rounds, SYSTEMS, run, skipped, "scaling"
    ):
        if system == "albert_tf":
            params = got["parameters"]
        for key, times in got["samples"].items():
            results.setdefault(system, {}).setdefault(key, []).extend(times)
        loads[system] = max(loads.get(system, 0.0), round(os.getloadavg()[0], 1))

    g_len = "batch 1 latency vs sequence length (ALBERT-base)"
    g_size = "batch 1 latency vs model size (length 128)"
    for system, samples in results.items():
        label = SYSTEMS[system]
        for length in args.lengths:
            key = f"base/{length}"
            if key in samples:
                rows.append(
                    row(
                        f"{g_len}, length {length}",
                        label,
                        "latency_ms",
                        samples[key],
                        unit="ms",
                        baseline=system == BASELINE,
                        ours=system == "albert_tf",
                        seq_length=length,
                        load_1min=loads[system],
                    )
                )
        for preset in args.presets:
            key = f"{preset}/128"
            if key in samples:
                rows.append(
                    row(
                        f"{g_size}, {preset}",
                        label,
                        "latency_ms",
                        samples[key],
                        unit="ms",
                        baseline=system == BASELINE,
                        ours=system == "albert_tf",
                        preset=preset,
                        parameters=params.get(preset),
                        load_1min=loads[system],
                    )
                )
    write_results(
        "scaling",
        {
            "title": "How cost grows with sequence length and model size",
            "machine": machine,
            "settings": {
                "threads": args.threads,
                "repeats": args.repeats,
                "rounds": args.rounds,
                "quick": args.quick,
            },
            "notes": [
                f"Batch 1, {args.repeats} timed runs per point after one warm-up in each of {args.rounds} rounds (the systems' processes alternate, order rotated per round); vocab {VOCAB}; random weights; 2-label classifier head.",
                "Parameters are albert-tf's classifier's (the same shape in every library).",
                f"Total time {time.time() - start:.0f} s.",
            ],
            "skipped": skipped,
            "rows": rows,
            "key_groups": [f"{g_len}, length 512", f"{g_size}, large", f"{g_size}, tiny"],
            "plots": [
                {
                    "file": "scaling_seq_length.png",
                    "kind": "line",
                    "metric": "latency_ms",
                    "x": "seq_length",
                    "where": {"seq_length": args.lengths},
                    "logx": True,
                    "logy": True,
                    "xticks_from_data": True,
                    "xlabel": "sequence length (tokens)",
                    "title": "ALBERT-base, batch 1: latency vs sequence length",
                },
                {
                    "file": "scaling_model_size.png",
                    "kind": "line",
                    "metric": "latency_ms",
                    "x": "parameters",
                    "where": {"preset": args.presets},
                    "logx": True,
                    "logy": True,
                    "xlabel": "parameters (tiny .. large)",
                    "title": "Length 128, batch 1: latency vs model size",
                },
            ],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
