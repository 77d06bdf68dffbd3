"""Read labelled text from CSV, TSV and JSONL files into a `TextDataset`.

Documented handling of bad input:
- a path that is not a regular file (a folder, a named pipe, /dev/zero or a link to
  it): `ValueError` naming it, before anything opens it (`files.check_regular_file`);
- empty file, header without rows, missing column/field: `DataError` naming the
  file (and the columns that do exist);
- bytes that are not UTF-8: `DataError` naming the file, byte offset and line,
  or, with `encoding_errors="replace"`, U+FFFD in their place and a warning
  with the count;
- labels are stripped of surrounding spaces ('pos ' is 'pos'); labels that differ
  only in case ('pos', 'Pos') are a `DataError` naming both and their lines, not
  two classes;
- rows whose text is empty or blank: skipped, counted in `skipped_empty` and
  reported in a warning with their line numbers;
- a malformed JSONL line or a CSV row with the wrong number of fields:
  `DataError` naming the line.
"""

from __future__ import annotations

import csv
import io
import json
import os
import sys
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from albert_tf.io.files import check_regular_file, read_input_bytes


class DataError(ValueError):
    """A data file cannot be used as it is; the message says where and why."""


@dataclass
class TextDataset:
    """Texts (and optional second texts) with their labels.

    Attributes:
        texts: the first (or only) text of each example.
        labels: one label per example (str; a list of str for multi-label
            data), or `None` for unlabelled data.
        pairs: the second text of each example for pair tasks, else `None`.
        source: where the examples came from, used in error messages.
        rows: the line of each example in `source` (1-based), for messages.
        skipped_empty: rows skipped because their text was empty.
        replaced_chars: undecodable bytes replaced by U+FFFD while reading.

    Example:
    >>> ds = TextDataset(["good", "bad"], ["pos", "neg"])
    >>> len(ds), ds.subset([1]).labels
    (2, ['neg'])
    """

    texts: list[str]
    labels: list[Any] | None
    pairs: list[str] | None = None
    source: str = "data"
    rows: list[int] | None = None
    skipped_empty: int = 0
    replaced_chars: int = 0
    notes: list[str] = field(default_factory=list)

    def __post_init__(self):
        n = len(self.texts)
        for name in ("labels", "pairs", "rows"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"{name} has {len(value)} items but texts has {n}")

    def __len__(self) -> int:
        return len(self.texts)

    def row_name(self, index: int) -> str:
        """Where example `index` came from, e.g. "line 17 of test.csv"."""
        if self.rows is not None:
            return f"line {self.rows[index]} of {self.source}"
        return f"example {index} of {self.source}"

    def subset(self, indices: Sequence[int]) -> TextDataset:
        """The examples at `indices`, in that order (keeps source and rows)."""
        idx = [int(i) for i in indices]
        return TextDataset(
            texts=[self.texts[i] for i in idx],
            labels=None if self.labels is None else [self.labels[i] for i in idx],
            pairs=None if self.pairs is None else [self.pairs[i] for i in idx],
            source=self.source,
            rows=None if self.rows is None else [self.rows[i] for i in idx],
        )


def read_table(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str | None = "label",
    pair_column: str | None = None,
    *,
    encoding_errors: str = "strict",
    label_separator: str | None = None,
) -> TextDataset:
    """Read a file by its extension: .csv, .tsv/.tab/.txt (tab-separated) or .jsonl/.ndjson.

    Example:
    >>> ds = read_table("reviews.csv", text_column="review", label_column="sentiment")
    """
    if os.path.lexists(path):  # before the extension: /dev/zero has none, a FIFO hangs open()
        check_regular_file(path)
    ext = os.path.splitext(os.fspath(path))[1].lower()
    kwargs = dict(
        text_column=text_column,
        label_column=label_column,
        pair_column=pair_column,
        encoding_errors=encoding_errors,
        label_separator=label_separator,
    )
    if ext == ".csv":
        return read_csv(path, **kwargs)
    if ext in (".tsv", ".tab", ".txt"):
        return read_tsv(path, **kwargs)
    if ext in (".jsonl", ".ndjson", ".json"):
        return read_jsonl(path, **kwargs)
    raise DataError(f"{path}: unknown file type {ext!r}; use .csv, .tsv or .jsonl")


def read_csv(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str | None = "label",
    pair_column: str | None = None,
    *,
    delimiter: str = ",",
    quoting: int = csv.QUOTE_MINIMAL,
    encoding_errors: str = "strict",
    label_separator: str | None = None,
) -> TextDataset:
    """Read a delimited file with a header row.

    Args:
        text_column, label_column, pair_column: header names (`label_column=None`
            for unlabelled data, `pair_column` for text pairs).
        encoding_errors: "strict" (a non-UTF-8 byte is an error) or "replace".
        label_separator: for multi-label data, split each label cell on this
            string (e.g. "|") into a list of labels.

    Example:
    >>> ds = read_csv("train.csv", text_column="sentence", label_column="label")
    """
    path = os.fspath(path)
    text, replaced = _read_text(path, encoding_errors)
    name = os.path.basename(path)
    if not text.strip():
        raise DataError(f"{path} is empty: expected a header row and data rows")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, quoting=quoting)
    with _big_fields():
        try:
            header = next(reader)
        except csv.Error as e:
            raise DataError(f"line 1 of {path}: {e}") from e
        header = [h.strip() for h in header]
        _check_unique_columns(header, path)
        wanted = {"text": text_column, "label": label_column, "pair": pair_column}
        where = {}
        for role, column in wanted.items():
            if column is None:
                continue
            if column not in header:
                raise DataError(
                    f"{path} has no {role} column {column!r} "
                    f"(columns: {', '.join(repr(h) for h in header)})"
                )
            where[role] = header.index(column)
        records = []
        line = reader.line_num + 1
        while True:
            try:
                fields = next(reader)
            except StopIteration:
                break
            except csv.Error as e:
                raise DataError(f"line {line} of {path}: {e}") from e
            if fields:  # csv yields [] for blank lines
                if len(fields) != len(header):
                    raise DataError(
                        f"line {line} of {path} has {len(fields)} fields but the header has "
                        f"{len(header)} (a stray {delimiter!r} or quote in a text?)"
                    )
                records.append((line, {role: fields[i] for role, i in where.items()}))
            line = reader.line_num + 1
    if not records:
        raise DataError(f"{path} has a header but no data rows")
    return _build(
        records, name, label_column is not None, pair_column is not None, replaced, label_separator
    )


def _check_unique_columns(header: list[str], path: str) -> None:
    """A repeated header name would silently pick one of its columns."""
    for column in dict.fromkeys(header):
        positions = [i + 1 for i, h in enumerate(header) if h == column]
        if len(positions) > 1:
            raise DataError(
                f"line 1 of {path}: column {column!r} appears {len(positions)} times "
                f"(columns {', '.join(map(str, positions))}); give each column its own name"
            )


def read_tsv(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str | None = "label",
    pair_column: str | None = None,
    *,
    quoted: bool = False,
    encoding_errors: str = "strict",
    label_separator: str | None = None,
) -> TextDataset:
    """Read a tab-separated file with a header row.

    Fields are not quoted by default (quotes are kept as text, as in most TSV
    corpora); pass `quoted=True` for files written with CSV-style quoting.
    """
    return read_csv(
        path,
        text_column,
        label_column,
        pair_column,
        delimiter="\t",
        quoting=csv.QUOTE_MINIMAL if quoted else csv.QUOTE_NONE,
        encoding_errors=encoding_errors,
        label_separator=label_separator,
    )


def read_jsonl(
    path: str | os.PathLike,
    text_column: str = "text",
    label_column: str | None = "label",
    pair_column: str | None = None,
    *,
    encoding_errors: str = "strict",
    label_separator: str | None = None,
) -> TextDataset:
    """Read one JSON object per line; blank lines are ignored.

    Scalar labels are turned into str (so `1` and `"1"` are one label); a list
    label (multi-label data) becomes a list of str.

    Example:
    >>> ds = read_jsonl("train.jsonl", text_column="question", pair_column="context")
    """
    path = os.fspath(path)
    text, replaced = _read_text(path, encoding_errors)
    if not text.strip():
        raise DataError(f"{path} is empty: expected one JSON object per line")
    wanted = {"text": text_column, "label": label_column, "pair": pair_column}
    records = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise DataError(f"line {line_no} of {path} is not valid JSON: {e}") from e
        if not isinstance(obj, dict):
            raise DataError(
                f"line {line_no} of {path} is a JSON {type(obj).__name__}, expected an object"
            )
        rec = {}
        for role, key in wanted.items():
            if key is None:
                continue
            if key not in obj:
                raise DataError(
                    f"line {line_no} of {path} has no {role} field {key!r} "
                    f"(fields: {', '.join(repr(k) for k in obj)})"
                )
            value = obj[key]
            if role == "label":
                value = [str(v) for v in value] if isinstance(value, list) else _label_str(value)
            elif value is None:
                value = ""
            elif not isinstance(value, str):
                raise DataError(
                    f"line {line_no} of {path}: {role} field {key!r} is a "
                    f"{type(value).__name__}, expected a string"
                )
            rec[role] = value
        records.append((line_no, rec))
    return _build(
        records,
        os.path.basename(path),
        label_column is not None,
        pair_column is not None,
        replaced,
        label_separator,
    )


def _label_str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _build(
    records, name: str, labelled: bool, paired: bool, replaced: int, separator: str | None
) -> TextDataset:
    texts, labels, pairs, rows, empty_rows = [], [], [], [], []
    for line, rec in records:
        if not rec["text"].strip():
            empty_rows.append(line)
            continue
        if labelled:
            label = rec["label"]
            if isinstance(label, str) and not label.strip():
                raise DataError(f"line {line} of {name}: the label is empty")
            if isinstance(label, str) and ("\n" in label or "\r" in label):
                # labels.txt holds one label per line: this one would become two
                raise DataError(f"line {line} of {name}: the label {label!r} holds a line break")
            if isinstance(label, str):
                label = label.strip()
                if separator is not None:  # multi-label: "sports|politics"
                    label = [x.strip() for x in label.split(separator) if x.strip()]
            labels.append(label)
        texts.append(rec["text"])
        if paired:
            pairs.append(rec["pair"])
        rows.append(line)
    if not texts:
        raise DataError(f"{name}: every row has an empty text ({len(empty_rows)} rows)")
    if labelled:
        _check_label_case(labels, rows, name)
    ds = TextDataset(
        texts=texts,
        labels=labels if labelled else None,
        pairs=pairs if paired else None,
        source=name,
        rows=rows,
        skipped_empty=len(empty_rows),
        replaced_chars=replaced,
    )
    if empty_rows:
        shown = ", ".join(map(str, empty_rows[:10])) + (" ..." if len(empty_rows) > 10 else "")
        note = f"{name}: skipped {len(empty_rows)} rows with an empty text (lines {shown})"
        ds.notes.append(note)
        warnings.warn(note, stacklevel=3)
    return ds


def _check_label_case(labels: list[Any], rows: list[int], name: str) -> None:
    """Labels that differ only in case ('pos', 'Pos') are an error naming both: two
    classes a person reads as one would split the data silently, and merging them
    would hide a typo (surrounding spaces are stripped: 'pos ' is 'pos')."""
    first: dict[str, tuple[str, int]] = {}
    for label, line in zip(labels, rows):
        for item in label if isinstance(label, list) else [label]:
            if not isinstance(item, str) or _is_number(item):
                continue  # numbers have no case ("1e5", "1E5" are regression targets)
            seen = first.setdefault(item.casefold(), (item, line))
            if seen[0] != item:
                raise DataError(
                    f"line {line} of {name}: label {item!r} differs from {seen[0]!r} (line "
                    f"{seen[1]}) only in case; make them one label, or two that differ in "
                    "more than case"
                )


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _read_text(path: str, encoding_errors: str) -> tuple[str, int]:
    if encoding_errors not in ("strict", "replace"):
        raise ValueError(f"encoding_errors must be 'strict' or 'replace', got {encoding_errors!r}")
    check_regular_file(path)
    raw = read_input_bytes(path, keep=False)  # training hashed these very bytes a moment ago
    if raw.startswith(b"\xef\xbb\xbf"):  # a BOM from spreadsheet exports
        raw = raw[3:]
    try:
        return raw.decode("utf-8"), 0
    except UnicodeDecodeError as e:
        if encoding_errors == "strict":
            line = raw.count(b"\n", 0, e.start) + 1
            raise DataError(
                f"{path}: byte {e.start} (line {line}, value 0x{raw[e.start]:02x}) is not "
                "UTF-8; re-save the file as UTF-8, or pass --encoding-errors replace "
                "(Python: encoding_errors='replace') to read such bytes as U+FFFD"
            ) from None
    text = raw.decode("utf-8", errors="replace")
    replaced = text.count("\ufffd") - raw.count("\ufffd".encode())
    warnings.warn(f"{path}: replaced {replaced} undecodable bytes with U+FFFD", stacklevel=3)
    return text, replaced


class _big_fields:
    """csv's default 128 KB field limit would reject a long document."""

    def __enter__(self):
        self._old = csv.field_size_limit()
        limit = sys.maxsize
        while True:
            try:
                csv.field_size_limit(limit)
                break
            except OverflowError:
                limit //= 10

    def __exit__(self, *exc):
        csv.field_size_limit(self._old)
