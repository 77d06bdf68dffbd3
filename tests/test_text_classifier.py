"""The Keras-native classifier: raw strings and label names in, from `fit` to a
verified bundle, with no tokenizer call in the user's code. The bundle is checked
against the Keras model by our edge runtime and MediaPipe (inside `to_bundle`),
and here again by the runtime's labels."""

import os

import keras
import numpy as np
import pytest

from albert_tf import TextClassifier, TextPreprocessor
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

FIXTURES = os.path.join(os.path.dirname(__file__), "fixtures")
TEXTS = ["a fine film", "dull and long", "a joy to watch", "a waste of time"] * 8
LABELS = ["pos", "neg", "pos", "neg"] * 8


@pytest.fixture(scope="module")
def trained():
    keras.utils.set_random_seed(0)
    clf = TextClassifier.from_texts(TEXTS, ["neg", "pos"], preset="tiny", sequence_length=32)
    clf.compile(optimizer=keras.optimizers.Adam(1e-3))  # loss and metrics: "auto"
    history = clf.fit(TEXTS, LABELS, epochs=8, batch_size=8, verbose=0)
    return clf, history


def test_fit_on_strings_learns_the_labels(trained):
    clf, history = trained
    assert history.history["accuracy"][-1] == 1.0
    assert clf.predict_labels(["a fine film", "a waste of time"]) == ["pos", "neg"]


def test_save_load_predict_and_bundle_without_a_tokenizer_call(trained, tmp_path):
    from export import to_bundle
    from export.runtime import Classifier

    clf, _ = trained
    clf.save(tmp_path / "clf.keras")
    loaded = keras.saving.load_model(tmp_path / "clf.keras")
    assert isinstance(loaded, TextClassifier)
    assert loaded.preprocessor.label_names == ["neg", "pos"]
    np.testing.assert_allclose(
        loaded.predict(TEXTS[:4], verbose=0), clf.predict(TEXTS[:4], verbose=0), atol=1e-6
    )

    bundle = to_bundle(loaded, str(tmp_path / "bundle"), verify_texts=TEXTS, verify_labels=LABELS)
    on_device = [out["label"] for out in Classifier(bundle).predict(TEXTS[:4])]
    assert on_device == loaded.predict_labels(TEXTS[:4]) == LABELS[:4]


def test_a_loaded_model_goes_on_training(trained, tmp_path):
    clf, _ = trained
    clf.save(tmp_path / "clf.keras")
    loaded = keras.saving.load_model(tmp_path / "clf.keras")
    loss_before, _ = loaded.evaluate(TEXTS, LABELS, verbose=0)
    before = loaded.logits_layer.get_weights()[0].copy()
    loaded.fit(TEXTS, LABELS, epochs=1, batch_size=8, verbose=0)
    assert np.isfinite(loss_before)
    assert not np.allclose(loaded.logits_layer.get_weights()[0], before)  # it trained


def test_an_unknown_label_is_named():
    tok = AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))
    pre = TextPreprocessor(tok, sequence_length=16, label_names=["neg", "pos"])
    with pytest.raises(ValueError, match="'neutral' not seen in training"):
        pre.encode_labels(["pos", "neutral"])


def test_pairs_and_the_long_text_cut_come_from_the_preprocessor():
    tok = AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))
    tok.truncation = "head_tail"
    pre = TextPreprocessor(tok, sequence_length=8, label_names=["no", "yes"])
    single = pre(["a b c d e f g h i j k l"])
    expected = tok(["a b c d e f g h i j k l"], max_length=8)
    np.testing.assert_array_equal(single["token_ids"], expected["token_ids"])
    pair = pre(["a question"], ["an answer"])
    assert pair["segment_ids"].max() == 1


def test_label_count_must_match_the_outputs():
    tok = AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))
    backbone = TextClassifier.from_texts(TEXTS, ["neg", "pos"], preset="tiny").backbone
    with pytest.raises(ValueError, match="needs as many label names"):
        TextClassifier(backbone, TextPreprocessor(tok, 16, ["a", "b", "c"]), num_labels=2)
