"""Training speed: tokens/s and time to a fixed validation loss when fine-tuning a
small ALBERT classifier on real data (sms_spam), albert-tf vs keras-hub
(`model.fit`-style steps, with and without XLA) vs transformers on PyTorch.

All systems start from the same weights (albert-tf's random init written as a
keras-hub preset and a Hugging Face safetensors folder), see the same token ids
in the same order, and use AdamW (lr 2e-4 constant, eps 1e-6, weight decay 0.01
not on LayerNorm/bias, clip global norm 1.0). Time to target counts training
steps only (evaluation excluded). Each system runs in its own process.

Example:
    python -m benchmarks.bench_training --quick
    python -m benchmarks.bench_training --steps 300 --target-loss 0.15
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
from benchmarks.peers.inputs import emit, peak_rss_mb

SYSTEMS = {
    "albert_tf": "albert-tf (Keras/TF)",
    "albert_tf_xla": "albert-tf (Keras/TF, XLA)",
    "keras_hub": "keras-hub AlbertTextClassifier (TF)",
    "keras_hub_xla": "keras-hub AlbertTextClassifier (TF, XLA)",
    "torch": "transformers (PyTorch float32)",
}
BASELINE = "keras_hub"
OURS = {"albert_tf", "albert_tf_xla"}


def prepare(work: str, preset: str, max_length: int, vocab_size: int) -> dict:
    """Token ids (npz) and the shared initial weights."""
    os.makedirs(work, exist_ok=True)
    stamp = os.path.join(work, "prepared.json")
    key = {"preset": preset, "max_length": max_length, "vocab_size": vocab_size}
    if os.path.exists(stamp):
        with open(stamp, encoding="utf-8") as f:
            if json.load(f) == key:
                return key
    import keras

    from albert_tf.config import AlbertConfig
    from albert_tf.convert import save_huggingface, save_keras_hub_preset
    from albert_tf.data.packaged import load
    from albert_tf.models import AlbertBackbone, AlbertClassifier
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

    data = load("sms_spam")
    names = sorted(set(data.train.labels))
    tok = AlbertTokenizer.train(
        list(data.train.texts), vocab_size=vocab_size, model_path=os.path.join(work, "spiece.model")
    )
    arrays = {}
    for prefix, split in (("train", data.train), ("val", data.validation)):
        enc = tok(list(split.texts), max_length=max_length, padding="max_length")
        arrays[f"{prefix}_ids"] = enc["token_ids"]
        arrays[f"{prefix}_mask"] = enc["padding_mask"]
        arrays[f"{prefix}_labels"] = np.array([names.index(y) for y in split.labels], np.int32)
    arrays["order"] = np.random.default_rng(0).permutation(len(data.train.texts)).astype(np.int32)
    np.savez(os.path.join(work, "data.npz"), **arrays)
    keras.utils.set_random_seed(0)
    config = AlbertConfig.from_preset(
        preset, vocab_size=tok.vocab_size, max_position_embeddings=512
    )
    model = AlbertClassifier(AlbertBackbone(config), num_labels=len(names))
    model.save_weights(os.path.join(work, "albert_tf.weights.h5"))
    with open(os.path.join(work, "albert_config.json"), "w", encoding="utf-8") as f:
        f.write(
            config.to_json_string()
            if hasattr(config, "to_json_string")
            else json.dumps(config.to_dict())
        )
    save_huggingface(model, os.path.join(work, "hf"))
    save_keras_hub_preset(model, os.path.join(work, "keras_hub"))
    with open(stamp, "w", encoding="utf-8") as f:
        json.dump(key, f)
    return key


def _keras_model(system: str, work: str):
    if system.startswith("albert_tf"):
        from albert_tf.config import AlbertConfig
        from albert_tf.models import AlbertBackbone, AlbertClassifier

        with open(os.path.join(work, "albert_config.json"), encoding="utf-8") as f:
            config = AlbertConfig.from_dict(json.load(f))
        model = AlbertClassifier(AlbertBackbone(config), num_labels=2)
        model.load_weights(os.path.join(work, "albert_tf.weights.h5"))
        return model
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone.from_preset(os.path.join(work, "keras_hub"))
    return keras_hub.models.AlbertTextClassifier(
        backbone=backbone, num_classes=2, preprocessor=None
    )


def worker(args) -> int:
    import keras

    from benchmarks.common import set_tf_threads

    set_tf_threads(args.threads)
    keras.utils.set_random_seed(0)
    d = np.load(os.path.join(args.work, "data.npz"))
    model = _keras_model(args.worker, args.work)
    opt = keras.optimizers.AdamW(
        learning_rate=args.learning_rate, weight_decay=0.01, epsilon=1e-6, global_clipnorm=1.0
    )
    opt.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])
    model.compile(
        optimizer=opt,
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=args.worker.endswith("_xla"),
    )

    def inputs(prefix, idx):
        ids = d[f"{prefix}_ids"][idx]
        return {
            "token_ids": ids,
            "segment_ids": np.zeros_like(ids),
            "padding_mask": d[f"{prefix}_mask"][idx],
        }

    def val_loss():
        n = len(d["val_labels"])
        total = 0.0
        for s in range(0, n, 128):
            idx = np.arange(s, min(s + 128, n))
            out = model.test_on_batch(inputs("val", idx), d["val_labels"][idx], return_dict=True)
            total += float(out["loss"]) * len(idx)
        return total / n

    order = d["order"]
    step_ms, evals, train_s = [], [], 0.0
    evals.append({"step": 0, "train_seconds": 0.0, "val_loss": val_loss()})
    for step in range(1, args.steps + 1):
        start = ((step - 1) * args.batch_size) % (len(order) - args.batch_size)
        idx = order[start : start + args.batch_size]
        x, y = inputs("train", idx), d["train_labels"][idx]
        t0 = time.perf_counter()
        model.train_on_batch(x, y)
        dt = time.perf_counter() - t0
        step_ms.append(dt * 1000.0)
        train_s += dt
        if step % args.eval_every == 0:
            evals.append({"step": step, "train_seconds": train_s, "val_loss": val_loss()})
    emit({"step_ms": step_ms, "evals": evals, "peak_rss_mb": peak_rss_mb()})
    return 0


def run_worker(system: str, args) -> dict:
    common = [
        "--steps",
        str(args.steps),
        "--eval-every",
        str(args.eval_every),
        "--batch-size",
        str(args.batch_size),
        "--learning-rate",
        str(args.learning_rate),
    ]
    if system == "torch":
        return run_peer(
            "hf_train.py",
            [
                "--model-dir",
                os.path.join(args.work, "hf"),
                "--data",
                os.path.join(args.work, "data.npz"),
                *common,
            ],
            args.threads,
        )
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.bench_training",
        "--worker",
        system,
        "--work",
        args.work,
        "--threads",
        str(args.threads),
        *common,
    ]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=thread_env(args.threads), capture_output=True, text=True
    )
    if proc.returncode != 0:
        raise RuntimeError("\n".join(proc.stderr.strip().splitlines()[-6:]))
    return json.loads([ln for ln in proc.stdout.splitlines() if ln.startswith("{")][-1])


def alternating_runs(args, skipped: list, machine: dict) -> dict[str, list[dict]]:
    """Each system's worker results, `args.rounds` processes per system: the
    rounds alternate the systems (order rotated per round), so a slow spell on
    the machine lands on every system instead of on one."""
    systems = [s for s in args.systems if s != "torch" or bench_python() is not None]
    skipped += [
        {"system": SYSTEMS[s], "reason": missing_venv_reason()}
        for s in args.systems
        if s not in systems
    ]
    runs: dict[str, list[dict]] = {}
    rounds = alternate_rounds(
        systems, args.rounds, SYSTEMS, lambda s: run_worker(s, args), skipped, "training"
    )
    for system, got in rounds:
        if got.get("versions"):
            machine["peer_libraries"] = got["versions"]
        runs.setdefault(system, []).append(got)
    # A system that failed in any round is left out, as it is from later rounds.
    failed = {x["system"] for x in skipped}
    return {s: r for s, r in runs.items() if SYSTEMS[s] not in failed}


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_training")
    p.add_argument("--systems", nargs="+", default=list(SYSTEMS), choices=list(SYSTEMS))
    p.add_argument("--preset", default="small")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--vocab-size", type=int, default=4000)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-4)
    p.add_argument("--steps", type=int, default=200)
    p.add_argument("--eval-every", type=int, default=20)
    p.add_argument("--target-loss", type=float, default=0.15)
    p.add_argument("--warmup-steps", type=int, default=5, help="steps left out of tokens/s")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--rounds", type=int, default=2, help="alternating passes over the systems")
    p.add_argument("--quick", action="store_true", help="40 steps, 1 round")
    p.add_argument("--work", default=os.path.join(ROOT, "runs", "bench", "training"))
    p.add_argument("--worker", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.worker:
        return worker(args)
    if args.quick:
        args.steps, args.eval_every, args.rounds = 40, 10, 1
    start = time.time()
    prepare(args.work, args.preset, args.max_length, args.vocab_size)
    tokens = args.batch_size * args.max_length
    g_speed = f"tokens/s ({args.preset} shape, length {args.max_length}, batch {args.batch_size})"
    g_target = f"training seconds to validation loss <= {args.target_loss}"
    rows, skipped, notes, machine = [], [], [], machine_info()
    runs = alternating_runs(args, skipped, machine)
    for system, got_all in runs.items():
        label = SYSTEMS[system]
        got = got_all[0]  # the loss curve and time to target: the first round's
        steady = [ms for g in got_all for ms in (g["step_ms"][args.warmup_steps :] or g["step_ms"])]
        tps = [tokens * 1000.0 / ms for ms in steady]
        first_ms = got["step_ms"][0]
        rows.append(
            row(
                g_speed,
                label,
                "tokens_per_s",
                tps,
                unit="tokens/s",
                lower_is_better=False,
                baseline=system == BASELINE,
                ours=system in OURS,
                first_step_s=round(first_ms / 1000, 1),
                peak_rss_mb=got["peak_rss_mb"],
                load_1min=round(os.getloadavg()[0], 1),
            )
        )
        hit = next((e for e in got["evals"] if e["val_loss"] <= args.target_loss), None)
        final = got["evals"][-1]
        if hit:
            rows.append(
                row(
                    g_target,
                    label,
                    "seconds",
                    value=hit["train_seconds"],
                    unit="s",
                    baseline=system == BASELINE,
                    ours=system in OURS,
                    step=hit["step"],
                    final_val_loss=round(final["val_loss"], 4),
                )
            )
        else:
            notes.append(
                f"{label} did not reach validation loss {args.target_loss} in {args.steps} steps (last {final['val_loss']:.3f})."
            )
        for e in got["evals"]:
            rows.append(
                row(
                    "validation loss curve",
                    label,
                    "val_loss",
                    value=e["val_loss"],
                    plot_only=True,
                    train_seconds=round(e["train_seconds"], 2),
                    step=e["step"],
                )
            )
        print(
            f"  median {np.median(tps):.0f} tokens/s; final val loss {final['val_loss']:.3f}",
            flush=True,
        )
    notes += [
        f"Fine-tuning on sms_spam (real data), {args.steps} steps of batch {args.batch_size} at length {args.max_length} (padded), evaluation on the whole validation split every {args.eval_every} steps.",
        f"tokens/s = batch x length / step time, per step after the first {args.warmup_steps} (compilation) steps, over {args.rounds} rounds whose processes alternate the systems (order rotated per round); first_step_s is the first step (graph building / XLA compilation); the loss curve and time to target are the first round's.",
        "Same initial weights, data order and optimizer settings for every system; keras-hub's classifier head is its own (random init).",
        f"Total time {time.time() - start:.0f} s.",
    ]
    write_results(
        "training",
        {
            "title": "Training throughput and time to a fixed validation loss",
            "machine": machine,
            "settings": {
                "threads": args.threads,
                "preset": args.preset,
                "rounds": args.rounds,
                "quick": args.quick,
            },
            "notes": notes,
            "skipped": skipped,
            "rows": rows,
            "plots": [
                {
                    "file": "training_tokens_per_s.png",
                    "kind": "bar",
                    "metric": "tokens_per_s",
                    "where": {"group": g_speed},
                    "title": "Training tokens/s (higher is better)",
                },
                {
                    "file": "training_val_loss.png",
                    "kind": "line",
                    "metric": "val_loss",
                    "x": "train_seconds",
                    "xlabel": "training seconds (evaluation excluded)",
                    "title": "Validation loss vs training time",
                },
            ],
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
