"""Text -> ids/mask/segment_ids as the exported model and MediaPipe expect them.

Imports only numpy and sentencepiece, so the edge runtime can use it.

The packing is MediaPipe's BERT preprocessing for SentencePiece models:
text lower-cased (MediaPipe does so before SentencePiece; models trained here
fold case anyway), then `[CLS] pieces [SEP]`, pieces cut at `max_length - 2` (the
end of a long text is dropped: documented truncation), mask 1 on real tokens,
segment ids 0, padding 0.

Example:
>>> enc = TextEncoder(open("spiece.model", "rb").read())  # doctest: +SKIP
>>> enc.encode("A fine film.", max_length=8)  # doctest: +SKIP
"""

from __future__ import annotations

import numpy as np
import sentencepiece as spm

CLS_PIECE = "[CLS]"
SEP_PIECE = "[SEP]"


class TextEncoder:
    """SentencePiece tokenizer plus [CLS]/[SEP] packing, numpy out."""

    def __init__(self, spiece_model: bytes, source: str = "spiece.model"):
        self.processor = spm.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(spiece_model)
        except Exception as e:
            raise ValueError(f"{source} is not a valid SentencePiece model: {e}") from e
        self.cls_id = self._special(CLS_PIECE, source)
        self.sep_id = self._special(SEP_PIECE, source)
        self.pad_id = max(self.processor.pad_id(), 0)

    def _special(self, piece: str, source: str) -> int:
        piece_id = self.processor.piece_to_id(piece)
        if piece_id == self.processor.unk_id() and piece != self.processor.id_to_piece(piece_id):
            raise ValueError(f"{source} has no {piece} piece; it cannot pack classifier inputs.")
        return int(piece_id)

    def pieces(self, text: str) -> list[int]:
        if not isinstance(text, str):
            raise TypeError(f"Expected a string, got {type(text).__name__}: {text!r}")
        return list(self.processor.encode(text.lower()))

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
