"""Pre-training throughput: ALBERT-base shape, sequence 128, batch 8, `model.fit`.

Variants, each in a fresh process so dtype policies and memory do not mix:
- ours_fp32, ours_fp32_xla, ours_bf16, ours_bf16_xla: `AlbertPretrainer` (MLM + SOP).
- keras_hub_fp32, keras_hub_fp32_xla, keras_hub_bf16_xla: `keras_hub.models.AlbertBackbone`
  + `keras_hub.layers.MaskedLMHead` (tied) + a 2-way SOP dense layer, the same
  two losses (masked-LM cross-entropy weighted by mask weights + SOP).
- torch_fp32: Hugging Face `AlbertForPreTraining` (PyTorch), when an interpreter with
  torch + transformers exists (`--torch-python`, default /work/refvenv or the
  peers' venv); skipped with a reason otherwise.

Same shapes, same synthetic batches (random ids, 20 masked positions), AdamW.
Tokens/s = batch * seq / median step time over the measured steps (the
first `--warmup` steps, which include tracing and XLA compilation, are not
counted). Also records each variant's per-step losses, so that bfloat16 can be
compared with float32 on the same data and initial weights.

    python -m benchmarks.bench_pretrain_throughput --steps 12

Writes benchmarks/results/pretrain_throughput.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

# The headline comparison first, so a run cut short still answers it.
VARIANTS = (
    "keras_hub_fp32_xla",
    "ours_bf16_xla",
    "ours_fp32_xla",
    "keras_hub_fp32",
    "ours_fp32",
    "ours_bf16",
    "torch_fp32",
    "keras_hub_bf16_xla",
)
SHAPE = dict(
    vocab_size=30000,
    embedding_size=128,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
)


def synthetic_batch(batch: int, seq: int, predictions: int, seed: int = 0):
    import numpy as np

    rng = np.random.default_rng(seed)
    token_ids = rng.integers(5, SHAPE["vocab_size"], (batch, seq)).astype("int32")
    positions = np.sort(
        np.stack([rng.choice(np.arange(1, seq), predictions, replace=False) for _ in range(batch)]),
        axis=1,
    ).astype("int32")
    labels = np.take_along_axis(token_ids, positions, axis=1)
    np.put_along_axis(token_ids, positions, 4, axis=1)
    segment_ids = np.zeros_like(token_ids)
    segment_ids[:, seq // 2 :] = 1
    x = {
        "token_ids": token_ids,
        "segment_ids": segment_ids,
        "padding_mask": np.ones_like(token_ids),
        "mask_positions": positions,
    }
    y = {
        "mlm_labels": labels,
        "mlm_weights": np.ones(positions.shape, "float32"),
        "sop_labels": rng.integers(0, 2, (batch,)).astype("int32"),
    }
    return x, y


class StepTimer:
    """Keras callback: wall time and loss of every training step."""

    def __new__(cls):
        import keras

        class _Timer(keras.callbacks.Callback):
            def __init__(self):
                super().__init__()
                self.times, self.losses = [], []

            def on_train_batch_begin(self, batch, logs=None):
                self._start = time.perf_counter()

            def on_train_batch_end(self, batch, logs=None):
                self.times.append(time.perf_counter() - self._start)
                self.losses.append(float(logs["loss"]))

        return _Timer()


def run_keras_variant(name: str, args) -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    bf16 = "bf16" in name
    jit = name.endswith("_xla")
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16" if bf16 else "float32")
    keras.utils.set_random_seed(0)
    x, y = synthetic_batch(args.batch_size, args.seq_length, args.predictions)
    steps = args.warmup + args.steps
    # One batch repeated: the input pipeline costs nothing and every variant sees the same data.
    if name.startswith("ours"):
        from albert_tf import AlbertBackbone, AlbertConfig, AlbertPretrainer

        model = AlbertPretrainer(AlbertBackbone(AlbertConfig(**SHAPE)))
        data = tf.data.Dataset.from_tensors((x, y)).repeat()
    else:
        model = _keras_hub_pretrainer()
        data = tf.data.Dataset.from_tensors(
            (
                x,
                (y["mlm_labels"], y["sop_labels"]),
                (y["mlm_weights"], np.ones(len(y["sop_labels"]), "float32")),
            )
        ).repeat()
    optimizer = keras.optimizers.AdamW(learning_rate=1e-4, weight_decay=0.01, global_clipnorm=1.0)
    if name.startswith("ours"):
        model.compile(optimizer=optimizer, jit_compile=jit)
    else:
        ce = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        model.compile(optimizer=optimizer, loss=[ce, ce], jit_compile=jit)
    timer = StepTimer()
    model.fit(data, epochs=1, steps_per_epoch=steps, callbacks=[timer], verbose=0)
    measured_s = timer.times[args.warmup :]
    median = float(np.median(measured_s))
    return {
        "variant": name,
        "tokens_per_s": round(args.batch_size * args.seq_length / median, 1),
        "median_step_s": round(median, 4),
        # On a shared machine the fastest step is the least disturbed one.
        "best_step_tokens_per_s": round(args.batch_size * args.seq_length / min(measured_s), 1),
        "step_s": [round(t, 4) for t in timer.times],
        "losses": [round(v, 5) for v in timer.losses],
        "params": int(model.count_params()),
        "precision": "mixed_bfloat16" if bf16 else "float32",
        "jit_compile": jit,
    }


def _keras_hub_pretrainer():
    import keras
    import keras_hub

    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=SHAPE["vocab_size"],
        num_layers=SHAPE["num_hidden_layers"],
        num_heads=SHAPE["num_attention_heads"],
        embedding_dim=SHAPE["embedding_size"],
        hidden_dim=SHAPE["hidden_size"],
        intermediate_dim=SHAPE["intermediate_size"],
        dropout=0.0,
        max_sequence_length=512,
    )
    mask_positions = keras.Input(shape=(None,), dtype="int32", name="mask_positions")
    inputs = {**backbone.input, "mask_positions": mask_positions}
    out = backbone({k: backbone.input[k] for k in backbone.input})
    mlm = keras_hub.layers.MaskedLMHead(
        vocabulary_size=SHAPE["vocab_size"],
        token_embedding=backbone.token_embedding,
        intermediate_activation="gelu",
        name="mlm_head",
    )(out["sequence_output"], mask_positions=mask_positions)
    sop = keras.layers.Dense(2, name="sop")(out["pooled_output"])
    mlm = keras.layers.Activation("linear", dtype="float32")(mlm)
    sop = keras.layers.Activation("linear", dtype="float32")(sop)
    return keras.Model(inputs, [mlm, sop])


def run_torch_variant(args) -> dict:
    import numpy as np
    import torch
    from transformers import AlbertConfig, AlbertForPreTraining

    torch.manual_seed(0)
    torch.set_num_threads(os.cpu_count() or 1)
    config = AlbertConfig(
        vocab_size=SHAPE["vocab_size"],
        embedding_size=SHAPE["embedding_size"],
        hidden_size=SHAPE["hidden_size"],
        num_hidden_layers=SHAPE["num_hidden_layers"],
        num_attention_heads=SHAPE["num_attention_heads"],
        intermediate_size=SHAPE["intermediate_size"],
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = AlbertForPreTraining(config)
    model.train()
    x, y = synthetic_batch(args.batch_size, args.seq_length, args.predictions)
    # HF scores every position; -100 marks the unmasked ones.
    labels = np.full(x["token_ids"].shape, -100, "int64")
    np.put_along_axis(labels, x["mask_positions"], y["mlm_labels"], axis=1)
    batch = {
        "input_ids": torch.tensor(x["token_ids"], dtype=torch.long),
        "token_type_ids": torch.tensor(x["segment_ids"], dtype=torch.long),
        "attention_mask": torch.tensor(x["padding_mask"], dtype=torch.long),
        "labels": torch.tensor(labels),
        "sentence_order_label": torch.tensor(y["sop_labels"], dtype=torch.long),
    }
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    times, losses = [], []
    for _ in range(args.warmup + args.steps):
        start = time.perf_counter()
        loss = model(**batch).loss
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad()
        times.append(time.perf_counter() - start)
        losses.append(float(loss))
    measured_s = times[args.warmup :]
    median = float(np.median(measured_s))
    return {
        "variant": "torch_fp32",
        "tokens_per_s": round(args.batch_size * args.seq_length / median, 1),
        "median_step_s": round(median, 4),
        # On a shared machine the fastest step is the least disturbed one.
        "best_step_tokens_per_s": round(args.batch_size * args.seq_length / min(measured_s), 1),
        "step_s": [round(t, 4) for t in times],
        "losses": [round(v, 5) for v in losses],
        "params": int(sum(p.numel() for p in model.parameters())),
        "precision": "float32",
        "jit_compile": False,
        "versions": {"torch": torch.__version__},
    }


def _torch_python(explicit: str | None) -> str | None:
    candidates = [explicit] if explicit else []
    candidates += [
        os.environ.get("ALBERT_TF_TORCH_PYTHON"),
        "/work/refvenv/bin/python",
        os.path.join(os.path.dirname(ROOT), "benchvenv", "bin", "python"),
    ]
    for python in candidates:
        if not python or not os.access(python, os.X_OK):
            continue
        probe = subprocess.run(
            [python, "-c", "import torch, transformers"], capture_output=True, timeout=120
        )
        if probe.returncode == 0:
            return python
    return None


def _child(args) -> int:
    if args.variant == "torch_fp32":
        result = run_torch_variant(args)
    else:
        result = run_keras_variant(args.variant, args)
    print("RESULT " + json.dumps(result), flush=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=VARIANTS)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--seq-length", type=int, default=128)
    parser.add_argument("--predictions", type=int, default=20)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=12)
    parser.add_argument("--torch-python", default=None)
    parser.add_argument("--results-name", default="pretrain_throughput", help="results file stem")
    parser.add_argument("--variant", help=argparse.SUPPRESS)  # internal: run one variant
    args = parser.parse_args()
    if args.variant:
        return _child(args)

    from benchmarks.common import write_results

    common = [
        "--batch-size", str(args.batch_size), "--seq-length", str(args.seq_length),
        "--predictions", str(args.predictions), "--warmup", str(args.warmup),
        "--steps", str(args.steps),
    ]  # fmt: skip
    results, skipped = {}, {}
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    for variant in args.variants:
        python = sys.executable
        if variant == "torch_fp32":
            python = _torch_python(args.torch_python)
            if python is None:
                skipped[variant] = "no interpreter with torch + transformers found"
                print(f"{variant}: skipped ({skipped[variant]})", flush=True)
                continue
        print(f"{variant} ...", flush=True)
        proc = subprocess.run(
            [python, os.path.abspath(__file__), "--variant", variant, *common],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=1800,
        )  # fmt: skip
        lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")]
        if proc.returncode != 0 or not lines:
            skipped[variant] = (proc.stderr or proc.stdout).strip().splitlines()[-1:]
            print(f"{variant}: failed: {skipped[variant]}", flush=True)
            continue
        results[variant] = json.loads(lines[-1][len("RESULT ") :])
        print(f"{variant}: {results[variant]['tokens_per_s']} tokens/s", flush=True)
        # Written after every variant: a long run stopped early keeps what it measured.
        _write(args, results, skipped, write_results)
    _write(args, results, skipped, write_results, final=True)
    return 0


def _write(args, results, skipped, write_results, final=False) -> None:
    """Results so far, the ratios to keras-hub's XLA figure, bf16 vs fp32 losses."""
    summary = {}
    hub_xla = results.get("keras_hub_fp32_xla", {}).get("tokens_per_s")
    if hub_xla:
        for name, r in results.items():
            summary[f"{name}_vs_keras_hub_fp32_xla"] = round(r["tokens_per_s"] / hub_xla, 2)
    for fp32, bf16 in (("ours_fp32", "ours_bf16"), ("ours_fp32_xla", "ours_bf16_xla")):
        if fp32 in results and bf16 in results:
            # Keras logs the running mean of the epoch's losses at each step.
            a, b = results[fp32]["losses"], results[bf16]["losses"]
            summary[f"{bf16}_vs_{fp32}_max_running_loss_diff"] = round(
                max(abs(p - q) for p, q in zip(a, b)), 4
            )
    payload = {
        "complete": final,
        "shape": {**SHAPE, "seq_length": args.seq_length, "batch_size": args.batch_size},
        "steps": {"warmup": args.warmup, "measured": args.steps},
        "tokens_per_s": {k: r["tokens_per_s"] for k, r in results.items()},
        "summary": summary,
        "results": results,
        "skipped": skipped,
    }
    if final:
        print(json.dumps({"tokens_per_s": payload["tokens_per_s"], **summary}, indent=1))
    write_results(args.results_name, payload)


if __name__ == "__main__":
    sys.exit(main())
