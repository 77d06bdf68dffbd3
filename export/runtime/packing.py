"""`[CLS] pieces [SEP]` packing shared by both edge tokenizers (numpy only).

This is MediaPipe's `BertPreprocessorCalculator` packing, which the exported
models expect: `[CLS]`, the pieces cut at `max_length - 2` (the end of a long
text is dropped), `[SEP]`; mask 1 on real tokens; segment ids 0; padding id 0
(MediaPipe fills the id tensor with zeros whatever the vocabulary's pad token
is; the mask hides those positions, so the choice never changes a result).

A bundle of a run trained on head + tail cuts (a dynamic-length one: MediaPipe
feeds it the whole text and its graph cuts) records
``"truncation_rule": {"keep": "head_tail", "head_pieces": H, "tail_pieces": T}``;
its encoder's `head_pieces` is then H, and a long text keeps its first H and
last T pieces, the cut of the run's tokenizer. Without the entry, the head.

A subclass supplies `pieces(text)` (the token ids of one text) and sets
`cls_id` and `sep_id`.
"""

from __future__ import annotations

import numpy as np

# MediaPipe pads the id tensor with zeros (its tensors start zero-filled).
PAD_ID = 0
TRUNCATION_RULE = "truncation_rule"


def ascii_lower(text: str) -> str:
    """A-Z -> a-z and nothing else, as `absl::AsciiStrToLower`, which MediaPipe's
    BertPreprocessor applies to every text before either tokenizer."""
    return text.translate(_ASCII_LOWER)


def mediapipe_text(text: str) -> str:
    """The text as MediaPipe's tokenizers see it: cut at the first NUL (MediaPipe
    reads it as a C string; measured for both tokenizers) and ASCII-lower-cased."""
    return ascii_lower(check_text(text).split("\0", 1)[0])


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")


class PackingEncoder:
    """Base class: text -> int32 (ids, mask, segment_ids) of shape [1, length]."""

    kind = "unknown"
    cls_id: int
    sep_id: int
    pad_id: int = PAD_ID
    # Pieces a long text keeps from its start (the rest of the budget from its
    # end); None keeps the start only (`head_pieces_of` reads a bundle's).
    head_pieces: int | None = None

    def pieces(self, text: str) -> list[int]:  # pragma: no cover - abstract
        raise NotImplementedError

    def token_count(self, text: str) -> int:
        """Length of the packed sequence before truncation ([CLS] and [SEP] included)."""
        return len(self.pieces(text)) + 2

    def encode(self, text: str, max_length: int, pad_to: int | None = None):
        """(ids, mask, segment_ids), each int32 [1, length]; length is the packed
        length capped at `max_length`, or `pad_to` when given."""
        return self.pack(self.pieces(text), max_length, pad_to)

    def pack(self, pieces: list[int], max_length: int, pad_to: int | None = None):
        """`encode` for already tokenized pieces."""
        if max_length < 3:
            raise ValueError(f"max_length must be at least 3, got {max_length}.")
        ids = [self.cls_id, *keep_pieces(pieces, max_length - 2, self.head_pieces), self.sep_id]
        length = len(ids) if pad_to is None else pad_to
        if length < len(ids):
            raise ValueError(f"pad_to {pad_to} is shorter than the packed text ({len(ids)}).")
        out = np.full((1, length), self.pad_id, dtype=np.int32)
        out[0, : len(ids)] = ids
        mask = np.zeros((1, length), dtype=np.int32)
        mask[0, : len(ids)] = 1
        return out, mask, np.zeros((1, length), dtype=np.int32)

    def encode_batch(self, texts: list[str], max_length: int, pad_to: int | None = None):
        """Stacked (ids, mask, segment_ids) [batch, length], padded to the longest
        packed text (or `pad_to`)."""
        lengths = [min(self.token_count(t), max_length) for t in texts]
        width = pad_to if pad_to is not None else max(lengths)
        rows = [self.encode(t, max_length, pad_to=width) for t in texts]
        return tuple(np.concatenate([r[i] for r in rows], axis=0) for i in range(3))


def keep_pieces(pieces: list[int], budget: int, head: int | None = None) -> list[int]:
    """All `pieces` if they fit in `budget`, else the first `head` (all of the
    budget for None) and the last `budget - head` (`cut_bounds`).

    Example:
    >>> keep_pieces(list(range(10)), 4, 3)
    [0, 1, 2, 9]
    """
    split, start = cut_bounds(len(pieces), budget, head)
    return [*pieces[:split], *pieces[start:]]


def cut_bounds(length, budget: int, head: int | None = None, ops=None):
    """The head + tail cut, the one rule for Python and graph code: a sequence of
    `length` items keeps positions [0, split) and [start, length).

    Sequences that fit in `budget` keep everything (split == start); longer ones
    keep their first `head` items (all of the budget for None) and their last
    `budget - head`. `ops` is None for Python ints, or a module with `minimum` and
    `maximum` (`tf`) for tensors: the training graph packer (`albert_tf.tokenizers.sentencepiece`)
    and the exported graph (`export.serving`) cut with it, so they cut as
    `keep_pieces` does.
    """
    tail = 0 if head is None else budget - head
    minimum, maximum = (min, max) if ops is None else (ops.minimum, ops.maximum)
    return maximum(minimum(length, budget) - tail, 0), maximum(length - tail, 0)


def head_pieces_of(manifest: dict, max_length: int) -> int | None:
    """The head pieces a bundle's "truncation_rule" keeps; None (head only) without one.

    Raises:
        ValueError: a rule that is not an object, names another cut, or whose
            counts do not add up to `max_length - 2`.
    """
    rule = manifest.get(TRUNCATION_RULE)
    if rule is None:
        return None
    budget = int(max_length) - 2
    if not isinstance(rule, dict) or rule.get("keep") != "head_tail":
        raise ValueError(f'field {TRUNCATION_RULE!r} must be {{"keep": "head_tail", ...}}')
    head, tail = rule.get("head_pieces"), rule.get("tail_pieces")
    counts = (head, tail)
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise ValueError(f"field {TRUNCATION_RULE!r}: head_pieces/tail_pieces must be integers")
    if head + tail != budget:
        raise ValueError(
            f"field {TRUNCATION_RULE!r}: head_pieces {head} + tail_pieces {tail} != "
            f"max_length - 2 = {budget}"
        )
    return head


def check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"Expected a string, got {type(text).__name__}: {text!r}")
    return text
