"""Distil a sentence embedder: a small ALBERT that reproduces the teacher's embeddings.

The student starts from the teacher (`student_from_teacher`: factorized token
table, shared groups copied from teacher layers, the vocabulary pruned to the
training texts), then learns, on the user's texts plus generic packaged texts,
to give the teacher's unit vectors: loss = mean(1 - cos(student, teacher)) plus
the squared error between the two models' in-batch cosine matrices, the second
term because a similarity search ranks by those cosines, not by the vectors.

Example:
>>> student, report = distill_embedder(texts, teacher_backbone, tokenizer)  # doctest: +SKIP
>>> student.embed(["a fine film"]).shape                                  # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import keras
import numpy as np
from keras import ops

from albert_tf.distillation.student_init import student_from_teacher
from albert_tf.distillation.vocabulary import prune_vocabulary
from albert_tf.models.text_embedder import TextEmbedder
from albert_tf.models.text_preprocessor import TextPreprocessor

# Packaged sets whose training texts (never their held-out parts) broaden what
# the student sees beyond the user's texts: reviews, questions, messages, news.
GENERIC_DATASETS = ("movie_reviews", "trec", "sms_spam", "bbc_news")


@dataclass
class EmbedderSettings:
    """How the student is shaped and trained (recorded in run.json)."""

    max_length: int = 128
    embedding_size: int = 96
    num_layers: int = 4
    teacher_layers: list[int] = field(default_factory=lambda: [1, 4])
    epochs: int = 3
    batch_size: int = 32
    learning_rate: float = 2e-4
    generic_texts: int = 6000
    prune_vocab: bool = True
    seed: int = 0


def generic_texts(limit: int, seed: int = 0) -> list[str]:
    """Up to `limit` training texts of GENERIC_DATASETS, drawn evenly and seeded."""
    # Read only when generic texts are asked for: they load archives from the cache.
    from albert_tf.data import packaged

    if limit <= 0:
        return []
    rng = np.random.default_rng(seed)
    share = -(-limit // len(GENERIC_DATASETS))
    texts: list[str] = []
    for name in GENERIC_DATASETS:
        pool = packaged.load(name).train.texts
        texts += [pool[i] for i in sorted(rng.permutation(len(pool))[:share])]
    return texts[:limit]


def similarity_loss(y_true, y_pred):
    """1 - cosine per text, plus the in-batch cosine matrices' squared difference."""
    cos = ops.sum(y_true * y_pred, axis=-1)
    sim_true = ops.matmul(y_true, ops.transpose(y_true))
    sim_pred = ops.matmul(y_pred, ops.transpose(y_pred))
    return (1.0 - cos) + ops.mean(ops.square(sim_true - sim_pred), axis=-1)


def teacher_embedder(teacher_backbone, tokenizer, max_length: int) -> TextEmbedder:
    """The teacher as a `TextEmbedder` (for MiniLM: all-MiniLM-L6-v2's embeddings)."""
    return TextEmbedder(teacher_backbone, TextPreprocessor(tokenizer, max_length))


def distill_embedder(
    texts: Sequence[str],
    teacher_backbone,
    tokenizer,
    settings: EmbedderSettings | None = None,
    verbose: int = 1,
) -> tuple[TextEmbedder, dict]:
    """A student `TextEmbedder` trained on `texts` to match the teacher's embeddings.

    Args:
        texts: all training texts (the user's and any generic ones); the pruned
            vocabulary is counted on them.
        teacher_backbone: a BERT-shaped `AlbertBackbone` (e.g. `load_minilm()`).
        tokenizer: the teacher's WordPiece or SentencePiece tokenizer.
        settings: `EmbedderSettings`.

    Returns:
        (student, report): the report holds the settings, both parameter counts,
        the vocabulary sizes and the last epoch's loss and mean cosine.
    """
    settings = settings or EmbedderSettings()
    texts = [str(t) for t in texts if str(t).strip()]
    if not texts:
        raise ValueError("distill_embedder: no texts to train on.")
    teacher = teacher_embedder(teacher_backbone, tokenizer, settings.max_length)
    if verbose:
        print(f"[embed] teacher vectors of {len(texts)} texts", flush=True)
    targets = teacher.embed(texts, batch_size=64)
    kept = None
    student_tokenizer = tokenizer
    if settings.prune_vocab:
        student_tokenizer, kept = prune_vocabulary(tokenizer, texts)
    backbone = student_from_teacher(
        teacher_backbone,
        embedding_size=settings.embedding_size,
        num_layers=settings.num_layers,
        teacher_layers=settings.teacher_layers,
        max_position_embeddings=settings.max_length,
        token_ids=kept,
    )
    student = TextEmbedder(backbone, TextPreprocessor(student_tokenizer, settings.max_length))
    if verbose:
        print(
            f"[embed] student: {student.count_params():,} parameters (teacher "
            f"{teacher_backbone.count_params():,}), vocabulary {backbone.config.vocab_size:,}",
            flush=True,
        )
    student.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=settings.learning_rate, weight_decay=0.01),
        loss=similarity_loss,
    )
    data = student.preprocessor.dataset(
        texts, targets, batch_size=settings.batch_size, shuffle=True, seed=settings.seed
    )
    history = student.fit(data, epochs=settings.epochs, verbose=verbose)
    cosine = float(np.mean(np.sum(student.embed(texts[:500]) * targets[:500], axis=-1)))
    report = {
        "settings": asdict(settings),
        "parameters": int(student.count_params()),
        "teacher_parameters": int(teacher_backbone.count_params()),
        "vocab_size": int(backbone.config.vocab_size),
        "teacher_vocab_size": int(teacher_backbone.config.vocab_size),
        "train_texts": len(texts),
        "final_loss": float(history.history["loss"][-1]),
        "train_cosine_first_500": cosine,
    }
    return student, report
