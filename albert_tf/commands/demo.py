"""`albert-tf demo` (what `make demo` runs): movie_reviews end to end on a laptop CPU.

1. trains a SentencePiece tokenizer on the training sentences,
2. pre-trains a small ALBERT on them briefly (masked LM + sentence order),
3. fine-tunes it as a sentiment classifier with model.fit,
4. prints test accuracy, parameter count and time, and writes runs/demo/,
5. exports a verified, quantized TFLite bundle and classifies a few
   sentences with the edge runtime (no TensorFlow in that step).
"""

from __future__ import annotations

import argparse
import json
import os
import time

EXAMPLES = [
    "a gripping, beautifully acted film that stays with you.",
    "dull, overlong and utterly forgettable.",
    "the jokes fall flat and the plot makes no sense.",
    "one of the most moving stories i have seen this year.",
]


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "demo", help="movie_reviews end to end: tokenizer, pre-train, train, export"
    )
    p.add_argument("--out", default="runs/demo")
    p.add_argument("--dataset", default="movie_reviews")
    p.add_argument("--preset", default="small")
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--pretrain-epochs", type=int, default=2, help="0 skips in-domain pre-training")
    p.add_argument("--max-length", type=int, default=64)
    p.add_argument("--vocab-size", type=int, default=8000)
    p.add_argument("--no-export", action="store_true")
    p.add_argument("--debug", action="store_true")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from albert_tf.datasets import load
    from albert_tf.training.recipe import train_text_classifier
    from albert_tf.training.splits import label_vocabulary, to_split

    start = time.time()
    data = load(args.dataset)
    print(data.summary(), flush=True)
    vocab = label_vocabulary(data.train, "single_label")
    run_dir = os.path.join(args.out, "run")
    result = train_text_classifier(
        to_split(data.train, vocab, "single_label"),
        to_split(data.validation, vocab, "single_label"),
        to_split(data.test, vocab, "single_label"),
        vocab.names,
        out_dir=run_dir,
        preset=args.preset,
        vocab_size=args.vocab_size,
        epochs=args.epochs,
        batch_size=32,
        learning_rate=2e-4,
        max_length=args.max_length,
        patience=2,
        pretrain_texts=data.train.texts if args.pretrain_epochs else None,
        pretrain_epochs=args.pretrain_epochs,
        info={"dataset": args.dataset},
        verbose=2,
    )
    test = result.metrics["test"]
    summary = {
        "dataset": args.dataset,
        "test_accuracy": round(test["accuracy"], 4),
        "test_macro_f1": round(test["macro_f1"], 4),
        "parameters": result.parameters,
        "pretraining_last_epoch": result.metrics.get("pretraining"),
        "pretrain_epochs": args.pretrain_epochs,
        "train_seconds": round(result.seconds, 1),
        "run_dir": run_dir,
        "confusion_matrix_png": test.get("confusion_matrix_png"),
    }
    if not args.no_export:
        summary.update(_export_and_classify(run_dir, os.path.join(args.out, "bundle")))
    summary["total_seconds"] = round(time.time() - start, 1)
    from albert_tf.training.run_folder import write_text_atomic

    write_text_atomic(os.path.join(args.out, "summary.json"), json.dumps(summary, indent=2))
    print("\n=== albert-tf demo ===")
    for key, value in summary.items():
        print(f"{key:>22}: {value}")
    return 0


def _export_and_classify(run_dir: str, bundle_dir: str) -> dict:
    from export import export_run
    from export.runtime import Classifier

    bundle = export_run(run_dir, bundle_dir, mode="dynamic")
    classifier = Classifier(bundle)
    print("\nEdge runtime (numpy + sentencepiece + LiteRT) on the exported bundle:")
    for text, result in zip(EXAMPLES, classifier.predict(EXAMPLES)):
        print(f"  {result['label']:>10} {result['score']:.2f}  {text}")
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    report = manifest.get("verification", {})
    return {
        "bundle": bundle,
        "bundle_model_bytes": os.path.getsize(os.path.join(bundle, "model.tflite")),
        "export_label_agreement": report.get("label_agreement"),
        "export_max_prob_diff": report.get("max_prob_diff"),
        "export_accuracy_keras": report.get("keras", {}).get("accuracy"),
        "export_accuracy_tflite": report.get("runtime", {}).get("accuracy"),
        "export_accuracy_mediapipe": report.get("mediapipe", {}).get("accuracy"),
    }
