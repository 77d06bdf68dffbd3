"""Fine-tuning speed of transformers' AlbertForSequenceClassification on PyTorch:
the same initial weights (safetensors), token ids, batch order, optimizer and
evaluation schedule as the Keras runs in benchmarks/bench_training.py. Runs in
the peer venv.

Example:
    python benchmarks/peers/hf_train.py --model-dir HF_DIR --data data.npz --steps 200
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inputs import emit, peak_rss_mb  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", required=True)
    p.add_argument("--data", required=True)
    p.add_argument("--steps", type=int, required=True)
    p.add_argument("--eval-every", type=int, required=True)
    p.add_argument("--batch-size", type=int, required=True)
    p.add_argument("--learning-rate", type=float, required=True)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()

    import numpy as np
    import torch
    from transformers import AlbertForSequenceClassification

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)
    d = np.load(args.data)
    model = AlbertForSequenceClassification.from_pretrained(args.model_dir)
    no_decay = [p_ for n, p_ in model.named_parameters() if "LayerNorm" in n or n.endswith("bias")]
    decay = [
        p_ for n, p_ in model.named_parameters() if not ("LayerNorm" in n or n.endswith("bias"))
    ]
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
        lr=args.learning_rate,
        eps=1e-6,
    )
    loss_fn = torch.nn.CrossEntropyLoss()

    def tensors(prefix, idx):
        return (
            torch.from_numpy(d[f"{prefix}_ids"][idx]).long(),
            torch.from_numpy(d[f"{prefix}_mask"][idx]).long(),
            torch.from_numpy(d[f"{prefix}_labels"][idx]).long(),
        )

    def val_loss():
        model.eval()
        total, n = 0.0, len(d["val_labels"])
        with torch.inference_mode():
            for s in range(0, n, 128):
                idx = np.arange(s, min(s + 128, n))
                ids, mask, y = tensors("val", idx)
                logits = model(input_ids=ids, attention_mask=mask).logits
                total += float(loss_fn(logits, y)) * len(idx)
        model.train()
        return total / n

    order = d["order"]
    step_ms, evals, train_s = [], [], 0.0
    evals.append({"step": 0, "train_seconds": 0.0, "val_loss": val_loss()})
    model.train()
    for step in range(1, args.steps + 1):
        start = ((step - 1) * args.batch_size) % (len(order) - args.batch_size)
        ids, mask, y = tensors("train", order[start : start + args.batch_size])
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(input_ids=ids, attention_mask=mask).logits, y)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        dt = time.perf_counter() - t0
        step_ms.append(dt * 1000.0)
        train_s += dt
        if step % args.eval_every == 0:
            evals.append({"step": step, "train_seconds": train_s, "val_loss": val_loss()})
    emit(
        {
            "step_ms": step_ms,
            "evals": evals,
            "peak_rss_mb": peak_rss_mb(),
            "versions": {n: importlib.metadata.version(n) for n in ("torch", "transformers")},
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
