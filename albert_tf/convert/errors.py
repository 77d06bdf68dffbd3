"""The one error type checkpoint loading raises."""

from __future__ import annotations


class CheckpointError(ValueError):
    """A checkpoint that cannot be loaded: the message names the file and the tensor.

    A `ValueError`, so the `albert-tf` command prints it as one line.
    """
