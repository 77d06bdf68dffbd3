"""The TF-IDF floor picks word or character n-grams on validation, as a user who knows
the language would: text written without spaces has no words to count."""

from __future__ import annotations

import numpy as np

from albert_tf.data.split import Split
from albert_tf.training.baselines import tfidf_logistic_regression

FILLER = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可也你"


def _split(n: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for i in range(n):
        words = "".join(rng.choice(list(FILLER), 12))
        label = i % 2
        # The label is one word inside an unspaced sentence: every text is one "word".
        texts.append(words[:6] + ("很好" if label else "很差") + words[6:])
        labels.append(label)
    return Split(texts=texts, labels=np.array(labels))


def test_character_ngrams_win_on_unspaced_text_and_are_chosen_on_validation():
    floor = tfidf_logistic_regression(_split(200, 0), _split(60, 1), _split(60, 2))
    assert floor["features"] == "char"
    assert floor["validation_by_features"]["char"] == 1.0
    assert floor["validation_by_features"]["word"] < 0.7  # unseen one-word texts: chance
    assert floor["test_accuracy"] == 1.0


def test_word_ngrams_stay_available_for_spaced_text():
    rng = np.random.default_rng(0)

    def split(n):
        words = ["film", "plot", "actor", "scene", "story", "music", "cast"]
        texts = [
            " ".join(rng.choice(words, 6)) + (" superb" if i % 2 else " awful") for i in range(n)
        ]
        return Split(texts=texts, labels=np.array([i % 2 for i in range(n)]))

    floor = tfidf_logistic_regression(split(100), split(40), split(40), features=("word",))
    assert floor["features"] == "word" and floor["test_accuracy"] == 1.0
