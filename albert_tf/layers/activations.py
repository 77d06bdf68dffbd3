"""Activation names from Hugging Face configs mapped to keras.ops functions."""

from __future__ import annotations

from collections.abc import Callable

from keras import ops


def _gelu_tanh(x):
    return ops.gelu(x, approximate=True)


def _gelu_erf(x):
    return ops.gelu(x, approximate=False)


# "gelu_new", "gelu_fast" and "gelu_pytorch_tanh" are all the tanh approximation
# in transformers (they differ only in how the constant is written).
ACTIVATIONS: dict[str, Callable] = {
    "gelu_new": _gelu_tanh,
    "gelu_fast": _gelu_tanh,
    "gelu_pytorch_tanh": _gelu_tanh,
    "gelu": _gelu_erf,
    "relu": ops.relu,
    "tanh": ops.tanh,
}


def get_activation(name: str) -> Callable:
    try:
        return ACTIVATIONS[name]
    except KeyError:
        raise ValueError(f"Unknown hidden_act {name!r}; known: {sorted(ACTIVATIONS)}") from None
