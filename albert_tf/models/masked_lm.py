"""AlbertMaskedLM: masked-LM logits at every position, and fill-mask from text."""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.backbone_task import BackboneTask
from albert_tf.models.masked_lm_head import MaskedLMHead

MASK_TOKEN = "[MASK]"
CLS_ID, SEP_ID, MASK_ID, PAD_ID = 2, 3, 4, 0


@keras.saving.register_keras_serializable(package="albert_tf")
class AlbertMaskedLM(BackboneTask):
    """Backbone + tied masked-LM head: logits [batch, seq, V] for every position.

    The head (layer "mlm_head") is the pretrainer's, so weights move freely
    between the two; Hugging Face `AlbertForMaskedLM` maps onto it.

    Args:
        backbone: an `AlbertBackbone`.

    Example:
    >>> import numpy as np
    >>> from albert_tf import AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=100))
    >>> model = AlbertMaskedLM(backbone)
    >>> model.predict({"token_ids": np.ones((1, 8), "int32"),
    ...                "segment_ids": np.zeros((1, 8), "int32"),
    ...                "padding_mask": np.ones((1, 8), "int32")}, verbose=0).shape
    (1, 8, 100)
    """

    def __init__(self, backbone: AlbertBackbone, **kwargs):
        # === Layers ===
        head = MaskedLMHead.for_backbone(backbone)

        # === Functional model ===
        inputs = backbone.input
        sequence_output = backbone(inputs)["sequence_output"]
        logits = head(sequence_output)
        super().__init__(inputs=inputs, outputs=logits, **kwargs)

        # === Config ===
        self.backbone = backbone
        self.mlm_head = head

    def predict_masked(
        self, texts: str | list[str], tokenizer: Any, top_k: int = 5, max_length: int = 512
    ) -> list[list[list[dict[str, Any]]]]:
        """Fill in each `[MASK]` of each text with the `top_k` likeliest tokens.

        Args:
            texts: a string or list of strings containing the literal `[MASK]`.
            tokenizer: an `AlbertTokenizer` or a `sentencepiece.SentencePieceProcessor`
                (anything with `encode(text) -> ids` and `decode(ids) -> str`).
            top_k: candidates per mask.
            max_length: longest packed sequence; longer texts raise an error.

        Returns:
            For each text, for each `[MASK]` in order, a list of
            `{"token": str, "token_id": int, "score": float}` (softmax
            probability), best first.

        Example:
        >>> model.predict_masked("the movie was [MASK] good.", tok, top_k=3)  # doctest: +SKIP
        [[[{'token': 'very', 'token_id': 175, 'score': 0.41}, ...]]]
        """
        if isinstance(texts, str):
            texts = [texts]
        if top_k < 1:
            raise ValueError(f"top_k must be >= 1, got {top_k}.")
        rows = [self._encode_with_masks(t, tokenizer, i, max_length) for i, t in enumerate(texts)]
        seq_len = max(len(r) for r in rows)
        token_ids = np.full((len(rows), seq_len), PAD_ID, "int32")
        padding_mask = np.zeros((len(rows), seq_len), "int32")
        for i, r in enumerate(rows):
            token_ids[i, : len(r)] = r
            padding_mask[i, : len(r)] = 1
        logits = self.predict(
            {
                "token_ids": token_ids,
                "segment_ids": np.zeros_like(token_ids),
                "padding_mask": padding_mask,
            },
            verbose=0,
        )
        results = []
        for i, r in enumerate(rows):
            per_text = []
            for pos in np.flatnonzero(np.asarray(r) == MASK_ID):
                row = logits[i, pos].astype("float64")
                probs = np.exp(row - row.max())
                probs /= probs.sum()
                best = np.argsort(-probs)[:top_k]
                per_text.append(
                    [
                        {
                            "token": _piece(tokenizer, int(t)),
                            "token_id": int(t),
                            "score": float(probs[t]),
                        }
                        for t in best
                    ]
                )
            results.append(per_text)
        return results

    @staticmethod
    def _encode_with_masks(text: str, tokenizer: Any, index: int, max_length: int) -> list[int]:
        # SentencePiece would split the literal "[MASK]" into pieces, so the
        # text is cut at each marker and the [MASK] id put back in between.
        parts = text.split(MASK_TOKEN)
        if len(parts) < 2:
            raise ValueError(f"texts[{index}] has no {MASK_TOKEN} to fill: {text!r}")
        ids = [CLS_ID]
        for j, part in enumerate(parts):
            if part.strip():
                ids.extend(int(t) for t in tokenizer.encode(part))
            if j < len(parts) - 1:
                ids.append(MASK_ID)
        ids.append(SEP_ID)
        if len(ids) > max_length:
            raise ValueError(
                f"texts[{index}] is {len(ids)} tokens long with [CLS]/[SEP], more than "
                f"max_length={max_length}."
            )
        return ids


def _piece(tokenizer: Any, token_id: int) -> str:
    # Prefer the raw piece ("▁word") stripped of its word marker; decode()
    # of a single id gives the same text for most tokenizers.
    for attr in ("id_to_token", "id_to_piece", "IdToPiece"):
        fn = getattr(tokenizer, attr, None) or getattr(getattr(tokenizer, "sp", None), attr, None)
        if fn is not None:
            return str(fn(token_id)).replace("\u2581", "")
    return str(tokenizer.decode([token_id])).strip()
