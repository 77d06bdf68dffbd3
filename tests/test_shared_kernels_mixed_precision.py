"""Under mixed precision a shared block's kernels are cast once per forward pass, not once per layer."""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from albert_tf.layers.shared_encoder import SharedEncoder
from albert_tf.layers.transformer_block import TransformerBlock


@pytest.fixture
def bfloat16_policy():
    keras.mixed_precision.set_dtype_policy("mixed_bfloat16")
    yield
    keras.mixed_precision.set_dtype_policy("float32")


@contextlib.contextmanager
def keras_casts_per_call():
    """Blocks called without pre-cast kernels: Keras casts each kernel at each call."""
    original = TransformerBlock.compute_dtype_kernels
    TransformerBlock.compute_dtype_kernels = lambda self: None
    try:
        yield
    finally:
        TransformerBlock.compute_dtype_kernels = original


def _encoder(layers: int) -> SharedEncoder:
    keras.utils.set_random_seed(3)
    encoder = SharedEncoder(
        num_hidden_layers=layers,
        hidden_size=16,
        num_attention_heads=2,
        intermediate_size=32,
    )
    encoder.build((None, None, 16))
    return encoder


def _inputs():
    x = tf.cast(np.random.default_rng(0).normal(size=(2, 5, 16)), tf.bfloat16)
    mask = tf.constant([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]], tf.int32)
    return x, mask


def _kernel_casts(encoder: SharedEncoder) -> int:
    """Cast ops in the traced forward pass that produce a bfloat16 kernel."""
    x, mask = _inputs()
    graph = tf.function(lambda a, b: encoder(a, b)).get_concrete_function(x, mask).graph
    kernel_shapes = {tuple(v.shape) for v in encoder.trainable_variables if len(v.shape) == 2}
    return sum(
        op.type == "Cast"
        and op.outputs[0].dtype == tf.bfloat16
        and tuple(op.outputs[0].shape) in kernel_shapes
        for op in graph.get_operations()
    )


def test_kernel_casts_do_not_grow_with_layers(bfloat16_policy):
    # One block, six dense kernels: six casts whether it runs 2 or 6 times.
    assert _kernel_casts(_encoder(2)) == _kernel_casts(_encoder(6)) == 6
    with keras_casts_per_call():
        assert _kernel_casts(_encoder(2)) == 12


def test_precast_forward_and_gradients_equal_per_layer_casts(bfloat16_policy):
    encoder = _encoder(3)
    x, mask = _inputs()
    with tf.GradientTape(persistent=True) as tape:
        once = tf.cast(encoder(x, mask), tf.float32)
        loss_once = tf.reduce_sum(once**2)
        with keras_casts_per_call():
            every = tf.cast(encoder(x, mask), tf.float32)
        loss_every = tf.reduce_sum(every**2)
    np.testing.assert_array_equal(once.numpy(), every.numpy())
    kernels = [v for v in encoder.trainable_variables if v.path.endswith("kernel")]
    for a, b in zip(tape.gradient(loss_once, kernels), tape.gradient(loss_every, kernels)):
        # The 3 layers' gradients are summed in bfloat16 once, in float32 per layer: close.
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=0.05, atol=0.02 * np.abs(b).max())
