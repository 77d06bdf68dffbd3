"""Training that survives a kill: step checkpoints and a resume at the exact step.

`keras.callbacks.BackupAndRestore(save_freq=N)` saves every N steps but on
restart begins the interrupted epoch again from its first batch, so the
batches seen since the epoch start are trained twice. `StepBackup` +
`fit_from_step` (what `fit_and_save` runs for a `StepStream`) restore the
weights and the optimizer (its step counter included), skip exactly the
batches already trained in the deterministic input order, finish the
interrupted epoch, then run the remaining ones: the result equals an
uninterrupted run.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Callable
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
        saved = [
            (v, v.numpy()) for v in [*model.weights, *getattr(model.optimizer, "variables", [])]
        ]
        try:
            model.load_weights(self.weights_path)
            with open(self.state_path, encoding="utf-8") as f:
                step = int(json.load(f)["global_step"])
        except Exception as e:  # h5py's OSError, a truncated file, bad JSON, no step
            # Named, moved aside (not deleted: it may be worth a look), and a fresh start.
            for variable, value in saved:
                variable.assign(value)
            aside = f"{os.path.normpath(self.backup_dir)}.corrupt-{os.getpid()}"
            os.replace(self.backup_dir, aside)
            print(
                f"albert-tf: the checkpoint {self.weights_path} does not load "
                f"({str(e).strip().splitlines()[0][:200] if str(e).strip() else type(e).__name__}); "
                f"moved to {aside}; training starts from step 0",
                file=sys.stderr,
                flush=True,
            )
            return 0
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


def fit_from_step(
    model: keras.Model,
    make_dataset: Callable[[int], Any],
    *,
    start: int,
    epochs: int,
    steps_per_epoch: int,
    **fit_kwargs: Any,
) -> dict[str, list[float]]:
    """`model.fit` for what is left of `epochs` x `steps_per_epoch` steps after
    `start` (the step a `StepBackup` restored): the interrupted epoch's last
    batches first, then whole epochs. `make_dataset(skip)` is an endless
    dataset in a fixed order that starts after `skip` batches. Returns the
    per-epoch history of the epochs run. Called by `fit_and_save`, which owns
    the callbacks; `fit_kwargs` (callbacks, validation_data, verbose) go to `fit`.
    """
    history: dict[str, list[float]] = {}
    if start >= epochs * steps_per_epoch:
        return history  # the run had finished
    epoch, offset = divmod(start, steps_per_epoch)
    runs = []
    if offset:
        # Finish the interrupted epoch with the batches it had left.
        runs.append((start, epoch, epoch + 1, steps_per_epoch - offset))
        epoch += 1
    if epoch < epochs:
        runs.append((epoch * steps_per_epoch, epoch, epochs, steps_per_epoch))
    for skip, first, last, steps in runs:
        run = model.fit(
            make_dataset(skip),
            initial_epoch=first,
            epochs=last,
            steps_per_epoch=steps,
            shuffle=False,  # the dataset's own seeded order is what resumption relies on
            **fit_kwargs,
        )
        for key, values in run.history.items():
            history.setdefault(key, []).extend(float(v) for v in values)
    return history
