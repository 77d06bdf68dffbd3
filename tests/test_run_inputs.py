"""A run folder resumes only onto the same inputs, refuses to be silently overwritten, and a
failed start leaves nothing behind."""

from __future__ import annotations

import json
import os

import pytest

from albert_tf.cli import main
from albert_tf.training.run_inputs import (
    claim_run_folder,
    record_written,
    release_if_untouched,
    run_inputs,
)


def _inputs(tmp_path, text="a,b\n", epochs=3):
    data = tmp_path / "train.csv"
    data.write_text(text)
    return run_inputs({"train": str(data), "test": None}, {"epochs": epochs})


def test_same_inputs_resume_from_the_backup(tmp_path):
    out = tmp_path / "run"
    assert claim_run_folder(str(out), _inputs(tmp_path)) == "new"
    (out / "backup").mkdir()
    assert claim_run_folder(str(out), _inputs(tmp_path)) == "new"  # no backup file in it
    (out / "backup" / "latest.weights.h5").write_bytes(b"weights")
    assert claim_run_folder(str(out), _inputs(tmp_path)) == "resume"


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(text="a,b\nc,d\n"), "the train file (train.csv) differs"),
        (dict(epochs=2), "epochs was 3, now 2"),
    ],
)
def test_other_inputs_are_refused_naming_what_differs(tmp_path, change, message):
    out = tmp_path / "run"
    claim_run_folder(str(out), _inputs(tmp_path))
    (out / "backup").mkdir()
    with pytest.raises(ValueError, match="holds an unfinished run of other inputs") as caught:
        claim_run_folder(str(out), _inputs(tmp_path, **change))
    assert message in str(caught.value) and "--overwrite" in str(caught.value)
    assert (out / "backup").is_dir()


def test_a_finished_run_needs_overwrite_which_keeps_the_users_files(tmp_path):
    out = tmp_path / "run"
    claim_run_folder(str(out), _inputs(tmp_path))
    (out / "run.json").write_text(json.dumps({"metrics": {"test": {"accuracy": 0.9}}}))
    (out / "checkpoints").mkdir()
    (out / "checkpoints" / "best.weights.h5").write_bytes(b"weights")
    record_written(str(out))  # what training does at each epoch's end and when it stops
    (out / "notes.txt").write_text("mine")  # the user's, after the run: never recorded
    (out / "checkpoints" / "mine.ckpt").write_text("mine")
    with pytest.raises(FileExistsError, match="holds a finished run; pass --overwrite"):
        claim_run_folder(str(out), _inputs(tmp_path))
    assert claim_run_folder(str(out), _inputs(tmp_path, epochs=5), overwrite=True) == "new"
    assert not (out / "run.json").exists()
    assert not (out / "checkpoints" / "best.weights.h5").exists()
    assert (out / "notes.txt").read_text() == "mine"
    assert (out / "checkpoints" / "mine.ckpt").read_text() == "mine"


def test_a_folder_of_other_files_is_refused(tmp_path):
    (tmp_path / "site").mkdir()
    (tmp_path / "site" / "index.html").write_text("x")
    with pytest.raises(FileExistsError, match="holds no albert-tf run"):
        claim_run_folder(str(tmp_path / "site"), _inputs(tmp_path))
    assert os.listdir(tmp_path / "site") == ["index.html"]


def test_a_failed_start_removes_only_what_it_made(tmp_path):
    made = tmp_path / "made"
    claim_run_folder(str(made), _inputs(tmp_path))
    release_if_untouched(str(made), created=True)
    assert not made.exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    claim_run_folder(str(mine), _inputs(tmp_path))
    release_if_untouched(str(mine), created=False)
    assert mine.is_dir() and os.listdir(mine) == []
    started = tmp_path / "started"
    claim_run_folder(str(started), _inputs(tmp_path))
    (started / "backup").mkdir()
    (started / "backup" / "state.json").write_text("{}")
    release_if_untouched(str(started), created=True)
    assert (started / "backup" / "state.json").exists()


def test_train_cli_refuses_a_finished_run_and_a_failed_start_leaves_no_folder(tmp_path, capsys):
    rows = "".join(f"great fun {i},pos\nawful mess {i},neg\n" for i in range(12))
    (tmp_path / "train.csv").write_text("text,label\n" + rows)
    spm = os.path.join(os.path.dirname(__file__), "fixtures", "tiny_spiece.model")
    out = tmp_path / "run"
    argv = ["train", "--data", str(tmp_path / "train.csv"), "--preset", "tiny", "--tokenizer", spm,
            "--epochs", "1", "--max-length", "16", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    before = (out / "model.keras").stat().st_mtime_ns
    capsys.readouterr()
    assert main(argv) == 2
    assert "holds a finished run; pass --overwrite" in capsys.readouterr().err
    assert (out / "model.keras").stat().st_mtime_ns == before
    assert main([*argv, "--overwrite"]) == 0

    bad = tmp_path / "bad.csv"
    bad.write_text("review,label\ngood,pos\n")
    assert main(["train", "--data", str(bad), "--out", str(tmp_path / "typo")]) == 2
    assert not (tmp_path / "typo").exists()
