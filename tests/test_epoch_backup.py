"""The epoch backup a killed training resumes from (issue 32): a latest backup that does not
load is named, set aside, and that epoch is trained again from the one before it."""

from __future__ import annotations

import os

import keras
import numpy as np
import pytest

from albert_tf.training.backup import EpochBackup


class Killed(Exception):
    pass


class KillAt(keras.callbacks.Callback):
    def __init__(self, epoch: int):
        super().__init__()
        self.epoch = epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            raise Killed()


class Epochs(keras.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.seen = []

    def on_epoch_begin(self, epoch, logs=None):
        self.seen.append(epoch)


def _model() -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile("adam", "mse")
    return model


def _fit(model, backup, *callbacks, epochs=4):
    x, y = np.ones((8, 3), "float32"), np.zeros((8, 2), "float32")
    model.fit(x, y, epochs=epochs, verbose=0, callbacks=[EpochBackup(backup), *callbacks])


def test_a_corrupt_latest_backup_is_set_aside_and_its_epoch_trained_again(tmp_path, capsys):
    backup = str(tmp_path / "backup")
    with pytest.raises(Killed):
        _fit(_model(), backup, KillAt(2))  # epochs 0 and 1 saved, then a kill
    assert sorted(os.listdir(backup)) == [
        "latest.weights.h5", "previous.weights.h5", "previous_metadata.json",
        "training_metadata.json",
    ]  # fmt: skip
    with open(os.path.join(backup, "latest.weights.h5"), "wb") as f:
        f.write(b"not an HDF5 file")
    seen = Epochs()
    _fit(_model(), backup, seen)
    assert seen.seen == [1, 2, 3]  # epoch 1 (whose backup broke) again, from epoch 0's
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and f"{backup}/latest.weights.h5 does not load" in err[0]
    aside = [n for n in os.listdir(tmp_path) if n.startswith("backup.corrupt-")]
    assert len(aside) == 1 and f"moved to {tmp_path / aside[0]}" in err[0]
    with open(tmp_path / aside[0] / "latest.weights.h5", "rb") as f:
        assert f.read() == b"not an HDF5 file"
    assert not os.path.exists(backup)  # training finished: its backup files are gone


def test_no_loadable_backup_starts_from_the_first_epoch_and_keeps_the_users_files(tmp_path):
    backup = tmp_path / "backup"
    backup.mkdir()
    (backup / "latest.weights.h5").write_bytes(b"garbage")
    (backup / "training_metadata.json").write_text('{"epoch": 3}')
    (backup / "old.tar").write_text("the user's")
    seen = Epochs()
    _fit(_model(), str(backup), seen, epochs=2)
    assert seen.seen == [0, 1]
    assert os.listdir(backup) == ["old.tar"]  # keras's own callback would rmtree backup/
