"""Transfer texts for distillation: perturbed copies of the training sentences.

Tang et al. (2019, "Distilling task-specific knowledge from BERT into simple
neural networks"): each copy drops words (p=0.1) and swaps neighbours (p=0.1),
or (p=0.25) keeps a random 1-5 word n-gram of the sentence. The teacher labels
them; no gold label carries over. On movie_reviews more copies raised the
distilled student steadily (see BENCHMARKS.md, distillation sections).

Example:
>>> augment_texts(["a warm and funny film"], copies=2, seed=0)  # doctest: +SKIP
['a warm funny film', 'warm and']
"""

from __future__ import annotations

import numpy as np


def augment_texts(texts: list[str], copies: int, seed: int = 0) -> list[str]:
    """`copies` perturbed versions of every text, copy by copy (len = copies * len(texts))."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        for text in texts:
            words = text.split()
            if len(words) > 2 and rng.random() < 0.25:
                n = int(rng.integers(1, 6))
                i = int(rng.integers(0, max(1, len(words) - n + 1)))
                words = words[i : i + n]
            else:
                words = [w for w in words if rng.random() >= 0.1] or words[:1]
                for i in range(len(words) - 1):
                    if rng.random() < 0.1:
                        words[i], words[i + 1] = words[i + 1], words[i]
            out.append(" ".join(words))
    return out
