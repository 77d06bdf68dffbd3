"""Transfer texts for distillation: perturbed copies of the training texts.

Tang et al. (2019, "Distilling task-specific knowledge from BERT into simple
neural networks"): each copy drops units (p=0.1) and swaps neighbours (p=0.1),
or (p=0.25) keeps a random 1-5 unit n-gram of the sentence. The teacher labels
them; no gold label carries over. On movie_reviews more copies raised the
distilled student steadily (see BENCHMARKS.md, distillation sections).

A unit is a word where the script separates words by spaces, and a single
character where it does not (Chinese, Japanese kana and kanji, Thai, Lao,
Khmer, Myanmar): a Chinese review has no spaces, so whitespace words would
make the whole review one "word" that no perturbation changes.

A text longer than `window_chars` non-space characters (news, e-mails) gets
windows instead: each copy is a random run of whole units holding about
`window_chars` characters. Perturbing the whole text would change little that the
student sees, since its cut keeps only the head and tail; a window shows it the
middle, with the teacher's label for that part.

Example:
>>> augment_texts(["a warm and funny film"], copies=2, seed=0)  # doctest: +SKIP
['a warm funny film', 'warm and']
>>> augment_texts(["这部电影很好看"], copies=1, seed=1)  # doctest: +SKIP
['这部电很好看']
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np

# Scripts written without spaces between words: each character is a unit.
_UNSPACED = (
    "\u0e00-\u0eff"  # Thai, Lao
    "\u1000-\u109f"  # Myanmar
    "\u1780-\u17ff"  # Khmer
    "\u2e80-\u2fdf"  # CJK radicals
    "\u3000-\u303f"  # CJK punctuation
    "\u3040-\u30ff"  # Hiragana, Katakana
    "\u3100-\u31ff"  # Bopomofo, Katakana extension
    "\u3400-\u4dbf"  # CJK extension A
    "\u4e00-\u9fff"  # CJK unified ideographs
    "\uf900-\ufaff"  # CJK compatibility ideographs
    "\uff00-\uffef"  # full-width forms
    "\U00020000-\U0003134f"  # CJK extensions B-G
)
_UNIT = re.compile(f"([{_UNSPACED}]|[^\\s{_UNSPACED}]+)(\\s*)")


def text_units(text: str) -> list[tuple[str, str]]:
    """(unit, whitespace after it) pairs; joined back they give `text` less its
    leading whitespace. A combining mark (Thai vowels, say) stays with its base."""
    units: list[tuple[str, str]] = []
    for match in _UNIT.finditer(text):
        unit, space = match.group(1), match.group(2)
        if units and not units[-1][1] and unicodedata.category(unit[0]) in ("Mn", "Mc"):
            units[-1] = (units[-1][0] + unit, space)
        else:
            units.append((unit, space))
    return units


def _joined(units: list[tuple[str, str]]) -> str:
    return "".join(unit + space for unit, space in units).strip()


def _perturbed(units: list[tuple[str, str]], rng: np.random.Generator) -> list[tuple[str, str]]:
    if len(units) > 2 and rng.random() < 0.25:
        n = int(rng.integers(1, 6))
        i = int(rng.integers(0, max(1, len(units) - n + 1)))
        return units[i : i + n]
    units = [u for u in units if rng.random() >= 0.1] or units[:1]
    for i in range(len(units) - 1):
        if rng.random() < 0.1:
            # Swap the units, keep the spacing where it was.
            (a, space_a), (b, space_b) = units[i], units[i + 1]
            units[i], units[i + 1] = (b, space_a), (a, space_b)
    return units


def _window(
    units: list[tuple[str, str]], window_chars: int, rng: np.random.Generator
) -> list[tuple[str, str]]:
    """A random run of whole units holding at most `window_chars` characters (at
    least one unit)."""
    ends = np.cumsum([len(unit) for unit, _ in units])
    last_start = int(np.searchsorted(ends, ends[-1] - window_chars, side="right"))
    start = int(rng.integers(0, last_start + 1))
    before = ends[start - 1] if start else 0
    stop = int(np.searchsorted(ends, before + window_chars, side="right"))
    return units[start : max(stop, start + 1)]


def augment_texts(
    texts: list[str], copies: int, seed: int = 0, window_chars: int | None = None
) -> list[str]:
    """`copies` augmented versions of every text, copy by copy (len = copies * len(texts)):
    a random window of about `window_chars` characters of a longer text, a
    perturbed copy of the others."""
    if window_chars is not None and window_chars < 1:
        raise ValueError(f"window_chars must be >= 1, got {window_chars}")
    rng = np.random.default_rng(seed)
    split = [text_units(text) for text in texts]
    out = []
    for _ in range(copies):
        for units in split:
            if not units:
                out.append("")
            elif window_chars is not None and sum(len(u) for u, _ in units) > window_chars:
                out.append(_joined(_window(units, window_chars, rng)))
            else:
                out.append(_joined(_perturbed(units, rng)))
    return out
