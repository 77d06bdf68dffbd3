"""Pre-train (or continue pre-training) a backbone on texts in one call."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import keras

from albert_tf.data.pretraining import PretrainingDataBuilder, arrays_to_dataset
from albert_tf.models.backbone import AlbertBackbone
from albert_tf.models.pretrainer import AlbertPretrainer
from albert_tf.training.optimizers import NO_DECAY_PATTERNS, create_optimizer
from albert_tf.training.replica_clipping import AdamW
from albert_tf.training.resumable import fit_resumable


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
        `sop_accuracy` per epoch); `history.model` is the `AlbertPretrainer`.

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

    return fit_resumable(
        model,
        make_dataset,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        backup_dir=backup_dir,
        save_freq=save_freq,
        callbacks=callbacks,
        verbose=verbose,
    )
