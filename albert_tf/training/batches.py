"""Tokenized arrays -> tf.data batches that are only as long as their longest text."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def encode_texts(
    tokenizer, texts: list[str], pairs: list[str] | None, max_length: int
) -> dict[str, np.ndarray]:
    """Tokenize once, padded to `max_length`; batches trim the padding later."""
    return tokenizer(texts, pairs, max_length=max_length, padding="max_length")


def _trim(features, labels=None):
    # Drop the columns that are padding in every row of the batch: a batch of
    # short sentences then costs a short sequence, not max_length.
    length = tf.reduce_max(tf.reduce_sum(features["padding_mask"], axis=1))
    length = tf.maximum(length, 1)
    trimmed = {k: v[:, :length] for k, v in features.items()}
    return trimmed if labels is None else (trimmed, labels)


def make_batches(
    features: dict[str, np.ndarray],
    labels: np.ndarray | None = None,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    bucket: bool = True,
) -> tf.data.Dataset:
    """Batches for `model.fit` / `predict`.

    With `bucket`, examples of similar length are batched together (sorted in
    windows of 50 batches, then the batch order is shuffled), which cuts the
    padding, and so the time, of short-text data sets several fold.
    """
    n = len(features["token_ids"])
    if n == 0:
        raise ValueError("No examples to batch.")
    order = np.arange(n)
    if shuffle:
        order = np.random.default_rng(seed).permutation(n)
    if bucket:
        lengths = features["padding_mask"].sum(1)
        window = batch_size * 50
        chunks = [order[i : i + window] for i in range(0, n, window)]
        order = np.concatenate([c[np.argsort(lengths[c], kind="stable")] for c in chunks])
        batches = [order[i : i + batch_size] for i in range(0, n, batch_size)]
        if shuffle:
            rng = np.random.default_rng(seed + 1)
            batches = [batches[i] for i in rng.permutation(len(batches))]
        order = np.concatenate(batches)
    data = {k: v[order] for k, v in features.items()}
    tensors = (data,) if labels is None else (data, np.asarray(labels)[order])
    ds = tf.data.Dataset.from_tensor_slices(tensors if labels is not None else data)
    ds = ds.batch(batch_size).map(_trim, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)
