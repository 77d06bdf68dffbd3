"""Held-out texts (verification) and training texts (int8 calibration) for an export.

Sources, in order:
1. a texts file given by the user (`--texts`): CSV/TSV/JSONL read as `albert-tf train`
   reads them (same reader, `text_column`/`label_column`, defaults "text"/"label"; a
   TSV counts as a table when its header names the text column), or the line format:
   `label<TAB>text` lines, or one text per line without labels;
2. the data recorded in run.json's "data" (schema version 2): the packaged data set it
   names, or its test (else validation) file, read with the recorded columns and
   encoding; when validation/test were carved out of the train file ("split"), that
   split is made again, exactly, and its test part is used;
3. an old run.json: "dataset" holding a packaged name or the train file's path (then the
   default 80/10/10 split, seed 0, that `albert-tf train` used).
Calibration texts come from the training data (a texts file is used for both).

Example:
>>> texts = load_texts(run, None, {"neg": 0, "pos": 1})  # doctest: +SKIP
>>> texts.source, len(texts.held_out)  # doctest: +SKIP
('the test part of the split of reviews.csv (fractions 0.8/0.1/0.1, seed 0)', 120)
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

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
    run,
    texts_file: str | None,
    label_index: dict[str, int],
    text_column: str = "text",
    label_column: str = "label",
) -> ExportTexts:
    """Calibration and held-out texts for exporting `run` (see the module docstring).

    Raises:
        FileNotFoundError: the texts file, or a file run.json records, is missing.
        ValueError: a malformed file, a missing column, a label the run never saw
            (naming file and line), or nothing to verify on.
    """
    multi_label = _problem_type(run) == "multi_label"
    if texts_file:
        if _is_table(texts_file, text_column):
            data = _read(texts_file, text_column, label_column)
            texts, gold = (
                data.texts,
                (None if multi_label else _encode(data, label_index, texts_file)),
            )
        else:
            texts, gold = read_texts_file(texts_file, label_index)
        source = f"{len(texts)} texts of {os.path.basename(texts_file)}"
        return ExportTexts(texts, texts, None if multi_label else gold, source)
    recorded = _recorded_data(run)
    if recorded.get("dataset"):
        found = _from_dataset(recorded["dataset"], label_index)
        if found is not None:
            return found
    if recorded.get("train") or recorded.get("test") or recorded.get("validation"):
        found = _from_files(recorded, label_index, multi_label)
        tested = (run.info.get("metrics") or {}).get("test", {}).get("num_examples")
        if recorded.get("split") and tested is not None and tested != len(found.held_out):
            # The same split of a changed file is another split: say so beside the figures.
            found.source += (
                f"; WARNING: training tested on {tested} texts, so the file has changed "
                "since and some of these texts may have been trained on"
            )
        return found
    raise ExportTextsError(
        f"No held-out texts: run.json in {run.path} records no data file or packaged "
        f"data set to verify on; {NO_TEXTS_HINT}."
    )


def _is_table(path: str, text_column: str) -> bool:
    ext = os.path.splitext(path)[1].lower()
    if ext in TABLE_EXTENSIONS:
        return True
    if ext not in TAB_EXTENSIONS or not os.path.exists(path):
        return False
    with open(path, encoding="utf-8", errors="replace") as f:
        header = next((line for line in f if line.strip()), "")
    return text_column in [h.strip() for h in header.rstrip("\n").split("\t")]


def _problem_type(run) -> str:
    problem_type = getattr(run, "problem_type", None) or run.info.get("problem_type")
    return str(problem_type or run.info.get("task", "single_label"))


def _recorded_data(run) -> dict[str, Any]:
    """run.json's "data" dict (an old run.json's "dataset"/"text_column" turned into one)."""
    from albert_tf.data.split import DEFAULT_SPLIT

    data = dict(getattr(run, "data", None) or run.info.get("data") or {})
    old = run.info.get("dataset")  # run.json before version 2; load_run keeps the old keys
    if not data and isinstance(old, str) and old:
        data = {"dataset": old} if not os.path.splitext(old)[1] else {"train": old}
        for key in ("text_column", "label_column"):
            data[key] = run.info.get(key) or data.get(key)
    only_train = data.get("train") and not any(data.get(k) for k in ("validation", "test", "split"))
    if only_train and old:
        # `albert-tf train --data FILE` before version 2 recorded only the file; it
        # split off validation and test with the default split, made again here.
        data["split"] = {**DEFAULT_SPLIT, "assumed": True}
    return data


def _read(path: str, text_column: str, label_column: str, pair_column=None, errors="strict"):
    from albert_tf.data.readers import read_table

    if not os.path.exists(path):
        raise FileNotFoundError(f"Texts file not found: {path}")
    return read_table(
        path, text_column, label_column, pair_column, encoding_errors=errors or "strict"
    )


def _encode(data, label_index: dict[str, int], path: str) -> list[int]:
    """Label names -> the run's indices; an unseen label names file and line."""
    from albert_tf.data.labels import LabelVocabulary

    names = sorted(label_index, key=label_index.get)
    return LabelVocabulary(names).encode(data.labels, source=path, rows=data.rows).tolist()


def _from_files(recorded: dict[str, Any], label_index: dict[str, int], multi_label: bool):
    """Held-out texts from the files run.json records, read as training read them."""
    from albert_tf.data.split import split_dataset

    columns = (
        recorded.get("text_column") or "text",
        recorded.get("label_column") or "label",
        recorded.get("pair_column"),
        recorded.get("encoding_errors") or "strict",
    )
    split = recorded.get("split")
    train = None
    if recorded.get("train"):
        train = _read_recorded(recorded["train"], "train", columns)
    if split and train is not None:
        fractions, seed = list(split["fractions"]), int(split["seed"])
        parts = split_dataset(train, fractions, seed=seed)
        # The last part (test) unless it came out empty (a tiny file): then the one before.
        held_at = len(parts) - 1 if len(parts[-1]) or len(parts) == 2 else len(parts) - 2
        train, held_part = parts[0], parts[held_at]
        name = (
            ("train", "validation", "test")[held_at] if len(parts) <= 3 else f"part {held_at + 1}"
        )
        shown = "/".join(f"{f:g}" for f in fractions)
        source = (
            f"{len(held_part)} texts, the {name} part of the split of "
            f"{os.path.basename(recorded['train'])} (fractions {shown}, seed {seed}"
            f"{'; assumed: run.json before version 2 recorded no split' if split.get('assumed') else ''})"
        )
        path = recorded["train"]
    else:
        key = "test" if recorded.get("test") else "validation"
        if not recorded.get(key):
            raise ExportTextsError(
                f"run.json records the train file {recorded.get('train')} but no validation "
                f"or test file or split to take held-out texts from; {NO_TEXTS_HINT}."
            )
        path = recorded[key]
        held_part = _read_recorded(path, key, columns)
        source = f"{len(held_part)} texts of the run's {key} file {os.path.basename(path)}"
    gold = None if multi_label else _encode(held_part, label_index, path)
    calibration = train.texts if train is not None else held_part.texts
    return ExportTexts(list(calibration), list(held_part.texts), gold, source)


def _read_recorded(path: str, role: str, columns: tuple):
    if not os.path.exists(path):
        raise FileNotFoundError(
            f"run.json records the {role} file {path}, which does not exist (moved or "
            f"deleted?); {NO_TEXTS_HINT}."
        )
    return _read(path, *columns)


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


def _split_parts(split: Any) -> tuple[list[str], list[Any]] | None:
    if split is None:
        return None
    if isinstance(split, tuple) and len(split) == 2:
        return list(split[0]), list(split[1])
    if isinstance(split, dict):
        for tk, lk in (("texts", "labels"), ("text", "label")):
            if tk in split and lk in split:
                return list(split[tk]), list(split[lk])
    if hasattr(split, "texts") and hasattr(split, "labels"):
        return list(split.texts), list(split.labels)
    return None


def _get(obj: Any, key: str) -> Any:
    if isinstance(obj, dict):
        return obj.get(key)
    return getattr(obj, key, None)


def _from_dataset(dataset: Any, label_index: dict[str, int]) -> ExportTexts | None:
    name = dataset.get("name") if isinstance(dataset, dict) else dataset
    if not isinstance(name, str):
        return None
    from albert_tf.datasets import load

    data = load(name)
    train = _split_parts(_get(data, "train"))
    held, part = None, None
    for part in ("test", "validation", "dev"):
        held = _split_parts(_get(data, part))
        if held:
            break
    if train is None or held is None:
        return None
    names = getattr(data, "label_names", None) or _get(data, "label_names")

    def to_index(label):
        if isinstance(label, str):
            return label_index[label]
        if names is not None and names[int(label)] in label_index:
            return label_index[names[int(label)]]
        return int(label)

    gold = [to_index(label) for label in held[1]]
    return ExportTexts(train[0], held[0], gold, f"{len(held[0])} texts, the {part} split of {name}")
