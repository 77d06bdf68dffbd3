"""An n-gram model as a second teacher: the fine-tuned network and TF-IDF + logistic
regression, blended, label the texts the student learns from.

The two make different mistakes. On THUCNews headlines (Chinese, 10 topics,
997 validation texts) the e5 teacher scored 0.874, character n-grams 0.863, and
their geometric blend 0.904-0.908; the student distils the blend. The weight of
the network, `NETWORK_WEIGHTS`, is chosen on the validation split by the blend's
accuracy (1.0, the network alone, when the n-grams add nothing), and the n-gram
model is the floor's (`albert_tf.training.baselines.best_tfidf_model`: word or character
n-grams, C chosen on validation) fitted on the training split only.

Blended scores are log-probabilities: `w * log p_network + (1 - w) * log p_ngrams`,
which the Distiller softens by its temperature like any logits.

Example:
>>> blend = NgramBlend.fit(train, validation, teacher_validation_logits)  # doctest: +SKIP
>>> blend.weight, blend(texts, teacher_logits).shape  # doctest: +SKIP
(0.7, (8454, 2))
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from albert_tf.training.baselines import best_tfidf_model

NETWORK_WEIGHTS = (1.0, 0.7, 0.5)
# Fewer C values than the floor's grid: the blend is refitted in every run.
C_GRID = (3.0, 10.0, 30.0)
_FLOOR = 1e-7


def log_softmax(logits: np.ndarray) -> np.ndarray:
    x = np.asarray(logits, np.float64)
    x = x - x.max(axis=-1, keepdims=True)
    return x - np.log(np.exp(x).sum(axis=-1, keepdims=True))


@dataclasses.dataclass
class NgramBlend:
    """The fitted n-gram model, the network's weight and what chose it."""

    model: Any
    weight: float
    report: dict[str, Any]

    @classmethod
    def fit(cls, train, validation, network_validation_logits: np.ndarray) -> NgramBlend:
        """Fit the n-gram model on `train` and choose the weight on `validation`
        (splits with `.texts` and label indices in the student's order)."""
        model, features, c, _ = best_tfidf_model(train, validation, C_GRID)
        blend = cls(model, 1.0, {})
        gold = np.asarray(validation.labels)
        ngram = blend.ngram_log_probs(validation.texts)
        network = log_softmax(network_validation_logits)
        scores = {
            w: float(((w * network + (1 - w) * ngram).argmax(-1) == gold).mean())
            for w in NETWORK_WEIGHTS
        }
        blend.weight = max(NETWORK_WEIGHTS, key=lambda w: (scores[w], w))  # ties: the network
        blend.report = {
            "ngram_features": features,
            "ngram_C": c,
            "ngram_validation_accuracy": float((ngram.argmax(-1) == gold).mean()),
            "validation_accuracy_by_network_weight": {str(w): v for w, v in scores.items()},
            "network_weight": blend.weight,
        }
        return blend

    def ngram_log_probs(self, texts: list[str]) -> np.ndarray:
        probs = self.model.predict_proba(list(texts))
        return np.log(np.clip(probs, _FLOOR, 1.0))

    def __call__(self, texts: list[str], network_logits: np.ndarray) -> np.ndarray:
        """Blended scores of `texts` from the network's logits of the same texts."""
        if self.weight == 1.0:
            return np.asarray(network_logits, np.float32)
        mixed = self.weight * log_softmax(network_logits)
        mixed += (1 - self.weight) * self.ngram_log_probs(texts)
        return mixed.astype(np.float32)
