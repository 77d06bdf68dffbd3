"""Metrics for a trained run: accuracy, macro-F1 and confusion matrix for
classes; Pearson and Spearman for regression. Plain numpy so they can be
checked against scikit-learn / scipy in tests."""

from __future__ import annotations

import os

import numpy as np


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_labels: int) -> np.ndarray:
    """Rows are true labels, columns predictions."""
    matrix = np.zeros((num_labels, num_labels), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def classification_metrics(
    y_true: np.ndarray, y_pred: np.ndarray, labels: list[str]
) -> dict[str, object]:
    """Accuracy, macro-F1 (a class never predicted nor present counts as 0 F1
    only if it is present; absent classes are left out), per-class F1 and the
    confusion matrix."""
    y_true = np.asarray(y_true, int)
    y_pred = np.asarray(y_pred, int)
    if y_true.shape != y_pred.shape or y_true.ndim != 1:
        raise ValueError(
            f"y_true {y_true.shape} and y_pred {y_pred.shape} must be equal 1-D shapes."
        )
    if len(y_true) == 0:
        raise ValueError("No examples to evaluate.")
    matrix = confusion_matrix(y_true, y_pred, len(labels))
    tp = np.diag(matrix).astype(float)
    precision = np.divide(tp, matrix.sum(0), out=np.zeros_like(tp), where=matrix.sum(0) > 0)
    recall = np.divide(tp, matrix.sum(1), out=np.zeros_like(tp), where=matrix.sum(1) > 0)
    f1 = np.divide(
        2 * precision * recall,
        precision + recall,
        out=np.zeros_like(tp),
        where=(precision + recall) > 0,
    )
    present = (matrix.sum(0) + matrix.sum(1)) > 0
    return {
        "accuracy": float((y_true == y_pred).mean()),
        "macro_f1": float(f1[present].mean()),
        "f1_per_label": {label: float(v) for label, v in zip(labels, f1)},
        "confusion_matrix": matrix.tolist(),
        "labels": list(labels),
        "num_examples": int(len(y_true)),
    }


def _ranks(x: np.ndarray) -> np.ndarray:
    # Average ranks for ties, as Spearman's rho defines them.
    order = np.argsort(x, kind="mergesort")
    ranks = np.empty(len(x), float)
    sorted_x = x[order]
    i = 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and sorted_x[j + 1] == sorted_x[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0
        i = j + 1
    return ranks


def regression_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict[str, float]:
    y_true = np.asarray(y_true, float).ravel()
    y_pred = np.asarray(y_pred, float).ravel()
    if len(y_true) < 2:
        raise ValueError("Need at least two examples for Pearson/Spearman.")
    pearson = float(np.corrcoef(y_true, y_pred)[0, 1])
    spearman = float(np.corrcoef(_ranks(y_true), _ranks(y_pred))[0, 1])
    return {
        "pearson": pearson,
        "spearman": spearman,
        "mse": float(np.mean((y_true - y_pred) ** 2)),
        "num_examples": int(len(y_true)),
    }


def plot_confusion_matrix(
    matrix: list[list[int]], labels: list[str], path: str, title: str = ""
) -> str:
    """Write the confusion matrix as a PNG (atomically) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    m = np.asarray(matrix)
    size = max(3.5, 0.6 * len(labels) + 2)
    fig, ax = plt.subplots(figsize=(size, size))
    ax.imshow(m, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title or "confusion matrix")
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            color = "white" if m[i, j] > m.max() / 2 else "black"
            ax.text(j, i, str(m[i, j]), ha="center", va="center", color=color)
    fig.tight_layout()
    tmp = os.path.join(os.path.dirname(os.path.abspath(path)), ".tmp-" + os.path.basename(path))
    fig.savefig(tmp, format="png", dpi=120)
    plt.close(fig)
    os.replace(tmp, path)
    return path
