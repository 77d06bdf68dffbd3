"""Batch-1 latency of transformers' AlbertForSequenceClassification (PyTorch
float32, random init from a config) across model sizes and sequence lengths.
Runs in the peer venv.

Example:
    python benchmarks/peers/hf_scaling.py --cases cases.json
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inputs import emit, make_batches, timed  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--cases", required=True)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    import json

    import torch
    from transformers import AlbertConfig, AlbertForSequenceClassification

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    with open(args.cases, encoding="utf-8") as f:
        spec = json.load(f)
    samples = {}
    for preset, item in spec["presets"].items():
        torch.manual_seed(0)
        model = AlbertForSequenceClassification(
            AlbertConfig(**item["hf_config"], num_labels=2)
        ).eval()

        def run(b, model=model):
            with torch.inference_mode():
                return model(
                    input_ids=torch.from_numpy(b["token_ids"]).long(),
                    attention_mask=torch.from_numpy(b["padding_mask"]).long(),
                ).logits

        for length in item["lengths"]:
            batches = make_batches(
                {"batch": 1, "lengths": [length]}, item["hf_config"]["vocab_size"]
            )
            samples[f"{preset}/{length}"] = timed(run, batches, spec["repeats"], warmup=1)
        del model
    emit(
        {
            "samples": samples,
            "versions": {n: importlib.metadata.version(n) for n in ("torch", "transformers")},
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
