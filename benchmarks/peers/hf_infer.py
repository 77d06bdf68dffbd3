"""Inference timing of a transformers ALBERT classifier: PyTorch float32, PyTorch
dynamic int8 (torch.ao quantize_dynamic on Linear layers) and ONNX Runtime float32
(exported from the same PyTorch model). Runs in the peer venv, never in .venv.

Example:
    python benchmarks/peers/hf_infer.py --model-dir HF_DIR --cases cases.json --system torch_fp32
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from inputs import emit, load_cases, make_batches, peak_rss_mb, timed  # noqa: E402


def versions() -> dict:
    out = {}
    for name in ("torch", "transformers", "onnxruntime", "onnx"):
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--model-dir", required=True)
    p.add_argument("--cases", required=True)
    p.add_argument("--system", required=True, choices=["torch_fp32", "torch_int8", "onnx_fp32"])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--work", default=None, help="folder for the ONNX file")
    args = p.parse_args()

    import numpy as np
    import torch
    from transformers import AlbertForSequenceClassification

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    spec = load_cases(args.cases)
    model = AlbertForSequenceClassification.from_pretrained(args.model_dir).eval()
    size_mb = os.path.getsize(os.path.join(args.model_dir, "model.safetensors")) / 1e6

    if args.system == "torch_int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        with tempfile.NamedTemporaryFile(suffix=".pt") as f:
            torch.save(model.state_dict(), f.name)
            size_mb = os.path.getsize(f.name) / 1e6

    if args.system.startswith("torch"):

        def run(b):
            with torch.inference_mode():
                return model(
                    input_ids=torch.from_numpy(b["token_ids"]).long(),
                    attention_mask=torch.from_numpy(b["padding_mask"]).long(),
                    token_type_ids=torch.from_numpy(b["segment_ids"]).long(),
                ).logits

    else:
        import onnxruntime as ort

        work = args.work or tempfile.mkdtemp()
        path = os.path.join(work, "albert_base.onnx")
        if not os.path.exists(path):
            x = make_batches({"batch": 2, "lengths": [16, 16]}, 100)[0]
            dummy = tuple(
                torch.from_numpy(x[k]).long() for k in ("token_ids", "padding_mask", "segment_ids")
            )
            names = ["input_ids", "attention_mask", "token_type_ids"]
            axes = {n: {0: "batch", 1: "seq"} for n in names}
            tmp = path + ".tmp"
            try:
                torch.onnx.export(
                    model,
                    dummy,
                    tmp,
                    input_names=names,
                    output_names=["logits"],
                    dynamic_axes=axes,
                    opset_version=17,
                    dynamo=False,
                )
            except TypeError:
                torch.onnx.export(
                    model,
                    dummy,
                    tmp,
                    input_names=names,
                    output_names=["logits"],
                    dynamic_axes=axes,
                    opset_version=17,
                )
            os.replace(tmp, path)
        size_mb = os.path.getsize(path) / 1e6
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = args.threads
        opts.inter_op_num_threads = 1
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])

        def run(b):
            return session.run(
                None,
                {
                    "input_ids": b["token_ids"].astype(np.int64),
                    "attention_mask": b["padding_mask"].astype(np.int64),
                    "token_type_ids": b["segment_ids"].astype(np.int64),
                },
            )

    results = {}
    for name, case in spec["cases"].items():
        batches = make_batches(case, spec["vocab_size"])
        results[name] = timed(run, batches, case["repeats"], warmup=1)
    emit(
        {
            "system": args.system,
            "samples": results,
            "model_mb": round(size_mb, 2),
            "peak_rss_mb": peak_rss_mb(),
            "versions": versions(),
        }
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
