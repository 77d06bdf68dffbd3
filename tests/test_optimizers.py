"""Optimizer factory: warmup + decay schedule, weight decay only where it belongs."""

import keras
import numpy as np
import pytest

from albert_tf import AlbertBackbone
from albert_tf.training.optimizers import create_optimizer
from albert_tf.training.schedules import WarmupPolynomialDecay
from tests.test_backbone import tiny


def test_schedule_warms_up_linearly_then_decays_to_zero():
    schedule = WarmupPolynomialDecay(1e-3, total_steps=100, warmup_steps=10)
    values = [float(schedule(step)) for step in (0, 5, 10, 55, 100, 150)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0, 0.0], atol=1e-9)


@pytest.mark.parametrize("name", ["adamw", "lamb"])
def test_no_weight_decay_on_layer_norm_and_bias(name):
    backbone = AlbertBackbone(tiny())
    optimizer = create_optimizer(name, learning_rate=1e-2, total_steps=10, warmup_fraction=0.0,
                                 weight_decay=0.5)  # fmt: skip
    variables = backbone.trainable_variables
    before = [np.array(v.numpy()) for v in variables]
    # Zero gradients: only weight decay can move a variable.
    optimizer.apply_gradients([(keras.ops.zeros_like(v), v) for v in variables])
    for v, old in zip(variables, before):
        moved = not np.allclose(v.numpy(), old)
        excluded = any(p in v.path for p in ("layer_norm", "bias"))
        assert moved != excluded, f"{v.path}: moved={moved}"


def test_unknown_optimizer_is_named():
    with pytest.raises(ValueError, match="sgdx"):
        create_optimizer("sgdx")
