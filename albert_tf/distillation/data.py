"""Texts -> batches for `Distiller.fit`: the student's tokens, the teacher's own
tokens (when its tokenizer differs), precomputed teacher logits, and labels
(`UNLABELLED` for unlabelled text)."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from albert_tf.data.pipeline import MAP_CALLS, prefetched
from albert_tf.distillation.distiller import TEACHER_LOGITS, TEACHER_PREFIX, UNLABELLED


def _trim(x, y):
    # Each tokenization is cut to its own longest row in the batch.
    out = dict(x)
    for prefix in ("", TEACHER_PREFIX):
        mask_key = f"{prefix}padding_mask"
        if mask_key not in x:
            continue
        length = tf.maximum(tf.reduce_max(tf.reduce_sum(x[mask_key], axis=1)), 1)
        for key in ("token_ids", "segment_ids", "padding_mask"):
            out[f"{prefix}{key}"] = x[f"{prefix}{key}"][:, :length]
    return out, y


def _batch_order(lengths: np.ndarray, batch_size: int, shuffle: bool, seed: int, bucket: bool):
    n = len(lengths)
    order = np.random.default_rng(seed).permutation(n) if shuffle else np.arange(n)
    if not bucket:
        return order
    # Sort within windows of 50 batches by length (less padding), then shuffle
    # the batches (what albert_tf.data.pipeline.make_tf_dataset's bucketing
    # does; here one fixed order must serve both tokenizations).
    window = batch_size * 50
    chunks = [order[i : i + window] for i in range(0, n, window)]
    order = np.concatenate([c[np.argsort(lengths[c], kind="stable")] for c in chunks])
    batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
    if shuffle:
        rng = np.random.default_rng(seed + 1)
        batches = [batches[i] for i in rng.permutation(len(batches))]
    return np.concatenate(batches)


def distillation_dataset(
    texts: list[str],
    labels=None,
    tokenizer=None,
    teacher_tokenizer=None,
    teacher_logits: np.ndarray | None = None,
    max_length: int = 128,
    teacher_max_length: int | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    bucket: bool = True,
) -> tf.data.Dataset:
    """A `tf.data.Dataset` of `(x, y)` for `Distiller.fit` / `evaluate`.

    Args:
        texts: raw texts; each tokenizer sees the same text.
        labels: int labels, `UNLABELLED` (-1) where a text has none; None: all unlabelled.
        tokenizer: the student's tokenizer.
        teacher_tokenizer: the teacher's, when it is not the student's: adds
            `teacher_token_ids` / `teacher_segment_ids` / `teacher_padding_mask`.
        teacher_logits: precomputed [len(texts), num_labels] teacher logits.
        max_length, teacher_max_length: token budgets (the teacher's defaults to the student's).
        shuffle, seed, bucket: example order (bucket: sort by length in windows).

    Example:
    >>> ds = distillation_dataset(["good", "bad", "meh"], [1, 0, UNLABELLED], tok,
    ...                           teacher_logits=logits)  # doctest: +SKIP
    """
    if tokenizer is None:
        raise ValueError("distillation_dataset needs the student's tokenizer.")
    texts = list(texts)
    n = len(texts)
    if n == 0:
        raise ValueError("No texts to distill on.")
    if labels is None:
        labels = np.full(n, UNLABELLED, np.int32)
    labels = np.asarray(labels)
    if labels.shape != (n,):
        raise ValueError(f"{n} texts but labels of shape {labels.shape}.")
    if not np.issubdtype(labels.dtype, np.integer):
        raise ValueError(f"labels must be integers (UNLABELLED = -1), got {labels.dtype}.")
    if np.any(labels < UNLABELLED):
        raise ValueError(f"labels below {UNLABELLED} at rows {np.flatnonzero(labels < -1)[:5]}.")
    x = dict(tokenizer(texts, max_length=max_length, padding="max_length"))
    if teacher_tokenizer is not None:
        t = teacher_tokenizer(
            texts, max_length=teacher_max_length or max_length, padding="max_length"
        )
        x.update({f"{TEACHER_PREFIX}{k}": v for k, v in t.items()})
    if teacher_logits is not None:
        teacher_logits = np.asarray(teacher_logits, np.float32)
        if teacher_logits.ndim != 2 or len(teacher_logits) != n:
            raise ValueError(
                f"teacher_logits of shape {teacher_logits.shape} do not fit {n} texts."
            )
        x[TEACHER_LOGITS] = teacher_logits
    order = _batch_order(x["padding_mask"].sum(1), batch_size, shuffle, seed, bucket)
    x = {k: v[order] for k, v in x.items()}
    ds = tf.data.Dataset.from_tensor_slices((x, labels[order].astype(np.int32)))
    return prefetched(ds.batch(batch_size).map(_trim, num_parallel_calls=MAP_CALLS))
