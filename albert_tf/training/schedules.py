"""Learning-rate schedule: linear warmup, then polynomial (default linear) decay."""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="albert_tf")
class WarmupPolynomialDecay(keras.optimizers.schedules.LearningRateSchedule):
    """Rises linearly from 0 to `learning_rate` over `warmup_steps`, then decays
    polynomially to `end_learning_rate` at `total_steps` (BERT/ALBERT recipe).

    Example:
    >>> schedule = WarmupPolynomialDecay(1e-3, total_steps=100, warmup_steps=10)
    >>> round(float(schedule(5)), 6), round(float(schedule(10)), 6)
    (0.0005, 0.001)
    """

    def __init__(
        self,
        learning_rate: float,
        total_steps: int,
        warmup_steps: int = 0,
        end_learning_rate: float = 0.0,
        power: float = 1.0,
    ):
        if total_steps < 1:
            raise ValueError(f"total_steps must be >= 1, got {total_steps}.")
        if not 0 <= warmup_steps <= total_steps:
            raise ValueError(f"warmup_steps must be in [0, total_steps], got {warmup_steps}.")
        self.learning_rate = float(learning_rate)
        self.total_steps = int(total_steps)
        self.warmup_steps = int(warmup_steps)
        self.end_learning_rate = float(end_learning_rate)
        self.power = float(power)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = ops.cast(max(self.warmup_steps, 1), "float32")
        warm_lr = self.learning_rate * step / warmup
        decay_steps = ops.cast(max(self.total_steps - self.warmup_steps, 1), "float32")
        progress = ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        decayed = (self.learning_rate - self.end_learning_rate) * (
            1.0 - progress
        ) ** self.power + self.end_learning_rate
        return ops.where(step < self.warmup_steps, warm_lr, decayed)

    def get_config(self):
        return {
            "learning_rate": self.learning_rate,
            "total_steps": self.total_steps,
            "warmup_steps": self.warmup_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
        }
