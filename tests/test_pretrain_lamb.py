"""LAMB against a numpy transcription of the algorithm (You et al. 2019, ALBERT's variant)."""

import keras
import numpy as np

from albert_tf.training.lamb import Lamb
from albert_tf.training.optimizers import create_optimizer


def _numpy_lamb(w, grads, lr, wd, adapt, b1=0.9, b2=0.999, eps=1e-6):
    m = np.zeros_like(w)
    v = np.zeros_like(w)
    for t, g in enumerate(grads, 1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        u = (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
        ratio = 1.0
        if adapt:
            u = u + wd * w
            ratio = np.linalg.norm(w) / np.linalg.norm(u)
        w = w - lr * ratio * u
    return w


def test_lamb_matches_numpy_and_skips_decay_and_trust_ratio_for_excluded():
    rng = np.random.default_rng(0)
    kernel0 = rng.normal(size=(4, 3)).astype("float32")
    bias0 = rng.normal(size=(3,)).astype("float32")
    kernel = keras.Variable(kernel0, name="kernel")
    bias = keras.Variable(bias0, name="bias")
    opt = Lamb(learning_rate=0.01, weight_decay=0.1)
    opt.exclude_from_weight_decay(var_names=["bias"])
    grads = [(rng.normal(size=(4, 3)), rng.normal(size=(3,))) for _ in range(3)]
    for gk, gb in grads:
        opt.apply_gradients([(gk.astype("float32"), kernel), (gb.astype("float32"), bias)])
    want_kernel = _numpy_lamb(kernel0.astype("float64"), [g[0] for g in grads], 0.01, 0.1, True)
    want_bias = _numpy_lamb(bias0.astype("float64"), [g[1] for g in grads], 0.01, 0.1, False)
    np.testing.assert_allclose(kernel.numpy(), want_kernel, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(bias.numpy(), want_bias, rtol=1e-5, atol=1e-6)


def test_factory_routes_lamb_and_excludes_layer_norm_and_bias():
    opt = create_optimizer("lamb", learning_rate=1e-3, total_steps=10)
    assert isinstance(opt, Lamb)
    gamma = keras.Variable(np.ones(3, "float32"), name="gamma")
    kernel = keras.Variable(np.ones((3, 3), "float32"), name="kernel")
    assert not opt._use_weight_decay(gamma) and opt._use_weight_decay(kernel)
    restored = Lamb.from_config(opt.get_config())
    assert restored.weight_decay == opt.weight_decay and restored.epsilon == opt.epsilon
