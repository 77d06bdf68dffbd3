"""`[CLS] pieces [SEP]` packing shared by both edge tokenizers (numpy only).

This is MediaPipe's `BertPreprocessorCalculator` packing, which the exported
models expect: `[CLS]`, the pieces cut at `max_length - 2` (the end of a long
text is dropped), `[SEP]`; mask 1 on real tokens; segment ids 0; padding id 0
(MediaPipe fills the id tensor with zeros whatever the vocabulary's pad token
is; the mask hides those positions, so the choice never changes a result).

A subclass supplies `pieces(text)` (the token ids of one text) and sets
`cls_id` and `sep_id`.
"""

from __future__ import annotations

import numpy as np

# MediaPipe pads the id tensor with zeros (its tensors start zero-filled).
PAD_ID = 0


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
        ids = [self.cls_id] + list(pieces[: max_length - 2]) + [self.sep_id]
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


def check_text(text) -> str:
    if not isinstance(text, str):
        raise TypeError(f"Expected a string, got {type(text).__name__}: {text!r}")
    return text
