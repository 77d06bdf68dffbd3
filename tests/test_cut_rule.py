"""The head + tail cut is one rule (`export.runtime.packing.cut_bounds`): the Python cut
(`keep_pieces`), the training graph packer's cut and the exported graph's clip
keep the same pieces for any length, budget and head share."""

from __future__ import annotations

import numpy as np

from albert_tf.tokenizers.sentencepiece import cut_pieces, head_pieces
from export.runtime.packing import keep_pieces


def _cases(count: int = 300, seed: int = 0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        budget = int(rng.integers(1, 40))
        share = float(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0, rng.random()]))
        length = int(rng.integers(0, 3 * budget + 2))
        yield budget, share, rng.integers(5, 1000, length).tolist()


def test_python_cut_keeps_head_and_tail():
    for budget, share, pieces in _cases():
        head = head_pieces(budget, "head_tail", share)
        want = (
            pieces
            if len(pieces) <= budget
            else pieces[:head] + pieces[len(pieces) - budget + head :]
        )
        assert keep_pieces(pieces, budget, head) == want
        assert cut_pieces(pieces, budget, "head_tail", share) == want
        assert keep_pieces(pieces, budget) == pieces[:budget] == cut_pieces(pieces, budget)


def test_training_graph_cut_equals_the_python_cut():
    import tensorflow as tf

    from albert_tf.tokenizers.sentencepiece import _graph_head_tail

    cases = list(_cases())
    for budget in sorted({b for b, _, _ in cases}):
        for share in (0.0, 0.3, 0.75, 1.0):
            rows = [p for b, _, p in cases if b == budget]
            head = head_pieces(budget, "head_tail", share)
            got = _graph_head_tail(tf, tf.ragged.constant(rows, dtype=tf.int32), budget, head)
            assert got.to_list() == [keep_pieces(p, budget, head) for p in rows]


def test_serving_graph_clip_equals_the_python_cut():
    import tensorflow as tf

    from export.serving import head_tail_clip

    clips = {}
    for budget, share, pieces in _cases(200, seed=1):
        max_length = budget + 2
        head = head_pieces(budget, "head_tail", share)
        for head_arg in (head, None):
            key = (max_length, head_arg)
            if key not in clips:
                clips[key] = tf.function(head_tail_clip(max_length, head_arg))
            packed = tf.constant([[2, *pieces, 3]], tf.int32)
            got = clips[key](packed).numpy()[0].tolist()
            assert got == [2, *keep_pieces(pieces, budget, head_arg), 3]
