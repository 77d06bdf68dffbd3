"""Check an exported model against the Keras model it came from.

Three independent paths classify the same held-out texts:
- Keras: the trained model on the run tokenizer's packing (`AlbertTokenizer`);
- our edge runtime (`export.runtime.Classifier`: LiteRT + our own packing);
- MediaPipe's TextClassifier (its own C++ tokenizer, reading only the metadata).
The report holds each one's accuracy (when gold labels are given), label
agreement with Keras and the largest probability difference, and how many texts
the bundle's tokenizer (MediaPipe's) packs into other ids than the run's
tokenizer does: for WordPiece bundles MediaPipe lower-cases ASCII only and keeps
accents (`export.runtime.wordpiece_encoder`), so accented texts can differ.

Example:
>>> report = verify_bundle(model, tokenizer, "bundle_dir", texts, gold)  # doctest: +SKIP
>>> report["runtime"]["agreement"]  # doctest: +SKIP
1.0
"""

from __future__ import annotations

import os

import numpy as np

from export.runtime import LITERT_NOTICES, Classifier
from export.runtime.quiet_stderr import filtered_stderr

MIN_AGREEMENT = 0.99
MAX_ACCURACY_DROP = 0.01


def keras_probabilities(model, tokenizer, texts, max_length: int, task: str) -> np.ndarray:
    batch = tokenizer(list(texts), max_length=max_length, padding="max_length")
    logits = model.predict(
        {
            "token_ids": batch["token_ids"],
            "segment_ids": batch["segment_ids"],
            "padding_mask": batch["padding_mask"],
        },
        batch_size=64,
        verbose=0,
    )
    logits = np.asarray(logits, np.float64)
    if task == "multi_label":
        return 1.0 / (1.0 + np.exp(-logits))
    logits = logits - logits.max(axis=-1, keepdims=True)
    e = np.exp(logits)
    return e / e.sum(axis=-1, keepdims=True)


def mediapipe_probabilities(model_path: str, texts, num_labels: int) -> np.ndarray:
    """Scores from MediaPipe's TextClassifier, ordered by label index."""
    from mediapipe.tasks.python import text as mp_text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    options = mp_text.TextClassifierOptions(
        base_options=BaseOptions(model_asset_path=os.path.abspath(model_path)),
        max_results=-1,
    )
    out = np.zeros((len(texts), num_labels), np.float64)
    with (
        filtered_stderr(LITERT_NOTICES),
        mp_text.TextClassifier.create_from_options(options) as classifier,
    ):
        for i, text in enumerate(texts):
            result = classifier.classify(text)
            for category in result.classifications[0].categories:
                out[i, category.index] = category.score
    return out


def tokenization_difference(tokenizer, encoder, texts, max_length: int) -> dict:
    """Texts whose packed ids differ between the run's tokenizer and the bundle's encoder."""
    batch = tokenizer(list(texts), max_length=max_length, padding="max_length")
    differing = 0
    for i, text in enumerate(texts):
        keras_ids = np.asarray(batch["token_ids"][i])[np.asarray(batch["padding_mask"][i]) > 0]
        ids, mask, _ = encoder.encode(text, max_length)
        differing += not np.array_equal(keras_ids, ids[0][mask[0] > 0])
    return {
        "kind": encoder.kind,
        "texts_with_other_ids": int(differing),
        "fraction": differing / max(len(texts), 1),
    }


def _decisions(probs: np.ndarray, task: str) -> np.ndarray:
    return probs > 0.5 if task == "multi_label" else probs.argmax(axis=-1)


def _accuracy(probs: np.ndarray, gold, task: str) -> float | None:
    if gold is None or task == "multi_label":
        return None
    return float((probs.argmax(axis=-1) == np.asarray(gold)).mean())


def compare(reference: np.ndarray, other: np.ndarray, gold, task: str) -> dict:
    same = _decisions(reference, task) == _decisions(other, task)
    if same.ndim > 1:
        same = same.all(axis=-1)
    return {
        "agreement": float(same.mean()),
        "max_prob_diff": float(np.abs(reference - other).max()),
        "mean_prob_diff": float(np.abs(reference - other).mean()),
        "accuracy": _accuracy(other, gold, task),
    }


def verify_bundle(
    model,
    tokenizer,
    bundle_dir: str,
    texts: list[str],
    gold: list[int] | None = None,
    task: str = "single_label",
    max_length: int = 128,
    use_mediapipe: bool = True,
    min_agreement: float = MIN_AGREEMENT,
    max_accuracy_drop: float = MAX_ACCURACY_DROP,
) -> dict:
    """Run the three paths on `texts`; return the report (`passed` says if it holds).

    A path passes when its label agreement with Keras is at least `min_agreement`
    and (with gold labels) its accuracy is at most `max_accuracy_drop` below Keras.
    """

    if not texts:
        raise ValueError("Verification needs at least one held-out text.")
    keras_probs = keras_probabilities(model, tokenizer, texts, max_length, task)
    runtime = Classifier(bundle_dir)
    report = {
        "num_texts": len(texts),
        "thresholds": {"min_agreement": min_agreement, "max_accuracy_drop": max_accuracy_drop},
        "keras": {"accuracy": _accuracy(keras_probs, gold, task)},
        "runtime": compare(keras_probs, runtime.predict_proba(texts), gold, task),
        "tokenization": tokenization_difference(tokenizer, runtime.encoder, texts, max_length),
    }
    if use_mediapipe:
        mp_probs = mediapipe_probabilities(runtime.model_path, texts, len(runtime.labels))
        report["mediapipe"] = compare(keras_probs, mp_probs, gold, task)
    paths = [p for p in ("runtime", "mediapipe") if p in report]
    # Headline numbers: the worst path.
    report["label_agreement"] = min(report[p]["agreement"] for p in paths)
    report["max_prob_diff"] = max(report[p]["max_prob_diff"] for p in paths)
    failures = []
    for path in paths:
        result = report[path]
        if result["agreement"] < min_agreement:
            failures.append(
                f"{path}: label agreement with Keras {result['agreement']:.3f} < {min_agreement}"
            )
        keras_acc = report["keras"]["accuracy"]
        if keras_acc is not None and result["accuracy"] < keras_acc - max_accuracy_drop:
            failures.append(
                f"{path}: accuracy {result['accuracy']:.3f} is more than {max_accuracy_drop:.2f} "
                f"below Keras {keras_acc:.3f}"
            )
    report["passed"] = not failures
    report["failures"] = failures
    return report
