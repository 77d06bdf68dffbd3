"""What a run was started with, so that a restart resumes only onto the same inputs.

A training command writes `inputs.json` into its --out folder before it trains:
the sha256 of every input file (data, tokenizer, unlabelled texts) and the
settings. Started again on that folder it

- resumes (from `backup/`) when the inputs are the same;
- refuses, naming what differs, when they are not (another data file, another
  number of epochs): the old weights and tokenizer would silently continue;
- refuses a folder holding a finished run unless `--overwrite` is given, and a
  folder of files that are not a run's even with it;
- `--overwrite` removes only what an earlier run provably wrote: a run records
  every file and folder it creates in `written.json` (at each epoch's end and when
  it stops, however it stops); files of the user's beside them are kept. A folder
  of a run from before that record (inputs.json, no written.json) loses only the
  names training writes (`RESUME_STATE`).

One process at a time: `hold_run_folder` takes `.albert-tf.lock` in the folder (an
flock, so the kernel frees it when its process dies, however it dies; the file holds
the owner's pid, for the message a second writer gets) and removes it on exit.

Example:
>>> state = claim_run_folder("runs/mine", {"train": "train.csv"}, {"epochs": 3})  # doctest: +SKIP
'new'
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
from collections.abc import Iterator
from typing import Any

from albert_tf.io.files import read_input_bytes, write_text_atomic

INPUTS_FILE = "inputs.json"
RUN_FILE = "run.json"
WRITTEN_FILE = "written.json"
LOCK_FILE = ".albert-tf.lock"
# What training writes into a run folder: the names --overwrite removes from a run
# folder written before written.json existed.
RESUME_STATE = ("backup", "checkpoints", "teacher", INPUTS_FILE, RUN_FILE)
# The files a resume restores from (keras BackupAndRestore's, StepBackup's).
BACKUP_FILES = ("latest.weights.h5", "training_metadata.json", "training_state.json")
# Run folders this process holds -> the paths that were there, not ours, when it
# claimed them (what `record_written` must never record).
_FOREIGN: dict[str, set[str]] = {}


def _sha256(path: str) -> str:
    # Kept in memory for the reader that parses the file next: one open of a user's file.
    return hashlib.sha256(read_input_bytes(path)).hexdigest()


def run_inputs(files: dict[str, str | None], settings: dict[str, Any]) -> dict[str, Any]:
    """The fingerprint: each given file's sha256 (by its role) and the settings."""
    out = {}
    for role, path in files.items():
        if path and os.path.isfile(path):
            out[role] = {"name": os.path.basename(path), "sha256": _sha256(path)}
    return {"files": out, "settings": json.loads(json.dumps(settings, default=str))}


def _differences(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    out = []
    for role in sorted(set(old.get("files", {})) | set(new["files"])):
        a, b = old.get("files", {}).get(role), new["files"].get(role)
        if a != b:
            out.append(f"the {role} file ({(b or a or {}).get('name')}) differs")
    old_settings, new_settings = old.get("settings", {}), new["settings"]
    for key in sorted(set(old_settings) | set(new_settings)):
        if old_settings.get(key) != new_settings.get(key):
            out.append(f"{key} was {old_settings.get(key)!r}, now {new_settings.get(key)!r}")
    return out


def _finished(out_dir: str) -> bool:
    path = os.path.join(out_dir, RUN_FILE)
    try:
        with open(path, encoding="utf-8") as f:
            return bool(json.load(f).get("metrics"))
    except (OSError, ValueError, AttributeError):
        return False


class RunFolderBusy(FileExistsError):
    """Another live process is training into the folder."""


@contextlib.contextmanager
def hold_run_folder(out_dir: str) -> Iterator[None]:
    """Hold `out_dir` (made if missing) for this process while the block runs: a second
    `albert-tf train` on it is refused with one line naming the owner's pid."""
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, LOCK_FILE)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            owner = os.read(fd, 64).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise RunFolderBusy(
                f"--out {out_dir} is in use by another albert-tf train (pid {owner}); wait "
                "for it to finish or choose another --out"
            ) from None
        # The owner before us may have removed the file after we opened it: a lock on
        # a removed file holds nothing, so open the new one.
        try:
            same = os.path.samestat(os.fstat(fd), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())  # a dead owner's pid is simply replaced
    try:
        yield
    finally:
        _FOREIGN.pop(os.path.abspath(out_dir), None)
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)  # before the unlock: a waiting process then opens a new file
        os.close(fd)


def _paths(out_dir: str) -> set[str]:
    """Every file and folder under `out_dir`, relative (folders end in '/'), but the lock."""
    out = set()
    for root, dirs, files in os.walk(out_dir):
        rel = os.path.relpath(root, out_dir)
        for name in dirs:
            out.add(os.path.normpath(os.path.join(rel, name)) + "/")
        for name in files:
            out.add(os.path.normpath(os.path.join(rel, name)))
    out.discard(LOCK_FILE)
    return out


def _recorded(out_dir: str) -> set[str] | None:
    """What written.json says earlier runs wrote; None when there is no record."""
    try:
        with open(os.path.join(out_dir, WRITTEN_FILE), encoding="utf-8") as f:
            paths = json.load(f)["written"]
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ValueError(
            f"{os.path.join(out_dir, WRITTEN_FILE)}: not the record albert-tf writes ({e})"
        ) from None
    if not isinstance(paths, list) or not all(isinstance(p, str) for p in paths):
        raise ValueError(f"{os.path.join(out_dir, WRITTEN_FILE)}: 'written' must list paths")
    for path in paths:  # a record naming ../notes.txt must not remove it
        if os.path.isabs(path) or ".." in path.split("/") or not path.strip("/"):
            raise ValueError(
                f"{os.path.join(out_dir, WRITTEN_FILE)}: {path!r} is not a path inside the folder"
            )
    return set(paths)


def record_written(out_dir: str) -> None:
    """Add to written.json what appeared in `out_dir` since this process claimed it (and
    drop what is gone). Called at each epoch's end and when training stops; a no-op for
    a folder this process does not hold."""
    foreign = _FOREIGN.get(os.path.abspath(out_dir))
    if foreign is None or not os.path.isdir(out_dir):
        return
    now = _paths(out_dir)
    written = ((_recorded(out_dir) or set()) | (now - foreign)) & now | {WRITTEN_FILE}
    record = {
        "written": sorted(written),
        "note": "files albert-tf wrote; --overwrite removes only these",
    }
    write_text_atomic(os.path.join(out_dir, WRITTEN_FILE), json.dumps(record, indent=1))


def _remove_written(out_dir: str) -> None:
    """--overwrite: remove what the record (or, for an older run, `RESUME_STATE`) names."""
    recorded = _recorded(out_dir)
    if recorded is None:
        names = RESUME_STATE
    else:
        names = [p for p in recorded if not p.endswith("/")] + [WRITTEN_FILE]
    for name in names:
        path = os.path.join(out_dir, name)
        if os.path.isdir(path) and not os.path.islink(path):
            shutil.rmtree(path)
        elif os.path.lexists(path):
            os.remove(path)
    # The run's folders go when the removal left them empty; a user's file keeps its folder.
    for name in sorted((p for p in recorded or () if p.endswith("/")), reverse=True):
        with contextlib.suppress(OSError):
            os.rmdir(os.path.join(out_dir, name))


def _holds_run(out_dir: str) -> bool:
    return any(
        os.path.isfile(os.path.join(out_dir, name)) for name in (WRITTEN_FILE, INPUTS_FILE)
    ) or _finished(out_dir)


def claim_run_folder(out_dir: str, inputs: dict[str, Any], overwrite: bool = False) -> str:
    """Check `out_dir` against `inputs` (from `run_inputs`); returns "new" or "resume".

    Call it while holding the folder (`hold_run_folder`)."""
    inputs_path = os.path.join(out_dir, INPUTS_FILE)
    if os.path.isdir(out_dir) and _paths(out_dir):
        if not _holds_run(out_dir):
            raise FileExistsError(
                f"--out {out_dir} is not empty and holds no albert-tf run; choose a new or "
                "empty folder"
                + (" (--overwrite removes only what an albert-tf run wrote)" if overwrite else "")
            )
        if overwrite:
            _remove_written(out_dir)
        elif _finished(out_dir):
            raise FileExistsError(
                f"--out {out_dir} holds a finished run; pass --overwrite to train it again"
            )
        elif os.path.isfile(inputs_path):
            with open(inputs_path, encoding="utf-8") as f:
                old = json.load(f)
            changed = _differences(old, inputs)
            if changed:
                raise ValueError(
                    f"--out {out_dir} holds an unfinished run of other inputs ("
                    + "; ".join(changed[:3])
                    + "): rerun with the same data and settings to resume it, or pass "
                    "--overwrite, or choose another --out"
                )
    os.makedirs(out_dir, exist_ok=True)
    backup = os.path.join(out_dir, "backup")
    resuming = any(os.path.isfile(os.path.join(backup, name)) for name in BACKUP_FILES)
    _FOREIGN[os.path.abspath(out_dir)] = _paths(out_dir) - (_recorded(out_dir) or set())
    write_text_atomic(inputs_path, json.dumps(inputs, indent=1))
    record_written(out_dir)
    return "resume" if resuming else "new"


def release_if_untouched(out_dir: str, created: bool) -> None:
    """After a failed start: when `out_dir` holds nothing but inputs.json and written.json
    (and empty folders), remove what this run made there: the folder itself if the run
    `created` it (a typo leaves no empty run folder behind), else those two files."""
    if not os.path.isdir(out_dir):
        return
    ours = {INPUTS_FILE, WRITTEN_FILE, LOCK_FILE}
    for root, _, files in os.walk(out_dir):
        if any(not (root == out_dir and f in ours) for f in files):
            return
    if created:
        shutil.rmtree(out_dir)
        return
    for name in (INPUTS_FILE, WRITTEN_FILE):
        with contextlib.suppress(FileNotFoundError):
            os.remove(os.path.join(out_dir, name))
