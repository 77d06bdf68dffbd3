"""The default recipe: a user's labelled texts in, a small distilled ALBERT classifier out.

ALBERT's three levers applied to real pretrained knowledge, offline:

1. teacher: a pretrained checkpoint (the packaged MiniLM BERT by default, or any
   checkpoint `albert_tf.convert` reads) fine-tuned on the labelled texts, saved
   as `OUT/teacher/` (a run folder of its own);
2. student: an ALBERT initialised from that teacher by
   `student_from_teacher`: the teacher's WordPiece vocabulary pruned to the
   pieces the data uses, a factorized embedding (SVD) whose width E is the
   largest that keeps the student within `student_size` of the teacher's
   parameters, and shared groups copied from teacher layers;
3. distillation (`distill_run`) on the labelled texts plus teacher-labelled
   augmented copies (`augment_texts`: perturbed copies of short texts, random
   windows of one max length of the longer ones) and any unlabelled texts given.

The student lands in OUT/ itself (exportable as is); its run.json records the
teacher's metrics and parameters beside its own, and the recipe settings.

Example:
>>> from albert_tf.distillation.default_recipe import StudentRecipe, train_distilled_classifier
>>> result = train_distilled_classifier(train, validation, test, labels, "runs/mine")  # doctest: +SKIP
>>> result["student"]["metrics"]["test"]["accuracy"], result["teacher"]["parameters"]  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
import math
import os
from typing import Any

from albert_tf.config import AlbertConfig
from albert_tf.convert import load_text_classifier
from albert_tf.data.split import Split
from albert_tf.distillation.augment import augment_texts
from albert_tf.distillation.ngram_teacher import NgramBlend
from albert_tf.distillation.runner import (
    TeacherScores,
    choose_max_length,
    distill_run,
    label_permutation,
    load_teacher,
    packed_lengths,
    sample_texts,
    teacher_layers_of,
)
from albert_tf.distillation.settings import FRESH_STUDENT, StudentRecipe
from albert_tf.distillation.teacher_choice import choose_teacher, teacher_checkpoint
from albert_tf.distillation.vocabulary import prune_vocabulary
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE
from albert_tf.training.builders import build_tokenizer
from albert_tf.training.finetune import FinetuneSettings
from albert_tf.training.recipe import train_text_classifier
from albert_tf.training.run_folder import RUN_FILE, RunFolder
from albert_tf.training.stage_clock import StageClock

TEACHER_FOLDER = "teacher"
# Below this width the factorized embedding loses too much of the teacher's
# token table; a second shared group is then not worth its parameters.
MIN_EMBEDDING = 32
# model.tflite bytes per student parameter in the default dynamic-range bundle,
# tokenizer excluded: THUCNews student 5,692,394 parameters in 6,182,542 bytes,
# 366,522 of them its spiece.model (1.022).
BUNDLE_BYTES_PER_PARAMETER = 1.022


def tokenizer_bytes(tokenizer: Any) -> int:
    """Bytes of the tokenizer file a bundle carries in its metadata."""
    model = getattr(tokenizer, "serialized_model", None)
    if model is not None:
        return len(model)
    return len("\n".join(tokenizer.vocab).encode("utf-8")) + 1


def bundle_parameters(max_bundle_mb: float, tokenizer: Any) -> int:
    """The most parameters whose dynamic-range bundle, `tokenizer` inside, stays
    under `max_bundle_mb` MB (1% kept for the rest of the metadata)."""
    room = 0.99 * max_bundle_mb * 1e6 - tokenizer_bytes(tokenizer)
    return int(room / BUNDLE_BYTES_PER_PARAMETER)


def _block_parameters(config: AlbertConfig) -> int:
    h, i = config.hidden_size, config.intermediate_size
    return 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h) + 2 * h


def student_parameters(
    config: AlbertConfig, vocab_rows: int, embedding: int, groups: int, labels: int
) -> int:
    """Parameters of a `student_from_teacher` classifier, counted from its shapes."""
    h = config.hidden_size
    rows = vocab_rows + config.max_position_embeddings + config.type_vocab_size
    embeddings = rows * embedding + 2 * embedding + (embedding * h + h)
    return embeddings + groups * _block_parameters(config) + (h * h + h) + (h * labels + labels)


def student_shape(
    config: AlbertConfig,
    vocab_rows: int,
    budget: int,
    groups: int,
    labels: int,
    layers: int | None = None,
) -> tuple[int, int]:
    """(E, groups): the widest embedding (a multiple of 8) within `budget`, with
    fewer groups when `groups` leave less than MIN_EMBEDDING; only group counts
    that divide `layers` (each group runs the same number of layers)."""
    for g in range(groups, 0, -1):
        if layers is not None and layers % g:
            continue
        fixed = student_parameters(config, vocab_rows, 0, g, labels)
        per_unit = student_parameters(config, vocab_rows, 1, g, labels) - fixed
        width = min((budget - fixed) // per_unit, config.embedding_size)
        width -= width % 8
        if width >= MIN_EMBEDDING:
            return int(width), g
    raise ValueError(
        f"No student fits in {budget:,} parameters ({vocab_rows:,}-piece vocabulary, one "
        f"{config.hidden_size}-wide block): raise --student-size."
    )


def _with_max_length(recipe: StudentRecipe, texts: list[str], checkpoint: str) -> StudentRecipe:
    if recipe.max_length is not None:
        return recipe
    tokenizer = build_tokenizer([], pretrained=checkpoint)
    chosen = choose_max_length(tokenizer, list(texts))
    cut = float((packed_lengths(tokenizer, list(texts)) > chosen).mean())
    print(
        f"[recipe] max length {chosen} pieces ({cut:.0%} of the training texts are longer; "
        f"those keep their first {HEAD_SHARE:.0%} and last {1 - HEAD_SHARE:.0%} of the pieces)",
        flush=True,
    )
    return dataclasses.replace(recipe, max_length=chosen)


def window_characters(tokenizer: Any, texts: list[str], max_length: int) -> int:
    """Non-space characters in a window of `max_length` pieces ([CLS] and [SEP] left
    out), at the texts' own characters per piece (words would not do: Chinese and
    Thai put no spaces between them)."""
    sample = sample_texts(texts)
    chars = sum(len("".join(t.split())) for t in sample)
    pieces = sum(len(tokenizer.encode(t)) for t in sample)
    return max(1, int((max_length - 2) * chars / max(1, pieces)))


def teacher_epochs(recipe: StudentRecipe, num_texts: int) -> int:
    """`recipe.teacher_epochs`, or the fewest epochs of `teacher_min_steps` batches,
    at most `teacher_max_epochs` (BERT fine-tuning's usual 2-5 epochs)."""
    if recipe.teacher_epochs is not None:
        return recipe.teacher_epochs
    steps = max(1, math.ceil(num_texts / recipe.batch_size))
    wanted = math.ceil(recipe.teacher_min_steps / steps)
    return max(1, min(wanted, recipe.teacher_max_epochs))


def augment_copies_for(recipe: StudentRecipe, num_texts: int, num_unlabelled: int = 0) -> int:
    """`recipe.augment_copies`, or the fewest copies (at least `min_augment_copies`,
    at most `max_augment_copies`) that, with the labelled texts themselves and any
    unlabelled ones, give the student `min_transfer_texts` texts: a small data set
    is where the student falls furthest behind its teacher (settings.py)."""
    if recipe.augment_copies is not None:
        return recipe.augment_copies
    wanted = math.ceil((recipe.min_transfer_texts - num_unlabelled) / max(1, num_texts)) - 1
    return max(recipe.min_augment_copies, min(wanted, recipe.max_augment_copies))


def _with_copies(recipe: StudentRecipe, num_texts: int, num_unlabelled: int) -> StudentRecipe:
    copies = augment_copies_for(recipe, num_texts, num_unlabelled)
    if recipe.augment_copies is None and copies > recipe.min_augment_copies:
        print(
            f"[recipe] {copies} teacher-labelled copies of each of the {num_texts:,} training "
            f"texts: the student learns from {num_texts * (copies + 1) + num_unlabelled:,} "
            f"(a small set gets copies up to {recipe.min_transfer_texts:,} texts, at most "
            f"{recipe.max_augment_copies} a text)",
            flush=True,
        )
    return dataclasses.replace(recipe, augment_copies=copies)


def _has_texts(split: Split | None) -> bool:
    return split is not None and len(split.texts) > 0


def _teacher_stage(
    train, validation, test, labels, out_dir, recipe, checkpoint, info, verbose
) -> dict:
    """Fine-tune `checkpoint` into OUT/teacher (reused when a finished one is there)."""
    folder = RunFolder(os.path.join(out_dir, TEACHER_FOLDER))
    finished = folder.read_info() if os.path.isfile(folder.file(RUN_FILE)) else {}
    if finished.get("metrics", {}).get("validation"):
        print(f"[recipe] teacher: reusing the fine-tuned teacher in {folder.path}", flush=True)
        return finished
    epochs = teacher_epochs(recipe, len(train.texts))
    print(f"[recipe] teacher: fine-tuning {recipe.teacher}, {epochs} epoch(s)", flush=True)
    by_loss = recipe.teacher_by_loss and _has_texts(validation)
    settings = FinetuneSettings(
        epochs=epochs,
        batch_size=recipe.batch_size,
        learning_rate=recipe.teacher_learning_rate,
        patience=recipe.patience,
        monitor=("val_loss", "min") if by_loss else None,
    )
    clf = load_text_classifier(checkpoint, labels, recipe.max_length)
    info = {**info, "role": "teacher", "pretrained": checkpoint}
    train_text_classifier(
        train, validation, test, clf, folder.path, settings, info=info, verbose=verbose
    )
    return folder.read_info()


def _transfer_texts(recipe: StudentRecipe, teacher, train: Split, unlabelled) -> list[str]:
    """Augmented copies of the training texts (windows of the long ones) and any
    unlabelled texts: what the teacher labels for the student."""
    window = None
    if recipe.long_text_windows:
        window = window_characters(teacher.tokenizer, list(train.texts), recipe.max_length)
    transfer = augment_texts(train.texts, recipe.augment_copies, recipe.seed, window)
    if window is not None and any(len("".join(t.split())) > window for t in train.texts):
        print(
            f"[recipe] copies of texts over {window} characters are random windows of "
            f"{window} characters ({recipe.max_length} pieces)"
        )
    return transfer + list(unlabelled or [])


def _ngram_blend(recipe, teacher, train, validation, labels, out_dir) -> NgramBlend | None:
    """The n-gram second teacher, its weight chosen on validation (`ngram_teacher`)."""
    if not recipe.ngram_teacher or not _has_texts(validation):
        return None
    order = label_permutation(teacher.labels, labels, int(teacher.model.output_shape[-1]))
    scores = TeacherScores(teacher, out_dir, teacher.max_length, order)
    blend = NgramBlend.fit(train, validation, scores(validation.texts, "teacher_logits_validation"))
    r = blend.report
    print(
        f"[recipe] n-gram teacher: TF-IDF {r['ngram_features']} n-grams (C={r['ngram_C']}) "
        f"validation {r['ngram_validation_accuracy']:.3f}; blended with the network at weight "
        f"{blend.weight} (validation by weight {r['validation_accuracy_by_network_weight']})",
        flush=True,
    )
    return blend


def _student_plan(recipe: StudentRecipe, teacher, pruned, num_labels: int):
    """(parameter budget, E, groups, teacher layers copied) of the student: its share of
    the teacher, within the bundle size, over the pruned vocabulary."""
    config = teacher.model.backbone.config
    config = config.replace(intermediate_size=recipe.student_intermediate(config.intermediate_size))
    budget = int(
        min(
            recipe.student_size * teacher.model.count_params(),
            bundle_parameters(recipe.max_bundle_mb, pruned),
        )
    )
    width, groups = student_shape(
        config, pruned.vocab_size, budget, recipe.groups, num_labels, recipe.student_layers
    )
    layers = teacher_layers_of(dataclasses.replace(recipe, groups=groups), config.num_hidden_layers)
    return budget, width, groups, layers


def train_distilled_classifier(
    train: Split,
    validation: Split | None,
    test: Split | None,
    labels: list[str],
    out_dir: str,
    recipe: StudentRecipe | None = None,
    unlabelled: list[str] | None = None,
    info: dict[str, Any] | None = None,
    verbose: int | str = "auto",
) -> dict[str, Any]:
    """Teacher, student and distillation (module docstring); returns both one's metrics."""
    recipe, info = recipe or StudentRecipe(), dict(info or {})
    choice = choose_teacher(recipe.teacher, list(train.texts))
    recipe = dataclasses.replace(recipe, teacher=choice.source)
    info["teacher_choice"] = choice.as_dict()
    checkpoint = teacher_checkpoint(choice.source, list(train.texts), out_dir)
    recipe = _with_max_length(recipe, train.texts, checkpoint)
    recipe = _with_copies(recipe, len(train.texts), len(unlabelled or []))
    clock = StageClock()
    teacher_info = _teacher_stage(
        train, validation, test, labels, out_dir, recipe, checkpoint, info, verbose
    )
    clock.lap("teacher")
    teacher = load_teacher(os.path.join(out_dir, TEACHER_FOLDER))
    transfer = _transfer_texts(recipe, teacher, train, unlabelled)
    blend = _ngram_blend(recipe, teacher, train, validation, labels, out_dir)
    if blend is not None:
        info["teacher_blend"] = blend.report
    clock.lap("ngram_teacher_and_copies")
    pruned, kept = prune_vocabulary(teacher.tokenizer, list(train.texts) + transfer)
    budget, width, groups, layers = _student_plan(recipe, teacher, pruned, len(labels))
    clock.lap("student_plan")
    info["stage_seconds"] = clock.stages
    print(
        f"[recipe] student: E={width}, {groups} shared group(s) from teacher layers {layers}, "
        f"{recipe.student_layers} layers, {len(kept):,} of {teacher.tokenizer.vocab_size:,} "
        f"pieces; distilling on {len(train.texts):,} labelled + {len(transfer):,} "
        "teacher-labelled texts",
        flush=True,
    )
    teacher_summary = {
        "source": recipe.teacher,
        "parameters": teacher_info.get("parameters"),
        "metrics": teacher_info.get("metrics"),
    }
    used = dataclasses.replace(
        recipe, embedding_width=width, groups=groups, teacher_layers=tuple(layers),
        prune_vocab=True, verbose=verbose,
    )  # fmt: skip
    recorded = {k: v for k, v in dataclasses.asdict(used).items() if k not in FRESH_STUDENT}
    distill_run(
        teacher, train, validation, test, labels, out_dir, unlabelled=transfer,
        settings=used, vocabulary=(pruned, kept), blend=blend,
        info={**info, "recipe": {"name": "distill", **recorded}, "teacher": teacher_summary},
    )  # fmt: skip
    student = RunFolder(out_dir).read_info()
    return {
        "student": {"parameters": student.get("parameters"), "metrics": student.get("metrics")},
        "teacher": teacher_summary,
        "budget": budget,
        "stage_seconds": student.get("stage_seconds", {}),
    }
