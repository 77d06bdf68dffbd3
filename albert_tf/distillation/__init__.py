"""Knowledge distillation: a small ALBERT student learns from a bigger teacher.

The public names load lazily (on first use), so that the CLI can read
`albert_tf.distillation.settings` (the defaults it shows in --help) without
TensorFlow.

Example:
>>> from albert_tf.distillation import Distiller, distillation_dataset
>>> logits = compute_teacher_logits(teacher, teacher_tok, texts, path="t.npz")  # +SKIP
>>> ds = distillation_dataset(texts, labels, student_tok, teacher_logits=logits)  # +SKIP
>>> Distiller(student).compile("adam")  # doctest: +SKIP
"""

from __future__ import annotations

from albert_tf import lazy_names

# Public name -> the module that defines it.
_LAZY = {
    "UNLABELLED": "albert_tf.distillation.distiller",
    "Distiller": "albert_tf.distillation.distiller",
    "albert_forward": "albert_tf.distillation.distiller",
    "uniform_layer_map": "albert_tf.distillation.distiller",
    "DistillSettings": "albert_tf.distillation.settings",
    "StudentRecipe": "albert_tf.distillation.settings",
    "compute_teacher_logits": "albert_tf.distillation.teacher_logits",
    "distillation_dataset": "albert_tf.distillation.data",
    "load_teacher_logits": "albert_tf.distillation.teacher_logits",
    "prune_vocabulary": "albert_tf.distillation.vocabulary",
    "save_teacher_logits": "albert_tf.distillation.teacher_logits",
    "student_from_teacher": "albert_tf.distillation.student_init",
}

__all__ = sorted(_LAZY)


__getattr__, __dir__ = lazy_names(__name__, _LAZY)
