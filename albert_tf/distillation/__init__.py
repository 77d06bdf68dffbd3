"""Knowledge distillation: a small ALBERT student learns from a bigger teacher.

Example:
>>> from albert_tf.distillation import Distiller, distillation_dataset
>>> logits = compute_teacher_logits(teacher, teacher_tok, texts, path="t.npz")  # +SKIP
>>> ds = distillation_dataset(texts, labels, student_tok, teacher_logits=logits)  # +SKIP
>>> Distiller(student, temperature=2.0, alpha=0.5).compile("adam")  # doctest: +SKIP
"""

from albert_tf.distillation.data import distillation_dataset
from albert_tf.distillation.distiller import (
    UNLABELLED,
    Distiller,
    albert_forward,
    uniform_layer_map,
)
from albert_tf.distillation.student_init import student_from_teacher
from albert_tf.distillation.teacher_logits import (
    compute_teacher_logits,
    load_teacher_logits,
    save_teacher_logits,
)
from albert_tf.distillation.vocabulary import prune_vocabulary

__all__ = [
    "UNLABELLED",
    "Distiller",
    "albert_forward",
    "compute_teacher_logits",
    "distillation_dataset",
    "load_teacher_logits",
    "prune_vocabulary",
    "save_teacher_logits",
    "student_from_teacher",
    "uniform_layer_map",
]
