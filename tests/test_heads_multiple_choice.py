"""Multiple choice: JSONL reading, [batch, choices, seq] packing, the head end to end."""

import json
import os

import keras
import numpy as np
import pytest

from albert_tf.data.multiple_choice import (
    MultipleChoiceFormatError,
    multiple_choice_arrays,
    read_multiple_choice,
)
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from tests.heads_helpers import FIXTURES, tiny_backbone

CHOICES = os.path.join(FIXTURES, "choices_tiny.jsonl")


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))


def test_read_and_pack_choices(tok):
    examples = read_multiple_choice(CHOICES)
    assert len(examples) == 8 and examples[2]["label"] == 2
    x, y = multiple_choice_arrays(examples, tok, max_length=24)
    assert x["token_ids"].shape == (8, 3, 24) and y.tolist() == [0, 1, 2, 0, 1, 2, 0, 1]
    # Choice k of example i is "[CLS] context [SEP] choice_k [SEP]" with segment 1 on the choice.
    single = tok(
        [examples[1]["context"]], [examples[1]["choices"][2]], max_length=24, padding="max_length"
    )
    np.testing.assert_array_equal(x["token_ids"][1, 2], single["token_ids"][0])
    np.testing.assert_array_equal(x["segment_ids"][1, 2], single["segment_ids"][0])
    assert x["segment_ids"][1, 2].max() == 1


def test_read_multiple_choice_errors_name_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    rows = [
        {"context": "a", "choices": ["x", "y"], "label": 0},
        {"context": "b", "choices": ["x", "y", "z"], "label": 1},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    with pytest.raises(MultipleChoiceFormatError, match=r"bad\.jsonl:2: 3 choices"):
        read_multiple_choice(str(path))
    path.write_text(json.dumps({"context": "a", "choices": ["x", "y"], "label": 5}))
    with pytest.raises(MultipleChoiceFormatError, match=r"bad\.jsonl:1.*label"):
        read_multiple_choice(str(path))


def test_scores_are_per_choice_and_choice_count_can_vary():
    model = AlbertMultipleChoice(tiny_backbone(60), dropout=0.0)
    rng = np.random.default_rng(0)
    x4 = {
        "token_ids": rng.integers(5, 60, size=(2, 4, 9)).astype("int32"),
        "segment_ids": np.zeros((2, 4, 9), "int32"),
        "padding_mask": np.ones((2, 4, 9), "int32"),
    }
    logits = model.predict(x4, verbose=0)
    assert logits.shape == (2, 4)
    # Each score depends on its own pair only: scoring choice 3 alone gives the same number.
    alone = model.predict({k: v[:, 3:4] for k, v in x4.items()}, verbose=0)
    np.testing.assert_allclose(alone[:, 0], logits[:, 3], atol=1e-5)


def test_multiple_choice_overfits_hand_made_set(tok):
    keras.utils.set_random_seed(0)
    examples = read_multiple_choice(CHOICES)
    x, y = multiple_choice_arrays(examples, tok, max_length=24)
    # No dropout: the training loss then measures fitting, not dropout's noise.
    model = AlbertMultipleChoice(tiny_backbone(tok.vocab_size), dropout=0.0)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss=model.default_loss(),
        metrics=model.default_metrics(),
    )
    history = model.fit(x, y, epochs=30, batch_size=4, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert (model.predict(x, verbose=0).argmax(-1) == y).all()


def test_multiple_choice_saves_and_loads(tmp_path):
    model = AlbertMultipleChoice(tiny_backbone(60))
    x = {
        "token_ids": np.random.randint(5, 60, size=(2, 3, 7)).astype("int32"),
        "segment_ids": np.zeros((2, 3, 7), "int32"),
        "padding_mask": np.ones((2, 3, 7), "int32"),
    }
    path = str(tmp_path / "mc.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), restored.predict(x, verbose=0), atol=1e-6
    )
