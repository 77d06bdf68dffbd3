"""Optimizer factory: AdamW (and LAMB) with warmup + decay, no weight decay on
LayerNorm and bias, global-norm clipping."""

from __future__ import annotations

import keras

from albert_tf.training.lamb import Lamb
from albert_tf.training.replica_clipping import AdamW
from albert_tf.training.schedules import WarmupPolynomialDecay

# Variables whose path contains one of these get no weight decay (ALBERT/BERT recipe).
NO_DECAY_PATTERNS = ("layer_norm", "LayerNorm", "bias", "beta", "gamma")


def create_optimizer(
    name: str = "adamw",
    learning_rate: float = 5e-5,
    total_steps: int = 1000,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    clipnorm: float | None = 1.0,
    end_learning_rate: float = 0.0,
    power: float = 1.0,
) -> keras.optimizers.Optimizer:
    """An optimizer with a warmup/polynomial-decay schedule.

    Example:
    >>> opt = create_optimizer("adamw", learning_rate=1e-4, total_steps=100)
    >>> type(opt).__name__
    'AdamW'
    """
    schedule = WarmupPolynomialDecay(
        learning_rate,
        total_steps=total_steps,
        warmup_steps=int(round(warmup_fraction * total_steps)),
        end_learning_rate=end_learning_rate,
        power=power,
    )
    name = name.lower()
    if name == "adamw":
        # Our AdamW clips the global gradient after the cross-replica sum, so a
        # distributed run takes the step a single device would.

        optimizer = AdamW(
            learning_rate=schedule,
            weight_decay=weight_decay,
            beta_1=0.9,
            beta_2=0.999,
            epsilon=1e-6,
            global_clipnorm=clipnorm,
        )
    elif name == "lamb":
        optimizer = Lamb(
            learning_rate=schedule,
            weight_decay=weight_decay,
            epsilon=1e-6,
            global_clipnorm=clipnorm,
        )
    else:
        raise ValueError(f"Unknown optimizer {name!r}; choose 'adamw' or 'lamb'.")
    if weight_decay:
        optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY_PATTERNS))
    return optimizer


def compile_for_training(
    model: keras.Model,
    total_steps: int,
    learning_rate: float,
    optimizer: str = "adamw",
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    clipnorm: float | None = 1.0,
    jit_compile: bool | str = "auto",
) -> keras.Model:
    """Compile `model` the way every recipe trains: `create_optimizer`'s warmup
    and linear decay over `total_steps`, and the model's own `default_loss()`
    and `default_metrics()` when it has them (a Distiller or a pretrainer
    computes its losses itself). Returns the model.

    Example:
    >>> compile_for_training(classifier, total_steps=300, learning_rate=1e-4)  # doctest: +SKIP
    """
    losses = {}
    if hasattr(model, "default_loss"):
        losses = {"loss": model.default_loss(), "metrics": model.default_metrics()}
    model.compile(
        optimizer=create_optimizer(
            optimizer,
            learning_rate=learning_rate,
            total_steps=max(1, int(total_steps)),
            warmup_fraction=warmup_fraction,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
        ),
        jit_compile=jit_compile,
        **losses,
    )
    return model
