"""Gradient clipping on the summed gradient of all replicas, not on each replica's part.

Keras 3 clips in `Optimizer.apply`, before its TensorFlow backend sums the
gradients over replicas. With `global_clipnorm` and several replicas each
worker then clips its own partial gradient, and N workers no longer take the
step one worker takes on the same global batch. This mixin defers the clip
until after the sum.
"""

from __future__ import annotations

import keras
import tensorflow as tf


def _replicas() -> int:
    return tf.distribute.get_strategy().num_replicas_in_sync


class ReplicaSafeClipping:
    """Mixin for a `keras.optimizers.Optimizer`: clip after the cross-replica sum.

    Example:
    >>> class MyAdam(ReplicaSafeClipping, keras.optimizers.Adam):
    ...     pass
    """

    def _clip_gradients(self, grads):
        if _replicas() > 1 and tf.distribute.get_replica_context() is not None:
            return grads  # clipped in _backend_update_step, after the sum
        return super()._clip_gradients(grads)

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        context = tf.distribute.get_replica_context()
        if _replicas() == 1 or context is None:
            return super()._backend_update_step(grads, trainable_variables, learning_rate)
        present = [i for i, g in enumerate(grads) if g is not None]
        summed = context.all_reduce(tf.distribute.ReduceOp.SUM, [grads[i] for i in present])
        grads = list(grads)
        for i, g in zip(present, summed):
            grads[i] = g
        grads = super()._clip_gradients(grads)
        variables = [v.value if isinstance(v, keras.Variable) else v for v in trainable_variables]
        tf.__internal__.distribute.interim.maybe_merge_call(
            self._distributed_tf_update_step,
            self._distribution_strategy,
            list(zip(grads, variables)),
            learning_rate,
        )


@keras.saving.register_keras_serializable(package="albert_tf")
class AdamW(ReplicaSafeClipping, keras.optimizers.AdamW):
    """`keras.optimizers.AdamW` whose clipping sees the global gradient under `tf.distribute`."""
