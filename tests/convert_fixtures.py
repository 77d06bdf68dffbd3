"""Helpers for the conversion tests: fixture paths and expected outputs.

The fixtures under tests/fixtures/hf/ are made by tests/fixtures/make_hf_fixtures.py
with transformers + torch in a separate venv; tests here need neither.
"""

from __future__ import annotations

import os

import numpy as np

HF = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "hf")
TOL = 1e-4
# A Python with torch + transformers for the slow tests (`make ref-venv` makes ../refvenv).
REF_PYTHON = os.environ.get(
    "ALBERT_TF_REF_PYTHON",
    os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..", "refvenv", "bin", "python"
    ),
)


def fixture(name: str) -> str:
    return os.path.join(HF, name)


def expected(name: str) -> dict[str, np.ndarray]:
    with np.load(os.path.join(HF, name, "expected.npz")) as d:
        return {k: d[k] for k in d.files}


def keras_inputs(d: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {
        "token_ids": d["input_ids"].astype("int32"),
        "segment_ids": d["token_type_ids"].astype("int32"),
        "padding_mask": d["attention_mask"].astype("int32"),
    }


def max_diff(a, b) -> float:
    a, b = np.asarray(a), np.asarray(b)
    assert a.shape == b.shape, (a.shape, b.shape)
    return float(np.abs(a - b).max())


def per_layer(hidden_states: np.ndarray, num_layers: int) -> np.ndarray:
    """transformers records every inner block's output when inner_group_num > 1;
    keep the embedding output and each layer's last block, as our backbone does."""
    per = (len(hidden_states) - 1) // num_layers
    return hidden_states[[0, *range(per, len(hidden_states), per)]]
