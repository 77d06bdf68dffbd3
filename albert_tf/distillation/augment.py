"""Transfer texts for distillation: perturbed copies of the training texts.

Tang et al. (2019, "Distilling task-specific knowledge from BERT into simple
neural networks"): each copy drops words (p=0.1) and swaps neighbours (p=0.1),
or (p=0.25) keeps a random 1-5 word n-gram of the sentence. The teacher labels
them; no gold label carries over. On movie_reviews more copies raised the
distilled student steadily (see BENCHMARKS.md, distillation sections).

A text longer than `window_words` (news, e-mails) gets windows instead: each
copy is a random run of `window_words` consecutive words. Perturbing the whole
text would change little that the student sees, since its cut keeps only the
head and tail; a window shows it the middle, with the teacher's label for that part.

Example:
>>> augment_texts(["a warm and funny film"], copies=2, seed=0)  # doctest: +SKIP
['a warm funny film', 'warm and']
>>> augment_texts(["w1 w2 w3 w4 w5 w6"], copies=1, window_words=3)  # doctest: +SKIP
['w3 w4 w5']
"""

from __future__ import annotations

import numpy as np


def _perturbed(words: list[str], rng: np.random.Generator) -> list[str]:
    if len(words) > 2 and rng.random() < 0.25:
        n = int(rng.integers(1, 6))
        i = int(rng.integers(0, max(1, len(words) - n + 1)))
        return words[i : i + n]
    words = [w for w in words if rng.random() >= 0.1] or words[:1]
    for i in range(len(words) - 1):
        if rng.random() < 0.1:
            words[i], words[i + 1] = words[i + 1], words[i]
    return words


def augment_texts(
    texts: list[str], copies: int, seed: int = 0, window_words: int | None = None
) -> list[str]:
    """`copies` augmented versions of every text, copy by copy (len = copies * len(texts)):
    a random `window_words`-word window of a longer text, a perturbed copy of the others."""
    if window_words is not None and window_words < 1:
        raise ValueError(f"window_words must be >= 1, got {window_words}")
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        for text in texts:
            words = text.split()
            if window_words is not None and len(words) > window_words:
                start = int(rng.integers(0, len(words) - window_words + 1))
                words = words[start : start + window_words]
            else:
                words = _perturbed(words, rng)
            out.append(" ".join(words))
    return out
