"""Pre-train (or continue pre-training) a backbone with masked LM + sentence
order, through the shared `fit_and_save` path: a step-exact resume after a
kill, the best checkpoint (on validation examples when given), TensorBoard
logs and a run folder whose run.json has task "pretrain".

`pretrain_on_texts` does it in one call on texts in memory; `albert-tf
pretrain` (albert_tf/commands/pretrain.py) on text files or TFRecord shards.
"""

from __future__ import annotations

import dataclasses
import json
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np

from albert_tf.data.pretraining import PretrainingDataBuilder, arrays_to_dataset
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.pretrainer import AlbertPretrainer
from albert_tf.training.fit_and_save import FitResult, StepStream, fit_and_save
from albert_tf.training.optimizers import compile_for_training
from albert_tf.training.run_folder import (
    PRETRAIN_TASK,
    PRETRAINED_MODEL_FILE,
    RunFolder,
    write_text_atomic,
)

HISTORY_FILE = "history.json"


class PretrainingPlateauWarning(UserWarning):
    """Pre-training ended before the model used its input (both tasks at chance)."""


def chance_levels(arrays: dict[str, np.ndarray]) -> dict[str, Any]:
    """What a model that ignores its input scores on these pre-training examples:
    masked LM always answering the most frequent masked token, sentence order
    always answering the more common label. Also the counts behind them."""
    weights = np.asarray(arrays["mlm_weights"]) > 0
    masked = np.asarray(arrays["mlm_labels"])[weights]
    sop = np.asarray(arrays["sop_labels"]).reshape(-1)
    if not len(masked):
        raise ValueError("chance_levels needs at least one example with a masked token.")
    return {
        "mlm_chance": float(np.bincount(masked).max() / len(masked)),
        "sop_chance": float(np.bincount(sop).max() / len(sop)),
        "masked_tokens": int(len(masked)),
        "examples": int(len(sop)),
    }


def plateau_message(history: dict[str, list[float]], chance: dict[str, Any]) -> str | None:
    """A warning text when the last epoch's MLM and SOP accuracies are both within
    two binomial standard errors of `chance_levels`, else None.

    Why it matters: a from-scratch pre-training stopped on this plateau has
    learned token frequencies only, and fine-tuning from it starts worse than
    from the random init (small preset on movie_reviews, 1 epoch at 1e-3:
    validation accuracy 0.56 after one fine-tuning epoch against 0.72 from
    scratch). Two epochs there leave the plateau (SOP accuracy 0.83).
    """
    mlm = history.get("mlm_accuracy") or []
    sop = history.get("sop_accuracy") or []
    if not mlm or not sop:
        return None

    def margin(p: float, n: int) -> float:
        return 2.0 * float(np.sqrt(max(p * (1.0 - p), 1e-12) / max(n, 1)))

    mlm_top = chance["mlm_chance"] + margin(chance["mlm_chance"], chance["masked_tokens"])
    sop_top = chance["sop_chance"] + margin(chance["sop_chance"], chance["examples"])
    if mlm[-1] > mlm_top or sop[-1] > sop_top:
        return None
    return (
        f"pre-training ended on the early plateau: MLM accuracy {mlm[-1]:.3f} (always "
        f"guessing the most frequent token scores {chance['mlm_chance']:.3f}) and SOP "
        f"accuracy {sop[-1]:.3f} (chance {chance['sop_chance']:.3f}). The backbone has "
        "learned token frequencies only; fine-tuning from it starts worse than from a "
        "random init. Pre-train for more steps (more epochs, duplicate_factor or text), "
        "or skip pre-training."
    )


def default_max_predictions(max_length: int) -> int:
    """ALBERT's 20 predictions at length 128, scaled with the length."""
    return max(1, min(max_length - 3, int(round(max_length * 0.15)) + 1))


@dataclasses.dataclass
class PretrainSettings:
    """How a pre-training runs: its length, the optimizer, how examples are
    made (`max_predictions=None`: `default_max_predictions`), and
    `save_freq`, the steps between resume checkpoints."""

    epochs: int = 1
    batch_size: int = 16
    max_length: int = 128
    max_predictions: int | None = None
    optimizer: str = "adamw"
    learning_rate: float = 1e-3
    warmup_fraction: float = 0.1
    weight_decay: float = 0.01
    duplicate_factor: int = 1
    short_seq_prob: float = 0.1
    masked_lm_prob: float = 0.15
    seed: int = 12345
    patience: int = 2
    save_freq: int = 100
    jit_compile: bool | str = False

    def __post_init__(self) -> None:
        if self.epochs < 1 or self.batch_size < 1:
            raise ValueError(
                f"epochs and batch_size must be >= 1, got {self.epochs} and {self.batch_size}."
            )

    @classmethod
    def from_args(cls, args: Any) -> PretrainSettings:
        """The settings an argparse namespace holds (the others keep their defaults)."""
        names = [f.name for f in dataclasses.fields(cls)]
        return cls(**{n: getattr(args, n) for n in names if getattr(args, n, None) is not None})

    def builder(self, tokenizer: Any) -> PretrainingDataBuilder:
        return PretrainingDataBuilder(
            tokenizer,
            max_seq_length=self.max_length,
            max_predictions=self.max_predictions or default_max_predictions(self.max_length),
            masked_lm_prob=self.masked_lm_prob,
            short_seq_prob=self.short_seq_prob,
            duplicate_factor=self.duplicate_factor,
            seed=self.seed,
        )

    def compile(self, backbone: AlbertBackbone, steps_per_epoch: int) -> AlbertPretrainer:
        """`compile_pretrainer` for this run's length and optimizer."""
        return compile_pretrainer(
            backbone,
            total_steps=self.epochs * steps_per_epoch,
            optimizer=self.optimizer,
            learning_rate=self.learning_rate,
            warmup_fraction=self.warmup_fraction,
            weight_decay=self.weight_decay,
            jit_compile=self.jit_compile,
        )


@dataclasses.dataclass
class PretrainResult(FitResult):
    """`FitResult` plus the `AlbertPretrainer` and what input-blind guessing
    scores on the training examples (`chance_levels`; {} when not known)."""

    model: Any = None
    chance_levels: dict[str, Any] = dataclasses.field(default_factory=dict)


def compile_pretrainer(
    backbone: AlbertBackbone,
    total_steps: int,
    optimizer: str = "adamw",
    learning_rate: float = 1e-3,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    clipnorm: float | None = 1.0,
    jit_compile: bool | str = False,
) -> AlbertPretrainer:
    """An `AlbertPretrainer` around `backbone`, compiled with warmup + linear decay
    (`compile_for_training`; its AdamW clips the gradient summed over replicas).

    Build it under `strategy.scope()` when distributing.

    Example:
    >>> model = compile_pretrainer(backbone, total_steps=1000, optimizer="lamb")  # doctest: +SKIP
    """
    return compile_for_training(
        AlbertPretrainer(backbone), total_steps, learning_rate, optimizer, warmup_fraction,
        weight_decay, clipnorm, jit_compile=jit_compile,
    )  # fmt: skip


def examples_stream(arrays: dict[str, np.ndarray], batch_size: int, seed: int) -> StepStream:
    """In-memory examples as the endless, seeded batches a step-exact resume needs."""
    count = len(arrays["token_ids"])
    if count < batch_size:
        raise ValueError(
            f"{count} pre-training examples make no batch of {batch_size}; use more text or a "
            "smaller batch size."
        )

    def make(skip: int):
        ds = arrays_to_dataset(arrays, batch_size, seed=seed, repeat=True, drop_remainder=True)
        return ds.skip(skip)

    return StepStream(make, count // batch_size)


def warn_on_plateau(result: PretrainResult, arrays: dict[str, np.ndarray]) -> None:
    """Set `result.chance_levels` and warn (`PretrainingPlateauWarning`) when
    both accuracies ended at them."""
    # A corpus whose texts are all too short to mask has no MLM chance level.
    result.chance_levels = chance_levels(arrays) if arrays["mlm_weights"].any() else {}
    message = result.chance_levels and plateau_message(result.history, result.chance_levels)
    if message:
        warnings.warn(message, PretrainingPlateauWarning, stacklevel=3)


def check_fits(backbone: AlbertBackbone, tokenizer: Any, max_length: int) -> None:
    """A clear error before any work when the tokenizer or length overflows the backbone."""
    if max_length > backbone.config.max_position_embeddings:
        raise ValueError(
            f"max_length={max_length} exceeds the backbone's max_position_embeddings "
            f"({backbone.config.max_position_embeddings})."
        )
    if int(tokenizer.vocab_size) > backbone.config.vocab_size:
        raise ValueError(
            f"the tokenizer has {tokenizer.vocab_size} pieces but the backbone's vocab_size is "
            f"{backbone.config.vocab_size}."
        )


def save_pretraining_run(
    out_dir: str,
    backbone: AlbertBackbone,
    tokenizer: Any,
    result: FitResult,
    settings: PretrainSettings,
    info: dict[str, Any] | None = None,
) -> str:
    """The run folder of a pre-training: `backbone.keras`, the tokenizer,
    albert_config.json, run.json (task "pretrain") and the per-epoch history.json."""
    last = {k: v[-1] for k, v in result.history.items() if v and not k.startswith("val_")}
    validation = {k[4:]: v for k, v in result.best.items() if k.startswith("val_")}
    run_info = {
        "task": PRETRAIN_TASK,
        "max_length": settings.max_length,
        "settings": dataclasses.asdict(settings),
        "metrics": {"train": last, **({"validation": validation} if validation else {})},
        "epochs_run": result.epochs_run,
        "train_seconds": round(result.seconds, 1),
        **(info or {}),
    }
    folder = RunFolder(out_dir)
    folder.write(backbone, tokenizer, None, run_info, model_file=PRETRAINED_MODEL_FILE)
    write_text_atomic(folder.file(HISTORY_FILE), json.dumps(result.history, indent=2))
    return out_dir


def pretrain_on_texts(
    backbone: AlbertBackbone,
    tokenizer: Any,
    texts: str | Iterable[str],
    validation_texts: str | Iterable[str] | None = None,
    out_dir: str | None = None,
    *,
    settings: PretrainSettings | None = None,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: Any = "auto",
    **options: Any,
) -> PretrainResult:
    """Masked-LM + sentence-order pre-training of `backbone` on `texts`, in place.

    `texts` is one corpus string (documents separated by blank lines) or a list
    of documents (e.g. one review each). `options` are `PretrainSettings`
    fields (epochs=, batch_size=, learning_rate=, ...), or pass `settings`. For
    a converted checkpoint use a smaller `learning_rate` (e.g. 5e-5); 1e-3
    suits a small model from scratch. With `validation_texts` the best epoch
    on their loss is kept (and training stops after `patience` epochs without
    improvement). With `out_dir` a killed run started again resumes at its
    last checkpoint (every `save_freq` steps) and the run folder is written there.

    Returns:
        A `PretrainResult`: `history` (`loss`, `mlm_loss`, `sop_loss`,
        `mlm_accuracy`, `sop_accuracy` per epoch), `model` (the
        `AlbertPretrainer`), `chance_levels` (what input-blind guessing scores
        on the same examples). A `PretrainingPlateauWarning` says when both
        accuracies are still at that level (see `plateau_message`).

    Example:
    >>> from albert_tf import AlbertBackbone, AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=tok.vocab_size))
    >>> result = pretrain_on_texts(backbone, tok, reviews, epochs=2, batch_size=32,
    ...                            max_length=64)  # doctest: +SKIP
    """
    settings = dataclasses.replace(settings or PretrainSettings(), **options)
    check_fits(backbone, tokenizer, settings.max_length)
    builder = settings.builder(tokenizer)
    arrays = builder.build(texts)
    stream = examples_stream(arrays, settings.batch_size, settings.seed)
    validation = None
    if validation_texts is not None:
        held_out = builder.build(validation_texts)
        validation = arrays_to_dataset(held_out, settings.batch_size, shuffle=False)
    model = settings.compile(backbone, stream.steps_per_epoch)
    fit = fit_and_save(
        model, stream, validation, epochs=settings.epochs, out_dir=out_dir,
        patience=settings.patience, callbacks=list(callbacks), verbose=verbose,
        save_freq=settings.save_freq,
    )  # fmt: skip
    result = PretrainResult(**dataclasses.asdict(fit), model=model)
    warn_on_plateau(result, arrays)
    if out_dir:
        save_pretraining_run(out_dir, backbone, tokenizer, result, settings)
    return result
