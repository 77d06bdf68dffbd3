"""The n-gram second teacher: its weight against the network is chosen on validation,
and it stays out (weight 1.0) when it adds nothing."""

from __future__ import annotations

import numpy as np

from albert_tf.data.split import Split
from albert_tf.distillation.ngram_teacher import NgramBlend, log_softmax

WORDS = ["film", "plot", "actor", "scene", "story", "music", "cast", "set"]


def _split(n: int, seed: int, cue: bool = True) -> Split:
    rng = np.random.default_rng(seed)
    labels = np.arange(n) % 2
    texts = [
        " ".join(rng.choice(WORDS, 5)) + ((" superb" if y else " awful") if cue else "")
        for y in labels
    ]
    return Split(texts=texts, labels=labels)


def _network(labels: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Confident logits, correct where `right`, wrong elsewhere."""
    predicted = np.where(right, labels, 1 - labels)
    return np.eye(2)[predicted] * 3.0


def test_the_blend_is_chosen_on_validation_and_fixes_the_networks_mistakes():
    train, validation = _split(120, 0), _split(60, 1)
    # The network errs on a third of the validation texts, unsure where it errs.
    right = np.arange(60) % 3 != 0
    logits = _network(validation.labels, right) * np.where(right, 1.0, 0.2)[:, None]
    blend = NgramBlend.fit(train, validation, logits)
    assert blend.weight < 1.0
    accuracy = blend.report["validation_accuracy_by_network_weight"]
    assert accuracy[str(blend.weight)] > accuracy["1.0"] == right.mean()
    blended = blend(validation.texts, logits)
    assert (blended.argmax(-1) == validation.labels).mean() == accuracy[str(blend.weight)]


def test_n_grams_that_add_nothing_leave_the_network_alone():
    train, validation = _split(120, 0, cue=False), _split(60, 1, cue=False)
    logits = _network(validation.labels, np.ones(60, bool))  # always right
    blend = NgramBlend.fit(train, validation, logits)
    assert blend.weight == 1.0
    np.testing.assert_array_equal(blend(validation.texts, logits), logits.astype(np.float32))
    assert np.allclose(np.exp(log_softmax(logits)).sum(-1), 1.0)
