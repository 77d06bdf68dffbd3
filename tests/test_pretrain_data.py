"""Pre-training examples: sentence order pairs, whole-word n-gram masking, shards, CLI."""

import os
import re

import numpy as np
import pytest

from albert_tf.data.pretraining import (
    MASK_ID,
    PretrainingDataBuilder,
    split_documents,
    split_sentences,
)
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

FIXTURE_SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
WORDS = (
    "the film was a quiet delight and the actors gave warm and funny performances while "
    "the story moved with grace through a small town in summer"
).split()


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(FIXTURE_SPM)


def _corpus(num_docs=30, sentences=6, seed=0):
    rng = np.random.default_rng(seed)
    docs = []
    for _ in range(num_docs):
        sents = [" ".join(rng.choice(WORDS, rng.integers(4, 12))) + "." for _ in range(sentences)]
        docs.append("\n".join(sents))
    return "\n\n".join(docs)


def _original_ids(arrays, i):
    ids = arrays["token_ids"][i].copy()
    k = int(arrays["mlm_weights"][i].sum())
    ids[arrays["mask_positions"][i][:k]] = arrays["mlm_labels"][i][:k]
    return ids


def test_documents_and_sentences_split_on_blank_lines_and_sentence_ends():
    assert split_documents("a b.\nc.\n\n\n  d e.\n") == ["a b.\nc.", "d e."]
    assert split_sentences('He left. "Why?" she asked!\nNext line') == [
        "He left.",
        '"Why?"',
        "she asked!",
        "Next line",
    ]


def test_sop_label_1_means_the_segments_are_swapped(tok):
    # Each document is one stream of numbered words; in-order pairs have A before B.
    docs = [" ".join(f"w{j}." for j in range(i, i + 40)) for i in range(0, 400, 40)]
    builder = PretrainingDataBuilder(tok, max_seq_length=48, max_predictions=6, seed=3)
    arrays = builder.build(docs)
    labels = arrays["sop_labels"]
    assert 0.25 < labels.mean() < 0.75
    for i in range(len(labels)):
        ids = _original_ids(arrays, i)
        seg = arrays["segment_ids"][i]
        real = arrays["padding_mask"][i].astype(bool)
        a = tok.decode(ids[real & (seg == 0)][1:-1])
        b = tok.decode(ids[real & (seg == 1)][:-1])
        # Whole words only ("w12."): truncation may cut the first or last one.
        first = lambda text: int(re.findall(r"\bw(\d+)\.", text)[0])  # noqa: E731
        assert (first(a) > first(b)) == bool(labels[i]), (a, b, labels[i])


def test_masking_whole_words_rate_and_replacements(tok):
    builder = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=20, seed=1)
    arrays = builder.build(_corpus(num_docs=80))
    weights = arrays["mlm_weights"]
    n_real = (arrays["padding_mask"].sum(1) - 3).astype(float)  # minus [CLS] and two [SEP]
    rate = weights.sum(1) / n_real
    assert 0.12 < rate.mean() < 0.18
    assert weights.sum(1).max() <= 20

    word_start = builder._word_start
    replaced = kept = masked = 0
    for i in range(len(weights)):
        k = int(weights[i].sum())
        positions = set(arrays["mask_positions"][i][:k].tolist())
        original = _original_ids(arrays, i)
        for p in positions:
            # A masked continuation piece always comes with the piece before it.
            if not word_start[original[p]] and original[p - 1] >= 5:
                assert p - 1 in positions
            now = arrays["token_ids"][i][p]
            masked += now == MASK_ID
            kept += now == original[p]
            replaced += now not in (MASK_ID, original[p])
    total = masked + kept + replaced
    assert abs(masked / total - 0.8) < 0.05
    assert abs(kept / total - 0.1) < 0.05 and abs(replaced / total - 0.1) < 0.05


def test_ngram_lengths_follow_one_over_n(tok):
    builder = PretrainingDataBuilder(tok, max_seq_length=128, max_predictions=40, seed=2)
    arrays = builder.build(_corpus(num_docs=60, sentences=10))
    spans = []
    for i in range(len(arrays["token_ids"])):
        k = int(arrays["mlm_weights"][i].sum())
        original = _original_ids(arrays, i)
        pos = sorted(arrays["mask_positions"][i][:k].tolist())
        words = 0
        for j, p in enumerate(pos):
            if j and p == pos[j - 1] + 1:
                words += bool(builder._word_start[original[p]])
            else:
                if words:
                    spans.append(words)
                words = 1
        spans.append(words)
    spans = np.array(spans)
    # Adjacent n-grams merge, so long runs are a little more common than 1/n alone.
    assert (spans == 1).mean() > (spans == 2).mean() > 0.05
    assert (spans >= 2).mean() > 0.2


def test_same_seed_same_examples_and_duplicates_get_new_masks(tok):
    text = _corpus(num_docs=10)
    one = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=10, seed=5).build(text)
    again = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=10, seed=5).build(text)
    for k in one:
        np.testing.assert_array_equal(one[k], again[k])
    two = PretrainingDataBuilder(
        tok, max_seq_length=64, max_predictions=10, seed=5, duplicate_factor=2
    ).build(text)
    assert len(two["token_ids"]) > 1.5 * len(one["token_ids"])
    assert not np.array_equal(two["mask_positions"][: len(one["token_ids"])], one["mask_positions"])


def test_short_seq_prob_makes_short_examples(tok):
    text = _corpus(num_docs=40)
    lengths = {}
    for p in (0.0, 1.0):
        b = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=10, short_seq_prob=p)
        lengths[p] = b.build(text)["padding_mask"].sum(1).mean()
    assert lengths[1.0] < 0.8 * lengths[0.0]


def test_shards_hold_the_same_examples_and_cli_writes_them(tok, tmp_path):
    from albert_tf.cli import main
    from albert_tf.data.pretraining_tfrecord import pretraining_shards_dataset

    corpus = tmp_path / "corpus.txt"
    corpus.write_text(_corpus(num_docs=12), encoding="utf-8")
    out = tmp_path / "shards"
    code = main(
        ["pretrain-data", "--input", str(corpus), "--tokenizer", FIXTURE_SPM,
         "--output", str(out), "--num-shards", "3", "--max-length", "64", "--seed", "9"]
    )  # fmt: skip
    assert code == 0
    assert sorted(os.listdir(out))[-1] == "pretraining_data.json" and len(os.listdir(out)) == 4
    want = PretrainingDataBuilder(tok, max_seq_length=64, max_predictions=11, seed=9).build(
        corpus.read_text(encoding="utf-8")
    )
    got = {}
    for x, y in pretraining_shards_dataset(str(out), batch_size=1000, shuffle=False):
        got = {**{k: v.numpy() for k, v in x.items()}, **{k: v.numpy() for k, v in y.items()}}
    assert len(got["token_ids"]) == len(want["token_ids"])
    # Round-robin shards and interleaving reorder examples: compare as sets of rows.
    rows = lambda a: sorted(map(tuple, np.concatenate([a["token_ids"], a["mlm_labels"]], 1)))  # noqa: E731
    assert rows(got) == rows(want)


def test_empty_text_is_a_clear_error(tok):
    with pytest.raises(ValueError, match="No pre-training example"):
        PretrainingDataBuilder(tok).build("\n\n  \n")
