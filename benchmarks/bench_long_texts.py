"""Which cut of a text longer than max_length scores best: on validation data only.

For finished `albert-tf train --dataset X` runs of the default recipe (a
WordPiece student and its `teacher/`; by default the accuracy benchmark's),
every validation text is tokenized whole and scored in Keras with:

- head: the first max_length - 2 pieces (what training and export did so far);
- head_tail h: the first int(h * budget) pieces and the last budget - that
  many (Sun et al. 2019, "How to fine-tune BERT for text classification?",
  found 1/4 head + 3/4 tail best on long reviews and news);
- windows: windows of max_length - 2 pieces, half a window apart, the last one
  ending at the text's end; the class probabilities averaged over windows.

The models were trained on head-only inputs, so the other cuts are scored on
inputs they never saw in training: a cut that wins here wins despite that.

Example:
    python -m benchmarks.bench_long_texts --datasets bbc_news sms_spam
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, ROOT)

from benchmarks.common import write_results  # noqa: E402

DEFAULT_RUNS = "/tmp/benchclone/runs/accuracy"
HEAD_SHARES = (0.25, 0.5, 0.75)
WINDOW_STRIDE = 0.5  # of a window
BATCH = 32


def head(pieces: list[int], budget: int) -> list[list[int]]:
    return [pieces[:budget]]


def head_tail(share: float) -> Callable[[list[int], int], list[list[int]]]:
    def cut(pieces: list[int], budget: int) -> list[list[int]]:
        if len(pieces) <= budget:
            return [pieces]
        keep_head = int(share * budget)  # as albert_tf.tokenizers.sentencepiece.head_pieces
        return [pieces[:keep_head] + pieces[len(pieces) - (budget - keep_head) :]]

    return cut


def windows(pieces: list[int], budget: int) -> list[list[int]]:
    if len(pieces) <= budget:
        return [pieces]
    stride = max(1, int(budget * WINDOW_STRIDE))
    starts = list(range(0, len(pieces) - budget, stride)) + [len(pieces) - budget]
    return [pieces[s : s + budget] for s in starts]


STRATEGIES: dict[str, Callable[[list[int], int], list[list[int]]]] = {
    "head": head,
    **{f"head_tail {s:g}": head_tail(s) for s in HEAD_SHARES},
    "windows (mean of probabilities)": windows,
}


def _probabilities(model: Any, tokenizer: Any, rows: list[list[int]], max_length: int):
    """Softmax of the model on `[CLS] row [SEP]` for each row, batched."""
    from albert_tf.tokenizers.sentencepiece import pad_batch

    out = []
    for i in range(0, len(rows), BATCH):
        ids = [[tokenizer.cls_id, *r, tokenizer.sep_id] for r in rows[i : i + BATCH]]
        batch = pad_batch(ids, [[0] * len(t) for t in ids], max_length, tokenizer.pad_id)
        logits = np.asarray(model(batch, training=False), dtype=np.float64)
        logits -= logits.max(axis=1, keepdims=True)
        p = np.exp(logits)
        out.append(p / p.sum(axis=1, keepdims=True))
    return np.concatenate(out)


def predictions(run: Any, pieces: list[list[int]]) -> dict[str, np.ndarray]:
    """The predicted class of every text under every strategy."""
    budget = run.max_length - 2
    out = {}
    for name, cut in STRATEGIES.items():
        rows, owner = [], []
        for i, p in enumerate(pieces):
            for w in cut(p, budget):
                rows.append(w)
                owner.append(i)
        probs = _probabilities(run.model, run.tokenizer, rows, run.max_length)
        mean = np.zeros((len(pieces), probs.shape[1]))
        np.add.at(mean, np.asarray(owner), probs)
        out[name] = mean.argmax(axis=1)
    return out


def bench_dataset(name: str, runs_root: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    from albert_tf.data.packaged import load
    from albert_tf.training.run_folder import RunFolder

    folder = os.path.join(runs_root, name, "run")
    validation = load(name).validation  # the split `albert-tf train --dataset` used
    rows, facts = [], {}
    for system, path in (("student", folder), ("teacher", os.path.join(folder, "teacher"))):
        start = time.time()
        run = RunFolder(path).load(labels_required=False)
        labels = run.labels or run.info.get("labels")
        y = [labels.index(v) for v in validation.labels]
        pieces = run.tokenizer._encode_batch(validation.texts)
        lengths = np.asarray([len(p) for p in pieces])
        is_long = lengths > run.max_length - 2
        long = int(is_long.sum())
        facts[system] = {
            "max_length": run.max_length,
            "validation_texts": int(len(lengths)),
            "longer_than_max_length": long,
            "median_pieces": float(np.median(lengths)),
            "max_pieces": int(max(lengths)),
        }
        y = np.asarray(y)
        whole = {}
        for strategy, pred in predictions(run, pieces).items():
            whole[strategy] = float((pred == y).mean())
            acc_long = float((pred[is_long] == y[is_long]).mean()) if long else None
            rows.append(_row(name, system, strategy, whole[strategy], len(y), acc_long, long))
        facts[system]["seconds"] = round(time.time() - start, 1)
        print(name, system, facts[system], whole, flush=True)
    return rows, facts


def _row(dataset, system, strategy, acc, n, acc_long, n_long) -> dict[str, Any]:
    return {
        "group": f"{dataset} validation",
        "system": f"{system}: {strategy}",
        "metric": "accuracy",
        "unit": "",
        "median": round(acc, 4),
        "n": n,
        "lower_is_better": False,
        "baseline": strategy == "head",
        "ours": True,
        "extra": {
            "accuracy_on_long_texts": None if acc_long is None else round(acc_long, 4),
            "long_texts": n_long,
        },
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    p.add_argument("--runs", default=DEFAULT_RUNS, help="folder of <dataset>/run run folders")
    p.add_argument("--datasets", nargs="+", default=["bbc_news", "sms_spam"])
    args = p.parse_args(argv)
    rows, facts = [], {}
    for name in args.datasets:
        got, facts[name] = bench_dataset(name, args.runs)
        rows += got
    notes = [
        "Validation splits only (albert_tf.data.packaged.load(name).validation, the split "
        "`albert-tf train --dataset` validates on); the test split is not read.",
        "The models were trained on head-only inputs; head_tail and windows are scored "
        "on cuts they never saw in training.",
        "head_tail h keeps int(h * (max_length - 2)) head pieces and the rest from the tail.",
        "windows: max_length - 2 pieces, stride half a window, last window ends at the "
        "text's end; probabilities averaged.",
    ]
    payload = {
        "title": "Long texts: head, head + tail or windows (validation accuracy)",
        "settings": {"runs": args.runs, "datasets": args.datasets, "head_shares": HEAD_SHARES},
        "lengths": facts,
        "notes": notes,
        "rows": rows,
    }
    write_results("long_texts", payload)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
