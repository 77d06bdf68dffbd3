"""What every recipe starts from (fine-tuning, the task heads, distillation,
pre-training): the tokenizer choice and a fresh backbone of a preset shape.
The optimizer set-up is `albert_tf.training.optimizers.compile_for_training`."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable
from typing import Any

from albert_tf.config import AlbertConfig
from albert_tf.convert import load_tokenizer
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, RUN_TRUNCATION, AlbertTokenizer

# Room for longer inputs later (fine-tuning at 512 after training at 128)
# costs only a small table.
MIN_POSITIONS = 512


# The SentencePiece vocabulary a new run trains when none is asked for; fewer
# pieces when the texts are too few for it (3,608 sms_spam texts allow 5,165).
DEFAULT_VOCAB_SIZE = 8000


def build_tokenizer(
    texts: Iterable[str] | Callable[[], Iterable[str]],
    out_dir: str,
    vocab_size: int | None = None,
    tokenizer_path: str | None = None,
    pretrained: str | None = None,
) -> Any:
    """The tokenizer of a new run: `tokenizer_path` when given, else the
    `pretrained` checkpoint's, else a SentencePiece model trained on `texts`
    (a callable is called only then, so a file is read only when needed) and
    saved as `out_dir/spiece.model` (`vocab_size` pieces; None: at most
    DEFAULT_VOCAB_SIZE, as many as the texts allow). It cuts long single texts as new runs do
    (`RUN_TRUNCATION`; run.json records it)."""
    tokenizer = _run_tokenizer(texts, out_dir, vocab_size, tokenizer_path, pretrained)
    tokenizer.truncation, tokenizer.head_share = RUN_TRUNCATION, HEAD_SHARE
    return tokenizer


def _run_tokenizer(texts, out_dir: str, vocab_size, tokenizer_path, pretrained) -> Any:
    if tokenizer_path:
        return AlbertTokenizer.load(tokenizer_path)
    if pretrained:
        # The converters read checkpoints; only a run from one needs them.

        tokenizer = load_tokenizer(pretrained)
        if tokenizer is None:
            raise FileNotFoundError(
                f"{pretrained} has no tokenizer file (spiece.model or vocab.txt); pass a tokenizer."
            )
        return tokenizer
    os.makedirs(out_dir, exist_ok=True)
    texts = texts() if callable(texts) else texts
    return AlbertTokenizer.train(
        texts,
        vocab_size=DEFAULT_VOCAB_SIZE if vocab_size is None else vocab_size,
        model_path=os.path.join(out_dir, "spiece.model"),
        shrink_to_fit=vocab_size is None,
    )


def preset_backbone(
    preset: str, vocab_size: int, max_length: int = 128, **overrides: Any
) -> AlbertBackbone:
    """A fresh backbone of `preset`'s shape for a `vocab_size` tokenizer, with
    position embeddings for at least `max_length` tokens (and `MIN_POSITIONS`)."""
    config = AlbertConfig.from_preset(
        preset,
        vocab_size=int(vocab_size),
        **{"max_position_embeddings": max(MIN_POSITIONS, int(max_length)), **overrides},
    )
    return AlbertBackbone(config)
