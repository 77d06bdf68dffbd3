"""A pre-training that stopped on the early plateau (both tasks at chance) is named."""

import os
from collections import Counter

import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertConfig
from albert_tf.data.pretraining import PretrainingDataBuilder
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.training.pretraining import (
    PretrainingPlateauWarning,
    chance_levels,
    plateau_message,
    pretrain_on_texts,
)

FIXTURE_SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
DOCS = [
    "the film was a quiet delight.\nthe actors gave warm and funny performances.",
    "the story moved with grace.\nthe music was loud and the ending was sad.",
    "nobody wanted to leave.\ni would watch it again with my family.",
] * 12


def test_chance_levels_are_the_most_frequent_masked_token_and_order_label():
    tok = AlbertTokenizer.load(FIXTURE_SPM)
    arrays = PretrainingDataBuilder(tok, max_seq_length=32, max_predictions=5, seed=2).build(DOCS)
    masked = [
        int(label)
        for row_labels, row_weights in zip(arrays["mlm_labels"], arrays["mlm_weights"])
        for label, weight in zip(row_labels, row_weights)
        if weight > 0
    ]
    orders = [int(x) for x in arrays["sop_labels"]]
    chance = chance_levels(arrays)
    assert chance["masked_tokens"] == len(masked) and chance["examples"] == len(orders)
    assert chance["mlm_chance"] == pytest.approx(Counter(masked).most_common(1)[0][1] / len(masked))
    assert chance["sop_chance"] == pytest.approx(Counter(orders).most_common(1)[0][1] / len(orders))


def test_plateau_message_only_when_both_tasks_are_within_noise_of_chance():
    # The figures of a real 1-epoch run (small preset, movie_reviews, lr 1e-3).
    chance = {"mlm_chance": 0.078, "sop_chance": 0.5, "masked_tokens": 25000, "examples": 8480}
    stuck = {"mlm_accuracy": [0.0551], "sop_accuracy": [0.5042]}
    message = plateau_message(stuck, chance)
    assert message and "0.055" in message and "0.078" in message and "0.504" in message
    assert plateau_message({"mlm_accuracy": [0.0551], "sop_accuracy": [0.83]}, chance) is None
    assert plateau_message({"mlm_accuracy": [0.12], "sop_accuracy": [0.50]}, chance) is None
    # 0.53 is above chance for 8,480 examples but not for 40 (2 standard errors: 0.16).
    assert plateau_message({"mlm_accuracy": [0.05], "sop_accuracy": [0.53]}, chance) is None
    few = dict(chance, examples=40)
    assert plateau_message({"mlm_accuracy": [0.05], "sop_accuracy": [0.53]}, few)
    assert plateau_message({}, chance) is None


def test_a_pretraining_that_cannot_learn_warns_and_reports_chance():
    tok = AlbertTokenizer.load(FIXTURE_SPM)
    backbone = AlbertBackbone(
        AlbertConfig(
            vocab_size=tok.vocab_size, embedding_size=8, hidden_size=16, num_hidden_layers=1,
            num_attention_heads=2, intermediate_size=32, max_position_embeddings=32,
        )
    )  # fmt: skip
    with pytest.warns(PretrainingPlateauWarning, match="early plateau"):
        history = pretrain_on_texts(
            backbone, tok, DOCS, epochs=1, batch_size=8, max_length=32, learning_rate=1e-12,
            verbose=0,
        )  # fmt: skip
    assert 0.0 < history.chance_levels["mlm_chance"] < 1.0
    assert history.history["mlm_accuracy"][-1] <= history.chance_levels["mlm_chance"] + 0.2
    assert np.isfinite(history.history["loss"][-1])
