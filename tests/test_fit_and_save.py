"""The shared fit path: datasets of a known length (so Keras knows its step
counts and never warns that the input ran out), best epoch kept."""

import os
import warnings

import numpy as np

from albert_tf import AlbertBackbone, AlbertConfig, TextClassifier, TextPreprocessor
from albert_tf.data.pipeline import make_tf_dataset
from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
from albert_tf.training.finetune import FinetuneSettings, Split, finetune
from albert_tf.training.fit_and_save import with_known_length

SPM = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
# Lengths spread over several buckets, so the batch count is not ceil(n / batch).
TEXTS = [("word " * n).strip() for n in (1, 2, 3, 9, 10, 11, 25, 26, 27, 40)] * 3


def test_a_bucketed_dataset_gets_its_true_number_of_batches():
    tok = AlbertTokenizer.load(SPM)
    ds = make_tf_dataset(TEXTS, tok, np.zeros(len(TEXTS), "int32"), max_length=64,
                         batch_size=4, shuffle=True)  # fmt: skip
    counted = sum(1 for _ in ds)
    sized = with_known_length(ds)
    assert int(sized.cardinality()) == counted == sum(1 for _ in sized)


def test_finetune_tells_keras_the_steps_and_never_runs_out_of_data(tmp_path):
    tok = AlbertTokenizer.load(SPM)
    config = AlbertConfig.from_preset("tiny", vocab_size=tok.vocab_size, num_hidden_layers=1)
    model = TextClassifier(AlbertBackbone(config), TextPreprocessor(tok, 64, ["a", "b"]))
    y = np.arange(len(TEXTS)) % 2
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        settings = FinetuneSettings(epochs=2, batch_size=4)
        result = finetune(model, Split(TEXTS, y), Split(TEXTS, y), settings, str(tmp_path),
                          verbose=0)  # fmt: skip
    assert not [w for w in caught if "ran out of data" in str(w.message)]
    assert result.epochs_run == 2 and "val_accuracy" in result.best
    assert (tmp_path / "checkpoints" / "best.weights.h5").exists()
