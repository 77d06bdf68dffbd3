"""How well a tokenizer reads a set of texts, measured before anything trains on them.

A teacher can only teach what its vocabulary spells: the packaged MiniLM's
WordPiece vocabulary holds 244 CJK characters among 30,522 pieces, so most
characters of a Chinese review become [UNK] and the fine-tuned teacher learns
from the few that remain. The recipe measures this on the user's texts and
says so, instead of training on.

Example:
>>> from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
>>> tok = WordPieceTokenizer.load("tests/fixtures/hf/bert_tiny/vocab.txt")
>>> tokenizer_coverage(tok, ["the film"]).unknown_pieces  # doctest: +SKIP
0.0
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Any

from albert_tf.distillation.augment import text_units

# A tokenizer that leaves more of the texts' characters than this unspelled
# cannot read them: English with some emoji stays near 0.01, MiniLM on Chinese
# reviews measures 0.7.
MAX_UNKNOWN_CHARACTERS = 0.05
SAMPLE = 2000


@dataclasses.dataclass(frozen=True)
class Coverage:
    """`unknown_pieces`: share of the pieces that are the unknown piece;
    `unknown_characters`: share of the non-space characters (counted with their
    frequency) in words the vocabulary cannot spell (a word: what spaces separate,
    or one character of a script written without spaces, as in `text_units`);
    `characters_per_piece`: non-space characters per piece; `unknown_examples`:
    the most frequent of those words."""

    unknown_pieces: float
    unknown_characters: float
    characters_per_piece: float
    unknown_examples: str

    @property
    def readable(self) -> bool:
        return self.unknown_characters <= MAX_UNKNOWN_CHARACTERS

    def describe(self, name: str) -> str:
        line = (
            f"{name} reads {1 - self.unknown_characters:.1%} of the texts' characters "
            f"({self.unknown_pieces:.1%} of its pieces are unknown, "
            f"{self.characters_per_piece:.2f} characters per piece)"
        )
        if self.unknown_examples:
            line += f"; unknown to it: {self.unknown_examples}"
        return line

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _unknown_id(tokenizer: Any) -> int:
    # WordPiece reads it from vocab.txt; SentencePiece models here have <unk>=1.
    return int(getattr(tokenizer, "unk_id", 1))


def _encode_all(tokenizer: Any, texts: list[str]) -> list[list[int]]:
    batch = getattr(tokenizer, "_encode_batch", None)  # WordPiece: one TF call, not one a text
    return batch(texts) if batch else [tokenizer.encode(t) for t in texts]


def tokenizer_coverage(tokenizer: Any, texts: list[str]) -> Coverage:
    """Measure `tokenizer` (WordPiece or SentencePiece) on about SAMPLE of `texts`."""
    sample = list(texts)[:: max(1, len(texts) // SAMPLE)]
    unk = _unknown_id(tokenizer)
    encoded = _encode_all(tokenizer, sample)
    pieces = sum(len(ids) for ids in encoded)
    unknown = sum(1 for ids in encoded for i in ids if i == unk)
    words = collections.Counter(u for text in sample for u, _ in text_units(text))
    alone = dict(zip(words, _encode_all(tokenizer, list(words))))
    missing = {w: n * len(w) for w, n in words.items() if unk in alone[w]}
    chars = sum(n * len(w) for w, n in words.items())
    examples = sorted(missing, key=missing.get, reverse=True)[:10]
    return Coverage(
        unknown_pieces=unknown / max(1, pieces),
        unknown_characters=sum(missing.values()) / max(1, chars),
        characters_per_piece=chars / max(1, pieces),
        unknown_examples=" ".join(examples),
    )
