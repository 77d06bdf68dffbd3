"""The epoch backup a killed `albert-tf train` resumes from, safe against what breaks
keras's `BackupAndRestore`:

- each save goes to a temporary name and is renamed, so a kill (or a full disk)
  during a save leaves the last good backup, never a half-written one;
- the previous epoch's backup is kept beside the latest (`previous.weights.h5`),
  so a latest backup that does not load (a corrupt file, one a crashed disk
  truncated) costs one epoch: it is named on stderr, moved aside into
  `backup.corrupt-<time>/` beside `backup/`, and training starts that epoch again
  from the previous one (or from the first epoch when there is none);
- at the end of training only the files this callback writes are removed, never
  anything else a user keeps in `backup/`.

Example:
>>> callbacks = [EpochBackup("runs/x/backup")]  # doctest: +SKIP
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time

import keras

LATEST = ("latest.weights.h5", "training_metadata.json")  # keras's names: old backups load
PREVIOUS = ("previous.weights.h5", "previous_metadata.json")


class EpochBackup(keras.callbacks.BackupAndRestore):
    """`keras.callbacks.BackupAndRestore` (at each epoch's end) with atomic saves, a
    kept previous epoch, and a corrupt backup set aside (module docstring)."""

    def __init__(self, backup_dir: str):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=True)

    def _path(self, name: str) -> str:
        return os.path.join(self.backup_dir, name)

    def on_train_begin(self, logs=None):
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        for names in (LATEST, PREVIOUS):
            if not os.path.exists(self._path(names[0])):
                continue
            saved = _variables(self.model)
            try:
                epoch = self._load(*names)
            except Exception as e:  # h5py's OSError, a truncated file, bad JSON, a KeyError
                _assign(self.model, saved)  # a half-loaded model must not train on
                aside = self._set_aside(names)
                print(
                    f"albert-tf: the backup {self._path(names[0])} does not load "
                    f"({_first_line(e)}); moved to {aside}; training starts that epoch again",
                    file=sys.stderr,
                    flush=True,
                )
                continue
            self.model._initial_epoch = epoch
            return
        self.model._initial_epoch = None  # nothing to resume: fit's own initial_epoch

    def _load(self, weights: str, metadata: str) -> int:
        self.model.load_weights(self._path(weights))
        with open(self._path(metadata), encoding="utf-8") as f:
            epoch = json.load(f)["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
            raise ValueError(f"{metadata}: epoch {epoch!r} is not an epoch number")
        return epoch

    def _set_aside(self, names: tuple[str, str]) -> str:
        stamp = time.strftime("%Y%m%d-%H%M%S", time.gmtime())
        aside = f"{os.path.normpath(self.backup_dir)}.corrupt-{stamp}-{os.getpid()}"
        os.makedirs(aside, exist_ok=True)
        for name in names:
            if os.path.exists(self._path(name)):
                os.replace(self._path(name), os.path.join(aside, name))
        return aside

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        tmp_weights = self._path(f".tmp-{os.getpid()}.weights.h5")
        tmp_meta = self._path(f".tmp-{os.getpid()}-metadata.json")
        try:
            self.model.save_weights(tmp_weights, overwrite=True)
            with open(tmp_meta, "w", encoding="utf-8") as f:
                json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)
        except BaseException:  # a full disk, a SIGTERM: no half-written file stays behind
            for tmp in (tmp_weights, tmp_meta):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(tmp)
            raise
        # The latest becomes the previous, then the new one the latest: a kill between
        # two renames leaves at least one whole pair to load.
        for new, old in zip(PREVIOUS, LATEST):
            if os.path.exists(self._path(old)):
                os.replace(self._path(old), self._path(new))
        os.replace(tmp_weights, self._path(LATEST[0]))
        os.replace(tmp_meta, self._path(LATEST[1]))

    def on_train_end(self, logs=None):
        leftovers = [n for n in _listdir(self.backup_dir) if n.startswith(".tmp-")]
        for name in (*LATEST, *PREVIOUS, *leftovers):  # a killed save's temp files too
            with contextlib.suppress(FileNotFoundError):
                os.remove(self._path(name))
        with contextlib.suppress(OSError):
            os.rmdir(self.backup_dir)  # only when nothing of the user's is in it


def _listdir(folder: str) -> list[str]:
    try:
        return os.listdir(folder)
    except FileNotFoundError:
        return []


def _variables(model: keras.Model) -> list:
    optimizer = getattr(model, "optimizer", None)
    variables = list(model.weights) + list(getattr(optimizer, "variables", []) or [])
    return [(v, v.numpy()) for v in variables]


def _assign(model: keras.Model, saved: list) -> None:
    for variable, value in saved:
        variable.assign(value)


def _first_line(error: Exception) -> str:
    text = str(error).strip().splitlines()
    return text[0][:200] if text else type(error).__name__
