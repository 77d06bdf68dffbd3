"""Hostile but realistic inputs to every `albert-tf` command and to the Python API (issue 17).

Each case is data: a name, the command line (run in a fresh workspace folder, its
cwd), a setup that writes the user's files there, and what handling it well means:

- the exit code (2 for a refused input, 0 for an input that should just work), or for
  the Python API the exception type the package documents (TypeError, ValueError,
  DataError, BundleError, CheckpointError, RunFolderError, ...);
- a refusal is one line on stderr, `albert-tf COMMAND: error: ...`, naming the file
  (and the line or field where there is one); no traceback;
- no file of the user's deleted or changed, nothing created outside the command's
  outputs (a refused command creates nothing), no temp file or folder left behind
  (in the workspace or in $TMPDIR);
- where a case says so, the output folder in the state expected.

The runner prints a markdown table (case, command, expected, got, ok) and the count
handled well. Commands that import TensorFlow take 5-15 s to start here, so they run
in a worker process that imports it once and calls `albert_tf.cli.main` per case with
file descriptors 1 and 2 redirected (a crash or hang there costs only that case);
`predict` and `bench` (no TensorFlow) each run in their own process; API cases run in
this process. The tiny run folder and bundle the evaluate/export/predict cases start
from are made once per sweep, as tests/test_cli_workflow.py makes them.

Usage:
    python -m tests.hostile_inputs                     # the whole sweep, about 10 min
    python -m tests.hostile_inputs --only 'predict_'   # cases whose name matches a regex
    python -m tests.hostile_inputs --markdown sweep.md
tests/test_hostile_inputs.py runs the fast subset (no TensorFlow) under pytest.
"""

from __future__ import annotations

import argparse
import builtins
import csv
import hashlib
import importlib
import io
import json
import os
import pickle
import random
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "tests", "fixtures")
HF_FIXTURE = os.path.join(FIXTURES, "hf", "albert_model_g2_i1")
TINY_SPIECE = os.path.join(FIXTURES, "tiny_spiece.model")
ENV = {
    **os.environ,
    "TF_CPP_MIN_LOG_LEVEL": "2",
    "PYTHONPATH": os.pathsep.join(p for p in (ROOT, os.environ.get("PYTHONPATH")) if p),
}
# The smallest training a `train` case asks for (and its bound if an input the
# package should refuse is accepted instead).
TINY = (
    "--recipe", "scratch", "--preset", "tiny", "--epochs", "1", "--max-length", "16",
    "--vocab-size", "200", "--batch-size", "16",
)  # fmt: skip
LABELS = ["negative", "positive"]
# What a temp file or folder is called: ours (.tmp-*, .old-bundle-*) or tempfile's.
TEMP_NAME = re.compile(r"^(\.tmp|\.old-bundle-|tmp[a-z0-9_]{6,})")
TF_COMMANDS = {"train", "evaluate", "export", "convert", "distill", "pretrain", "demo"}


# ------------------------------------------------------------------ the case table
@dataclass
class Expect:
    """What handling a case well means (see the module docstring)."""

    code: int = 2
    # Substrings of the error line (or the exception's message); a tuple: any one of them
    # (a flag may be named as the CLI spells it or as the Python API does).
    says: tuple[str | tuple[str, ...], ...] = ()
    usage: bool = False  # an argparse error: its usage lines come before the error line
    raises: tuple[str, ...] = ()  # API: "module:Class" or a builtin's name
    check: Callable[[Workspace, Result], str | None] | None = None  # the output's state
    note: str = ""  # what `check` wants, for the table
    lines: int = 1  # lines on stderr when the exit code is not 0 (0: a quiet end)
    prefix: str = "error:"  # what the line says after `albert-tf COMMAND:`

    def describe(self) -> str:
        named = ", ".join(
            " or ".join(map(repr, s)) if isinstance(s, tuple) else repr(s) for s in self.says
        )
        if self.raises:
            text = " or ".join(r.split(":")[-1] for r in self.raises)
            return text + (f" naming {named}" if named else "")
        if self.code == 0:
            return "exit 0" + (f"; {self.note}" if self.note else "")
        if self.lines == 0:
            return f"exit {self.code}, nothing on stderr" + (f"; {self.note}" if self.note else "")
        text = f"exit {self.code}, one line" + (f" naming {named}" if named else "")
        return text + (f"; {self.note}" if self.note else "")


@dataclass
class Case:
    name: str
    argv: list[str] | None  # the CLI's arguments; relative paths are in the workspace
    expect: Expect
    setup: Callable[[Workspace], None] | None = None
    api: Callable[[Workspace], Any] | None = None  # an API case: called in this process
    stdin: bytes | None = None
    outputs: tuple[str, ...] = ()  # workspace paths the command may create or change
    needs: frozenset[str] = frozenset()  # "run"/"bundle": the trained inputs; "tf"
    timeout: int = 300
    what: str = ""  # an API case's call, for the table
    # Issue 32's ways of running a command (each makes it run in its own process):
    pipe: bytes | None = None  # "{pipe}" in argv: a /dev/fd/N pipe holding these bytes
    head: int | None = None  # close its stdout after this many lines, as `| head -N` does
    terminate_after: str | None = None  # SIGTERM once this workspace path exists
    cleanup: Callable[[Workspace], None] | None = None  # after the run (a helper process)

    @property
    def own_process(self) -> bool:
        return self.pipe is not None or self.head is not None or self.terminate_after is not None

    @property
    def command(self) -> str:
        return "api" if self.argv is None else self.argv[0]

    @property
    def fast(self) -> bool:
        """Runs without TensorFlow and without the trained run or bundle."""
        return not self.needs and self.command not in TF_COMMANDS

    def shown(self) -> str:
        if self.argv is None:
            return self.what or self.name
        argv = [a.replace("{pipe}", "<(printf ...)") for a in self.argv]
        tiny = all(a in argv for a in TINY)
        if tiny:
            for flag, value in zip(TINY[::2], TINY[1::2]):
                i = argv.index(flag)
                if i + 1 < len(argv) and argv[i + 1] == value:
                    del argv[i : i + 2]
        parts = []
        for a in argv:
            a = a if a.isascii() and a.isprintable() else ascii(a)
            parts.append(a if len(a) <= 40 else a[:20] + "…")
        text = "albert-tf " + " ".join(parts) + (" [tiny]" if tiny else "")
        text += f" | head -{self.head}" if self.head is not None else ""
        text += " (SIGTERM mid-training)" if self.terminate_after else ""
        return text + (" < stdin" if self.stdin is not None else "")


@dataclass
class Result:
    code: int | None = None
    stdout: str = ""
    stderr: str = ""
    exception: tuple[str, str] | None = None  # API: (type name, message)
    exception_type: type | None = None
    returned: str | None = None  # API: repr of what a call returned instead
    seconds: float = 0.0
    crashed: str | None = None


@dataclass
class Outcome:
    case: Case
    result: Result
    problems: list[str] = field(default_factory=list)
    workspace: str = ""

    @property
    def ok(self) -> bool:
        return not self.problems

    def got(self) -> str:
        r = self.result
        if r.crashed:
            text = r.crashed
        elif self.case.argv is None:
            if r.exception:
                text = f"{r.exception[0]}: {r.exception[1]}"
            else:
                text = f"returned {r.returned}"
        else:
            lines = [line for line in r.stderr.splitlines() if line.strip()]
            if "Traceback" in r.stderr:
                last = lines[-1] if lines else ""
                text = f"exit {r.code}: traceback ({last})"
            elif r.code != 0 and lines:
                text = f"exit {r.code}: {lines[-1]}" + (
                    f" (+{len(lines) - 1} lines)" if len(lines) > 1 else ""
                )
            else:
                text = f"exit {r.code}"
        if self.workspace:
            text = text.replace(self.workspace + os.sep, "")
        text = _one_line(text, 170)
        if self.problems:
            text += " — " + "; ".join(_one_line(p, 120) for p in self.problems)
        return text


def _one_line(text: str, width: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= width else text[: width - 1] + "…"


# ------------------------------------------------------------------- workspaces
class Inputs:
    """What cases start from, made once per sweep (lazily: a subset may need none)."""

    def __init__(self, root: str):
        self.root = root
        self._made: dict[str, Any] = {}

    def _once(self, key: str, make: Callable[[], Any]) -> Any:
        if key not in self._made:
            self._made[key] = make()
        return self._made[key]

    def rows(self, n: int = 60) -> list[tuple[str, str]]:
        """n labelled movie reviews (both labels), short enough to train on in seconds."""

        def make():
            from tests.export_helpers import movie_reviews

            (texts, labels), _ = movie_reviews(n_train=400, n_test=1)
            return list(zip(texts, labels))

        return self._once("rows", make)[:n]

    def run(self) -> str:
        """A tiny trained run folder, made as tests/test_cli_workflow.py makes one."""

        def make():
            from tests.test_cli_workflow import cli, write_reviews_csv

            data, run_dir = os.path.join(self.root, "reviews.csv"), os.path.join(self.root, "run")
            write_reviews_csv(data)
            code, out = cli([
                "train", "--data", data, "--text-column", "review", "--label-column",
                "sentiment", "--preset", "tiny", "--epochs", "1", "--max-length", "32",
                "--vocab-size", "500", "--out", run_dir,
            ])  # fmt: skip
            if code != 0:
                raise RuntimeError(f"training the sweep's run failed: {out[-2000:]}")
            return run_dir

        return self._once("run", make)

    def bundle(self) -> str:
        def make():
            from tests.test_cli_workflow import cli

            bundle = os.path.join(self.root, "bundle")
            code, out = cli(["export", self.run(), "--out", bundle])
            if code != 0:
                raise RuntimeError(f"exporting the sweep's bundle failed: {out[-2000:]}")
            return bundle

        return self._once("bundle", make)

    def old_run(self) -> str:
        """`run()` in the layout of runs trained before the TextClassifier (model.keras an
        AlbertClassifier, spiece.model and labels.txt beside it): such folders still load."""

        def make():
            from pathlib import Path

            from albert_tf.models import AlbertClassifier
            from albert_tf.training.run_folder import load_run
            from tests.old_runs import save_old_run

            run = load_run(self.run())
            clf = run.model
            old = AlbertClassifier(clf.backbone, clf.num_labels, problem_type=clf.problem_type)
            old.logits_layer.set_weights(clf.logits_layer.get_weights())
            folder = Path(self.root, "old_run")
            folder.mkdir()
            keep = ("task", "max_length", "data", "settings", "metrics")
            save_old_run(folder, old, run.tokenizer, run.labels, {k: run.info[k] for k in keep})
            return str(folder)

        return self._once("old_run", make)

    def stub_bundle(self) -> str:
        """A bundle whose manifest, labels and tokenizer are right but whose model.tflite
        is not a model: what fails before the model runs, made with no TensorFlow."""

        def make():
            folder = os.path.join(self.root, "stub_bundle")
            os.makedirs(folder)
            shutil.copy(TINY_SPIECE, os.path.join(folder, "spiece.model"))
            write_file(os.path.join(folder, "labels.txt"), "negative\npositive\n")
            write_file(os.path.join(folder, "model.tflite"), random_bytes(4096, seed=3))
            manifest = {
                "format": "albert-tf-bundle/1",
                "task": "single_label",
                "labels": LABELS,
                "max_length": 16,
                "dynamic_length": False,
                "quantization": "dynamic",
                "tokenizer": {"kind": "sentencepiece", "file": "spiece.model", "lower_case": True},
            }
            write_manifest(folder, manifest)
            return folder

        return self._once("stub_bundle", make)


class Workspace:
    """A case's own folder: the user's files and the command's cwd."""

    def __init__(self, path: str, inputs: Inputs):
        self.path = path
        self.inputs = inputs

    def p(self, rel: str) -> str:
        return os.path.join(self.path, rel)

    def write(self, rel: str, data: str | bytes) -> str:
        return write_file(self.p(rel), data)

    def read(self, rel: str) -> bytes:
        with open(self.p(rel), "rb") as f:
            return f.read()

    def exists(self, rel: str) -> bool:
        return os.path.lexists(self.p(rel))

    def copy_tree(self, src: str, rel: str) -> str:
        shutil.copytree(src, self.p(rel), symlinks=True)
        return self.p(rel)

    def run(self, rel: str = "run") -> str:
        return self.copy_tree(self.inputs.run(), rel)

    def old_run(self, rel: str = "run") -> str:
        return self.copy_tree(self.inputs.old_run(), rel)

    def bundle(self, rel: str = "bundle") -> str:
        return self.copy_tree(self.inputs.bundle(), rel)

    def stub_bundle(self, rel: str = "bundle") -> str:
        return self.copy_tree(self.inputs.stub_bundle(), rel)

    def json(self, rel: str) -> Any:
        return json.loads(self.read(rel).decode("utf-8"))


def write_file(path: str, data: str | bytes) -> str:
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def random_bytes(n: int, seed: int = 0) -> bytes:
    return random.Random(seed).randbytes(n)


def sha256(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def write_manifest(folder: str, manifest: dict) -> None:
    """manifest.json with each file's sha256 as it is now (a consistent bundle)."""
    manifest = dict(manifest)
    manifest["files"] = {
        name: {"sha256": sha256(os.path.join(folder, name))}
        for name in ("model.tflite", "labels.txt", "spiece.model", "vocab.txt")
        if os.path.exists(os.path.join(folder, name))
    }
    write_file(os.path.join(folder, "manifest.json"), json.dumps(manifest, indent=2))


def table_bytes(header, rows, delimiter=",", newline="\n", quoting=csv.QUOTE_MINIMAL) -> bytes:
    out = io.StringIO()
    writer = csv.writer(
        out, delimiter=delimiter, lineterminator=newline, quoting=quoting, escapechar="\\"
    )
    if header:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def data_csv(ws: Workspace, rel: str = "data.csv", n: int = 60, **kw) -> str:
    return ws.write(rel, table_bytes(("text", "label"), ws.inputs.rows(n), **kw))


def lines_with(ws: Workspace, n: int, changes: dict[int, bytes], header: bytes) -> bytes:
    """A CSV of n reviews whose file line i (1-based; line 1 is the header) is changes[i]."""
    body = table_bytes(None, ws.inputs.rows(n)).split(b"\n")
    lines = [header, *body[:-1]]
    for number, raw in changes.items():
        lines[number - 1] = raw
    return b"\n".join(lines) + b"\n"


def snapshot(root: str) -> dict[str, str]:
    """Every path under root (relative) -> its sha256, "<dir>", "<link>" or "<special>"
    (a named pipe: opening it to hash it would hang)."""
    out = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, root)
            if os.path.islink(path):
                out[rel] = "<link>"
            elif os.path.isdir(path):
                out[rel] = "<dir>"
            elif not stat.S_ISREG(os.lstat(path).st_mode):
                out[rel] = "<special>"
            else:
                out[rel] = sha256(path)
    return out


# ------------------------------------------------------------------ expectations
def _file_check(rel: str, want: Callable[[Workspace], bool], what: str):
    def check(ws: Workspace, result: Result) -> str | None:
        try:
            if want(ws):
                return None
        except (OSError, ValueError, KeyError, TypeError):
            pass
        return f"{rel}: {what}"

    return check


def trained(labels=LABELS, also: Callable[[Workspace, Result], str | None] | None = None):
    """A finished run in out/: run.json with test metrics, and the label names the
    model.keras file's preprocessor holds as expected."""

    def check(ws: Workspace, result: Result) -> str | None:
        if not ws.exists("out/run.json"):
            return "no out/run.json"
        info = ws.json("out/run.json")
        if not info.get("metrics", {}).get("test"):
            return "out/run.json has no test metrics"
        with zipfile.ZipFile(ws.p("out/model.keras")) as archive:
            config = json.loads(archive.read("config.json"))
        got = config["config"]["preprocessor"]["config"]["label_names"]
        if got != list(labels):
            return f"out/model.keras holds the labels {got!r}, expected {list(labels)!r}"
        return also(ws, result) if also else None

    return check


def json_lines(n: int, want: Callable[[dict], bool] | None = None, what: str = ""):
    def check(ws: Workspace, result: Result) -> str | None:
        try:
            lines = [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
        except ValueError:
            return "stdout is not JSON lines"
        if len(lines) != n:
            return f"{len(lines)} JSON lines on stdout, expected {n}"
        if want and not all(want(line) for line in lines):
            return what or "unexpected JSON line"
        return None

    return check


def refused(*says: str, **kw) -> Expect:
    return Expect(code=2, says=says, **kw)


def works(check=None, note: str = "") -> Expect:
    return Expect(code=0, check=check, note=note)


def raises(*types: str, says: tuple[str, ...] = ()) -> Expect:
    return Expect(code=-1, raises=types, says=says)


# --------------------------------------------------------------------- the cases
def train(*flags: str, data: str = "data.csv", tiny: bool = True) -> list[str]:
    return ["train", "--data", data, *flags, "--out", "out", *(TINY if tiny else ())]


def _train_cases() -> list[Case]:
    header = b"text,label"

    def one_class(ws):
        ws.write("data.csv", table_bytes(("text", "label"), [(t, "positive") for t, _ in
                                                             ws.inputs.rows(30)]))  # fmt: skip

    def duplicate_columns(ws):
        rows = [(t, t[:10], label) for t, label in ws.inputs.rows(30)]
        ws.write("data.csv", table_bytes(("text", "text", "label"), rows))

    def empty_cells(ws):
        rows = ws.inputs.rows(60)
        rows[4], rows[10], rows[20] = ("", "positive"), ("  ", "negative"), ("", "positive")
        ws.write("data.csv", table_bytes(("text", "label"), rows))

    def non_utf8(ws):
        ws.write("data.csv", lines_with(ws, 60, {7: "caf\xe9 society,positive".encode("latin-1")},
                                        header))  # fmt: skip

    def bom(ws):
        ws.write("data.csv", b"\xef\xbb\xbf" + table_bytes(("text", "label"), ws.inputs.rows(60)))

    def crlf(ws):
        data_csv(ws, newline="\r\n")

    def huge_text(ws):
        rows = ws.inputs.rows(60)
        word = "a long, long review of a film that never ends "
        rows[3] = ((word * (10_000_000 // len(word) + 1))[:10_000_000], rows[3][1])
        ws.write("data.csv", table_bytes(("text", "label"), rows))

    def tsv_quotes(ws):
        rows = [(f'{t} "the best" film, 6" tall', label) for t, label in ws.inputs.rows(60)]
        rows[5] = ('"an opening quote that never closes', rows[5][1])
        body = "".join(f"{t}\t{label}\n" for t, label in rows)
        ws.write("data.tsv", "text\tlabel\n" + body)

    def jsonl(ws, changes: dict[int, str]):
        lines = [json.dumps({"text": t, "label": label}) for t, label in ws.inputs.rows(40)]
        for number, line in changes.items():
            lines[number - 1] = line
        ws.write("data.jsonl", "\n".join(lines) + "\n")

    def stray_quote(ws):
        ws.write("data.csv", lines_with(ws, 40, {4: b'"a quote that never closes,positive'},
                                        header))  # fmt: skip

    def extra_field(ws):
        ws.write("data.csv", lines_with(ws, 40, {6: b"good, really good,positive"}, header))

    def label_newline(ws):
        rows = ws.inputs.rows(40)
        rows[2] = (rows[2][0], "posi\ntive")
        ws.write("data.csv", table_bytes(("text", "label"), rows))

    def empty_label(ws):
        ws.write("data.csv", lines_with(ws, 40, {5: b"a fine film,"}, header))

    def foreign_out(ws):
        data_csv(ws)
        ws.write("out/notes.txt", "my notes")
        ws.write("out/photo.jpg", random_bytes(300, seed=5))

    def unfinished_other_inputs(ws):
        data_csv(ws)
        old = {"files": {"data": {"name": "data.csv", "sha256": "0" * 64}}, "settings": {}}
        ws.write("out/inputs.json", json.dumps(old))
        ws.write("out/backup/state.txt", "resume state of another run")

    def finished(ws):
        data_csv(ws)
        ws.run("out")

    def validation_unknown(ws):
        data_csv(ws)
        ws.write("val.csv", "text,label\nfine,positive\nmeh,neutral\n")

    return [
        Case("train_empty_file", train(), refused("data.csv", "empty"),
             lambda ws: ws.write("data.csv", b"")),
        Case("train_header_only", train(), refused("data.csv", "no data rows"),
             lambda ws: ws.write("data.csv", "text,label\n")),
        Case("train_one_class", train(), refused("data.csv", "two labels"), one_class),
        Case("train_duplicate_column_names", train(),
             refused("line 1", "data.csv", "'text' appears 2 times"), duplicate_columns),
        Case("train_missing_label_column", train(),
             refused("data.csv", "label column 'label'", "'sentiment'"),
             lambda ws: ws.write("data.csv", "text,sentiment\nfine,pos\nbad,neg\n")),
        Case("train_unknown_label_column", train("--label-column", "stars"),
             refused("data.csv", "'stars'"), data_csv),
        Case("train_empty_text_cells", train(),
             works(trained(also=lambda ws, r: None if "skipped 3 rows" in r.stdout + r.stderr
                           else "no note of the 3 skipped rows"),
                   "rows with empty text skipped and counted"),
             empty_cells, outputs=("out",)),
        Case("train_every_text_empty", train(), refused("data.csv", "empty text"),
             lambda ws: ws.write("data.csv", "text,label\n,positive\n  ,negative\n")),
        Case("train_empty_label_cell", train(), refused("line 5", "data.csv", "label is empty"),
             empty_label),
        Case("train_non_utf8_bytes", train(), refused("data.csv", "line 7", "UTF-8"), non_utf8),
        Case("train_non_utf8_replace", train("--encoding-errors", "replace"),
             works(trained(), "trained with U+FFFD"), non_utf8, outputs=("out",)),
        Case("train_utf8_bom", train(), works(trained(), "header read without the BOM"), bom,
             outputs=("out",)),
        Case("train_crlf_line_ends", train(), works(trained(), "labels without \\r"), crlf,
             outputs=("out",)),
        Case("train_huge_single_text_10mb", train(),
             works(trained(), "trained; the long text truncated"), huge_text, outputs=("out",),
             timeout=600),
        Case("train_binary_garbage_csv", train(), refused("data.csv"),
             lambda ws: ws.write("data.csv", random_bytes(4096, seed=1))),
        Case("train_binary_garbage_jsonl", train(data="data.jsonl"), refused("data.jsonl"),
             lambda ws: ws.write("data.jsonl", random_bytes(4096, seed=2))),
        Case("train_jsonl_bad_line", train(data="data.jsonl"),
             refused("line 3", "data.jsonl", "not valid JSON"),
             lambda ws: jsonl(ws, {3: '{"text": "a fine film", "label": '})),
        Case("train_jsonl_line_not_object", train(data="data.jsonl"),
             refused("line 2", "data.jsonl", "list"),
             lambda ws: jsonl(ws, {2: '["a fine film", "positive"]'})),
        Case("train_jsonl_text_is_number", train(data="data.jsonl"),
             refused("line 4", "data.jsonl", "'text'"),
             lambda ws: jsonl(ws, {4: '{"text": 5, "label": "positive"}'})),
        Case("train_tsv_with_quotes", train(data="data.tsv"),
             works(trained(), "quotes kept as text"), tsv_quotes, outputs=("out",)),
        Case("train_csv_stray_quote", train(), refused("data.csv", "line 4"), stray_quote),
        Case("train_csv_extra_field", train(), refused("line 6", "data.csv", "3 fields"),
             extra_field),
        Case("train_label_with_newline", train(), refused("data.csv", "line 4"), label_newline),
        Case("train_unknown_extension", train(data="data.xlsx"),
             refused("data.xlsx", "file type"),
             lambda ws: ws.write("data.xlsx", b"PK\x03\x04" + random_bytes(200))),
        Case("train_data_is_a_folder", train(data="exports"), refused("exports", "is a folder"),
             lambda ws: ws.write("exports/part-0.csv", "text,label\nfine,pos\n")),
        Case("train_data_missing", train(data="nope.csv"), refused("nope.csv", "not found")),
        Case("train_out_is_existing_file", train(), refused("out", "existing file"),
             lambda ws: (data_csv(ws), ws.write("out", "mine"))),
        Case("train_out_non_empty_non_run", train(), refused("out", "not empty"), foreign_out),
        Case("train_resume_onto_other_data", train(), refused("out", "other inputs", "data"),
             unfinished_other_inputs),
        Case("train_rerun_finished_run", train(), refused("out", "finished run", "--overwrite"),
             finished, needs=frozenset({"run"})),
        Case("train_scratch_with_teacher", train("--teacher", "teacher_dir"),
             refused("--teacher", "distill"), data_csv),
        Case("train_distill_with_preset",
             train("--recipe", "distill", "--preset", "tiny", tiny=False),
             refused("--preset", "scratch"), data_csv),
        Case("train_finetune_without_pretrained", train("--recipe", "finetune", tiny=False),
             refused("--pretrained"), data_csv),
        Case("train_pairs_without_pair_column", train("--task", "pairs"),
             refused("--pair-column"), data_csv),
        Case("train_negative_epochs", [*train(), "--epochs", "-1"], refused("--epochs"),
             data_csv),
        Case("train_zero_batch_size", [*train(), "--batch-size", "0"], refused("--batch-size"),
             data_csv),
        Case("train_max_length_2", [*train(), "--max-length", "2"], refused("--max-length"),
             data_csv),
        Case("train_vocab_too_big_for_data", [*train(), "--vocab-size", "50000"],
             refused(("--vocab-size", "Vocabulary size"), "50000"), data_csv),
        Case("train_validation_unknown_label", train("--validation", "val.csv"),
             refused("val.csv", "line 3", "'neutral'"), validation_unknown),
        Case("train_regression_text_labels", train("--task", "regression"),
             refused("data.csv", "line 2"), data_csv),
        Case("train_unknown_dataset", ["train", "--dataset", "imdbx", "--out", "out", *TINY],
             refused("imdbx")),
        Case("train_tokenizer_garbage", train("--tokenizer", "garbage.model"),
             refused("garbage.model"),
             lambda ws: (data_csv(ws), ws.write("garbage.model", random_bytes(500)))),
    ]  # fmt: skip


def _evaluate_cases() -> list[Case]:
    need = frozenset({"run"})

    def evaluate(*flags: str, run: str = "run", data: str = "test.csv") -> list[str]:
        return ["evaluate", run, "--data", data, *flags]

    def test_csv(ws, rel="test.csv", n=20):
        return data_csv(ws, rel, n=n)

    def with_run(change: Callable[[Workspace], Any], old: bool = False):
        def setup(ws):
            ws.old_run() if old else ws.run()
            test_csv(ws)
            change(ws)

        return setup

    def run_json(value):
        return with_run(lambda ws: ws.write("run/run.json", value))

    def edit_run_json(**fields):
        def change(ws):
            info = ws.json("run/run.json")
            info.update(fields)
            ws.write("run/run.json", json.dumps(info))

        return with_run(change)

    def truncate(rel):
        return with_run(lambda ws: ws.write(rel, ws.read(rel)[: len(ws.read(rel)) // 2]))

    def reorder_labels(ws):
        ws.write("run/labels.txt", "positive\nnegative\n")

    def unknown_label(ws):
        ws.write("test.csv", "text,label\nfine,positive\nbad,negative\nmeh,neutral\n")

    def bad_byte(ws):
        ws.write("test.csv", b"text,label\nfine,positive\ngood \xe9 film,positive\n")

    return [
        Case("evaluate_missing_run", evaluate(run="norun"), refused("norun", "not found"),
             lambda ws: test_csv(ws)),
        Case("evaluate_run_is_model_file", evaluate(run="run/model.keras"),
             refused("model.keras"), with_run(lambda ws: None), needs=need),
        Case("evaluate_run_json_invalid", evaluate(), refused("run.json"),
             run_json('{"task": "classify",'), needs=need),
        Case("evaluate_run_json_not_object", evaluate(), refused("run.json", "object"),
             run_json("[]"), needs=need),
        Case("evaluate_run_json_missing_fields", evaluate(), refused("run.json"),
             run_json('{"version": 2}'), needs=need),
        Case("evaluate_run_json_wrong_types", evaluate(), refused("run.json", "max_length"),
             edit_run_json(max_length="long"), needs=need),
        Case("evaluate_run_json_non_utf8", evaluate(), refused("run.json"),
             run_json(b'{"task": "\xff"}'), needs=need),
        Case("evaluate_model_truncated", evaluate(), refused("model.keras"),
             truncate("run/model.keras"), needs=need),
        Case("evaluate_model_random_bytes", evaluate(), refused("model.keras"),
             with_run(lambda ws: ws.write("run/model.keras", random_bytes(5000, seed=4))),
             needs=need),
        Case("evaluate_model_missing", evaluate(), refused("model.keras"),
             with_run(lambda ws: os.remove(ws.p("run/model.keras"))), needs=need),
        Case("evaluate_labels_reordered", evaluate(),
             refused("labels.txt", "changed after training"),
             with_run(reorder_labels, old=True), needs=need),
        Case("evaluate_spiece_garbage", evaluate(), refused("spiece.model"),
             with_run(lambda ws: ws.write("run/spiece.model", random_bytes(900, seed=6)),
                      old=True), needs=need),
        Case("evaluate_test_unknown_label", evaluate(),
             refused("test.csv", "line 4", "'neutral'"), with_run(unknown_label), needs=need),
        Case("evaluate_test_encoding_error", evaluate(), refused("test.csv", "line 3"),
             with_run(bad_byte), needs=need),
        Case("evaluate_test_encoding_replace", evaluate("--encoding-errors", "replace"),
             works(_file_check("run/eval_metrics.json", lambda ws: ws.exists(
                 "run/eval_metrics.json"), "not written"), "metrics written"),
             with_run(bad_byte), outputs=("run/eval_metrics.json",
                                          "run/eval_confusion_matrix.png"), needs=need),
        Case("evaluate_test_missing_column", evaluate(), refused("test.csv", "'text'"),
             with_run(lambda ws: ws.write("test.csv", "review,label\nfine,positive\n")),
             needs=need),
        Case("evaluate_test_empty", evaluate(), refused("test.csv", "empty"),
             with_run(lambda ws: ws.write("test.csv", "")), needs=need),
        Case("evaluate_out_is_file", evaluate("--out", "report.txt"),
             refused("report.txt", "existing file"),
             with_run(lambda ws: ws.write("report.txt", "mine")), needs=need),
    ]  # fmt: skip


# A process that holds a run folder's lock, as a running `albert-tf train` does.
HOLD_LOCK = (
    "import fcntl, os, sys, time\n"
    "fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT)\n"
    "fcntl.flock(fd, fcntl.LOCK_EX)\n"
    "os.write(fd, str(os.getpid()).encode())\n"
    "print('held', flush=True)\n"
    "time.sleep(900)\n"
)
LOCK = ".albert-tf.lock"


def _fingerprint(ws: Workspace, argv: list[str]) -> dict:
    """The inputs.json `albert-tf train argv` writes, computed as train does (in ws)."""
    from albert_tf.cli import build_parser
    from albert_tf.commands import train as command

    args = build_parser().parse_args(argv)
    recipe = command.choose_recipe(args)
    args = command._fill_defaults(args, recipe)
    cwd = os.getcwd()
    os.chdir(ws.path)
    try:
        return command._inputs(args, recipe)
    finally:
        os.chdir(cwd)


def _lock_held(ws: Workspace) -> None:
    """out/ held by a live process, as by a running `albert-tf train`."""
    data_csv(ws)
    os.makedirs(ws.p("out"))
    helper = subprocess.Popen([sys.executable, "-c", HOLD_LOCK, ws.p(f"out/{LOCK}")],
                              stdout=subprocess.PIPE)  # fmt: skip
    helper.stdout.readline()  # "held": the lock is taken
    ws.helper = helper


def _end_helper(ws: Workspace) -> None:
    ws.helper.kill()
    ws.helper.wait()
    ws.helper.stdout.close()


def _stale_lock(ws: Workspace) -> None:
    data_csv(ws)
    ws.write(f"out/{LOCK}", f"{_dead_pid()}\n")


def _issue32_folder_cases() -> list[Case]:
    """The second sweep (issue 32), the run folder: --overwrite beside the user's files, a
    second writer, a dead writer's lock, a corrupt backup, SIGTERM."""
    user_files = {"out/notes.txt": "my notes", "out/checkpoints/my_model.ckpt": "my weights",
                  "out/backup/old.tar": "my backup"}  # fmt: skip
    unfinished = [*train(), "--epochs", "2"]
    sigterm = [*train(), "--epochs", "200"]

    def users_folder(ws):
        data_csv(ws)
        for rel, text in user_files.items():
            ws.write(rel, text)

    def finished_plus_users(ws):
        data_csv(ws)
        ws.run("out")
        for rel, text in user_files.items():
            ws.write(rel, text)

    def users_files_kept(ws: Workspace, result: Result) -> str | None:
        for rel, text in user_files.items():
            if not ws.exists(rel) or ws.read(rel) != text.encode():
                return f"{rel} (the user's) was removed or changed"
        return trained()(ws, result)

    def lock_gone(ws: Workspace, result: Result) -> str | None:
        return f"out/{LOCK} was left" if ws.exists(f"out/{LOCK}") else trained()(ws, result)

    def corrupt_backup(ws):
        data_csv(ws)
        ws.write("out/inputs.json", json.dumps(_fingerprint(ws, unfinished)))
        ws.write("out/backup/latest.weights.h5", random_bytes(3000, seed=32))
        ws.write("out/backup/training_metadata.json", '{"epoch": 1, "batch": 0}')

    def corrupt_set_aside(ws: Workspace, result: Result) -> str | None:
        aside = [n for n in os.listdir(ws.p("out")) if n.startswith("backup.corrupt-")]
        if len(aside) != 1 or ws.read(f"out/{aside[0]}/latest.weights.h5") != random_bytes(
            3000, seed=32
        ):
            return "the corrupt backup was not set aside in out/backup.corrupt-*"
        if "backup/latest.weights.h5" not in result.stderr:
            return "stderr does not name the backup that did not load"
        return trained()(ws, result)

    def stopped(ws: Workspace, result: Result) -> str | None:
        missing = [r for r in ("out/backup/latest.weights.h5", "out/inputs.json",
                               "out/written.json") if not ws.exists(r)]  # fmt: skip
        if missing:
            return f"{', '.join(missing)} missing: nothing to resume from"
        return f"out/{LOCK} was left" if ws.exists(f"out/{LOCK}") else None

    return [
        Case("train_overwrite_folder_without_run", [*train(), "--overwrite"],
             refused("out", "holds no albert-tf run"), users_folder),
        Case("train_overwrite_keeps_users_files", [*train(), "--overwrite"],
             works(users_files_kept, "the run's files replaced, the user's kept"),
             finished_plus_users, outputs=("out",), needs=frozenset({"run"})),
        Case("train_second_writer_refused", train(), refused("out", "in use", "pid"), _lock_held,
             cleanup=_end_helper),
        Case("train_stale_lock_taken_over", train(),
             works(lock_gone, "a dead pid's lock taken over, gone at exit"), _stale_lock,
             outputs=("out",)),
        Case("train_corrupt_backup_set_aside", unfinished,
             works(corrupt_set_aside, "named, set aside, that epoch trained again"),
             corrupt_backup, outputs=("out",)),
        Case("train_sigterm_keeps_the_backup", sigterm,
             Expect(code=143, says=("out", "resume"), prefix="stopped by SIGTERM",
                    check=stopped, note="backup kept, temp files gone"),
             data_csv, outputs=("out",), terminate_after="out/backup/latest.weights.h5"),
    ]  # fmt: skip


def _issue32_file_cases() -> list[Case]:
    """The second sweep (issue 32), training inputs: not regular files, labels in case."""

    def labels_in_case(ws):
        rows = ws.inputs.rows(60)
        rows[5] = (rows[5][0], rows[5][1].capitalize())
        ws.write("data.csv", table_bytes(("text", "label"), rows))

    def labels_with_spaces(ws):
        rows = [(t, label + " " if i % 3 == 0 else label) for i, (t, label) in
                enumerate(ws.inputs.rows(60))]  # fmt: skip
        ws.write("data.csv", table_bytes(("text", "label"), rows))

    return [
        Case("train_data_symlink_to_dev_zero", train(data="zero.csv"),
             refused("zero.csv", "/dev/zero", "character device"),
             lambda ws: os.symlink("/dev/zero", ws.p("zero.csv"))),
        Case("train_data_dev_zero", train(data="/dev/zero"),
             refused("/dev/zero", "character device")),
        Case("train_data_fifo", train(data="fifo.csv"), refused("fifo.csv", "named pipe"),
             lambda ws: os.mkfifo(ws.p("fifo.csv"))),
        Case("train_labels_differ_in_case", train(),
             refused("line 7", "data.csv", "only in case", "'Negative'", "'negative'"),
             labels_in_case),
        Case("train_labels_trailing_space_merged", train(),
             works(trained(), "'positive ' read as 'positive'"), labels_with_spaces,
             outputs=("out",)),
    ]  # fmt: skip


def _issue32_predict_cases() -> list[Case]:
    """The second sweep (issue 32), predict: one output line per input line, pipes read,
    a closed stdout, /dev/zero, manifest fields checked against the bundle."""

    def one_per_line(ws: Workspace, result: Result) -> str | None:
        try:
            lines = [json.loads(line) for line in result.stdout.splitlines()]
        except ValueError:
            return "stdout is not JSON lines"
        blank = [i + 1 for i, line in enumerate(lines) if "error" in line]
        if len(lines) != 5 or blank != [2, 4] or [lines[i - 1]["line"] for i in blank] != [2, 4]:
            return f"{len(lines)} lines, error objects at {blank}; expected 5, at [2, 4]"
        return None

    def real_bundle(change=lambda ws: None):
        return lambda ws: (ws.bundle(), change(ws))

    def stub(change=lambda ws: None):
        return lambda ws: (ws.stub_bundle(), change(ws))

    def outside_file(ws):
        ws.write("outside.txt", "not the bundle's")
        info = ws.json("bundle/manifest.json")
        info["files"]["../outside.txt"] = {"sha256": sha256(ws.p("outside.txt"))}
        ws.write("bundle/manifest.json", json.dumps(info))

    def raise_max_length(ws):
        info = ws.json("bundle/manifest.json")
        info["max_length"] = 100000
        ws.write("bundle/manifest.json", json.dumps(info))

    def many_texts(ws):
        ws.write("big.txt", "".join(f"a fine film, take {i}\n" for i in range(3000)))

    real = frozenset({"bundle"})
    return [
        Case("predict_file_blank_lines_answered", predict_argv("--file", "texts.txt"),
             works(one_per_line, "5 lines for 5, error objects at lines 2 and 4"),
             real_bundle(lambda ws: ws.write("texts.txt", "a fine film\n\ndull\n  \nfun\n")),
             needs=real),
        Case("predict_file_only_blank_lines", predict_argv("--file", "texts.txt"),
             refused("texts.txt", "non-blank"),
             stub(lambda ws: ws.write("texts.txt", "\n  \n\n"))),
        Case("predict_stdout_closed_early", predict_argv("--file", "big.txt"),
             Expect(code=141, lines=0, note="quiet, as cat | head -1"),
             real_bundle(many_texts), needs=real, head=1),
        Case("predict_file_process_substitution", predict_argv("--file", "{pipe}"),
             works(json_lines(2), "both piped texts classified"), real_bundle(), needs=real,
             pipe=b"a fine film\ndull and long\n"),
        Case("predict_file_dev_zero", predict_argv("--file", "/dev/zero"),
             refused("line 1", "/dev/zero", "longer than"), stub()),
        Case("predict_manifest_file_outside_bundle", predict_argv("a fine film"),
             refused("manifest.json", "../outside.txt"), stub(outside_file)),
        Case("predict_manifest_max_length_raised", predict_argv("a fine film"),
             refused("manifest.json", "max_length", "100000"), real_bundle(raise_max_length),
             needs=real),
    ]  # fmt: skip


def predict_argv(*args: str) -> list[str]:
    return ["predict", "bundle", *args]


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _export_cases() -> list[Case]:
    need = frozenset({"run"})
    dead = f".tmp-bundle-{_dead_pid()}-killed"
    alive = f".tmp-bundle-{os.getpid()}-running"

    def export(*flags: str, run: str = "run", out: str = "bundle") -> list[str]:
        return ["export", run, "--out", out, *flags]

    def with_run(change: Callable[[Workspace], Any] = lambda ws: None, old: bool = False):
        def setup(ws):
            ws.old_run() if old else ws.run()
            change(ws)

        return setup

    def site(ws, extra=True):
        ws.write("site/manifest.json", '{"name": "my web app", "start_url": "/"}')
        if extra:
            ws.write("site/index.html", "<html>mine</html>")

    def three_labels(ws):
        ws.write("run/labels.txt", "negative\npositive\nneutral\n")
        info = ws.json("run/run.json")
        info["labels"] = ["negative", "positive", "neutral"]
        ws.write("run/run.json", json.dumps(info))

    def leftovers(ws):
        ws.write(f"{dead}/model.tflite", random_bytes(100))
        ws.write(f"{alive}/model.tflite", random_bytes(100))

    def replaced(ws: Workspace, result: Result) -> str | None:
        info = ws.json("bundle/manifest.json")
        if info.get("quantization") != "float16" or not info["verification"]["passed"]:
            return "bundle/manifest.json is not the new float16 export"
        return None

    def leftovers_cleaned(ws: Workspace, result: Result) -> str | None:
        if ws.exists(dead):
            return f"{dead} (a killed export's) was left"
        if not ws.exists(alive):
            return f"{alive} (a running export's) was removed"
        return None if ws.exists("bundle/manifest.json") else "no bundle written"

    return [
        Case("export_out_foreign_manifest_and_files", export(out="site"),
             refused("site", "index.html"), with_run(site), needs=need),
        Case("export_out_foreign_manifest_only", export(out="site"),
             refused("site", "not an albert-tf bundle"),
             with_run(lambda ws: site(ws, extra=False)), needs=need),
        Case("export_out_is_existing_file", export(out="model.tflite"),
             refused("model.tflite", "existing file"),
             with_run(lambda ws: ws.write("model.tflite", "mine")), needs=need),
        Case("export_replaces_an_older_bundle",
             export("--mode", "float16", "--no-mediapipe"),
             works(replaced, "old bundle replaced, nothing left over"),
             lambda ws: (ws.run(), ws.bundle()), outputs=("bundle",),
             needs=frozenset({"run", "bundle"})),
        Case("export_killed_export_leftovers", export("--no-mediapipe"),
             works(leftovers_cleaned, "a dead export's .tmp-bundle-* removed, a live one's kept"),
             with_run(leftovers), outputs=("bundle", dead), needs=need),
        Case("export_run_missing", export(run="norun"), refused("norun", "not found")),
        Case("export_run_model_truncated", export(), refused("model.keras"),
             with_run(lambda ws: ws.write("run/model.keras", ws.read("run/model.keras")[:9000])),
             needs=need),
        Case("export_old_run_no_labels", export(), refused("labels.txt"),
             with_run(lambda ws: os.remove(ws.p("run/labels.txt")), old=True), needs=need),
        Case("export_run_json_invalid", export(), refused("run.json"),
             with_run(lambda ws: ws.write("run/run.json", "{not json")), needs=need),
        Case("export_old_run_tokenizer_missing", export(), refused("spiece.model"),
             with_run(lambda ws: os.remove(ws.p("run/spiece.model")), old=True), needs=need),
        Case("export_old_run_labels_wrong_count", export(), refused("labels.txt", "3 labels"),
             with_run(three_labels, old=True), needs=need),
        Case("export_old_run_without_held_out_texts", export(), refused("held_out.json", "--texts"),
             with_run(old=True), needs=need),
        Case("export_unknown_mode", export("--mode", "int3"),
             refused("--mode", "int3", usage=True), with_run(), needs=need),
        Case("export_texts_unknown_label", export("--texts", "held.tsv"),
             refused("held.tsv", "line 2", "'neutral'"),
             with_run(lambda ws: ws.write("held.tsv", "positive\tfine\nneutral\tmeh\n")),
             needs=need),
        Case("export_texts_missing", export("--texts", "nope.csv"), refused("nope.csv"),
             with_run(), needs=need),
        Case("export_held_out_texts_gone", export(), refused("held_out.json", "--texts"),
             with_run(lambda ws: os.remove(ws.p("run/held_out.json"))), needs=need),
        Case("export_held_out_texts_garbage", export(), refused("held_out.json"),
             with_run(lambda ws: ws.write("run/held_out.json", "[1, 2")), needs=need),
        Case("export_max_length_zero", export("--max-length", "0"),
             refused(("--max-length", "max_length"), "0"), with_run(), needs=need),
        Case("export_max_length_too_long", export("--max-length", "100000"),
             refused(("--max-length", "max_length"), "100000"), with_run(), needs=need),
    ]  # fmt: skip


def _predict_cases() -> list[Case]:
    real = frozenset({"bundle"})

    def stub(change: Callable[[Workspace], Any] = lambda ws: None):
        def setup(ws):
            ws.stub_bundle()
            change(ws)

        return setup

    def real_bundle(change: Callable[[Workspace], Any] = lambda ws: None):
        def setup(ws):
            ws.bundle()
            change(ws)

        return setup

    def predict(*args: str) -> list[str]:
        return ["predict", "bundle", *args]

    def manifest(ws, text: str | bytes):
        ws.write("bundle/manifest.json", text)

    def edit_manifest(**fields):
        def change(ws):
            info = ws.json("bundle/manifest.json")
            info.update(fields)
            ws.write("bundle/manifest.json", json.dumps(info))

        return change

    def consistent(rel: str, data: str | bytes, **fields):
        """Change a bundle file and record its new sha256 (and fields) in the manifest."""

        def change(ws):
            ws.write(f"bundle/{rel}", data)
            info = ws.json("bundle/manifest.json")
            info.update(fields)
            write_manifest(ws.p("bundle"), info)

        return change

    def replaced(line: dict) -> bool:
        return "\ufffd" in line["text"] and line["label"] in LABELS

    return [
        Case("predict_missing_bundle", ["predict", "nobundle", "a fine film"],
             refused("nobundle", "not found")),
        Case("predict_bundle_is_a_file", ["predict", "bundle/model.tflite", "a fine film"],
             refused("model.tflite", "folder"), stub()),
        Case("predict_argv_invalid_utf8", predict("good \udcff film"),
             refused("text argument 1", "0xff"), stub()),
        Case("predict_argv_invalid_utf8_replace",
             predict("good \udcff film", "--encoding-errors", "replace"),
             works(json_lines(1, replaced, "no U+FFFD in the text"), "U+FFFD in place"),
             real_bundle(), needs=real),
        Case("predict_stdin_invalid_utf8", predict(), refused("line 2 of stdin"), stub(),
             stdin=b"a fine film\ngood \xe9 film\n"),
        Case("predict_file_invalid_utf8", predict("--file", "texts.txt"),
             refused("line 3", "texts.txt"),
             stub(lambda ws: ws.write("texts.txt", b"fine\ndull\n\xff\xfe odd\n"))),
        Case("predict_empty_text", predict(""), refused("text argument 1", "empty"), stub()),
        Case("predict_blank_stdin", predict(), refused("stdin"), stub(), stdin=b"\n  \n"),
        Case("predict_1mb_text_on_stdin", predict(),
             works(json_lines(1, lambda line: line["truncated"] is True, "not truncated"),
                   "one result, truncated: true"), real_bundle(), needs=real,
             stdin=("a fine film " * 90_000).encode() + b"\n"),
        Case("predict_corrupt_model_tflite", predict("a fine film"),
             refused("model.tflite", "TFLite"), stub()),
        Case("predict_model_changed_after_export", predict("a fine film"),
             refused("model.tflite", "sha256"),
             stub(lambda ws: ws.write("bundle/model.tflite", b"TFL3" + random_bytes(64)))),
        Case("predict_manifest_not_utf8", predict("a fine film"),
             refused("manifest.json", "UTF-8"), stub(lambda ws: manifest(ws, b'{"a": "\xff"}'))),
        Case("predict_manifest_invalid_json", predict("a fine film"),
             refused("manifest.json", "JSON"), stub(lambda ws: manifest(ws, '{"format": '))),
        Case("predict_manifest_missing_fields", predict("a fine film"),
             refused("manifest.json"),
             stub(lambda ws: manifest(ws, '{"format": "albert-tf-bundle/1"}'))),
        Case("predict_manifest_fields_wrong_type", predict("a fine film"),
             refused("manifest.json", "files"),
             stub(edit_manifest(files=["model.tflite"], labels="negative"))),
        Case("predict_manifest_unknown_tokenizer", predict("a fine film"),
             refused("manifest.json", "tokenizer"),
             stub(edit_manifest(tokenizer={"kind": "bpe", "file": "bpe.json"}))),
        Case("predict_manifest_missing", predict("a fine film"), refused("manifest.json"),
             stub(lambda ws: os.remove(ws.p("bundle/manifest.json")))),
        Case("predict_labels_wrong_count", predict("a fine film"),
             refused("labels.txt", "3 labels"),
             real_bundle(consistent("labels.txt", "negative\npositive\nneutral\n",
                                    labels=["negative", "positive", "neutral"])), needs=real),
        Case("predict_labels_edited", predict("a fine film"), refused("labels.txt"),
             stub(lambda ws: ws.write("bundle/labels.txt", "positive\nnegative\n"))),
        Case("predict_tokenizer_missing", predict("a fine film"), refused("spiece.model"),
             stub(lambda ws: os.remove(ws.p("bundle/spiece.model")))),
        Case("predict_tokenizer_garbage", predict("a fine film"), refused("spiece.model"),
             stub(consistent("spiece.model", random_bytes(700, seed=8)))),
        Case("predict_file_missing", predict("--file", "nope.txt"), refused("nope.txt"), stub()),
        Case("predict_batch_size_zero", predict("a fine film", "--batch-size", "0"),
             refused("--batch-size"), real_bundle(), needs=real),
        Case("predict_threads_negative", predict("a fine film", "--threads", "-3"),
             refused("--threads"), real_bundle(), needs=real),
        Case("predict_texts_after_a_flag", predict("--threads", "1", "a fine film", "dull"),
             works(json_lines(2), "both texts classified"), real_bundle(), needs=real),
        Case("bench_missing_bundle", ["bench", "nobundle"], refused("nobundle")),
        Case("bench_runs_zero", ["bench", "bundle", "--runs", "0"], refused("--runs"),
             real_bundle(), needs=real),
        Case("bench_file_not_utf8", ["bench", "bundle", "--file", "texts.txt"],
             refused("line 2", "texts.txt"),
             stub(lambda ws: ws.write("texts.txt", b"fine\n\xff\n"))),
    ]  # fmt: skip


class _Exploit:
    """Unpickling this creates a file: the snapshot check sees it."""

    def __init__(self, marker: str):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def _convert_cases() -> list[Case]:
    def convert(source: str = "ckpt", output: str = "out", *flags: str) -> list[str]:
        return ["convert", source, output, *flags]

    def hf(change: Callable[[Workspace], Any] = lambda ws: None):
        def setup(ws):
            ws.copy_tree(HF_FIXTURE, "ckpt")
            change(ws)

        return setup

    def pickle_only(ws):
        os.remove(ws.p("ckpt/model.safetensors"))
        with open(ws.p("ckpt/pytorch_model.bin"), "wb") as f:
            pickle.dump(_Exploit(ws.p("UNPICKLED")), f)

    def lambda_model(ws):
        import keras

        marker = ws.p("LAMBDA_RAN")
        fn = eval(f"lambda x: (__import__('pathlib').Path({marker!r}).touch(), x * 2)[1]")
        inputs = keras.Input((4,))
        model = keras.Model(inputs, keras.layers.Lambda(fn)(inputs))
        os.makedirs(ws.p("ckpt"))
        model.save(ws.p("ckpt/model.keras"))
        if os.path.exists(marker):
            os.remove(marker)  # saving ran it; loading must not

    def google_garbage(ws):
        ws.write("ckpt/albert_config.json", ws.read("ckpt/config.json"))
        os.remove(ws.p("ckpt/config.json"))
        os.remove(ws.p("ckpt/model.safetensors"))
        ws.write("ckpt/model.ckpt-100.index", random_bytes(300, seed=10))
        ws.write("ckpt/model.ckpt-100.data-00000-of-00001", random_bytes(300, seed=11))

    def keras_hub_garbage(ws):
        os.remove(ws.p("ckpt/model.safetensors"))
        ws.write("ckpt/model.weights.h5", random_bytes(800, seed=12))

    def truncate(ws):
        raw = ws.read("ckpt/model.safetensors")
        ws.write("ckpt/model.safetensors", raw[: len(raw) // 2])

    return [
        Case("convert_random_bytes_file", convert("checkpoint.bin"), refused("checkpoint.bin"),
             lambda ws: ws.write("checkpoint.bin", random_bytes(2000, seed=9))),
        Case("convert_random_bytes_safetensors", convert(), refused("model.safetensors"),
             hf(lambda ws: ws.write("ckpt/model.safetensors", random_bytes(3000, seed=13)))),
        Case("convert_truncated_safetensors", convert(), refused("model.safetensors"),
             hf(truncate)),
        Case("convert_pickle_bin_refused_unread", convert(),
             refused("pytorch_model.bin", "safetensors"), hf(pickle_only)),
        Case("convert_keras_lambda_layer", convert(), refused("model.keras"), lambda_model,
             needs=frozenset({"tf"})),
        Case("convert_unknown_to", [*convert(), "--to", "onnx"],
             refused("--to", "onnx", usage=True), hf()),
        Case("convert_output_not_empty", convert(output="mine"), refused("mine"),
             hf(lambda ws: ws.write("mine/notes.txt", "my notes"))),
        Case("convert_output_is_a_file", convert(output="out.txt"),
             refused("out.txt", "existing file"),
             hf(lambda ws: ws.write("out.txt", "mine"))),
        Case("convert_config_invalid_json", convert(), refused("config.json"),
             hf(lambda ws: ws.write("ckpt/config.json", '{"model_type": "albert",'))),
        Case("convert_missing_source", convert("nosuch"), refused("nosuch")),
        Case("convert_google_checkpoint_garbage", convert(), refused("model.ckpt-100"),
             hf(google_garbage)),
        Case("convert_keras_hub_weights_garbage", convert(), refused("model.weights.h5"),
             hf(keras_hub_garbage)),
        Case("convert_unknown_packaged_model", convert("packaged:nosuch"), refused("nosuch")),
    ]  # fmt: skip


def _api_cases() -> list[Case]:
    def albert_tokenizer(ws):
        from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

        return AlbertTokenizer.load(TINY_SPIECE)

    def wordpiece(ws):
        from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

        words = ["a", "fine", "film", "dull", "##s"]
        return WordPieceTokenizer(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words])

    def classifier(ws):
        from export.runtime import Classifier

        return Classifier(ws.p("bundle"))

    def call(make, *args, **kwargs):
        return lambda ws: make(ws)(*args, **kwargs)

    def method(make, name, *args):
        return lambda ws: getattr(make(ws), name)(*args)

    def load_spiece(ws):
        from albert_tf.tokenizers.sentencepiece import AlbertTokenizer

        return AlbertTokenizer.load(ws.p("garbage.model"))

    def load_vocab(ws):
        from albert_tf.tokenizers.wordpiece import WordPieceTokenizer

        return WordPieceTokenizer.load(ws.p("vocab.txt"))

    def load_run_on(rel):
        def api(ws):
            from albert_tf.training.run_folder import load_run

            return load_run(ws.p(rel))

        return api

    def classifier_on(rel):
        def api(ws):
            from export.runtime import Classifier

            return Classifier(ws.p(rel))

        return api

    def garbage_folder(ws):
        for i in range(3):
            ws.write(f"junk/file{i}.bin", random_bytes(200, seed=i))
        ws.write("junk/manifest.json", random_bytes(200, seed=20))

    def read_table(ws):
        from albert_tf.data.readers import read_table

        return read_table(ws.p("data.csv"))

    def open_checkpoint(ws):
        from albert_tf.convert import open_checkpoint

        return open_checkpoint(ws.p("ckpt"))

    def real_bundle(ws):
        ws.bundle()

    real = frozenset({"bundle"})
    type_error, value_error = ("TypeError",), ("ValueError",)
    bundle_error = "export.runtime:BundleError"
    run_error = "albert_tf.training.run_folder:RunFolderError"
    return [
        Case("api_albert_tokenizer_none", None, what='AlbertTokenizer(None)', expect= raises(*type_error, says=("NoneType",)),
             api=call(albert_tokenizer, None)),
        Case("api_albert_tokenizer_bytes", None, what="AlbertTokenizer(b'a fine film')", expect= raises(*type_error, says=("bytes",)),
             api=call(albert_tokenizer, b"a fine film")),
        Case("api_albert_tokenizer_int", None, what='AlbertTokenizer(5)', expect= raises(*type_error, says=("int",)),
             api=call(albert_tokenizer, 5)),
        Case("api_albert_tokenizer_list_with_none", None, what="AlbertTokenizer(['a fine film', None])", expect= raises(*type_error, says=("[1]",)),
             api=call(albert_tokenizer, ["a fine film", None])),
        Case("api_albert_tokenizer_max_length_0", None, what="AlbertTokenizer('…', max_length=0)", expect= raises(*value_error, says=("max_length",)),
             api=call(albert_tokenizer, "a fine film", max_length=0)),
        Case("api_albert_tokenizer_max_length_negative", None, what="AlbertTokenizer('…', max_length=-1)", expect=
             raises(*value_error, says=("max_length",)),
             api=call(albert_tokenizer, "a fine film", max_length=-1)),
        Case("api_albert_tokenizer_encode_bytes", None, what="AlbertTokenizer.encode(b'a fine film')", expect= raises(*type_error, says=("bytes",)),
             api=method(albert_tokenizer, "encode", b"a fine film")),
        Case("api_albert_tokenizer_load_garbage", None, what="AlbertTokenizer.load('garbage.model')", expect=
             raises(*value_error, says=("garbage.model",)), api=load_spiece,
             setup=lambda ws: ws.write("garbage.model", random_bytes(600, seed=14))),
        Case("api_wordpiece_none", None, what='WordPieceTokenizer(None)', expect= raises(*type_error, says=("NoneType",)),
             api=call(wordpiece, None)),
        Case("api_wordpiece_bytes", None, what="WordPieceTokenizer(b'a fine film')", expect= raises(*type_error, says=("bytes",)),
             api=call(wordpiece, b"a fine film")),
        Case("api_wordpiece_int", None, what='WordPieceTokenizer(5)', expect= raises(*type_error, says=("int",)),
             api=call(wordpiece, 5)),
        Case("api_wordpiece_max_length_0", None, what="WordPieceTokenizer('…', max_length=0)", expect= raises(*value_error, says=("max_length",)),
             api=call(wordpiece, "a fine film", max_length=0)),
        Case("api_wordpiece_max_length_negative", None, what="WordPieceTokenizer('…', max_length=-1)", expect=
             raises(*value_error, says=("max_length",)),
             api=call(wordpiece, "a fine film", max_length=-1)),
        Case("api_wordpiece_load_non_utf8", None, what="WordPieceTokenizer.load('vocab.txt'), not UTF-8", expect= raises(*value_error, says=("vocab.txt",)),
             api=load_vocab, setup=lambda ws: ws.write("vocab.txt", b"[PAD]\n[UNK]\n\xff\xfe\n")),
        Case("api_load_run_on_a_file", None, what="load_run('model.keras')", expect= raises(run_error, says=("model.keras",)),
             api=load_run_on("model.keras"), setup=lambda ws: ws.write("model.keras", b"PK")),
        Case("api_load_run_on_garbage_folder", None, what="load_run('junk/')", expect= raises(run_error, says=("junk",)),
             api=load_run_on("junk"), setup=garbage_folder),
        Case("api_classifier_on_garbage_folder", None, what="Classifier('junk/')", expect=
             raises(bundle_error, "FileNotFoundError", says=("manifest.json",)),
             api=classifier_on("junk"), setup=garbage_folder),
        Case("api_classifier_on_a_file", None, what="Classifier('model.tflite')", expect=
             raises(bundle_error, "FileNotFoundError", says=("model.tflite",)),
             api=classifier_on("model.tflite"),
             setup=lambda ws: ws.write("model.tflite", b"TFL3")),
        Case("api_classifier_predict_none", None, what='Classifier(bundle).predict([None])', expect= raises(*type_error, says=("NoneType",)),
             api=method(classifier, "predict", [None]), setup=real_bundle, needs=real),
        Case("api_classifier_predict_bytes", None, what="Classifier(bundle).predict(b'a fine film')", expect= raises(*type_error, says=("bytes",)),
             api=method(classifier, "predict", b"a fine film"), setup=real_bundle, needs=real),
        Case("api_classifier_predict_ints", None, what='Classifier(bundle).predict_proba([1, 2])', expect= raises(*type_error, says=("int",)),
             api=method(classifier, "predict_proba", [1, 2]), setup=real_bundle, needs=real),
        Case("api_read_table_binary_garbage", None, what="read_table('data.csv'), random bytes", expect=
             raises("albert_tf.data.readers:DataError", says=("data.csv",)), api=read_table,
             setup=lambda ws: ws.write("data.csv", random_bytes(3000, seed=15))),
        Case("api_open_checkpoint_garbage", None, what="open_checkpoint('ckpt/'), random safetensors", expect=
             raises("albert_tf.convert.errors:CheckpointError", says=("model.safetensors",)),
             api=open_checkpoint, needs=frozenset({"tf"}),
             setup=lambda ws: (ws.copy_tree(HF_FIXTURE, "ckpt"),
                               ws.write("ckpt/model.safetensors", random_bytes(100)))),
    ]  # fmt: skip


def all_cases() -> list[Case]:
    cases = [
        *_train_cases(),
        *_evaluate_cases(),
        *_export_cases(),
        *_predict_cases(),
        *_convert_cases(),
        *_api_cases(),
        *_issue32_folder_cases(),
        *_issue32_file_cases(),
        *_issue32_predict_cases(),
    ]
    names = [c.name for c in cases]
    assert len(names) == len(set(names)), "case names must be unique"
    return cases


# -------------------------------------------------------------------- judging
def _resolve(name: str) -> type:
    module, _, cls = name.rpartition(":")
    if not module:
        return getattr(builtins, cls)
    return getattr(importlib.import_module(module), cls)


def judge(case: Case, ws: Workspace, before: dict, result: Result, tmpdir: str) -> list[str]:
    problems = []
    expect = case.expect
    if result.crashed:
        problems.append(result.crashed)
    elif case.argv is None:
        if result.exception is None:
            problems.append("no exception")
        else:
            kind, message = result.exception
            wanted = tuple(_resolve(r) for r in expect.raises)
            if not issubclass(result.exception_type, wanted):
                problems.append(f"{kind}, not {' or '.join(r.__name__ for r in wanted)}")
            missing = _unnamed(expect.says, message)
            if missing:
                problems.append(f"message does not name {', '.join(missing)}")
            if "\n" in message.strip():
                problems.append("message is several lines")
    else:
        if "Traceback (most recent call last)" in result.stderr:
            problems.append("traceback")
        if result.code != expect.code:
            problems.append(f"exit {result.code}, expected {expect.code}")
        if expect.code != 0:
            lines = [line for line in result.stderr.splitlines() if line.strip()]
            error_lines = (
                [line for line in lines if not _usage_line(line)] if expect.usage else lines
            )
            if len(error_lines) != expect.lines:
                problems.append(f"{len(error_lines)} lines on stderr")
            last = lines[-1] if lines else ""
            if expect.lines and not last.startswith(f"albert-tf {case.command}: {expect.prefix}"):
                problems.append(f"stderr does not end in `albert-tf COMMAND: {expect.prefix} ...`")
            missing = _unnamed(expect.says, last)
            if missing and lines:
                problems.append(f"error does not name {', '.join(missing)}")
    if expect.check and not problems:
        try:
            problem = expect.check(ws, result)
        except Exception as e:  # a check that cannot read the output: the output is wrong
            problem = f"output check failed: {type(e).__name__}: {e}"
        if problem:
            problems.append(problem)
    problems += _changes(case, before, snapshot(ws.path))
    left = sorted(os.listdir(tmpdir)) if os.path.isdir(tmpdir) else []
    if left:
        problems.append(f"left {len(left)} temp file(s) in $TMPDIR: {', '.join(left[:3])}")
    return problems


def _unnamed(says, text: str) -> list[str]:
    """The expected substrings `text` lacks."""
    missing = []
    for s in says:
        options = s if isinstance(s, tuple) else (s,)
        if not any(option in text for option in options):
            missing.append(" or ".join(map(repr, options)))
    return missing


def _usage_line(line: str) -> bool:
    return line.startswith("usage:") or line.startswith(" ")


def _changes(case: Case, before: dict, after: dict) -> list[str]:
    def allowed(rel: str) -> bool:
        return any(rel == o or rel.startswith(o + os.sep) for o in case.outputs)

    problems = []
    touched = [r for r in before if not allowed(r) and after.get(r) != before[r]]
    gone = [r for r in touched if r not in after]
    changed = [r for r in touched if r in after]
    created = [r for r in after if r not in before and not allowed(r)]
    temps = [
        r for r in after if r not in before and TEMP_NAME.match(os.path.basename(r)) and allowed(r)
    ]
    if gone:
        problems.append(f"deleted {', '.join(sorted(gone)[:3])}")
    if changed:
        problems.append(f"changed {', '.join(sorted(changed)[:3])}")
    if created:
        problems.append(f"created {', '.join(sorted(created)[:3])}")
    if temps:
        problems.append(f"left temp {', '.join(sorted(temps)[:3])}")
    return problems


# -------------------------------------------------------------------- running
def _decode(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def _run_own_process(case: Case, ws: Workspace, tmpdir: str) -> Result:
    if case.own_process:
        return _run_wired(case, ws, tmpdir)
    start = time.time()
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "albert_tf.cli", *case.argv],
            cwd=ws.path,
            env={**ENV, "TMPDIR": tmpdir},
            input=case.stdin if case.stdin is not None else b"",
            capture_output=True,
            timeout=case.timeout,
        )
    except subprocess.TimeoutExpired as e:
        return Result(
            stdout=_decode(e.stdout or b""),
            stderr=_decode(e.stderr or b""),
            crashed=f"no answer in {case.timeout}s",
        )
    result = Result(proc.returncode, _decode(proc.stdout), _decode(proc.stderr))
    result.seconds = time.time() - start
    if proc.returncode < 0:
        result.crashed = f"killed by signal {-proc.returncode}"
    return result


def _run_wired(case: Case, ws: Workspace, tmpdir: str) -> Result:
    """A case that needs more than stdin and two captured streams: a /dev/fd/N pipe
    (`--file <(...)`), a stdout closed after N lines (`| head -N`), a SIGTERM once
    training has saved an epoch."""
    start, fds, argv = time.time(), (), list(case.argv)
    if case.pipe is not None:
        read_end, write_end = os.pipe()
        fds, argv = (read_end,), [a.replace("{pipe}", f"/dev/fd/{read_end}") for a in argv]
    with tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(
            [sys.executable, "-m", "albert_tf.cli", *argv], cwd=ws.path,
            env={**ENV, "TMPDIR": tmpdir}, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=err, pass_fds=fds,
        )  # fmt: skip
        if case.pipe is not None:
            os.close(read_end)
            threading.Thread(target=_feed, args=(write_end, case.pipe), daemon=True).start()
        out, crashed = _wired_stdout(case, ws, proc)
        try:
            proc.wait(timeout=case.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            crashed = f"no answer in {case.timeout}s"
        err.seek(0)
        stderr = _decode(err.read())
    result = Result(proc.returncode, _decode(out), stderr, crashed=crashed)
    result.seconds = time.time() - start
    if case.cleanup:
        case.cleanup(ws)
    return result


def _feed(fd: int, data: bytes) -> None:
    with open(fd, "wb") as f:
        f.write(data)


def _wired_stdout(case: Case, ws: Workspace, proc: subprocess.Popen) -> tuple[bytes, str | None]:
    """Read the case's stdout as `head -N` would, or whole; SIGTERM when it is time."""
    if case.head is not None:
        lines = [proc.stdout.readline() for _ in range(case.head)]
        proc.stdout.close()  # what `head` does after its lines
        return b"".join(lines), None
    if case.terminate_after is not None:
        deadline = time.time() + case.timeout
        while not ws.exists(case.terminate_after) and proc.poll() is None:
            if time.time() > deadline:
                return b"", f"{case.terminate_after} never appeared"
            time.sleep(0.05)
        if proc.poll() is not None:
            return proc.stdout.read(), f"ended before {case.terminate_after} appeared"
        proc.send_signal(signal.SIGTERM)
    return proc.stdout.read(), None


def _run_api(case: Case, ws: Workspace, tmpdir: str) -> Result:
    start = time.time()
    saved = tempfile.tempdir
    tempfile.tempdir = tmpdir
    cwd = os.getcwd()
    os.chdir(ws.path)
    result = Result()
    try:
        value = case.api(ws)
        result.returned = _one_line(repr(value), 80)
    except Exception as e:
        result.exception = (type(e).__name__, str(e))
        result.exception_type = type(e)
    finally:
        os.chdir(cwd)
        tempfile.tempdir = saved
    result.seconds = time.time() - start
    return result


def _run_in_worker(jobs: list[dict], log: Callable[[str], None]) -> dict[str, Result]:
    """Run TensorFlow commands' cases in worker processes that import it once; a case
    that crashes or hangs its worker is recorded so, and a new worker takes the rest."""
    results: dict[str, Result] = {}
    pending = list(jobs)
    while pending:
        with tempfile.TemporaryDirectory(prefix="hostile-worker-") as folder:
            jobs_path, results_path = os.path.join(folder, "jobs.json"), os.path.join(
                folder, "results.jsonl"
            )  # fmt: skip
            write_file(jobs_path, json.dumps(pending))
            write_file(results_path, b"")
            with open(os.path.join(folder, "worker.log"), "wb") as worker_log:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "tests.hostile_inputs", "--worker", jobs_path,
                     results_path],
                    cwd=ROOT, env=ENV, stdin=subprocess.DEVNULL, stdout=worker_log,
                    stderr=subprocess.STDOUT,
                )  # fmt: skip
                last, done, grace = time.time(), 0, 120  # the first case waits for the import
                while True:
                    with open(results_path, encoding="utf-8") as f:
                        lines = [json.loads(line) for line in f if line.strip()]
                    for line in lines[done:]:
                        job = pending[done]
                        results[job["name"]] = _job_result(job, line)
                        log(f"  {job['name']}: exit {line['code']} ({line['seconds']:.1f}s)")
                        done, last, grace = done + 1, time.time(), 0
                    if proc.poll() is not None or done == len(pending):
                        proc.wait()
                        break
                    if time.time() - last > pending[done]["timeout"] + grace:
                        proc.kill()
                        proc.wait()
                        job = pending[done]
                        results[job["name"]] = _job_result(
                            job, None, f"no answer in {job['timeout']}s"
                        )
                        break
                    time.sleep(0.2)
            if done < len(pending) and pending[done]["name"] not in results:
                job = pending[done]
                with open(os.path.join(folder, "worker.log"), "rb") as f:
                    tail = _decode(f.read())[-300:]
                results[job["name"]] = _job_result(
                    job, None, f"worker died (exit {proc.returncode}): {_one_line(tail, 200)}"
                )
        pending = [j for j in pending if j["name"] not in results]
    return results


def _job_result(job: dict, line: dict | None, crashed: str | None = None) -> Result:
    def read(path):
        with open(path, "rb") as f:
            return _decode(f.read())

    result = Result(
        code=None if line is None else line["code"],
        stdout=read(job["stdout"]) if os.path.exists(job["stdout"]) else "",
        stderr=read(job["stderr"]) if os.path.exists(job["stderr"]) else "",
        seconds=0.0 if line is None else line["seconds"],
        crashed=crashed,
    )
    return result


def worker(jobs_path: str, results_path: str) -> None:
    """The worker's side: each job's argv to `albert_tf.cli.main`, fds 1 and 2 to files."""
    from albert_tf.io.quiet_tensorflow import import_tensorflow

    import_tensorflow()
    from albert_tf.cli import main

    with open(jobs_path, encoding="utf-8") as f:
        jobs = json.load(f)
    for job in jobs:
        start = time.time()
        code = _worker_job(main, job)
        with open(results_path, "a", encoding="utf-8") as f:
            f.write(json.dumps({"code": code, "seconds": time.time() - start}) + "\n")
        if "keras" in sys.modules:  # what a fresh process would not carry over
            sys.modules["keras"].backend.clear_session()


def _worker_job(main: Callable, job: dict) -> int:
    sys.stdout.flush()
    sys.stderr.flush()
    saved_out, saved_err = os.dup(1), os.dup(2)
    saved_tmp, saved_env = tempfile.tempdir, os.environ.get("TMPDIR")
    os.chdir(job["cwd"])
    tempfile.tempdir, os.environ["TMPDIR"] = job["tmpdir"], job["tmpdir"]
    with open(job["stdout"], "wb") as out, open(job["stderr"], "wb") as err:
        os.dup2(out.fileno(), 1)
        os.dup2(err.fileno(), 2)
        try:
            code = main(job["argv"])
        except SystemExit as e:
            if isinstance(e.code, str):
                print(e.code, file=sys.stderr)
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        except BaseException:
            traceback.print_exc()
            code = 1
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved_out, 1)
            os.dup2(saved_err, 2)
            os.close(saved_out)
            os.close(saved_err)
            os.chdir(ROOT)
            tempfile.tempdir = saved_tmp
            if saved_env is None:
                os.environ.pop("TMPDIR", None)
            else:
                os.environ["TMPDIR"] = saved_env
    return int(code or 0)


def run_cases(
    cases: list[Case], inputs: Inputs, root: str, log: Callable[[str], None] = print
) -> list[Outcome]:
    """Set up every case's workspace, run it, judge it; outcomes in table order."""
    prepared = []
    for i, case in enumerate(cases):
        ws = Workspace(os.path.join(root, f"{i:03d}-{case.name}"), inputs)
        tmpdir = os.path.join(root, f"{i:03d}-tmp")
        os.makedirs(ws.path)
        os.makedirs(tmpdir)
        try:
            if case.setup:
                case.setup(ws)
        except Exception as e:
            raise RuntimeError(f"setting up {case.name} failed: {e}") from e
        prepared.append((case, ws, tmpdir, snapshot(ws.path)))

    results: dict[str, Result] = {}
    jobs = []
    for case, ws, tmpdir, _ in prepared:
        if case.argv is not None and case.command in TF_COMMANDS and not case.own_process:
            jobs.append({
                "name": case.name, "argv": case.argv, "cwd": ws.path, "tmpdir": tmpdir,
                "stdout": os.path.join(root, f"{case.name}.stdout"),
                "stderr": os.path.join(root, f"{case.name}.stderr"), "timeout": case.timeout,
            })  # fmt: skip
    if jobs:
        log(f"{len(jobs)} cases of commands that load TensorFlow, in a worker process:")
        results.update(_run_in_worker(jobs, log))

    outcomes = []
    for case, ws, tmpdir, before in prepared:
        if case.argv is None:
            result = _run_api(case, ws, tmpdir)
        elif case.name in results:
            result = results[case.name]
            if case.cleanup:
                case.cleanup(ws)
        else:
            result = _run_own_process(case, ws, tmpdir)
        outcome = Outcome(case, result, judge(case, ws, before, result, tmpdir), ws.path)
        outcomes.append(outcome)
        if case.name not in results:
            log(f"  {case.name}: {'ok' if outcome.ok else 'NOT OK'} ({result.seconds:.1f}s)")
    return outcomes


def markdown(outcomes: list[Outcome]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    good = sum(o.ok for o in outcomes)
    lines = [
        "| # | case | command | expected | got | ok |",
        "|---|---|---|---|---|---|",
    ]
    for i, o in enumerate(outcomes, start=1):
        lines.append(
            f"| {i} | {o.case.name} | `{cell(o.case.shown())}` | {cell(o.case.expect.describe())}"
            f" | {cell(o.got())} | {'yes' if o.ok else '**no**'} |"
        )
    lines.append("")
    lines.append(f"Handled well: {good} of {len(outcomes)}.")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.hostile_inputs", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    parser.add_argument("--only", help="regex: run the cases whose name matches")
    parser.add_argument("--markdown", help="also write the table to this file")
    parser.add_argument("--fast", action="store_true", help="only the cases needing no TensorFlow")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces (path printed)")
    parser.add_argument("--worker", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(*args.worker)
        return 0
    cases = all_cases()
    if args.only:
        cases = [c for c in cases if re.search(args.only, c.name)]
    if args.fast:
        cases = [c for c in cases if c.fast]
    if not cases:
        parser.error("no case matches")
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "2"
    root = tempfile.mkdtemp(prefix="hostile-inputs-")
    start = time.time()
    try:
        inputs = Inputs(os.path.join(root, "inputs"))
        os.makedirs(inputs.root)
        print(f"{len(cases)} cases; workspaces in {root}", flush=True)
        outcomes = run_cases(cases, inputs, os.path.join(root, "cases"),
                             log=lambda m: print(m, flush=True))  # fmt: skip
    finally:
        if not args.keep:
            shutil.rmtree(root, ignore_errors=True)
    table = markdown(outcomes)
    print()
    print(table, end="")
    print(f"({time.time() - start:.0f}s)")
    if args.markdown:
        write_file(args.markdown, table)
    return 0 if all(o.ok for o in outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
