"""Training that survives a kill: step checkpoints and a resume at the exact step.

`keras.callbacks.BackupAndRestore(save_freq=N)` saves every N steps but on
restart begins the interrupted epoch again from its first batch, so the
batches seen since the epoch start are trained twice. `fit_resumable` restores
the weights and the optimizer (its step counter included), skips exactly the
batches already trained in the deterministic input order, finishes the
interrupted epoch, then runs the remaining ones: the result equals an
uninterrupted run.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from typing import Any

import keras

WEIGHTS_FILE = "latest.weights.h5"
STATE_FILE = "training_state.json"


class StepBackup(keras.callbacks.Callback):
    """Every `save_freq` steps, write weights + optimizer state atomically.

    Only the chief writes (pass `write=False` on other workers). Files:
    `backup_dir/latest.weights.h5` and `backup_dir/training_state.json`
    (`{"global_step": n}`), each written to a temporary name and renamed, so
    a kill during a save leaves the previous checkpoint intact.

    Example:
    >>> backup = StepBackup("runs/x/backup", save_freq=100)
    >>> step = backup.restore(model)  # 0 when there is nothing to restore  # doctest: +SKIP
    """

    def __init__(self, backup_dir: str, save_freq: int = 100, write: bool = True):
        super().__init__()
        if int(save_freq) < 1:
            raise ValueError(f"save_freq must be a positive number of steps, got {save_freq}.")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = int(save_freq)
        self.write = write
        self.weights_path = os.path.join(self.backup_dir, WEIGHTS_FILE)
        self.state_path = os.path.join(self.backup_dir, STATE_FILE)

    def restore(self, model: keras.Model) -> int:
        """Load the latest checkpoint into `model` (built and compiled); returns its step."""
        if not os.path.exists(self.weights_path) or not os.path.exists(self.state_path):
            return 0
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        try:
            model.load_weights(self.weights_path)
            with open(self.state_path, encoding="utf-8") as f:
                state = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(
                f"{self.backup_dir}: cannot resume from the checkpoint ({e}); delete the folder "
                "to start over."
            ) from e
        step = int(state["global_step"])
        iterations = int(model.optimizer.iterations.numpy()) if model.optimizer else step
        if iterations != step:
            raise ValueError(
                f"{self.state_path} says step {step} but the optimizer restored {iterations}."
            )
        return step

    def on_train_batch_end(self, batch, logs=None):
        step = int(self.model.optimizer.iterations.numpy())
        if step % self.save_freq == 0:
            self.save(step)

    def save(self, step: int) -> None:
        if not self.write:
            return
        os.makedirs(self.backup_dir, exist_ok=True)
        tmp_weights = os.path.join(self.backup_dir, f"tmp{os.getpid()}.weights.h5")
        self.model.save_weights(tmp_weights, overwrite=True)
        os.replace(tmp_weights, self.weights_path)
        tmp_state = f"{self.state_path}.tmp{os.getpid()}"
        with open(tmp_state, "w", encoding="utf-8") as f:
            json.dump({"global_step": int(step)}, f)
        os.replace(tmp_state, self.state_path)


def fit_resumable(
    model: keras.Model,
    make_dataset: Callable[[int], Any],
    epochs: int,
    steps_per_epoch: int,
    backup_dir: str | None = None,
    save_freq: int = 100,
    callbacks: Sequence[keras.callbacks.Callback] = (),
    verbose: Any = "auto",
    write_backup: bool = True,
) -> keras.callbacks.History:
    """`model.fit` for `epochs` x `steps_per_epoch` steps that resumes where it was killed.

    Args:
        model: a compiled model.
        make_dataset: `skip -> dataset`; an endless dataset in a fixed order,
            starting after `skip` batches.
        epochs, steps_per_epoch: the run's length.
        backup_dir: where checkpoints go; None trains without them.
        save_freq: steps between checkpoints.
        callbacks, verbose: passed to `fit`.
        write_backup: False on non-chief workers.

    Returns:
        A `History` whose `history` holds one entry per epoch run by this call.

    Example:
    >>> history = fit_resumable(model, lambda skip: ds.repeat().skip(skip), epochs=3,
    ...                         steps_per_epoch=100, backup_dir="runs/x/backup")  # doctest: +SKIP
    """
    callbacks = list(callbacks)
    start = 0
    if backup_dir:
        backup = StepBackup(backup_dir, save_freq, write=write_backup)
        start = backup.restore(model)
        callbacks.append(backup)
    total = epochs * steps_per_epoch
    merged = keras.callbacks.History()
    merged.history = {}
    merged.epoch = []
    if start >= total:
        return merged
    epoch, offset = divmod(start, steps_per_epoch)
    runs = []
    if offset:
        # Finish the interrupted epoch with the batches it had left.
        runs.append((start, epoch, epoch + 1, steps_per_epoch - offset))
        epoch += 1
    if epoch < epochs:
        runs.append((epoch * steps_per_epoch, epoch, epochs, steps_per_epoch))
    for skip, first, last, steps in runs:
        history = model.fit(
            make_dataset(skip),
            initial_epoch=first,
            epochs=last,
            steps_per_epoch=steps,
            callbacks=callbacks,
            verbose=verbose,
            shuffle=False,  # the dataset's own seeded order is what resumption relies on
        )
        merged.epoch.extend(history.epoch)
        for key, values in history.history.items():
            merged.history.setdefault(key, []).extend(values)
    merged.set_model(model)
    return merged
