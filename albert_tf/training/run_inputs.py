"""What a run was started with, so that a restart resumes only onto the same inputs.

A training command writes `inputs.json` into its --out folder before it trains:
the sha256 of every input file (data, tokenizer, unlabelled texts) and the
settings. Started again on that folder it

- resumes (from `backup/`) when the inputs are the same;
- refuses, naming what differs, when they are not (another data file, another
  number of epochs): the old weights and tokenizer would silently continue;
- refuses a folder holding a finished run, or files that are not a run's,
  unless `--overwrite` is given; `--overwrite` removes only what training
  itself wrote there (the resume state, checkpoints, the teacher, run.json).

Example:
>>> state = claim_run_folder("runs/mine", {"train": "train.csv"}, {"epochs": 3})  # doctest: +SKIP
'new'
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from typing import Any

from albert_tf.files import write_text_atomic

INPUTS_FILE = "inputs.json"
RUN_FILE = "run.json"
# What training writes into a run folder: the only names --overwrite may remove.
RESUME_STATE = ("backup", "checkpoints", "teacher", INPUTS_FILE, RUN_FILE)


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


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


def claim_run_folder(out_dir: str, inputs: dict[str, Any], overwrite: bool = False) -> str:
    """Check `out_dir` against `inputs` (from `run_inputs`); returns "new" or "resume"."""
    inputs_path = os.path.join(out_dir, INPUTS_FILE)
    if os.path.isdir(out_dir) and os.listdir(out_dir):
        if overwrite:
            for name in RESUME_STATE:
                path = os.path.join(out_dir, name)
                if os.path.isdir(path):
                    shutil.rmtree(path)
                elif os.path.exists(path):
                    os.remove(path)
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
        else:
            raise FileExistsError(
                f"--out {out_dir} is not empty and holds no albert-tf run; choose a new or "
                "empty folder"
            )
    os.makedirs(out_dir, exist_ok=True)
    resuming = os.path.isdir(os.path.join(out_dir, "backup"))
    write_text_atomic(inputs_path, json.dumps(inputs, indent=1))
    return "resume" if resuming else "new"


def release_if_untouched(out_dir: str, created: bool) -> None:
    """After a failed start: when `out_dir` holds nothing but inputs.json (and empty
    folders), remove what this run made there: the folder itself if the run
    `created` it (a typo leaves no empty run folder behind), else inputs.json."""
    if not os.path.isdir(out_dir):
        return
    for root, _, files in os.walk(out_dir):
        if any(not (root == out_dir and f == INPUTS_FILE) for f in files):
            return
    if created:
        shutil.rmtree(out_dir)
    elif os.path.exists(os.path.join(out_dir, INPUTS_FILE)):
        os.remove(os.path.join(out_dir, INPUTS_FILE))
