"""MediaPipe Model Maker's average-word-embedding text classifier on the frontier's
split, with Model Maker's own defaults (run in its own venv: it pins TensorFlow
2.15; `make model-maker-venv`). Writes OUT/model.tflite (metadata and tokenizer
inside, for MediaPipe Tasks' TextClassifier) and OUT/report.json.

Example:
    ../mmvenv/bin/python benchmarks/peers/model_maker_train.py --data splits.json --out WORK/mm
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time


def write_csv(path: str, texts: list[str], labels: list[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        w.writerows(zip(texts, labels))


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", required=True, help="splits.json from bench_frontier")
    p.add_argument("--out", required=True)
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    from mediapipe_model_maker import text_classifier

    with open(args.data, encoding="utf-8") as f:
        data = json.load(f)
    names = data["label_names"]
    os.makedirs(args.out, exist_ok=True)
    sets = {}
    for split in ("train", "validation", "test"):
        path = os.path.join(args.out, f"{split}.csv")
        write_csv(path, data[split]["texts"], [names[i] for i in data[split]["labels"]])
        sets[split] = text_classifier.Dataset.from_csv(
            filename=path,
            csv_params=text_classifier.CSVParams(text_column="text", label_column="label"),
        )
    start = time.time()
    options = text_classifier.TextClassifierOptions(
        supported_model=text_classifier.SupportedModels.AVERAGE_WORD_EMBEDDING_CLASSIFIER,
        hparams=text_classifier.AverageWordEmbeddingHParams(export_dir=args.out),
    )
    model = text_classifier.TextClassifier.create(sets["train"], sets["validation"], options)
    train_s = time.time() - start
    _, validation_accuracy = model.evaluate(sets["validation"])
    _, test_accuracy = model.evaluate(sets["test"])
    model.export_model()  # OUT/model.tflite
    report = {
        "model": "average_word_embedding_classifier (Model Maker defaults)",
        "validation_accuracy": float(validation_accuracy),
        "test_accuracy_model_maker": float(test_accuracy),
        "train_s": round(train_s, 1),
    }
    with open(os.path.join(args.out, "report.json"), "w", encoding="utf-8") as f:
        json.dump(report, f, indent=1)
    print(json.dumps(report), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
