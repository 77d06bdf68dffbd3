"""Evaluation metrics against scikit-learn and scipy-free definitions."""

import numpy as np
import pytest
from sklearn.metrics import accuracy_score, confusion_matrix, f1_score

from albert_tf.training.evaluation import (
    classification_metrics,
    plot_confusion_matrix,
    regression_metrics,
)


def test_classification_metrics_match_scikit_learn():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 4, 200)
    y_pred = np.where(rng.random(200) < 0.6, y_true, rng.integers(0, 4, 200))
    m = classification_metrics(y_true, y_pred, ["a", "b", "c", "d"])
    assert m["accuracy"] == pytest.approx(accuracy_score(y_true, y_pred))
    assert m["macro_f1"] == pytest.approx(f1_score(y_true, y_pred, average="macro"))
    assert m["confusion_matrix"] == confusion_matrix(y_true, y_pred, labels=range(4)).tolist()


def test_regression_metrics_handle_ties_like_spearman():
    y_true = np.array([1.0, 2.0, 2.0, 3.0, 5.0])
    y_pred = np.array([1.5, 1.0, 2.5, 2.5, 9.0])
    m = regression_metrics(y_true, y_pred)
    assert m["pearson"] == pytest.approx(np.corrcoef(y_true, y_pred)[0, 1])
    # ranks: true [0, 1.5, 1.5, 3, 4], pred [1, 0, 2.5, 2.5, 4]
    expected = np.corrcoef([0, 1.5, 1.5, 3, 4], [1, 0, 2.5, 2.5, 4])[0, 1]
    assert m["spearman"] == pytest.approx(expected)


def test_confusion_matrix_png_is_written(tmp_path):
    path = plot_confusion_matrix([[5, 1], [2, 7]], ["neg", "pos"], str(tmp_path / "cm.png"))
    assert open(path, "rb").read(8) == b"\x89PNG\r\n\x1a\n"


def test_empty_evaluation_is_an_error():
    with pytest.raises(ValueError, match="No examples"):
        classification_metrics(np.array([], int), np.array([], int), ["a"])
