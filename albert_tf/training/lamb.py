"""LAMB: Adam moments, weight decay inside the update, a per-tensor trust ratio."""

from __future__ import annotations

from typing import Any

import keras
from keras import ops

from albert_tf.training.replica_clipping import ReplicaSafeClipping


@keras.saving.register_keras_serializable(package="albert_tf")
class Lamb(ReplicaSafeClipping, keras.optimizers.Optimizer):
    """Layer-wise Adaptive Moments for Batch training (You et al. 2019), as ALBERT used it.

    For each variable w with gradient g:
    `m, v` = Adam moments of g (bias corrected); `u = m / (sqrt(v) + eps) + wd * w`;
    `w -= lr * (||w|| / ||u||) * u`.

    Unlike `keras.optimizers.Lamb` the weight decay is part of `u` (so the
    trust ratio sees it), and variables excluded from weight decay with
    `exclude_from_weight_decay(...)` (LayerNorm, biases) are also excluded from
    the trust ratio, as in the original ALBERT `lamb_optimizer.py`: their step
    is a plain Adam step. Under `tf.distribute`, `global_clipnorm` clips the
    gradient summed over replicas (Keras would clip each replica's part).

    Args:
        learning_rate: float or schedule.
        beta_1, beta_2: moment decay rates.
        epsilon: added to sqrt(v).
        weight_decay: decay rate (0 or None for none).
        **kwargs: `keras.optimizers.Optimizer` arguments (`global_clipnorm`, ...).

    Example:
    >>> opt = Lamb(learning_rate=1e-3, weight_decay=0.01, global_clipnorm=1.0)
    >>> opt.exclude_from_weight_decay(var_names=["bias", "gamma", "beta"])
    """

    def __init__(
        self,
        learning_rate: Any = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-6,
        weight_decay: float | None = 0.01,
        name: str = "lamb",
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate, weight_decay=weight_decay or None, name=name, **kwargs
        )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )

    def _apply_weight_decay(self, variables):
        # The decay is folded into the LAMB update in update_step; the base
        # class would otherwise apply it a second time, decoupled.
        return

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)

        index = self._get_variable_index(variable)
        m = self._momentums[index]
        v = self._velocities[index]
        self.assign_add(m, (gradient - m) * (1.0 - beta_1))
        self.assign_add(v, (ops.square(gradient) - v) * (1.0 - beta_2))
        m_hat = m / (1.0 - ops.power(beta_1, step))
        v_hat = v / (1.0 - ops.power(beta_2, step))
        update = m_hat / (ops.sqrt(v_hat) + ops.cast(self.epsilon, dtype))

        if self._use_weight_decay(variable):
            if self.weight_decay:
                update = update + ops.cast(self.weight_decay, dtype) * variable
            w_norm = ops.sqrt(ops.sum(ops.square(variable)))
            u_norm = ops.sqrt(ops.sum(ops.square(update)))
            ratio = ops.where((w_norm > 0) & (u_norm > 0), w_norm / ops.maximum(u_norm, 1e-30), 1.0)
        else:
            ratio = ops.cast(1.0, dtype)
        self.assign_sub(variable, ratio * lr * update)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        config.update(beta_1=self.beta_1, beta_2=self.beta_2, epsilon=self.epsilon)
        return config
