"""A model2vec static-embedding classifier from a local transformers folder (the
peer venv): `distill` (every vocabulary piece through the model once, PCA, SIF
weights; offline, from the folder), then a logistic regression on the mean token
vectors, C chosen on validation and refitted on train. Writes OUT/static (the
StaticModel), OUT/head.pkl and OUT/report.json; prints the report.

Example:
    ../benchvenv/bin/python benchmarks/peers/model2vec_prepare.py --model HF_DIR \
        --data splits.json --out WORK/model2vec
"""

from __future__ import annotations

import argparse
import json
import os
import pickle
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from student_server import hf_tokenizer  # noqa: E402

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--model", required=True, help="transformers folder (BERT or ALBERT)")
    p.add_argument("--data", required=True, help="splits.json from bench_frontier")
    p.add_argument("--out", required=True)
    p.add_argument("--pca-dims", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args(argv)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import numpy as np
    import torch
    from model2vec.distill import distill_from_model
    from sklearn.linear_model import LogisticRegression
    from transformers import AutoModel

    torch.set_num_threads(args.threads)
    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    start = time.time()
    # The folder's own tokenizer, as the ONNX peer reads it: AutoTokenizer cannot
    # read a SentencePiece BERT folder (it gave a 2-piece vocabulary).
    static = distill_from_model(
        AutoModel.from_pretrained(args.model), hf_tokenizer(args.model),
        pca_dims=args.pca_dims, device="cpu",
    )  # fmt: skip
    if static.embedding.shape[0] < 100:
        raise SystemExit(f"model2vec kept {static.embedding.shape[0]} pieces of {args.model}")
    distill_s = time.time() - start

    def features(split: str):
        return static.encode(data[split]["texts"]), np.asarray(data[split]["labels"])

    (xt, yt), (xv, yv) = features("train"), features("validation")
    scores = {}
    for c in C_GRID:
        head = LogisticRegression(C=c, max_iter=3000).fit(xt, yt)
        scores[c] = float((head.predict(xv) == yv).mean())
    best = max(scores, key=scores.get)
    head = LogisticRegression(C=best, max_iter=3000).fit(xt, yt)
    os.makedirs(args.out, exist_ok=True)
    static.save_pretrained(os.path.join(args.out, "static"))
    with open(os.path.join(args.out, "head.pkl"), "wb") as f:
        pickle.dump(head, f)
    report = {
        "source": args.model,
        "pca_dims": args.pca_dims,
        "vocabulary": int(static.embedding.shape[0]),
        "dims": int(static.embedding.shape[1]),
        "C": best,
        "validation_accuracy": scores[best],
        "validation_by_C": scores,
        "distill_s": round(distill_s, 1),
        "seconds": round(time.time() - start, 1),
    }
    tmp = os.path.join(args.out, "report.json.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    os.replace(tmp, os.path.join(args.out, "report.json"))
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
