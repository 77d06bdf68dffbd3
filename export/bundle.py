"""Run folder -> verified bundle folder (model.tflite with metadata, labels, tokenizer, manifest).

Either tokenizer: a SentencePiece run's bundle holds spiece.model, a WordPiece
run's (a student that kept its BERT teacher's vocabulary) holds vocab.txt, and
the model's metadata names the same file, so MediaPipe tokenizes by itself.
The manifest names the tokenizer and records no path of the building machine
(only the run folder's base name).

Long texts (`long_text_cut`): a run trained on head cuts (every run before
run.json recorded "truncation") exports as it always did. A run trained on
head + tail cuts keeps them in a dynamic-length bundle (MediaPipe feeds it the
whole text; the graph's clip and our runtime both keep the head and the tail,
and the manifest's "truncation_rule" says how many of each). A fixed-length
bundle cannot: MediaPipe cuts its inputs at the head before the model runs, so
it is a head bundle, verified against the Keras model on head cuts, and the
export says so.

Everything is written into a temporary folder next to the destination, verified
there, and only then renamed into place; a failed or refused export leaves the
destination as it was.

Example:
>>> from export import export_run
>>> export_run("runs/demo", "runs/demo/bundle", settings=BundleSettings(mode="int8"))  # doctest: +SKIP
'runs/demo/bundle'
"""

from __future__ import annotations

import copy
import dataclasses
import json
import os
import shutil
import tempfile
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from albert_tf.io.files import make_staging_dir, umask_mode
from albert_tf.tokenizers.sentencepiece import head_pieces
from albert_tf.training.run_folder import load_run
from export.converter import MODES, representative_inputs, to_tflite
from export.metadata import add_classifier_metadata
from export.runtime import (
    LABELS_FILE,
    MANIFEST_FILE,
    TFLITE_FILE,
    bundle_files,
    read_manifest,
    sha256_of,
)
from export.runtime.bundle_tokenizer import run_tokenizer_asset
from export.runtime.packing import TRUNCATION_RULE
from export.serving import INPUT_NAMES, OUTPUT_NAME
from export.texts import load_texts
from export.verify import MAX_ACCURACY_DROP, MIN_AGREEMENT, verify_bundle

BUNDLE_FORMAT = "albert-tf-bundle/1"


class VerificationError(ValueError):
    """The exported model disagrees with the Keras model more than allowed."""


def _write_bytes(path: str, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)


def _file_entries(folder: str, tokenizer_file: str) -> dict:
    """sha256, size and role ("kind") of each bundle file."""
    kinds = {TFLITE_FILE: "model", LABELS_FILE: "labels", tokenizer_file: "tokenizer"}
    return {
        name: {
            "kind": kind,
            "sha256": sha256_of(os.path.join(folder, name)),
            "bytes": os.path.getsize(os.path.join(folder, name)),
        }
        for name, kind in kinds.items()
    }


def _run_summary(run, run_dir: str) -> dict:
    """What the manifest says about the run: no path of the building machine."""
    dataset = (getattr(run, "data", None) or {}).get("dataset", run.info.get("dataset"))
    if isinstance(dataset, str) and (os.sep in dataset or "/" in dataset):
        dataset = os.path.basename(dataset)  # older run.json files stored a data path here
    return {
        "name": os.path.basename(os.path.abspath(run_dir)),
        "task": run.task,
        "dataset": dataset,
        "metrics": run.info.get("metrics"),
    }


def _write_manifest(folder: str, manifest: dict) -> None:
    _write_bytes(
        os.path.join(folder, MANIFEST_FILE),
        (json.dumps(manifest, indent=2, default=str) + "\n").encode("utf-8"),
    )


# What an albert-tf bundle folder may hold; anything else in a folder means it
# is not ours to replace (a web app's manifest.json, say).
_BUNDLE_NAMES = frozenset((MANIFEST_FILE, TFLITE_FILE, LABELS_FILE, "spiece.model", "vocab.txt"))


def check_replaceable(out_dir: str) -> None:
    """Refuse `out_dir` unless it is absent, empty, or provably an albert-tf bundle:
    a manifest.json whose format is ours and nothing but bundle files beside it."""
    if not os.path.lexists(out_dir):
        return
    if not os.path.isdir(out_dir) or os.path.islink(out_dir):
        raise FileExistsError(
            f"--out {out_dir} exists and is not a folder; refusing to replace it."
        )
    names = set(os.listdir(out_dir))
    if not names:
        return
    foreign = sorted(names - _BUNDLE_NAMES)
    if foreign:
        raise FileExistsError(
            f"--out {out_dir} holds files that are not an albert-tf bundle's "
            f"({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}); refusing to "
            "replace it: choose a new or empty folder."
        )
    try:
        fmt = read_manifest(out_dir).get("format")
    except (OSError, ValueError, AttributeError):
        fmt = None
    if not (isinstance(fmt, str) and fmt.startswith("albert-tf-bundle/")):
        raise FileExistsError(
            f"--out {out_dir} is not an albert-tf bundle (its {MANIFEST_FILE} has no "
            f"'format': '{BUNDLE_FORMAT}'); refusing to replace it."
        )


def _replace_folder(staging: str, out_dir: str) -> None:
    """Move `staging` to `out_dir`, replacing an older bundle there."""
    check_replaceable(out_dir)  # again: the folder may have changed during the export
    if os.path.exists(out_dir):
        old = tempfile.mkdtemp(dir=os.path.dirname(out_dir), prefix=".old-bundle-")
        os.rmdir(old)
        os.replace(out_dir, old)
        os.replace(staging, out_dir)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(staging, out_dir)


def zip_bundle(bundle_dir: str, zip_path: str | None = None) -> str:
    """Zip a bundle folder (atomically); returns the zip's path."""
    zip_path = zip_path or bundle_dir.rstrip(os.sep) + ".zip"
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(zip_path)), suffix=".zip")
    os.close(fd)
    os.chmod(tmp, umask_mode(0o666))
    names = bundle_files(read_manifest(bundle_dir))
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name in (*names, MANIFEST_FILE):
            zf.write(os.path.join(bundle_dir, name), arcname=name)
    os.replace(tmp, zip_path)
    return zip_path


@dataclass(frozen=True)
class LongTextCut:
    """How a bundle cuts texts longer than its max_length (see the module docstring)."""

    entries: dict[str, Any]  # the manifest's "truncation" (and "truncation_rule")
    tokenizer: Any  # the run's tokenizer, cutting as the bundle does (verification)
    warning: str | None = None

    @property
    def head_pieces(self) -> int | None:
        return self.entries.get(TRUNCATION_RULE, {}).get("head_pieces")


def long_text_cut(tokenizer: Any, max_length: int, dynamic_length: bool) -> LongTextCut:
    """The cut a bundle of a run with `tokenizer` makes, at `max_length`."""

    budget = max_length - 2
    head_only = f"texts longer than {budget} pieces lose their end"
    truncation = getattr(tokenizer, "truncation", "head")
    if truncation == "head":
        return LongTextCut({"truncation": head_only}, tokenizer)
    head = head_pieces(budget, truncation, tokenizer.head_share)
    if dynamic_length:
        sentence = (
            f"texts longer than {budget} pieces keep their first {head} and last "
            f"{budget - head} pieces (the middle is dropped), in MediaPipe as in this runtime"
        )
        rule = {"keep": "head_tail", "head_pieces": head, "tail_pieces": budget - head}
        return LongTextCut({"truncation": sentence, TRUNCATION_RULE: rule}, tokenizer)
    why = (
        f"the run was trained on the first {head} and last {budget - head} pieces of long "
        "texts, but MediaPipe cuts a fixed-length model's input at the head: this bundle "
        "keeps the head only (export with --dynamic-length to keep the tail)"
    )
    head_cut = copy.copy(tokenizer)
    head_cut.truncation = "head"
    return LongTextCut({"truncation": f"{head_only} ({why})"}, head_cut, f"[export] note: {why}")


def _check_label_count(run, run_dir: str) -> None:
    """The run's labels and its model must agree before anything is converted."""
    width = int(run.model.output_shape[-1])
    if width != len(run.labels):
        raise ValueError(
            f"{os.path.join(run_dir, LABELS_FILE)} lists {len(run.labels)} labels but "
            f"{os.path.join(run_dir, 'model.keras')} outputs {width} scores"
        )


def _converted(
    clf: Any,
    asset: Any,
    head_pieces: int | None,
    settings: BundleSettings,
    calibration_texts: list[str],
) -> bytes:
    """The classifier as TFLite in `settings.mode`, tokenizer and labels as metadata."""
    mode, max_length = settings.mode, settings.max_length
    representative = None
    if mode in ("int8", "int16x8"):  # calibrated on inputs packed as the runtime packs them
        encoder = asset.encoder()
        encoder.head_pieces = head_pieces
        representative = representative_inputs(
            calibration_texts, encoder, max_length, settings.num_calibration
        )
    tflite = to_tflite(
        clf,
        mode,
        max_length,
        settings.dynamic_length,
        representative,
        clf.problem_type,
        head_pieces=head_pieces,
    )
    labels = clf.preprocessor.label_names
    return add_classifier_metadata(tflite, asset.data, labels, tokenizer_kind=asset.kind)


def _stage_files(
    staging: str,
    tflite: bytes,
    asset: Any,
    clf: Any,
    settings: BundleSettings,
    cut_entries: dict[str, Any],
    run_summary: dict[str, Any] | None,
) -> dict[str, Any]:
    """Write the model, tokenizer, labels and manifest (before verification) into
    `staging`; the manifest."""
    labels = list(clf.preprocessor.label_names)
    _write_bytes(os.path.join(staging, TFLITE_FILE), tflite)
    _write_bytes(os.path.join(staging, asset.file), asset.data)
    _write_bytes(
        os.path.join(staging, LABELS_FILE), "".join(f"{n}\n" for n in labels).encode("utf-8")
    )
    config = getattr(clf.backbone, "config", None)
    manifest = {
        "format": BUNDLE_FORMAT,
        "task": clf.problem_type,
        "labels": labels,
        "max_length": settings.max_length,
        "dynamic_length": bool(settings.dynamic_length),
        "quantization": settings.mode,
        "tokenizer": asset.entry(),
        "tensors": {
            "inputs": {name: name for name in INPUT_NAMES},
            "output": OUTPUT_NAME,
            "dtype": "int32 inputs [1, seq], float32 output [1, num_labels]",
        },
        **cut_entries,
        "config": config.to_dict() if config is not None else None,
        "run": run_summary,
        "files": _file_entries(staging, asset.file),
    }
    _write_manifest(staging, manifest)
    return manifest


@dataclass(frozen=True)
class BundleSettings:
    """How a classifier becomes a bundle (`to_bundle`, `export_run`, `albert-tf export`).

    Attributes:
        mode: quantization mode, one of `export.converter.MODES`.
        max_length: input length (default: the preprocessor's sequence length).
        dynamic_length: model inputs [1, None]: short texts run faster. None: dynamic
            for a model trained on head + tail cuts (a fixed-length bundle keeps only
            the head, since MediaPipe cuts its input), fixed otherwise.
        num_verify, num_calibration: how many held-out texts to verify on and
            training texts to calibrate int8/int16x8 on.
        use_mediapipe: also verify with MediaPipe's TextClassifier.
        min_agreement, max_accuracy_drop: what verification must meet.
        force: write the bundle even when verification fails.
        make_zip: also write `<out_dir>.zip`.
    """

    mode: str = "dynamic"
    max_length: int | None = None
    dynamic_length: bool | None = None
    num_verify: int = 200
    num_calibration: int = 200
    use_mediapipe: bool = True
    min_agreement: float = MIN_AGREEMENT
    max_accuracy_drop: float = MAX_ACCURACY_DROP
    force: bool = False
    make_zip: bool = False

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"Unknown quantization mode {self.mode!r}; choose one of {MODES}.")
        if self.max_length is not None and self.max_length < 3:  # 0 would mean the run's
            raise ValueError(
                f"max_length {self.max_length} leaves no room for text: it must be >= 3"
            )


def to_bundle(
    clf: Any,
    out_dir: str,
    verify_texts: list[str],
    verify_labels: list[Any] | None = None,
    calibration_texts: list[str] | None = None,
    settings: BundleSettings | None = None,
    log: Callable[[str], None] = print,
    run_summary: dict[str, Any] | None = None,
) -> str:
    """A `TextClassifier` as a verified bundle folder; returns the folder.

    The one export path: `albert-tf export RUN` and `export_run` come here.

    Args:
        clf: a `TextClassifier` (its preprocessor gives tokenizer, length and labels).
        out_dir: the bundle folder to (re)create.
        verify_texts: held-out texts the bundle is checked against Keras on.
        verify_labels: their labels (names or indices), for the accuracy check.
        calibration_texts: training texts for int8/int16x8 calibration (default
            `verify_texts`).
        settings: `BundleSettings` (default: dynamic-range weights, verified on 200
            texts by the edge runtime and MediaPipe).
        log: progress messages.
        run_summary: what the manifest says about the run that trained `clf`.

    Raises:
        VerificationError: agreement or accuracy below the thresholds (without `force`).

    Example:
    >>> to_bundle(clf, "bundle", verify_texts=["a fine film", "dull"])  # doctest: +SKIP
    'bundle'
    """
    s = settings or BundleSettings()
    start = time.time()
    check_replaceable(os.path.abspath(out_dir))  # before minutes of conversion, not after
    tokenizer = clf.preprocessor.tokenizer
    max_length = int(s.max_length or clf.preprocessor.sequence_length)
    dynamic = s.dynamic_length
    if dynamic is None:
        dynamic = getattr(tokenizer, "truncation", "head") == "head_tail"
    s = dataclasses.replace(s, max_length=max_length, dynamic_length=bool(dynamic))
    cut = long_text_cut(tokenizer, max_length, s.dynamic_length)
    if cut.warning:
        log(cut.warning)
    asset = run_tokenizer_asset(tokenizer)
    log(
        f"[export] converting to TFLite ({s.mode}, max_length={max_length}, "
        f"{asset.kind} tokenizer{', dynamic length' if s.dynamic_length else ''})"
    )
    tflite = _converted(clf, asset, cut.head_pieces, s, list(calibration_texts or verify_texts))
    gold = _gold(clf, verify_labels, s.num_verify)
    out_dir = os.path.abspath(out_dir)
    os.makedirs(os.path.dirname(out_dir), exist_ok=True)
    staging = make_staging_dir(os.path.dirname(out_dir), ".tmp-bundle-")
    try:
        manifest = _stage_files(staging, tflite, asset, clf, s, cut.entries, run_summary)
        texts = list(verify_texts)[: s.num_verify]
        log(
            f"[export] verifying on {len(texts)} held-out texts (Keras, LiteRT"
            f"{', MediaPipe' if s.use_mediapipe else ''})"
        )
        report = verify_bundle(
            clf, cut.tokenizer, staging, texts, gold, task=clf.problem_type,
            max_length=max_length, use_mediapipe=s.use_mediapipe,
            min_agreement=s.min_agreement, max_accuracy_drop=s.max_accuracy_drop,
        )  # fmt: skip
        _finish(staging, out_dir, manifest, report, s.force, len(tflite), start)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _log_written(log, out_dir, len(tflite), report)
    if s.make_zip:
        log(f"[export] wrote {zip_bundle(out_dir)}")
    return out_dir


def _gold(clf: Any, labels: list[Any] | None, num_verify: int) -> list[int] | None:
    """Label indices of the verification texts (names mapped by the preprocessor)."""
    if labels is None or clf.problem_type != "single_label":
        return None
    labels = list(labels)[:num_verify]
    if all(isinstance(v, int) and not isinstance(v, bool) for v in labels):
        return labels
    return clf.preprocessor.encode_labels(labels).tolist()


def _finish(staging, out_dir, manifest, report, force, model_bytes, start) -> None:
    """Record the verification in the manifest and move the bundle into place."""
    report["forced"] = bool(force and not report["passed"])
    manifest["verification"] = report
    manifest["model_size_bytes"] = model_bytes
    manifest["export_seconds"] = round(time.time() - start, 1)
    _write_manifest(staging, manifest)
    if not report["passed"] and not force:
        raise VerificationError(
            "Exported model failed verification; nothing written to "
            f"{out_dir}: {'; '.join(report['failures'])} (use --force to write it anyway)"
        )
    _replace_folder(staging, out_dir)


def _log_written(log, out_dir: str, model_bytes: int, report: dict) -> None:
    mediapipe = report.get("mediapipe")
    log(
        f"[export] wrote {out_dir} ({model_bytes / 1e6:.2f} MB model); "
        f"runtime agreement {report['runtime']['agreement']:.3f}"
        + (f", MediaPipe agreement {mediapipe['agreement']:.3f}" if mediapipe else "")
    )


def export_run(
    run_dir: str,
    out_dir: str,
    texts_file: str | None = None,
    text_column: str = "text",
    label_column: str = "label",
    settings: BundleSettings | None = None,
    log: Callable[[str], None] = print,
) -> str:
    """Export a run folder to a verified bundle (`to_bundle`); returns the bundle folder.

    The held-out and calibration texts are the ones training kept in the run
    folder (held_out.json), or `texts_file`: CSV/TSV/JSONL (with
    `text_column`/`label_column`, as `albert-tf train` reads them), or
    `label<TAB>text` / plain text lines.
    """
    check_replaceable(os.path.abspath(out_dir))  # before loading a model, not after
    run = load_run(run_dir)
    _check_label_count(run, run_dir)
    clf = run.classifier
    label_index = {label: i for i, label in enumerate(run.labels)}
    multi_label = run.problem_type == "multi_label"
    texts = load_texts(run_dir, texts_file, label_index, text_column, label_column, multi_label)
    log(f"[export] {run_dir}: held-out texts: {texts.source}")
    return to_bundle(
        clf,
        out_dir,
        verify_texts=texts.held_out,
        verify_labels=texts.gold,
        calibration_texts=texts.calibration,
        settings=settings,
        log=log,
        run_summary=_run_summary(run, run_dir),
    )
