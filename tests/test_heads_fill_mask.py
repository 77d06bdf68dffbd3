"""Fill-mask: AlbertMaskedLM.predict_masked ranks the tokens a trained model expects."""

import os

import keras
import numpy as np

from albert_tf.models.masked_lm import AlbertMaskedLM
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from tests.heads_helpers import FIXTURES, tiny_backbone

MASK_ID = 4
# Hand-made: which word fills the blank depends on the first word.
SENTENCES = [
    ("the movie was", "good"),
    ("the plot was", "bad"),
    ("the music was", "great"),
    ("the story was", "dull"),
]


def test_fill_mask_ranks_the_trained_word_first():
    keras.utils.set_random_seed(0)
    tok = AlbertTokenizer.load(os.path.join(FIXTURES, "tiny_spiece.model"))
    rows, targets = [], []
    for prefix, word in SENTENCES:
        (word_id,) = tok.encode(word)  # each answer is a single piece
        ids = [2, *tok.encode(prefix), MASK_ID, 3]
        labels = [-100] * len(ids)
        labels[ids.index(MASK_ID)] = word_id
        rows.append(ids)
        targets.append(labels)
    width = max(map(len, rows))
    x = {
        "token_ids": np.array([r + [0] * (width - len(r)) for r in rows], "int32"),
        "segment_ids": np.zeros((len(rows), width), "int32"),
        "padding_mask": np.array([[1] * len(r) + [0] * (width - len(r)) for r in rows], "int32"),
    }
    y = np.array([t + [-100] * (width - len(t)) for t in targets], "int32")
    model = AlbertMaskedLM(tiny_backbone(tok.vocab_size))
    model.compile(
        optimizer=keras.optimizers.Adam(2e-3),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=-100),
    )
    model.fit(x, y, epochs=40, batch_size=4, verbose=0)

    results = model.predict_masked([f"{p} [MASK]" for p, _ in SENTENCES], tok, top_k=3)
    for (_, word), per_text in zip(SENTENCES, results):
        (candidates,) = per_text  # one [MASK] per text
        assert candidates[0]["token"] == word
        scores = [c["score"] for c in candidates]
        assert scores == sorted(scores, reverse=True) and sum(scores) <= 1.0 + 1e-6
