"""Pre-train (or continue pre-training) a backbone on texts in one call."""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Sequence
from typing import Any

import keras
import numpy as np

from albert_tf.data.pretraining import PretrainingDataBuilder, arrays_to_dataset
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.pretrainer import AlbertPretrainer
from albert_tf.training.optimizers import NO_DECAY_PATTERNS, create_optimizer
from albert_tf.training.replica_clipping import AdamW
from albert_tf.training.resumable import fit_resumable


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
    """An `AlbertPretrainer` around `backbone`, compiled with warmup + linear decay.

    Build it under `strategy.scope()` when distributing.

    Example:
    >>> model = compile_pretrainer(backbone, total_steps=1000, optimizer="lamb")  # doctest: +SKIP
    """
    model = AlbertPretrainer(backbone)
    opt = create_optimizer(
        optimizer,
        learning_rate=learning_rate,
        total_steps=max(1, int(total_steps)),
        warmup_fraction=warmup_fraction,
        weight_decay=weight_decay,
        clipnorm=clipnorm,
    )
    if type(opt) is keras.optimizers.AdamW:
        # The same optimizer, but clipping the gradient summed over replicas.
        opt = AdamW.from_config(opt.get_config())
        if weight_decay:
            opt.exclude_from_weight_decay(var_names=list(NO_DECAY_PATTERNS))
    model.compile(optimizer=opt, jit_compile=jit_compile)
    return model


def pretrain_on_texts(
    backbone: AlbertBackbone,
    tokenizer: Any,
    texts: str | Iterable[str],
    epochs: int = 1,
    batch_size: int = 16,
    max_length: int = 128,
    max_predictions: int | None = None,
    optimizer: str = "adamw",
    learning_rate: float = 1e-3,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    duplicate_factor: int = 1,
    short_seq_prob: float = 0.1,
    masked_lm_prob: float = 0.15,
    seed: int = 12345,
    backup_dir: str | None = None,
    save_freq: int = 100,
    jit_compile: bool | str = False,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: Any = "auto",
) -> keras.callbacks.History:
    """Masked-LM + sentence-order pre-training of `backbone` on `texts`, in place.

    `texts` is one corpus string (documents separated by blank lines) or a list
    of documents (e.g. one review each). The backbone's weights are updated;
    fine-tune it afterwards as usual. For a converted checkpoint use a smaller
    `learning_rate` (e.g. 5e-5); 1e-3 suits a small model from scratch.

    Returns:
        The `History` (`loss`, `mlm_loss`, `sop_loss`, `mlm_accuracy`,
        `sop_accuracy` per epoch); `history.model` is the `AlbertPretrainer`;
        `history.chance_levels` what input-blind guessing scores on the same
        examples. A `PretrainingPlateauWarning` says when both accuracies are
        still at that level (see `plateau_message`).

    Example:
    >>> from albert_tf import AlbertBackbone, AlbertConfig
    >>> backbone = AlbertBackbone(AlbertConfig.from_preset("tiny", vocab_size=tok.vocab_size))
    >>> history = pretrain_on_texts(backbone, tok, reviews, epochs=2, batch_size=32,
    ...                             max_length=64)  # doctest: +SKIP
    """
    if epochs < 1 or batch_size < 1:
        raise ValueError(f"epochs and batch_size must be >= 1, got {epochs} and {batch_size}.")
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
    builder = PretrainingDataBuilder(
        tokenizer,
        max_seq_length=max_length,
        max_predictions=max_predictions or default_max_predictions(max_length),
        masked_lm_prob=masked_lm_prob,
        short_seq_prob=short_seq_prob,
        duplicate_factor=duplicate_factor,
        seed=seed,
    )
    arrays = builder.build(texts)
    num_examples = len(arrays["token_ids"])
    steps_per_epoch = num_examples // batch_size
    if steps_per_epoch < 1:
        raise ValueError(
            f"the texts gave {num_examples} pre-training examples, fewer than one batch of "
            f"{batch_size}; use a smaller batch_size or more text."
        )
    model = compile_pretrainer(
        backbone,
        total_steps=epochs * steps_per_epoch,
        optimizer=optimizer,
        learning_rate=learning_rate,
        warmup_fraction=warmup_fraction,
        weight_decay=weight_decay,
        jit_compile=jit_compile,
    )

    def make_dataset(skip: int):
        ds = arrays_to_dataset(arrays, batch_size, seed=seed, repeat=True, drop_remainder=True)
        return ds.skip(skip)

    history = fit_resumable(
        model,
        make_dataset,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        backup_dir=backup_dir,
        save_freq=save_freq,
        callbacks=callbacks,
        verbose=verbose,
    )
    # A corpus whose texts are all too short to mask has no MLM chance level.
    history.chance_levels = chance_levels(arrays) if arrays["mlm_weights"].any() else {}
    message = history.chance_levels and plateau_message(history.history, history.chance_levels)
    if message:
        warnings.warn(message, PretrainingPlateauWarning, stacklevel=2)
    return history
