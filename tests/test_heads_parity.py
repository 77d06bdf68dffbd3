"""Task heads loaded from Hugging Face checkpoints give transformers' logits.

The fixtures under tests/fixtures/hf/ were written by tests/fixtures/make_hf_fixtures.py
with transformers' AlbertForTokenClassification / AlbertForQuestionAnswering /
AlbertForMultipleChoice (tiny random weights; inputs with padding and two segments)
and hold transformers' outputs, so these tests need neither torch nor transformers.
"""

import os

import numpy as np
import pytest

from albert_tf.convert import load_multiple_choice, load_question_answerer, load_token_classifier
from albert_tf.models.multiple_choice import AlbertMultipleChoice
from albert_tf.models.question_answerer import AlbertQuestionAnswerer
from albert_tf.models.token_classifier import AlbertTokenClassifier
from tests.heads_helpers import FIXTURES

HF = os.path.join(FIXTURES, "hf")


def _fixture(name):
    folder = os.path.join(HF, name)
    expected = np.load(os.path.join(folder, "expected.npz"))
    x = {
        "token_ids": expected["input_ids"].astype("int32"),
        "segment_ids": expected["token_type_ids"].astype("int32"),
        "padding_mask": expected["attention_mask"].astype("int32"),
    }
    return folder, x, expected


def test_token_classifier_matches_transformers():
    folder, x, expected = _fixture("albert_token_classification")
    model = load_token_classifier(folder)
    assert isinstance(model, AlbertTokenClassifier) and model.num_labels == 5
    logits = model.predict(x, verbose=0)
    assert (x["padding_mask"] == 0).any() and (x["segment_ids"] == 1).any()
    np.testing.assert_allclose(logits, expected["logits"], atol=1e-4)


def test_question_answerer_matches_transformers():
    folder, x, expected = _fixture("albert_question_answering")
    model = load_question_answerer(folder)
    assert isinstance(model, AlbertQuestionAnswerer)
    out = model.predict(x, verbose=0)
    np.testing.assert_allclose(out["start_logits"], expected["start_logits"], atol=1e-4)
    np.testing.assert_allclose(out["end_logits"], expected["end_logits"], atol=1e-4)


def test_multiple_choice_matches_transformers():
    folder, x, expected = _fixture("albert_multiple_choice")
    assert x["token_ids"].shape == (2, 3, 8)
    model = load_multiple_choice(folder)
    assert isinstance(model, AlbertMultipleChoice)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected["logits"], atol=1e-4)


@pytest.mark.parametrize(
    "name,head,width",
    [("albert_token_classification", "logits", 5), ("albert_question_answering", "qa_outputs", 2)],
)
def test_head_weights_are_the_checkpoint_tensors(name, head, width):
    """The head layer holds the checkpoint's tensors (torch [out, in] -> Keras [in, out])."""
    from safetensors.numpy import load_file

    folder, _, _ = _fixture(name)
    tensors = load_file(os.path.join(folder, "model.safetensors"))
    prefix = "classifier" if head == "logits" else "qa_outputs"
    loader = load_token_classifier if head == "logits" else load_question_answerer
    kernel, bias = (np.asarray(w) for w in loader(folder).get_layer(head).weights)
    assert kernel.shape[1] == width
    np.testing.assert_array_equal(kernel, tensors[f"{prefix}.weight"].T)
    np.testing.assert_array_equal(bias, tensors[f"{prefix}.bias"])
