"""tf.data input pipeline: tokenize, shuffle, batch by length, prefetch."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from albert_tf.data.labels import LabelVocabulary
from albert_tf.data.readers import TextDataset

DEFAULT_BUCKET_BOUNDARIES = (16, 24, 32, 48, 64, 96, 128, 192, 256, 384)
# Parallel calls of a batch map (`prefetched` turns tf.data's tuning off, so the
# count is ours): one per core, as tuning would pick for in-graph tokenization.
MAP_CALLS = max(2, os.cpu_count() or 1)


def make_tf_dataset(
    data: TextDataset | Sequence[str],
    tokenizer,
    labels: LabelVocabulary | np.ndarray | Sequence[Any] | None = None,
    *,
    max_length: int = 128,
    batch_size: int = 32,
    shuffle: bool = False,
    seed: int = 0,
    bucket: bool | None = None,
    in_graph: bool = False,
):
    """Batches of `({"token_ids", "segment_ids", "padding_mask"}, labels)` for `model.fit`.

    Args:
        data: a `TextDataset` (uses its pairs) or a list of texts.
        tokenizer: an `AlbertTokenizer`.
        labels: a `LabelVocabulary` (encodes `data.labels`, naming the file and
            line of an unseen label), an array of targets (int class ids,
            float regression values or multi-hot rows), or `None` for
            features-only batches (prediction).
        max_length: packed sequences are truncated to this many tokens.
        shuffle: reshuffle every epoch (seeded): for training.
        bucket: group examples of similar length into batches so little is
            padding. `None` means "when shuffling": bucketing reorders
            examples, so keep it off where output order must match input
            order (predict). Without it each batch is padded to its longest.
        in_graph: tokenize inside the tf.data graph with tensorflow-text
            (same ids; batches padded to `max_length`, no bucketing).

    Example:
    >>> vocab = LabelVocabulary.from_labels(train.labels)
    >>> ds = make_tf_dataset(train, tok, vocab, batch_size=32, shuffle=True)
    >>> model.fit(ds, validation_data=make_tf_dataset(validation, tok, vocab), epochs=3)
    """
    import tensorflow as tf

    if not isinstance(data, TextDataset):
        data = TextDataset(texts=list(data), labels=None)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    y = _targets(data, labels)
    if bucket is None:
        bucket = shuffle
    if in_graph:
        return _graph_dataset(tf, data, tokenizer, y, max_length, batch_size, shuffle, seed)

    token_ids, segment_ids = tokenizer.pack(data.texts, data.pairs, max_length)
    lengths = np.fromiter((len(t) for t in token_ids), dtype=np.int64, count=len(token_ids))
    ids = tf.RaggedTensor.from_row_lengths(
        np.concatenate(token_ids).astype(np.int32), lengths, validate=False
    )
    segs = tf.RaggedTensor.from_row_lengths(
        np.concatenate(segment_ids).astype(np.int32), lengths, validate=False
    )
    columns = (ids, segs) if y is None else (ids, segs, y)
    # Slices of a RaggedTensor come out as ragged specs; padded_batch wants dense ones.
    ds = tf.data.Dataset.from_tensor_slices(columns).map(_dense)
    if shuffle:
        ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    if bucket:
        boundaries = [b for b in DEFAULT_BUCKET_BOUNDARIES if b < max_length]
        ds = ds.bucket_by_sequence_length(
            element_length_func=_length,
            bucket_boundaries=boundaries,
            bucket_batch_sizes=[batch_size] * (len(boundaries) + 1),
            padding_values=tuple([0, 0] + ([] if y is None else [_zero(y)])),
        )
    else:
        ds = ds.padded_batch(batch_size)
    return prefetched(ds.map(_to_features, num_parallel_calls=MAP_CALLS))


def _dense(*columns):
    import tensorflow as tf

    return tuple(tf.identity(c) for c in columns)


def prefetched(ds):
    """`ds` prefetched, with tf.data's autotuning off.

    Why off: an autotuned iterator's destructor waits for tf.data's tuning thread
    (seen in a native stack dump), and Keras deletes an iterator at the end of every
    epoch, `fit` and `predict`. On movie_reviews the waits took 7-52 s (the
    teacher's one-epoch fit returned 52 s after its last callback); with tuning
    off, 0 s. Map parallelism is then `MAP_CALLS`.
    """
    import tensorflow as tf

    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.prefetch(2).with_options(options)


def _length(ids, *rest):
    import tensorflow as tf

    return tf.shape(ids)[0]


def _to_features(ids, segs, y=None):
    import tensorflow as tf

    features = {
        "token_ids": ids,
        "segment_ids": segs,
        # Pad id 0 never comes out of SentencePiece for real text (it is a control piece).
        "padding_mask": tf.cast(tf.not_equal(ids, 0), tf.int32),
    }
    return features if y is None else (features, y)


def _graph_dataset(tf, data, tokenizer, y, max_length, batch_size, shuffle, seed):
    packer = tokenizer.graph_packer(max_length, pairs=data.pairs is not None)
    texts = tf.constant(data.texts, dtype=tf.string)
    columns: tuple = (texts,) if data.pairs is None else (texts, tf.constant(data.pairs))
    if y is not None:
        columns = (*columns, y)
    ds = tf.data.Dataset.from_tensor_slices(columns)
    if shuffle:
        ds = ds.shuffle(len(data), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    n_text = 1 if data.pairs is None else 2

    def pack(*cols):
        features = packer(*cols[:n_text])
        return features if y is None else (features, cols[n_text])

    return prefetched(ds.map(pack, num_parallel_calls=MAP_CALLS))


def _targets(data: TextDataset, labels) -> np.ndarray | None:
    if labels is None:
        return None
    if isinstance(labels, LabelVocabulary):
        return labels.encode_dataset(data)
    y = np.asarray(labels)
    if len(y) != len(data):
        raise ValueError(f"labels has {len(y)} items but the data has {len(data)} examples")
    if y.dtype.kind in "iu":
        return y.astype(np.int32)
    if y.dtype.kind in "fb":
        return y.astype(np.float32)
    raise TypeError(
        f"labels must be numbers (class ids, values or multi-hot rows) or a LabelVocabulary, "
        f"got an array of {y.dtype}; encode label names with LabelVocabulary first"
    )


def _zero(y: np.ndarray):
    return np.zeros((), dtype=y.dtype)


def with_known_length(dataset):
    """`dataset` with its number of batches set, counted once when tf.data does
    not know it (length bucketing makes it depend on the texts)."""
    import tensorflow as tf

    if int(dataset.cardinality()) >= 0:
        return dataset
    steps = int(dataset.reduce(np.int64(0), lambda count, _: count + 1))
    return dataset.apply(tf.data.experimental.assert_cardinality(steps))
