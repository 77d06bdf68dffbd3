"""Held-out texts (verification) and training texts (int8 calibration) for an export.

Sources, in order:
1. a texts file given by the user (`--texts`): CSV/TSV/JSONL read as `albert-tf train`
   reads them (same reader, `text_column`/`label_column`, defaults "text"/"label"; a
   TSV counts as a table when its header names the text column), or the line format:
   `label<TAB>text` lines, or one text per line without labels; used for both;
2. the run folder's held_out.json, which training wrote: its test texts (else its
   validation texts) with their labels, and its calibration texts. Export never
   reads or splits the user's data file again.
A run trained before held_out.json existed needs `--texts`.

Example:
>>> texts = load_texts("runs/reviews", None, {"neg": 0, "pos": 1})  # doctest: +SKIP
>>> texts.source, len(texts.held_out)  # doctest: +SKIP
('the 120 test texts training held out (held_out.json)', 120)
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from albert_tf.data.labels import LabelVocabulary
from albert_tf.data.readers import read_table
from albert_tf.training.run_folder import HELD_OUT_FILE, RunFolder

# Always read with the table reader (header row).
TABLE_EXTENSIONS = (".csv", ".jsonl", ".ndjson", ".json")
# Tab-separated: a table when the header names the text column, else the line format
# (`label<TAB>text` lines), which --texts took before it read tables.
TAB_EXTENSIONS = (".tsv", ".tab")
NO_TEXTS_HINT = "pass held-out texts with --texts FILE (CSV/TSV/JSONL, or 'label<TAB>text' lines)"


@dataclass
class ExportTexts:
    """What `load_texts` returns.

    Attributes:
        calibration: training texts (int8/int16x8 calibration).
        held_out: texts the export is verified on.
        gold: their label indices, or None (unlabelled, or a multi-label run).
        source: where `held_out` came from, in words (file names without folders,
            so it can go into a bundle's manifest).
    """

    calibration: list[str]
    held_out: list[str]
    gold: list[int] | None
    source: str


class ExportTextsError(ValueError):
    """No usable held-out texts; the message says why and what to pass."""


def load_texts(
    run_dir: str,
    texts_file: str | None,
    label_index: dict[str, int],
    text_column: str = "text",
    label_column: str = "label",
    multi_label: bool = False,
) -> ExportTexts:
    """Calibration and held-out texts for exporting the run in `run_dir` (see the
    module docstring).

    Raises:
        FileNotFoundError: the texts file is missing.
        ValueError: a malformed file, a missing column, a label the run never saw
            (naming file and line), or nothing to verify on.
    """
    if texts_file:
        if _is_table(texts_file, text_column):
            data = _read(texts_file, text_column, label_column)
            texts = data.texts
            gold = None if multi_label else _encode(data, label_index, texts_file)
        else:
            texts, gold = read_texts_file(texts_file, label_index)
        source = f"{len(texts)} texts of {os.path.basename(texts_file)}"
        return ExportTexts(texts, texts, None if multi_label else gold, source)
    held = RunFolder(run_dir).read_held_out()
    if held is None:
        raise ExportTextsError(
            f"No held-out texts: {run_dir} has no {HELD_OUT_FILE} (trained before runs "
            f"kept them); {NO_TEXTS_HINT}."
        )
    return _from_held_out(held, label_index, multi_label, os.path.join(run_dir, HELD_OUT_FILE))


def _from_held_out(held: dict, label_index: dict[str, int], multi_label: bool, path: str):
    name = "test" if held.get("test") else "validation"
    part = held.get(name)
    if not part or not part.get("texts"):
        raise ExportTextsError(f"{path} holds no validation or test texts; {NO_TEXTS_HINT}.")
    gold = None
    if not multi_label and held.get("label_names"):
        names = held["label_names"]
        try:
            gold = [label_index[names[int(i)]] for i in part["targets"]]
        except (KeyError, IndexError, ValueError, TypeError) as e:
            raise ValueError(f"{path}: its {name} labels are not the model's ({e})") from e
    texts = [str(t) for t in part["texts"]]
    source = f"the {len(texts)} {name} texts training held out ({HELD_OUT_FILE})"
    return ExportTexts(list(held["calibration"]) or texts, texts, gold, source)


def _is_table(path: str, text_column: str) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if ext in TABLE_EXTENSIONS:
        return True
    if ext not in TAB_EXTENSIONS or not os.path.exists(path):
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        header = next((line for line in f if line.strip()), "")
    return text_column in [h.strip() for h in header.rstrip("\n").split("\t")]


def _read(path: str, text_column: str, label_column: str, pair_column=None, errors="strict"):

    if not os.path.exists(path):
        raise FileNotFoundError(f"Texts file not found: {path}")
    return read_table(
        path, text_column, label_column, pair_column, encoding_errors=errors or "strict"
    )


def _encode(data, label_index: dict[str, int], path: str) -> list[int]:
    """Label names -> the run's indices; an unseen label names file and line."""

    names = sorted(label_index, key=label_index.get)
    return LabelVocabulary(names).encode(data.labels, source=path, rows=data.rows).tolist()


def read_texts_file(path: str, label_index: dict[str, int]) -> tuple[list[str], list[int] | None]:
    """`label<TAB>text` lines (labels must be the run's) or plain text lines.

    A file whose lines all start with `field<TAB>` and whose first fields include
    labels of the run is labelled: any other first field there is an unseen label.
    """
    if not os.path.exists(path):
        raise FileNotFoundError(f"Texts file not found: {path}")
    with open(path, encoding="utf-8") as f:
        numbered = [(n, line.rstrip("\n")) for n, line in enumerate(f, 1) if line.strip()]
    if not numbered:
        raise ValueError(f"Texts file is empty: {path}")
    tabbed = all("\t" in line for _, line in numbered)
    firsts = [line.split("\t", 1)[0] for _, line in numbered] if tabbed else []
    if not any(first in label_index for first in firsts):
        return [line for _, line in numbered], None
    for (n, _), first in zip(numbered, firsts):
        if first not in label_index:
            raise ValueError(
                f"line {n} of {path}: label {first!r} not seen in training "
                f"(known: {', '.join(sorted(label_index, key=label_index.get))})"
            )
    return [line.split("\t", 1)[1] for _, line in numbered], [label_index[x] for x in firsts]
