"""What every recipe starts from (fine-tuning, the task heads, distillation,
pre-training): the tokenizer choice, a fresh backbone of a preset shape, and the
`TextClassifier` a classification run trains. The optimizer set-up is
`albert_tf.training.optimizers.compile_for_training`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from albert_tf.config import AlbertConfig
from albert_tf.convert import load_text_classifier, load_tokenizer
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.text_classifier import DEFAULT_VOCAB_SIZE, MIN_POSITIONS, TextClassifier
from albert_tf.models.text_preprocessor import TextPreprocessor
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, RUN_TRUNCATION, AlbertTokenizer


@dataclass(frozen=True)
class ModelSource:
    """Where a run's model and tokenizer come from: `pretrained`'s weights and
    tokenizer, or a fresh `preset` with `tokenizer_path`'s tokenizer or one trained
    on the texts (`vocab_size` pieces; None: at most DEFAULT_VOCAB_SIZE)."""

    preset: str = "small"
    pretrained: str | None = None
    tokenizer_path: str | None = None
    vocab_size: int | None = None


def build_tokenizer(
    texts: Iterable[str] | Callable[[], Iterable[str]],
    vocab_size: int | None = None,
    tokenizer_path: str | None = None,
    pretrained: str | None = None,
) -> Any:
    """The tokenizer of a new run: `tokenizer_path` when given, else the
    `pretrained` checkpoint's, else a SentencePiece model trained on `texts`
    (a callable is called only then, so a file is read only when needed;
    `vocab_size` pieces; None: at most DEFAULT_VOCAB_SIZE, as many as the texts
    allow). It cuts long single texts as new runs do (`RUN_TRUNCATION`)."""
    tokenizer = _run_tokenizer(texts, vocab_size, tokenizer_path, pretrained)
    tokenizer.truncation, tokenizer.head_share = RUN_TRUNCATION, HEAD_SHARE
    return tokenizer


def _run_tokenizer(texts, vocab_size, tokenizer_path, pretrained) -> Any:
    if tokenizer_path:
        return AlbertTokenizer.load(tokenizer_path)
    if pretrained:
        tokenizer = load_tokenizer(pretrained)
        if tokenizer is None:
            raise FileNotFoundError(
                f"{pretrained} has no tokenizer file (spiece.model or vocab.txt); pass a tokenizer."
            )
        return tokenizer
    texts = texts() if callable(texts) else texts
    return AlbertTokenizer.train(
        texts,
        vocab_size=DEFAULT_VOCAB_SIZE if vocab_size is None else vocab_size,
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


def build_text_classifier(
    texts: list[str],
    labels: list[str],
    problem_type: str = "single_label",
    max_length: int = 128,
    source: ModelSource | None = None,
) -> TextClassifier:
    """The classifier a run trains, from `source` (tokenizer trained on `texts` when
    it names none). `labels` name the outputs (one name, the score, for regression)."""
    source = source or ModelSource()
    if source.pretrained:
        return load_text_classifier(
            source.pretrained, labels, max_length, problem_type=problem_type
        )
    tokenizer = build_tokenizer(texts, source.vocab_size, source.tokenizer_path)
    backbone = preset_backbone(source.preset, tokenizer.vocab_size, max_length)
    preprocessor = TextPreprocessor(tokenizer, max_length, labels)
    return TextClassifier(backbone, preprocessor, problem_type=problem_type)
