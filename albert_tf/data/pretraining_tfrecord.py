"""Pre-training examples as TFRecord shards, for corpora too large for memory.

`write_pretraining_shards` streams documents from text files through a
`PretrainingDataBuilder` into `num_shards` files (round robin, each written to
a temporary name and renamed when complete) and writes `pretraining_data.json`
beside them; `pretraining_shards_dataset` reads them back as `(x, y)` batches.
"""

from __future__ import annotations

import glob
import json
import os
from collections.abc import Iterable
from typing import Any

import numpy as np

from albert_tf.data.pipeline import prefetched
from albert_tf.data.pretraining import (
    FEATURE_NAMES,
    PretrainingDataBuilder,
    iter_documents,
    split_features,
)

METADATA_FILE = "pretraining_data.json"
_FLOAT_FEATURES = ("mlm_weights",)


def _example_proto(example: dict[str, np.ndarray]):
    import tensorflow as tf

    feature = {}
    for name in FEATURE_NAMES:
        values = np.asarray(example[name]).reshape(-1)
        if name in _FLOAT_FEATURES:
            feature[name] = tf.train.Feature(float_list=tf.train.FloatList(value=values.tolist()))
        else:
            feature[name] = tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
    return tf.train.Example(features=tf.train.Features(feature=feature))


def write_pretraining_shards(
    input_files: Iterable[str],
    builder: PretrainingDataBuilder,
    output_dir: str,
    num_shards: int = 8,
    progress: bool = True,
) -> dict[str, Any]:
    """Write TFRecord shards of pre-training examples; returns the metadata written.

    Example:
    >>> meta = write_pretraining_shards(["corpus.txt"], builder, "shards/", num_shards=4)
    ... # doctest: +SKIP
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    input_files = [os.fspath(p) for p in input_files]
    for path in input_files:
        if not os.path.isfile(path):
            raise FileNotFoundError(f"pre-training input {path} does not exist.")
    if num_shards < 1:
        raise ValueError(f"num_shards must be >= 1, got {num_shards}.")
    os.makedirs(output_dir, exist_ok=True)
    names = [f"pretraining-{i:05d}-of-{num_shards:05d}.tfrecord" for i in range(num_shards)]
    tmp_paths = [os.path.join(output_dir, f".{n}.tmp{os.getpid()}") for n in names]
    writers = [tf.io.TFRecordWriter(p) for p in tmp_paths]
    total_bytes = sum(os.path.getsize(p) for p in input_files)
    count = 0
    try:
        with tqdm(
            total=total_bytes, unit="B", unit_scale=True, desc="pretrain-data", disable=not progress
        ) as bar:
            for document in iter_documents(input_files):
                for example in builder.iter_examples([document]):
                    writers[count % num_shards].write(_example_proto(example).SerializeToString())
                    count += 1
                # Bytes of the document plus its separating blank line.
                bar.update(len(document.encode("utf-8")) + 2)
                bar.set_postfix(examples=count)
    except BaseException:
        for w in writers:
            w.close()
        for p in tmp_paths:
            if os.path.exists(p):
                os.remove(p)
        raise
    for w in writers:
        w.close()
    if count == 0:
        for p in tmp_paths:
            os.remove(p)
        raise ValueError(f"{input_files}: no pre-training example could be made (empty text?).")
    for tmp, name in zip(tmp_paths, names):
        os.replace(tmp, os.path.join(output_dir, name))
    metadata = {
        "num_examples": count,
        "num_shards": num_shards,
        "files": names,
        "inputs": input_files,
        **builder.get_config(),
    }
    meta_path = os.path.join(output_dir, METADATA_FILE)
    with open(meta_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(metadata, f, indent=2)
    os.replace(meta_path + ".tmp", meta_path)
    return metadata


def read_shard_metadata(folder: str) -> dict:
    """`pretraining_data.json` of a shard folder written by `write_pretraining_shards`."""
    meta_path = os.path.join(folder, METADATA_FILE)
    if not os.path.exists(meta_path):
        raise FileNotFoundError(
            f"{folder} has no {METADATA_FILE}; was it written by pretrain-data?"
        )
    try:
        with open(meta_path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ValueError(f"{meta_path}: not readable shard metadata ({e})") from e


def shard_examples(folder: str) -> int:
    """How many examples the shards in `folder` hold."""
    return int(read_shard_metadata(folder)["num_examples"])


def pretraining_shards_dataset(
    path: str,
    batch_size: int = 32,
    shuffle: bool = True,
    seed: int = 12345,
    repeat: bool = False,
    drop_remainder: bool = False,
    shuffle_buffer: int = 10000,
):
    """`(x, y)` batches from shards written by `write_pretraining_shards`.

    `path` is the shard folder (with `pretraining_data.json`) or a glob pattern;
    then `max_seq_length`/`max_predictions` are read from the first record.
    """
    import tensorflow as tf

    if os.path.isdir(path):
        files = [os.path.join(path, n) for n in read_shard_metadata(path)["files"]]
    else:
        files = sorted(glob.glob(path))
        if not files:
            raise FileNotFoundError(f"no TFRecord shards match {path}.")
    seq_len, num_pred = _shapes_of(files[0])
    spec = {}
    for name in FEATURE_NAMES:
        shape = {
            "token_ids": [seq_len],
            "segment_ids": [seq_len],
            "padding_mask": [seq_len],
            "sop_labels": [],
        }.get(name, [num_pred])
        dtype = tf.float32 if name in _FLOAT_FEATURES else tf.int64
        spec[name] = tf.io.FixedLenFeature(shape, dtype)

    def parse(record):
        parsed = tf.io.parse_example(record, spec)
        return {k: v if v.dtype == tf.float32 else tf.cast(v, tf.int32) for k, v in parsed.items()}

    # Files in a fixed order and (sequential, so ordered) interleaving keep runs reproducible.
    ds = tf.data.Dataset.from_tensor_slices(files)
    ds = ds.interleave(tf.data.TFRecordDataset, cycle_length=min(4, len(files)))
    if shuffle:
        ds = ds.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.batch(batch_size, drop_remainder=drop_remainder).map(parse)
    return prefetched(ds.map(split_features))


def _shapes_of(path: str) -> tuple[int, int]:
    import tensorflow as tf

    for record in tf.data.TFRecordDataset([path]).take(1):
        example = tf.train.Example.FromString(record.numpy())
        features = example.features.feature
        try:
            return (
                len(features["token_ids"].int64_list.value),
                len(features["mask_positions"].int64_list.value),
            )
        except KeyError as e:
            raise ValueError(f"{path}: record lacks feature {e}; not a pre-training shard.") from e
    raise ValueError(f"{path} holds no records.")
