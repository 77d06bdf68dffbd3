"""AlbertClassifier beyond single labels: text pairs, regression and multi-label, each
trained with model.fit on batches from the real tokenizer and tf.data pipeline."""

import os

import keras
import numpy as np
import pytest

from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.data.readers import TextDataset
from albert_tf.models.classifier import AlbertClassifier
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from tests.heads_helpers import FIXTURES, tiny_backbone

# Hand-made: (first, second, paraphrase?, similarity 0..5)
PAIRS = [
    ("the film was great", "the movie was excellent", 1, 4.6),
    ("the film was great", "the plot was a mess", 0, 1.2),
    ("a dull and slow story", "a boring and sluggish tale", 1, 4.2),
    ("a dull and slow story", "the music is lovely", 0, 0.4),
    ("the acting is fine", "the actors did well", 1, 3.8),
    ("the acting is fine", "too long by half", 0, 0.8),
    ("i could not stop laughing", "it was very funny", 1, 3.5),
    ("i could not stop laughing", "a sad and quiet ending", 0, 0.2),
]
# Hand-made multi-label: text -> tags among (acting, music, plot)
MULTI = [
    ("the acting and the music are superb", [1, 1, 0]),
    ("the plot is thin but the acting is strong", [1, 0, 1]),
    ("a lovely score and a clever plot", [0, 1, 1]),
    ("the cast is wonderful", [1, 0, 0]),
    ("the songs are catchy", [0, 1, 0]),
    ("the story makes no sense", [0, 0, 1]),
    ("great actors great songs great story", [1, 1, 1]),
    ("nothing to say about it", [0, 0, 0]),
]


@pytest.fixture(scope="module")
def tok():
    return AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))


def _fit(model, dataset, epochs, lr=1e-3):
    model.compile(
        optimizer=keras.optimizers.Adam(lr),
        loss=model.default_loss(),
        metrics=model.default_metrics(),
    )
    return model.fit(dataset, epochs=epochs, verbose=0)


def test_text_pairs_are_packed_with_two_segments_and_train(tok):
    keras.utils.set_random_seed(0)
    data = TextDataset(texts=[a for a, *_ in PAIRS], labels=None, pairs=[b for _, b, *_ in PAIRS])
    y = np.array([p for *_, p, _ in PAIRS], "int32")
    ds = make_tf_dataset(data, tok, y, max_length=24, batch_size=4)
    x, _ = next(iter(ds))
    assert int(np.asarray(x["segment_ids"]).max()) == 1  # the second text is segment 1
    model = AlbertClassifier(tiny_backbone(tok.vocab_size), num_labels=2)
    history = _fit(model, ds, epochs=25)
    assert history.history["accuracy"][-1] == 1.0
    logits = model.predict(make_tf_dataset(data, tok, max_length=24, batch_size=8), verbose=0)
    assert (logits.argmax(-1) == y).all()


def test_regression_fits_similarity_scores(tok):
    keras.utils.set_random_seed(0)
    data = TextDataset(texts=[a for a, *_ in PAIRS], labels=None, pairs=[b for _, b, *_ in PAIRS])
    y = np.array([s for *_, s in PAIRS], "float32")
    model = AlbertClassifier(tiny_backbone(tok.vocab_size), num_labels=1)
    assert model.problem_type == "regression"
    history = _fit(model, make_tf_dataset(data, tok, y, max_length=24, batch_size=4), 60)
    predicted = model.predict(make_tf_dataset(data, tok, max_length=24, batch_size=8), verbose=0)
    assert predicted.shape == (8, 1)
    # Mean squared error, as the loss says, against numpy.
    mse = float(np.mean((predicted[:, 0] - y) ** 2))
    assert mse < 0.1 * float(np.var(y))
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_multi_label_fits_independent_sigmoids(tok):
    keras.utils.set_random_seed(0)
    data = TextDataset(texts=[t for t, _ in MULTI], labels=None)
    y = np.array([tags for _, tags in MULTI], "float32")
    model = AlbertClassifier(
        tiny_backbone(tok.vocab_size), num_labels=3, problem_type="multi_label"
    )
    # The loss is sigmoid cross-entropy per label, averaged: check it against numpy first.
    x = tok([t for t, _ in MULTI], max_length=16, padding="max_length")
    logits = model.predict(x, verbose=0)
    p = 1.0 / (1.0 + np.exp(-logits))
    bce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert float(model.default_loss()(y, logits)) == pytest.approx(bce, rel=1e-4)
    history = _fit(model, make_tf_dataset(data, tok, y, max_length=16, batch_size=4), 100)
    assert history.history["loss"][-1] < 0.3 * history.history["loss"][0]
    predicted = model.predict(x, verbose=0) > 0.0
    np.testing.assert_array_equal(predicted, y.astype(bool))
