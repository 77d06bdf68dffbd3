"""Token classification: CoNLL reading, first-piece label alignment, the head end to end."""

import os

import keras
import numpy as np
import pytest

from albert_tf.data.token_labels import (
    IGNORE_INDEX,
    ConllFormatError,
    align_labels,
    label_list,
    read_conll,
    token_label_arrays,
    word_predictions,
)
from albert_tf.models.token_classifier import AlbertTokenClassifier, MaskedTokenAccuracy
from tests.heads_helpers import FIXTURES, tiny_backbone, train_sentencepiece

NER = os.path.join(FIXTURES, "ner_tiny.conll")


@pytest.fixture(scope="module")
def sentences():
    return read_conll(NER)


@pytest.fixture(scope="module")
def sp(sentences):
    # Long names are left out of the training text, so they break into many pieces.
    texts = [" ".join(w for w in words if len(w) < 15) for words, _ in sentences]
    return train_sentencepiece(texts * 3, vocab_size=120)


def test_read_conll_sentences_tags_and_docstart(sentences):
    assert len(sentences) == 6
    words, tags = sentences[0]
    assert words[:2] == ["Agnes", "Moller"] and tags[:2] == ["B-PER", "I-PER"]
    labels = label_list(sentences)
    assert labels[0] == "O" and set(labels) == {
        "O",
        "B-PER",
        "I-PER",
        "B-LOC",
        "I-LOC",
        "B-ORG",
        "I-ORG",
    }


def test_read_conll_bad_line_names_file_and_line(tmp_path):
    path = tmp_path / "bad.conll"
    path.write_text("Agnes B-PER\nMoller\n")
    with pytest.raises(ConllFormatError, match=r"bad\.conll:2"):
        read_conll(str(path))


def test_long_word_gets_its_tag_on_the_first_piece_only(sentences, sp):
    words, tags = sentences[3]  # Wolfeschlegelsteinhausen visited Llanfairpwllgwyngyll ...
    labels = label_list(sentences)
    label_to_id = {label: i for i, label in enumerate(labels)}
    ids, tag_ids, word_ids = align_labels(words, tags, sp, label_to_id, max_length=64)
    pieces_of_first_word = len([i for i in sp.encode(words[0]) if i not in (2, 3)])
    assert pieces_of_first_word >= 4  # the edge case: one word, many pieces
    assert ids[0] == 2 and ids[-1] == 3
    assert tag_ids[0] == tag_ids[-1] == IGNORE_INDEX
    assert tag_ids[1] == label_to_id["B-PER"]
    assert tag_ids[2 : 1 + pieces_of_first_word] == [IGNORE_INDEX] * (pieces_of_first_word - 1)
    # Exactly one labelled position per word, in word order, with that word's tag.
    labelled = [(w, t) for w, t in zip(word_ids, tag_ids) if w >= 0]
    assert [w for w, _ in labelled] == list(range(len(words)))
    assert [labels[t] for _, t in labelled] == list(tags)
    # The pieces spell the sentence back.
    assert sp.decode(ids[1:-1]).replace(" ", "") == "".join(words).lower()


def test_truncation_keeps_whole_words(sentences, sp):
    labels = label_list(sentences)
    x, y, word_ids = token_label_arrays(sentences, sp, labels, max_length=8)
    assert x["token_ids"].shape == (6, 8)
    for row_ids, row_mask in zip(x["token_ids"], x["padding_mask"]):
        n = int(row_mask.sum())
        assert row_ids[n - 1] == 3  # [SEP] closes even a cut sentence
    # A cut never labels a piece of a word whose first piece was dropped.
    assert ((y != IGNORE_INDEX) == (word_ids >= 0)).all()


def test_loss_and_accuracy_ignore_minus_100():
    model = AlbertTokenClassifier(tiny_backbone(60), num_labels=4)
    x = {
        "token_ids": np.random.randint(5, 60, size=(2, 9)).astype("int32"),
        "segment_ids": np.zeros((2, 9), "int32"),
        "padding_mask": np.ones((2, 9), "int32"),
    }
    y = np.full((2, 9), IGNORE_INDEX)
    y[0, [1, 3]] = [2, 0]
    y[1, [2, 5, 6]] = [1, 3, 3]
    logits = model.predict(x, verbose=0)
    logp = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    valid = y != IGNORE_INDEX
    expected = -np.take_along_axis(logp, np.where(valid, y, 0)[..., None], -1)[..., 0][valid].mean()
    assert float(model.default_loss()(y, logits)) == pytest.approx(expected, rel=1e-5)
    metric = MaskedTokenAccuracy()
    metric.update_state(y, logits)
    expected_acc = (logits.argmax(-1) == y)[valid].mean()
    assert float(metric.result()) == pytest.approx(expected_acc)


def test_token_classifier_overfits_hand_made_ner(sentences, sp):
    keras.utils.set_random_seed(0)
    labels = label_list(sentences)
    x, y, word_ids = token_label_arrays(sentences, sp, labels, max_length=64)
    assert (word_ids >= 0).sum() == sum(len(words) for words, _ in sentences)  # nothing cut
    model = AlbertTokenClassifier(tiny_backbone(sp.get_piece_size()), num_labels=len(labels))
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=model.default_loss(),
        metrics=model.default_metrics(),
    )
    history = model.fit(x, y, epochs=40, batch_size=3, verbose=0)
    assert history.history["accuracy"][-1] == 1.0
    predicted = word_predictions(model.predict(x, verbose=0), word_ids, labels)
    assert predicted == [list(tags) for _, tags in sentences]


def test_token_classifier_saves_and_loads(tmp_path):
    model = AlbertTokenClassifier(tiny_backbone(60), num_labels=3)
    x = {
        "token_ids": np.random.randint(5, 60, size=(2, 7)).astype("int32"),
        "segment_ids": np.zeros((2, 7), "int32"),
        "padding_mask": np.ones((2, 7), "int32"),
    }
    path = str(tmp_path / "tok.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    np.testing.assert_allclose(
        model.predict(x, verbose=0), restored.predict(x, verbose=0), atol=1e-6
    )
