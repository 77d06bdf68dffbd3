"""Accuracy on real data: TF-IDF + logistic regression (the floor) vs albert-tf
small from scratch, with in-domain pre-training, distilled (from distill.json),
and after each export mode. Same splits (albert_tf.datasets.load) for all.

Large training sets are subsampled to `--max-train` examples (a stratified-
enough random sample with a fixed seed, the same for every system); validation
and test splits are used whole.

Example:
    python -m benchmarks.bench_accuracy --quick
    python -m benchmarks.bench_accuracy --datasets movie_reviews --export-modes dynamic int8
"""

from __future__ import annotations

import argparse
import json
import os
import re
import time

import numpy as np

from benchmarks.common import RESULTS_DIR, ROOT, row, set_tf_threads, write_results

DATASETS = ("movie_reviews", "rotten_tomatoes", "sms_spam", "bbc_news")
# Long texts (news articles) need more tokens to say what they are about.
MAX_LENGTH = {"bbc_news": 128}


def subsample(dataset, cap: int, seed: int = 0):
    """The first `cap` rows of a fixed permutation (or all rows)."""
    from albert_tf.data.readers import TextDataset  # noqa: F401  (type only)

    n = len(dataset.texts)
    if cap <= 0 or n <= cap:
        return dataset
    idx = np.sort(np.random.default_rng(seed).permutation(n)[:cap])
    import copy

    out = copy.copy(dataset)
    out.texts = [dataset.texts[i] for i in idx]
    out.labels = [dataset.labels[i] for i in idx]
    if getattr(dataset, "pairs", None):
        out.pairs = [dataset.pairs[i] for i in idx]
    return out


def tfidf_logreg(train, test) -> tuple[float, float, float]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import make_pipeline

    start = time.time()
    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), min_df=1, sublinear_tf=True, lowercase=True),
        LogisticRegression(max_iter=2000, C=10.0),
    )
    model.fit(train.texts, train.labels)
    pred = model.predict(test.texts)
    acc = accuracy_score(test.labels, pred)
    f1 = f1_score(test.labels, pred, average="macro")
    return float(acc), float(f1), time.time() - start


class _Reused:
    """A finished run read back from its run.json (`--reuse-runs`)."""

    def __init__(self, out_dir: str):
        from albert_tf.training.run_folder import RunFolder

        folder = RunFolder(out_dir)
        info = folder.read_info()
        self.metrics = info["metrics"]
        self.parameters = int(info["parameters"])
        self.seconds = float(info.get("train_seconds", 0.0))
        self.vocab_size = folder.read_tokenizer(info).vocab_size


def albert_run(name, data, train, out_dir, args, pretrain: bool):
    if args.reuse_runs and os.path.exists(os.path.join(out_dir, "run.json")):
        from albert_tf.training.splits import label_vocabulary

        reused = _Reused(out_dir)
        if "test" in reused.metrics:
            print(f"reusing {out_dir}", flush=True)
            return reused, label_vocabulary(data.train, "single_label")
    from albert_tf.training.splits import label_vocabulary

    vocab = label_vocabulary(data.train, "single_label")
    max_length = MAX_LENGTH.get(name, args.max_length)
    try:
        return _train(
            name, data, train, out_dir, args, pretrain, vocab, max_length, args.vocab_size
        ), vocab
    except ValueError as err:
        # A small training set cannot fill a big SentencePiece vocabulary: use the
        # largest size SentencePiece says it can (it names it in the message).
        found = re.search(r"<= (\d+)", str(err))
        if not found:
            raise
        return _train(
            name, data, train, out_dir, args, pretrain, vocab, max_length, int(found.group(1))
        ), vocab


def _train(name, data, train, out_dir, args, pretrain, vocab, max_length, vocab_size):
    from albert_tf.training.recipe import train_text_classifier
    from albert_tf.training.splits import to_split

    result = train_text_classifier(
        to_split(train, vocab, "single_label"),
        to_split(data.validation, vocab, "single_label"),
        to_split(data.test, vocab, "single_label"),
        vocab.names,
        out_dir=out_dir,
        preset=args.preset,
        vocab_size=vocab_size,
        epochs=args.epochs,
        batch_size=32,
        learning_rate=2e-4,
        max_length=max_length,
        patience=2,
        pretrain_texts=train.texts if pretrain else None,
        pretrain_epochs=args.pretrain_epochs,
        info={"dataset": name},
        verbose=2,
    )
    result.vocab_size = vocab_size
    return result


def export_accuracy(run_dir: str, bundle_dir: str, mode: str, data, vocab) -> dict:
    from export import export_run
    from export.runtime import Classifier

    start = time.time()
    export_run(run_dir, bundle_dir, mode=mode, force=True, use_mediapipe=False, num_verify=100)
    clf = Classifier(bundle_dir, num_threads=None)
    probs = clf.predict_proba(list(data.test.texts))
    # The bundle's labels.txt is in the run's label order.
    names = list(clf.labels)
    gold = np.array([names.index(label) for label in data.test.labels])
    acc = float((probs.argmax(-1) == gold).mean())
    with open(os.path.join(bundle_dir, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    return {
        "accuracy": acc,
        "model_mb": round(os.path.getsize(os.path.join(bundle_dir, "model.tflite")) / 1e6, 2),
        "agreement_with_keras": manifest.get("verification", {})
        .get("runtime", {})
        .get("agreement"),
        "seconds": round(time.time() - start, 1),
    }


def distilled_rows(path: str) -> list[dict]:
    """Any 'distilled ... accuracy' figures in distill.json (written by bench_distill)."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    found = []

    def walk(obj, keys):
        if isinstance(obj, dict):
            for k, v in obj.items():
                walk(v, keys + [str(k)])
        elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
            key = ".".join(keys).lower()
            if "distil" in key and "acc" in key and 0 <= obj <= 1:
                found.append((".".join(keys), float(obj)))

    walk(payload, [])
    return found


def fold_distilled(path: str, rows: list[dict]) -> str | None:
    """Add distill.json's movie_reviews student (and teacher) as rows of that group."""
    if not os.path.exists(path) or not any(r["group"] == "movie_reviews" for r in rows):
        return None
    with open(path, encoding="utf-8") as f:
        results = json.load(f).get("results") or {}
    added = []
    for key, label in (
        ("distilled", "albert-tf student distilled from MiniLM (distill.json)"),
        ("teacher", "MiniLM teacher, fine-tuned (distill.json)"),
    ):
        item = results.get(key) or {}
        if isinstance(item.get("test_accuracy"), (int, float)):
            rows[:] = [
                r for r in rows if not (r["group"] == "movie_reviews" and r["system"] == label)
            ]
            rows.append(
                row(
                    "movie_reviews",
                    label,
                    "test_accuracy",
                    value=item["test_accuracy"],
                    lower_is_better=False,
                    ours=key == "distilled",
                    parameters=item.get("parameters"),
                )
            )
            added.append(key)
    if not added:
        return None
    return (
        "movie_reviews distilled/teacher rows come from benchmarks/results/distill.json "
        "(same test split; trained on the whole training split plus teacher-labelled text, "
        "see that section)."
    )


def fold_only() -> int:
    path = os.path.join(RESULTS_DIR, "accuracy.json")
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    rows = payload.get("rows", [])
    note = fold_distilled(os.path.join(RESULTS_DIR, "distill.json"), rows)
    if note is None:
        print("distill.json has no movie_reviews student figures yet; nothing changed")
        return 0
    payload["notes"] = [
        n for n in payload.get("notes", []) if not n.startswith("movie_reviews distilled")
    ] + [note]
    payload["skipped"] = [
        s for s in payload.get("skipped", []) if s.get("system") != "distilled student"
    ]
    for key in ("benchmark", "finished"):
        payload.pop(key, None)
    write_results("accuracy", payload)
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m benchmarks.bench_accuracy")
    p.add_argument("--datasets", nargs="+", default=list(DATASETS), choices=DATASETS)
    p.add_argument("--max-train", type=int, default=4000, help="training rows cap (0: all)")
    p.add_argument("--preset", default="small")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--pretrain-epochs", type=int, default=1)
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--export-modes", nargs="*", default=["float32", "dynamic", "int8"])
    p.add_argument(
        "--export-modes-others",
        nargs="*",
        default=["dynamic"],
        help="export modes for every dataset after the first (exports cost minutes each)",
    )
    p.add_argument("--export-from", default="best", choices=["best", "scratch", "pretrained"])
    p.add_argument("--no-pretrain", action="store_true")
    p.add_argument(
        "--reuse-runs",
        action="store_true",
        help="read finished runs under --out instead of training",
    )
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--quick", action="store_true", help="400 training rows, 1 epoch, 1 export mode")
    p.add_argument("--out", default=os.path.join(ROOT, "runs", "bench", "accuracy"))
    p.add_argument(
        "--fold-distill",
        action="store_true",
        help="only fold distill.json's figures into an existing accuracy.json (no training)",
    )
    args = p.parse_args(argv)
    if args.fold_distill:
        return fold_only()
    if args.quick:
        args.max_train, args.epochs, args.pretrain_epochs = 400, 1, 1
        args.export_modes = args.export_modes[:1] if args.export_modes else []
        args.export_modes_others = args.export_modes_others[:1]
    set_tf_threads(args.threads)
    from albert_tf.datasets import load

    rows, notes, skipped = [], [], []
    # Keep results from earlier runs for datasets not rerun now.
    previous = os.path.join(RESULTS_DIR, "accuracy.json")
    if os.path.exists(previous):
        with open(previous, encoding="utf-8") as f:
            old = json.load(f)
        rows = [r for r in old.get("rows", []) if r["group"] not in args.datasets]

    for name in args.datasets:
        data = load(name)
        train = subsample(data.train, args.max_train)
        group = name
        info = dict(train_rows=len(train.texts), test_rows=len(data.test.texts))
        print(f"\n=== {name}: {info}", flush=True)
        acc, f1, secs = tfidf_logreg(train, data.test)
        rows.append(
            row(
                group,
                "TF-IDF + logistic regression",
                "test_accuracy",
                value=acc,
                lower_is_better=False,
                baseline=True,
                macro_f1=round(f1, 4),
                train_seconds=round(secs, 1),
                **info,
            )
        )
        print(f"TF-IDF + LR: accuracy {acc:.4f}", flush=True)
        variants = [("scratch", False)] + ([] if args.no_pretrain else [("pretrained", True)])
        run_dirs, val_acc = {}, {}
        vocab = None
        for variant, pretrain in variants:
            out_dir = os.path.join(args.out, name, variant)
            result, vocab = albert_run(name, data, train, out_dir, args, pretrain)
            run_dirs[variant] = out_dir
            val_acc[variant] = float(result.metrics.get("validation", {}).get("val_accuracy", 0.0))
            test = result.metrics["test"]
            label = (
                "albert-tf small, from scratch"
                if not pretrain
                else (f"albert-tf small, in-domain pre-training ({args.pretrain_epochs} ep)")
            )
            rows.append(
                row(
                    group,
                    label,
                    "test_accuracy",
                    value=test["accuracy"],
                    lower_is_better=False,
                    ours=True,
                    macro_f1=round(test["macro_f1"], 4),
                    train_seconds=round(result.seconds, 1),
                    parameters=result.parameters,
                    vocab=result.vocab_size,
                    **info,
                )
            )
            print(f"{label}: accuracy {test['accuracy']:.4f}", flush=True)
        source = args.export_from if args.export_from in run_dirs else "scratch"
        if args.export_from == "best":
            # Export the run with the better validation accuracy: a run that did
            # not learn would make every export row a chance-level figure.
            source = max(val_acc, key=val_acc.get)
        modes = args.export_modes if name == args.datasets[0] else args.export_modes_others
        for mode in modes:
            try:
                got = export_accuracy(
                    run_dirs[source],
                    os.path.join(args.out, name, f"bundle_{mode}"),
                    mode,
                    data,
                    vocab,
                )
            except Exception as err:  # an export mode that fails is reported, not fatal
                skipped.append(
                    {
                        "system": f"{name} export {mode}",
                        "reason": f"{type(err).__name__}: {str(err)[:200]}",
                    }
                )
                continue
            rows.append(
                row(
                    group,
                    f"albert-tf bundle {mode} ({source})",
                    "test_accuracy",
                    value=got["accuracy"],
                    lower_is_better=False,
                    ours=True,
                    key=mode == "dynamic",
                    model_mb=got["model_mb"],
                    agreement_with_keras=got["agreement_with_keras"],
                    **info,
                )
            )
            print(f"bundle {mode}: accuracy {got['accuracy']:.4f}", flush=True)
        # Write after every dataset so a killed run keeps what it finished.
        _write(rows, notes, skipped, args)

    distill_path = os.path.join(RESULTS_DIR, "distill.json")
    distilled = distilled_rows(distill_path)
    folded = fold_distilled(distill_path, rows)
    if folded:
        notes.append(folded)
    elif distilled:
        notes.append(
            "Distilled student figures from distill.json: "
            + ", ".join(f"{k}={v:.4f}" for k, v in distilled)
        )
    else:
        skipped.append(
            {
                "system": "distilled student",
                "reason": "pending: benchmarks/results/distill.json has no distilled accuracy yet",
            }
        )
    _write(rows, notes, skipped, args)
    return 0


def _write(rows, notes, skipped, args) -> None:
    base_notes = [
        f"Training rows capped at {args.max_train} (fixed random sample, seed 0; the same rows for every system); validation and test splits whole.",
        f"albert-tf: preset {args.preset}, SentencePiece vocab {args.vocab_size} trained on the training rows, max_length {args.max_length} ({MAX_LENGTH}), {args.epochs} epochs, AdamW lr 2e-4, best epoch on validation loss.",
        "One training run per system and dataset (n=1): accuracy differences under ~1-2 points are within seed noise.",
        "Export rows: the bundle's edge runtime (LiteRT) on the whole test split, batch 1; exported from the albert-tf run (scratch or pre-trained, named in the row) with the better validation accuracy.",
    ]
    write_results(
        "accuracy",
        {
            "title": "Accuracy on real data",
            "settings": {"threads": args.threads, "quick": args.quick},
            "notes": base_notes + notes,
            "skipped": skipped,
            "rows": rows,
            "plots": [],
        },
    )


if __name__ == "__main__":
    raise SystemExit(main())
