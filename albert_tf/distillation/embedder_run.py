"""`albert-tf train --task embed`: a run folder holding a distilled sentence embedder.

The run's model.keras is a `TextEmbedder` (tokenizer and length inside); run.json
records task `embed`, the settings, both parameter counts and, as its metrics,
Spearman correlation on the packaged Lee similarity set for the teacher and the
student (`albert_tf.data.packaged_similarity`), so a run says at once how much
of the teacher it kept.
"""

from __future__ import annotations

import numpy as np

from albert_tf.distillation.embedder import (
    GENERIC_DATASETS,
    EmbedderSettings,
    distill_embedder,
    generic_texts,
    teacher_embedder,
)
from albert_tf.training.run_folder import EMBED_TASK, RunFolder

# A student at most this share of the teacher's parameters (issue 31's budget).
MAX_PARAMETER_SHARE = 0.25


def spearman(a, b) -> float:
    """Spearman's rank correlation (average ranks for ties), numpy only."""
    return float(np.corrcoef(_ranks(np.asarray(a)), _ranks(np.asarray(b)))[0, 1])


def _ranks(x: np.ndarray) -> np.ndarray:
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), np.float64)
    ranks[order] = np.arange(len(x), dtype=np.float64)
    # Ties share the mean of their ranks, as scipy.stats.rankdata does.
    values, inverse, counts = np.unique(x, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return (sums / counts)[inverse]


def similarity_spearman(embed, data) -> float:
    """Spearman of cosine similarities (`embed(texts)` gives unit vectors) with `data`'s
    human scores (a `SimilaritySet`)."""
    vectors = np.asarray(embed(data.texts))
    pairs = np.asarray(data.pairs)
    cos = np.sum(vectors[pairs[:, 0]] * vectors[pairs[:, 1]], axis=-1)
    return spearman(cos, data.scores)


def train_embedder_run(
    texts: list[str],
    out_dir: str,
    settings: EmbedderSettings | None = None,
    data_info: dict | None = None,
    verbose: int = 1,
) -> dict:
    """Distil MiniLM into a small embedder on `texts` plus generic texts; write `out_dir`.

    Returns run.json's content.
    """
    # The teacher and the packaged sets load only when a run trains.
    from albert_tf.convert import load_minilm
    from albert_tf.convert.packaged import minilm_tokenizer
    from albert_tf.data.packaged_similarity import load_lee

    settings = settings or EmbedderSettings()
    teacher, tokenizer = load_minilm(), minilm_tokenizer()
    extra = generic_texts(settings.generic_texts, settings.seed)
    student, report = distill_embedder(texts + extra, teacher, tokenizer, settings, verbose)
    share = report["parameters"] / report["teacher_parameters"]
    if share > MAX_PARAMETER_SHARE:
        raise ValueError(
            f"The student has {report['parameters']:,} parameters, {share:.1%} of the "
            f"teacher's; at most {MAX_PARAMETER_SHARE:.0%} is allowed: lower "
            "--embedding-size or use fewer --teacher-layers."
        )
    lee = load_lee()
    big = teacher_embedder(teacher, tokenizer, settings.max_length)
    metrics = {
        "lee": {
            "teacher_spearman": similarity_spearman(big.embed, lee),
            "student_spearman": similarity_spearman(student.embed, lee),
            "pairs": len(lee.pairs),
            "source": lee.source,
        },
        "train": {
            "loss": report["final_loss"],
            "cosine_first_500": report["train_cosine_first_500"],
        },
    }
    info = {
        "task": EMBED_TASK,
        "max_length": settings.max_length,
        "data": dict(data_info or {}),
        "generic_texts": {"count": len(extra), "datasets": list(GENERIC_DATASETS)},
        "settings": report["settings"],
        "metrics": metrics,
        "parameters": report["parameters"],
        "teacher": {
            "source": "packaged:minilm (all-MiniLM-L6-v2)",
            "parameters": report["teacher_parameters"],
            "vocab_size": report["teacher_vocab_size"],
        },
        "vocab_size": report["vocab_size"],
        "user_texts": len(texts),
    }
    folder = RunFolder(out_dir)
    folder.write(student, student.preprocessor.tokenizer, None, info)
    # Calibration texts for an int8 export, as a classifier run keeps them.
    folder.write_held_out(None, None, None, texts + extra)
    return folder.read_info()
