"""The floor a classifier must beat: TF-IDF + logistic regression on the same split.

What a user gets in a minute without us: word and bigram TF-IDF (sublinear tf)
and a logistic regression on the whole training split, its C chosen on the
validation split (never the test split), then refitted on the training split
and scored on the test split.

Example:
>>> floor = tfidf_logistic_regression(train, validation, test)  # doctest: +SKIP
>>> floor["test_accuracy"], floor["C"]  # doctest: +SKIP
(0.793, 10.0)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

C_GRID = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0)


def _fit(texts, labels, c: float):
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    model = make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, lowercase=True),
        LogisticRegression(C=c, max_iter=3000),
    )
    return model.fit(list(texts), np.asarray(labels))


def tfidf_logistic_regression(train, validation, test, c_grid=C_GRID) -> dict[str, Any]:
    """Splits with `.texts` and `.labels` (label indices); returns accuracies, C, seconds."""
    start = time.time()
    held_out = validation if validation is not None and len(validation.texts) else None
    scores = {}
    if held_out is not None:
        for c in c_grid:
            predicted = _fit(train.texts, train.labels, c).predict(list(held_out.texts))
            scores[c] = float((predicted == np.asarray(held_out.labels)).mean())
    best = max(scores, key=scores.get) if scores else 10.0
    model = _fit(train.texts, train.labels, best)
    out: dict[str, Any] = {"C": best, "validation_accuracy": scores.get(best)}
    if test is not None and len(test.texts):
        predicted = model.predict(list(test.texts))
        out["test_accuracy"] = float((predicted == np.asarray(test.labels)).mean())
    out["seconds"] = round(time.time() - start, 1)
    return out
