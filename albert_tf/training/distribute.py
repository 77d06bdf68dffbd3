"""Distribution strategy by name, and the mixed-precision policy this hardware wants."""

from __future__ import annotations

import json
import os

import tensorflow as tf

STRATEGIES = ("default", "mirrored", "multi_worker", "tpu")


def get_strategy(name: str = "default", tpu: str | None = None) -> tf.distribute.Strategy:
    """A `tf.distribute` strategy; build and compile the model under `strategy.scope()`.

    - "default": one device, no distribution.
    - "mirrored": all local GPUs (or the CPU) in sync.
    - "multi_worker": `MultiWorkerMirroredStrategy`; the cluster and this
      process's role come from the `TF_CONFIG` environment variable.
    - "tpu": `TPUStrategy` on the TPU named by `tpu` (or `TPU_NAME`, or local).

    Example:
    >>> strategy = get_strategy("mirrored")
    >>> with strategy.scope():  # doctest: +SKIP
    ...     model = AlbertPretrainer(backbone); model.compile(optimizer=...)
    """
    name = (name or "default").lower().replace("-", "_")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        return tf.distribute.MirroredStrategy()
    if name == "multi_worker":
        tf_config = os.environ.get("TF_CONFIG")
        if not tf_config:
            raise ValueError(
                "strategy 'multi_worker' needs the TF_CONFIG environment variable, e.g. "
                '{"cluster": {"worker": ["host1:port", "host2:port"]}, '
                '"task": {"type": "worker", "index": 0}}.'
            )
        try:
            json.loads(tf_config)
        except json.JSONDecodeError as e:
            raise ValueError(f"TF_CONFIG is not valid JSON: {e}") from e
        return tf.distribute.MultiWorkerMirroredStrategy()
    if name == "tpu":
        resolver = tf.distribute.cluster_resolver.TPUClusterResolver(
            tpu=tpu or os.environ.get("TPU_NAME", "")
        )
        tf.config.experimental_connect_to_cluster(resolver)
        tf.tpu.experimental.initialize_tpu_system(resolver)
        return tf.distribute.TPUStrategy(resolver)
    raise ValueError(f"Unknown strategy {name!r}; choose one of {STRATEGIES}.")


def is_chief(strategy: tf.distribute.Strategy | None = None) -> bool:
    """True for the process that should write checkpoints and logs."""
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not resolver.cluster_spec().as_dict():
        return True
    task_type, task_id = resolver.task_type, resolver.task_id
    return task_type in (None, "chief") or (
        task_type == "worker" and task_id == 0 and "chief" not in resolver.cluster_spec().jobs
    )


def cpu_has_avx512_bf16() -> bool:
    """Whether this CPU has native bfloat16 dot products (Linux /proc/cpuinfo)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return "avx512_bf16" in flags or "amx_bf16" in flags
    except OSError:
        pass
    return False


def recommended_precision() -> str:
    """ "mixed_bfloat16" on GPUs and on CPUs with AVX512_BF16/AMX, else "float32"."""
    if tf.config.list_physical_devices("GPU") or cpu_has_avx512_bf16():
        return "mixed_bfloat16"
    return "float32"


def set_precision(policy: str = "auto") -> str:
    """Set Keras's global dtype policy ("auto", "float32", "mixed_bfloat16",
    "mixed_float16"); returns the policy set. Call it before building models.

    Example:
    >>> set_precision("float32")
    'float32'
    """
    import keras

    if policy == "auto":
        policy = recommended_precision()
    allowed = ("float32", "mixed_bfloat16", "mixed_float16", "bfloat16")
    if policy not in allowed:
        raise ValueError(f"precision {policy!r} is not 'auto' or one of {allowed}.")
    keras.mixed_precision.set_dtype_policy(policy)
    return policy
