"""AlbertClassifier: heads, losses, fit, saving."""

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone, AlbertClassifier
from tests.test_backbone import inputs, tiny


def test_regression_is_the_default_for_one_label():
    model = AlbertClassifier(AlbertBackbone(tiny()), num_labels=1)
    assert model.problem_type == "regression"
    assert isinstance(model.default_loss(), keras.losses.MeanSquaredError)


def test_logits_are_dense_over_pooled_output():
    backbone = AlbertBackbone(tiny())
    model = AlbertClassifier(backbone, num_labels=3, dropout=0.0)
    x = inputs()
    pooled = np.asarray(backbone(x)["pooled_output"])
    kernel, bias = (np.asarray(w) for w in model.logits_layer.weights)
    np.testing.assert_allclose(model.predict(x, verbose=0), pooled @ kernel + bias, atol=1e-5)


def test_save_and_load_round_trip(tmp_path):
    model = AlbertClassifier(AlbertBackbone(tiny()), num_labels=4, problem_type="multi_label")
    x = inputs()
    before = model.predict(x, verbose=0)
    model.save(tmp_path / "c.keras")
    restored = keras.models.load_model(tmp_path / "c.keras")
    assert restored.problem_type == "multi_label" and restored.num_labels == 4
    np.testing.assert_allclose(restored.predict(x, verbose=0), before, atol=1e-6)


def test_unknown_problem_type_is_refused():
    with pytest.raises(ValueError, match="problem_type"):
        AlbertClassifier(AlbertBackbone(tiny()), num_labels=2, problem_type="ranking")
