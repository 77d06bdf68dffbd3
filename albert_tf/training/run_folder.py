"""The run folder: everything a trained model needs later (export, predict, evaluate).

Layout of a classifier's run:
    model.keras          the `TextClassifier` (best checkpoint) with its
                         `TextPreprocessor` inside: tokenizer, max_length, long-text
                         cut and label names travel as one Keras object
    held_out.json        the validation and test texts (with labels) training held
                         out, and training texts for int8 calibration: what export
                         verifies on, so it never reads the user's data file again
    albert_config.json   the backbone's AlbertConfig (for people; the model holds it)
    run.json             version 2: task, problem_type, max_length, tokenizer, data,
                         settings, metrics, parameters (see `RUN_VERSION`): a record
                         of the run, not read back into the model

Other runs (the task heads, pre-training) and classifier runs written before the
`TextClassifier` keep the tokenizer and labels beside the model:
    spiece.model         the tokenizer: SentencePiece ...
    vocab.txt            ... or WordPiece (+ tokenizer_config.json with do_lower_case)
    labels.txt           label names (output units), one per line, in output index order

run.json's "tokenizer" holds how single texts longer than max_length were cut:
"truncation" "head" or "head_tail" (with "head_share"); a run without the field
was trained on head cuts and reads as "head".

`RunFolder` is the one place that reads and writes these files; `load_run` and
`save_run` are its two public doors. Run folders written before version 2
(no "version"; "task" holding the problem type; "dataset" holding a packaged
name or a file path) load too, their run.json mapped to the new fields.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from albert_tf.data.labels import LABELS_FILE, read_labels, write_labels
from albert_tf.io.files import write_bytes_atomic, write_text_atomic
from albert_tf.tokenizers.sentencepiece import HEAD_SHARE, AlbertTokenizer, check_truncation
from albert_tf.tokenizers.wordpiece import WordPieceTokenizer
from export.runtime.bundle_tokenizer import SPIECE_FILE, TOKENIZER_FILES, VOCAB_FILE

__all__ = [
    "CONFIG_FILE",
    "HELD_OUT_FILE",
    "LABELS_FILE",
    "MODEL_FILE",
    "PRETRAINED_MODEL_FILE",
    "EMBED_TASK",
    "PRETRAIN_TASK",
    "RUN_FILE",
    "RUN_VERSION",
    "Run",
    "RunFolder",
    "RunFolderError",
    "copy_run",
    "load_run",
    "read_labels",
    "save_run",
    "write_labels",
    "write_text_atomic",
]

RUN_VERSION = 2
MODEL_FILE = "model.keras"
CONFIG_FILE = "albert_config.json"
RUN_FILE = "run.json"
HELD_OUT_FILE = "held_out.json"
# Training texts kept for int8/int16x8 calibration (export uses up to 200 by default).
CALIBRATION_TEXTS = 500

PROBLEM_TYPES = ("single_label", "multi_label", "regression")
HEAD_TASKS = ("token", "qa", "multiple_choice")
# A pre-training run holds a backbone (no head, no labels) in PRETRAINED_MODEL_FILE.
PRETRAIN_TASK = "pretrain"
PRETRAINED_MODEL_FILE = "backbone.keras"
# A sentence-embedding run: model.keras is a TextEmbedder (no head, no labels).
EMBED_TASK = "embed"
NO_PROBLEM_TYPE_TASKS = (*HEAD_TASKS, PRETRAIN_TASK, EMBED_TASK)
# The task name a classifier of each problem type is trained by (old run.json
# files held only the problem type).
TASK_OF_PROBLEM_TYPE = {
    "single_label": "classify",
    "multi_label": "multi_label",
    "regression": "regression",
}
PROBLEM_TYPE_OF_TASK = {
    "classify": "single_label",
    "pairs": "single_label",
    "multi_label": "multi_label",
    "regression": "regression",
}
DATA_DEFAULTS: dict[str, Any] = {
    "dataset": None,
    "train": None,
    "validation": None,
    "test": None,
    "split": None,
    "text_column": "text",
    "label_column": "label",
    "pair_column": None,
    "encoding_errors": "strict",
}
_DATA_FILE_ENDINGS = (".csv", ".tsv", ".jsonl", ".json", ".txt", ".conll")


class RunFolderError(FileNotFoundError):
    """A run folder, or one of its files, is missing."""


@dataclass
class Run:
    """What `load_run` returns: the model, its tokenizer, labels and run.json."""

    path: str
    model: Any
    tokenizer: Any
    labels: list[str] | None
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def version(self) -> int:
        return int(self.info.get("version", RUN_VERSION))

    @property
    def max_length(self) -> int:
        return int(self.info.get("max_length", 128))

    @property
    def task(self) -> str:
        """The task name: classify, pairs, multi_label, regression, token, qa,
        multiple_choice, or pretrain."""
        return str(self.info.get("task", "classify"))

    @property
    def problem_type(self) -> str | None:
        """single_label / multi_label / regression for classifiers, None for other heads."""
        return self.info.get("problem_type")

    @property
    def tokenizer_kind(self) -> str:
        return str(self.info.get("tokenizer", {}).get("kind", "sentencepiece"))

    @property
    def truncation(self) -> str:
        """How single texts longer than max_length are cut ("head" for old runs)."""
        return str(self.info.get("tokenizer", {}).get("truncation", "head"))

    @property
    def data(self) -> dict[str, Any]:
        return dict(self.info.get("data") or {})

    @property
    def classifier(self) -> Any:
        """The model as a `TextClassifier` (an older run's classifier with its tokenizer,
        max_length and labels around it)."""
        # Keras loads only with a model: the CLI reads run folders without it.
        from albert_tf.models import TextClassifier, TextPreprocessor

        preprocessor = TextPreprocessor(self.tokenizer, self.max_length, self.labels)
        return TextClassifier.from_classifier(self.model, preprocessor)


def tokenizer_kind(tokenizer: Any) -> str:
    """'sentencepiece' for an AlbertTokenizer (it holds the model bytes), else 'wordpiece'."""
    return "sentencepiece" if getattr(tokenizer, "serialized_model", None) else "wordpiece"


def packing_entry(tokenizer: Any) -> dict[str, Any]:
    """run.json's record of how `tokenizer` cuts long single texts."""
    truncation = str(getattr(tokenizer, "truncation", "head"))
    if truncation == "head":
        return {"truncation": truncation}
    return {"truncation": truncation, "head_share": float(tokenizer.head_share)}


def recorded_packing(info: dict[str, Any]) -> dict[str, Any]:
    """The tokenizer's `truncation` / `head_share` that run.json records ("head" if none)."""
    entry = info.get("tokenizer") or {}
    return {
        "truncation": entry.get("truncation", "head"),
        "head_share": entry.get("head_share", HEAD_SHARE),
    }


def normalize_data(data: dict[str, Any] | None) -> dict[str, Any]:
    """run.json's "data": every field present, file paths absolute; {} for none."""
    if not data:
        return {}
    unknown = sorted(set(data) - set(DATA_DEFAULTS))
    if unknown:
        raise ValueError(f"run info 'data' has unknown fields: {', '.join(unknown)}")
    out = {**DATA_DEFAULTS, **data}
    for key in ("train", "validation", "test"):
        if out[key]:
            out[key] = os.path.abspath(os.fspath(out[key]))
    return out


def _legacy_data(info: dict[str, Any]) -> dict[str, Any]:
    """An old run's "dataset" (a packaged name, or the training file's path) as "data"."""
    source = info.get("dataset")
    if not source:
        return {}
    source = str(source)
    is_file = os.path.exists(source) or source.lower().endswith(_DATA_FILE_ENDINGS)
    data = {"train": source} if is_file else {"dataset": source}
    for key in ("text_column", "label_column", "pair_column"):
        if info.get(key):
            data[key] = info[key]
    return normalize_data(data)


def upgrade_info(info: dict[str, Any], kind: str) -> dict[str, Any]:
    """A run.json of any version as version 2 (the old keys are kept as they were)."""
    info = dict(info)
    if int(info.get("version", 1)) >= RUN_VERSION:
        return info
    old_task = str(info.get("task", "single_label"))
    if old_task in PROBLEM_TYPES:
        info["problem_type"], info["task"] = old_task, TASK_OF_PROBLEM_TYPE[old_task]
    else:
        info["problem_type"] = PROBLEM_TYPE_OF_TASK.get(old_task)
    info["tokenizer"] = {"kind": kind, "file": TOKENIZER_FILES[kind]}
    info.setdefault("data", _legacy_data(info))
    info.setdefault("settings", {})
    info.setdefault("metrics", {})
    info["version"] = RUN_VERSION
    return info


def _check_task_fields(task: str, problem_type: str | None) -> None:
    if problem_type is not None and problem_type not in PROBLEM_TYPES:
        raise ValueError(f"problem_type {problem_type!r} is not one of {', '.join(PROBLEM_TYPES)}")
    if task not in PROBLEM_TYPE_OF_TASK and task not in NO_PROBLEM_TYPE_TASKS:
        raise ValueError(f"run task {task!r} is not a task name")


def build_info(model: Any, tokenizer: Any, info: dict[str, Any]) -> dict[str, Any]:
    """The version-2 run.json for `model` trained with `tokenizer`, from a trainer's `info`.

    `info` may give "task" as a problem type (the old meaning), as callers and
    older scripts do; it is mapped the same way old run folders are."""
    info = dict(info)
    task = str(info.pop("task", "") or "")
    problem_type = info.pop("problem_type", None)
    if task in PROBLEM_TYPES:
        problem_type, task = problem_type or task, TASK_OF_PROBLEM_TYPE[task]
    model_problem = getattr(model, "problem_type", None)
    if problem_type is None and task not in NO_PROBLEM_TYPE_TASKS:
        problem_type = model_problem or PROBLEM_TYPE_OF_TASK.get(task)
    if not task:
        task = TASK_OF_PROBLEM_TYPE.get(problem_type or "", "classify")
    _check_task_fields(task, problem_type)
    kind = tokenizer_kind(tokenizer)
    data = info.pop("data", None) or _legacy_data(info)
    return {
        "version": RUN_VERSION,
        "task": task,
        "problem_type": problem_type,
        "max_length": int(info.pop("max_length", 128)),
        "tokenizer": {
            "kind": kind,
            "file": TOKENIZER_FILES[kind],
            "lower_case": bool(getattr(tokenizer, "lower_case", True)),
            **packing_entry(tokenizer),
        },
        "data": normalize_data(data),
        "settings": dict(info.pop("settings", {}) or {}),
        "metrics": dict(info.pop("metrics", {}) or {}),
        "parameters": int(info.pop("parameters", 0) or model.count_params()),
        **info,
    }


class RunFolder:
    """Reads and writes one run folder (see the module docstring for its files).

    Example:
    >>> folder = RunFolder("runs/reviews")
    >>> folder.write(model, tokenizer, ["neg", "pos"], {"task": "classify"})  # doctest: +SKIP
    >>> run = folder.load()                                                  # doctest: +SKIP
    >>> run.task, run.problem_type, run.tokenizer_kind                       # doctest: +SKIP
    ('classify', 'single_label', 'sentencepiece')
    """

    def __init__(self, path: str | os.PathLike):
        self.path = os.fspath(path)

    def file(self, name: str) -> str:
        return os.path.join(self.path, name)

    # ----------------------------------------------------------------- read
    def _require(self, *names: str) -> None:
        if not os.path.isdir(self.path):
            raise RunFolderError(f"Run folder not found: {self.path}")
        missing = [n for n in names if not os.path.isfile(self.file(n))]
        if missing:
            raise RunFolderError(f"Run folder {self.path} has no {', '.join(missing)}")

    def tokenizer_kind(self) -> str:
        """Which tokenizer file the folder holds (spiece.model wins if both exist)."""
        for kind, name in TOKENIZER_FILES.items():
            if os.path.isfile(self.file(name)):
                return kind
        raise RunFolderError(
            f"Run folder {self.path} has no tokenizer ({SPIECE_FILE} or {VOCAB_FILE})"
        )

    def read_info(self) -> dict[str, Any]:
        """run.json as version 2 ({} upgraded, for a folder without one)."""
        self._require()
        path, info = self.file(RUN_FILE), {}
        if os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as f:
                    info = json.load(f)
            except (OSError, ValueError) as e:
                raise ValueError(f"{path}: not a readable run.json ({e})") from e
            if not isinstance(info, dict):
                raise ValueError(f"{path}: run.json must hold a JSON object")
            length = info.get("max_length", 128)
            if isinstance(length, bool) or not isinstance(length, int) or length < 3:
                raise ValueError(
                    f"{path}: field 'max_length' must be an integer >= 3, got {length!r}"
                )
        if int(info.get("version", 1)) >= RUN_VERSION:
            return info
        held = self._preprocessor_config()
        return upgrade_info(info, held["tokenizer_kind"] if held else self.tokenizer_kind())

    def holds_preprocessor(self) -> bool:
        """Whether model.keras is a `TextClassifier`, carrying its own tokenizer and
        labels (read from the file's config, without loading Keras)."""
        return self._preprocessor_config() is not None

    def _preprocessor_config(self) -> dict[str, Any] | None:
        path = self.file(MODEL_FILE)
        if not zipfile.is_zipfile(path):
            return None
        try:
            with zipfile.ZipFile(path) as archive:
                config = json.loads(archive.read("config.json"))
        except (OSError, KeyError, ValueError, zipfile.BadZipFile):
            return None  # read_model names what is wrong with it
        if config.get("class_name") != "TextClassifier":
            return None
        return config.get("config", {}).get("preprocessor", {}).get("config")

    def read_tokenizer(self, info: dict[str, Any] | None = None) -> Any:
        info = info if info is not None else self.read_info()
        if self.holds_preprocessor():
            return self.read_model().preprocessor.tokenizer
        kind = info.get("tokenizer", {}).get("kind") or self.tokenizer_kind()
        if kind not in TOKENIZER_FILES:
            raise ValueError(f"{self.file(RUN_FILE)}: unknown tokenizer kind {kind!r}")
        self._require(TOKENIZER_FILES[kind])
        # run.json's casing wins; an old folder falls back to the tokenizer's own
        # (tokenizer_config.json for WordPiece, the model's normalizer for SentencePiece).
        lower_case = info.get("tokenizer", {}).get("lower_case")
        packing = recorded_packing(info)
        try:
            check_truncation(**packing)
        except ValueError as e:
            raise ValueError(f"{self.file(RUN_FILE)}: tokenizer {e}") from e
        if kind == "wordpiece":
            return WordPieceTokenizer.load(self.file(VOCAB_FILE), lower_case=lower_case, **packing)
        return AlbertTokenizer.load(self.file(SPIECE_FILE), lower_case=lower_case, **packing)

    def read_labels(self, info: dict[str, Any] | None = None) -> list[str]:
        """The label names: the model's own, or (older runs) labels.txt checked against
        the labels run.json recorded with the model (an edited or reordered labels.txt
        would ship a bundle with swapped labels)."""
        info = info if info is not None else self.read_info()
        if self.holds_preprocessor():
            return list(self.read_model().preprocessor.label_names)
        self._require(LABELS_FILE)
        labels = read_labels(self.file(LABELS_FILE))
        recorded = info.get("labels")
        if recorded is not None and list(recorded) != labels:
            raise ValueError(
                f"{self.file(LABELS_FILE)} lists {labels} but {self.file(RUN_FILE)} recorded "
                f"{list(recorded)} with the model: labels.txt was changed after training"
            )
        return labels

    def read_model(self, compile: bool = False) -> Any:
        # Keras and the custom layers load only when a model is asked for.
        import keras

        import albert_tf.models  # noqa: F401  (registers the custom layers)

        if compile:  # a compiled model also needs the optimizers and schedules registered
            import albert_tf.training.lamb  # noqa: F401
            import albert_tf.training.replica_clipping  # noqa: F401
            import albert_tf.training.schedules  # noqa: F401
        self._require(MODEL_FILE)
        if not zipfile.is_zipfile(self.file(MODEL_FILE)):
            raise ValueError(
                f"{self.file(MODEL_FILE)} is not a Keras model file (not a zip archive: "
                "truncated or corrupt)"
            )
        try:
            return keras.models.load_model(self.file(MODEL_FILE), compile=compile)
        except Exception as e:  # corrupt zip, missing weights, unknown class
            raise ValueError(f"Cannot load {self.file(MODEL_FILE)}: {e}") from e

    def load(self, compile: bool = False, labels_required: bool = True) -> Run:
        """The whole run. `labels_required=False` accepts an older folder without
        labels.txt (a teacher whose label order is not known); labels are then None."""
        info = self.read_info()
        self._require(MODEL_FILE)
        if not zipfile.is_zipfile(self.file(MODEL_FILE)):
            self.read_model()  # names the damage before any other file is looked for
        if self.holds_preprocessor():
            model = self.read_model(compile)
            pre = model.preprocessor
            # The model's preprocessor is the truth; run.json only reports it.
            info = {**info, "max_length": pre.sequence_length}
            info["tokenizer"] = {**info.get("tokenizer", {}), **packing_entry(pre.tokenizer)}
            return Run(self.path, model, pre.tokenizer, list(pre.label_names or []), info)
        self._require(MODEL_FILE, *([LABELS_FILE] if labels_required else []))
        tokenizer = self.read_tokenizer(info)
        labels = self.read_labels(info) if os.path.isfile(self.file(LABELS_FILE)) else None
        model = self.read_model(compile)
        return Run(path=self.path, model=model, tokenizer=tokenizer, labels=labels, info=info)

    def read_held_out(self) -> dict[str, Any] | None:
        """held_out.json (see `write_held_out`), or None for a run without one."""
        path = self.file(HELD_OUT_FILE)
        if not os.path.isfile(path):
            return None
        try:
            with open(path, encoding="utf-8") as f:
                held = json.load(f)
        except (OSError, ValueError) as e:
            raise ValueError(f"{path}: not a readable {HELD_OUT_FILE} ({e})") from e
        if not isinstance(held, dict) or not isinstance(held.get("calibration"), list):
            raise ValueError(f"{path}: not an albert-tf {HELD_OUT_FILE} (no 'calibration' list)")
        return held

    # ---------------------------------------------------------------- write
    def write(
        self,
        model: Any,
        tokenizer: Any,
        labels: list[str] | None,
        info: dict[str, Any],
        model_file: str = MODEL_FILE,
    ) -> str:
        """Write every file; each goes to a temp name first and is renamed, so
        a crash never leaves a half-written model behind. A classifier is saved
        as a `TextClassifier` holding `tokenizer` and `labels`; other models
        beside them (`labels=None`: a pre-trained backbone, saved as
        `PRETRAINED_MODEL_FILE`, writes no labels.txt)."""
        classifier = _text_classifier(model, tokenizer, labels, info)
        if classifier is not None:
            pre = classifier.preprocessor
            model, tokenizer = classifier, pre.tokenizer
            info = {**info, "max_length": pre.sequence_length}
        run_info = build_info(model, tokenizer, info)
        if classifier is not None:
            run_info["tokenizer"]["file"] = model_file  # inside it, as an asset
        if labels is not None and classifier is None:  # what labels.txt is checked against
            run_info["labels"] = list(labels)
        os.makedirs(self.path, exist_ok=True)
        tmp_model = self.file(f".tmp-{model_file}")
        model.save(tmp_model)
        os.replace(tmp_model, self.file(model_file))
        config = getattr(getattr(model, "backbone", model), "config", None)
        if config is not None:
            write_text_atomic(self.file(CONFIG_FILE), config.to_json_string())
        if classifier is None:
            self.write_tokenizer(tokenizer)
            if labels is not None:
                write_labels(self.file(LABELS_FILE), list(labels))
        self.write_info(run_info)
        return self.path

    def write_held_out(
        self,
        validation: Any,
        test: Any,
        label_names: list[str] | None,
        train_texts: list[str],
    ) -> None:
        """held_out.json: the `validation` and `test` splits (`Split`s or None) with
        texts, second texts and targets (label indices, numbers or multi-hot rows), the
        label names the indices mean, and CALIBRATION_TEXTS training texts drawn
        with a fixed seed (int8 calibration)."""
        held: dict[str, Any] = {"label_names": label_names}
        for name, split in (("validation", validation), ("test", test)):
            if split is not None and len(split.texts):
                held[name] = {
                    "texts": list(split.texts),
                    "pairs": None if split.pairs is None else list(split.pairs),
                    "targets": np.asarray(split.labels).tolist(),
                }
        order = np.random.default_rng(0).permutation(len(train_texts))[:CALIBRATION_TEXTS]
        held["calibration"] = [train_texts[i] for i in sorted(order)]
        os.makedirs(self.path, exist_ok=True)
        write_text_atomic(self.file(HELD_OUT_FILE), json.dumps(held, ensure_ascii=False))

    def write_tokenizer(self, tokenizer: Any) -> None:
        if tokenizer_kind(tokenizer) == "sentencepiece":
            write_bytes_atomic(self.file(SPIECE_FILE), tokenizer.serialized_model)
            stale = VOCAB_FILE
        else:
            tokenizer.save(self.path)  # vocab.txt + tokenizer_config.json
            stale = SPIECE_FILE
        # A folder reused for a run of the other kind must not keep the old tokenizer.
        if os.path.exists(self.file(stale)):
            os.remove(self.file(stale))

    def write_info(self, info: dict[str, Any]) -> None:
        write_text_atomic(self.file(RUN_FILE), json.dumps(info, indent=2, default=str))

    def update_info(self, **fields: Any) -> dict[str, Any]:
        """Set top-level fields of run.json (e.g. metrics after a test evaluation)."""
        info = self.read_info()
        info.update(fields)
        self.write_info(info)
        return info


def _text_classifier(model: Any, tokenizer: Any, labels: list[str] | None, info: dict) -> Any:
    """`model` as the `TextClassifier` a classifier's run folder holds; None for others."""
    # Keras loads only when a model is written: the CLI reads run folders without it.
    from albert_tf.models import AlbertClassifier, TextClassifier, TextPreprocessor

    if not isinstance(model, AlbertClassifier):
        return None
    if isinstance(model, TextClassifier):
        return model
    if tokenizer is None:
        raise ValueError("A classifier's run needs its tokenizer (or a TextClassifier)")
    names = labels or [str(i) for i in range(model.num_labels)]
    preprocessor = TextPreprocessor(tokenizer, int(info.get("max_length", 128)), names)
    return TextClassifier.from_classifier(model, preprocessor)


def save_run(
    run_dir: str, model: Any, tokenizer: Any, labels: list[str], info: dict[str, Any]
) -> str:
    """Write a run folder (SentencePiece spiece.model or WordPiece vocab.txt)."""
    return RunFolder(run_dir).write(model, tokenizer, labels, info)


def load_run(run_dir: str, compile: bool = False) -> Run:
    """Load a run folder written by `save_run` (or `albert-tf train`), of either tokenizer."""
    return RunFolder(run_dir).load(compile=compile)


def copy_run(src: str, dst: str) -> None:
    shutil.copytree(src, dst, dirs_exist_ok=True)
