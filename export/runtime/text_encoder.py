"""Text -> ids/mask/segment_ids for SentencePiece bundles, as MediaPipe packs them.

Imports only numpy and sentencepiece, so the edge runtime can use it.

MediaPipe's BERT preprocessing for SentencePiece models: the text is cut at
its first NUL and ASCII-lower-cased (A-Z only, `absl::AsciiStrToLower`; models
trained here fold case in their normalizer anyway), tokenized by SentencePiece,
then packed as `[CLS] pieces [SEP]` (see `export.runtime.packing`).

Example:
>>> enc = TextEncoder(open("spiece.model", "rb").read())  # doctest: +SKIP
>>> enc.encode("A fine film.", max_length=8)  # doctest: +SKIP
"""

from __future__ import annotations

import sentencepiece as spm

from export.runtime.packing import PackingEncoder, mediapipe_text

CLS_PIECE = "[CLS]"
SEP_PIECE = "[SEP]"


class TextEncoder(PackingEncoder):
    """SentencePiece tokenizer plus [CLS]/[SEP] packing, numpy out."""

    kind = "sentencepiece"

    def __init__(self, spiece_model: bytes, source: str = "spiece.model"):
        self.processor = spm.SentencePieceProcessor()
        try:
            self.processor.LoadFromSerializedProto(spiece_model)
        except Exception as e:
            raise ValueError(f"{source} is not a valid SentencePiece model: {e}") from e
        self.cls_id = self._special(CLS_PIECE, source)
        self.sep_id = self._special(SEP_PIECE, source)

    def _special(self, piece: str, source: str) -> int:
        piece_id = self.processor.piece_to_id(piece)
        if piece_id == self.processor.unk_id() and piece != self.processor.id_to_piece(piece_id):
            raise ValueError(f"{source} has no {piece} piece; it cannot pack classifier inputs.")
        return int(piece_id)

    def pieces(self, text: str) -> list[int]:
        return list(self.processor.encode(mediapipe_text(text)))
