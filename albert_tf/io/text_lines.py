"""Plain text, one text per line, from a file or stdin, decoded line by line so that a
byte that is not UTF-8 is reported with its line. Standard library only: the edge
runtime's `albert-tf predict` reads its input with it too.

What can be read: a training input (`pipes=False`, e.g. `train --unlabelled`) must be
a regular file, as every training input must (`albert_tf.io.files.check_regular_file`:
a named pipe would hang, /dev/zero would fill memory). `predict --file` and `bench
--file` (`pipes=True`) read whatever can be read once: a file, stdin ('-'), a pipe
(`--file <(grep ... texts.txt)`, i.e. /dev/fd/N) or a named pipe (which, as `cat`
does, waits for a writer). Every source is read with bounds instead: a line longer
than `MAX_LINE_BYTES`, or more than `MAX_INPUT_BYTES` in all, is an error naming the
line, so /dev/zero or `yes` ends with one line, not with memory running out.

Example:
>>> read_lines("texts.txt")  # doctest: +SKIP
['a fine film', 'dull and long']
"""

from __future__ import annotations

import os
import stat
import sys
from typing import BinaryIO

from albert_tf.io.files import check_regular_file

# The longest line read (16 MiB: a book is a few MiB; predict keeps the first
# max_length pieces of a text anyway) and the most read in all (1 GiB).
MAX_LINE_BYTES = 16 << 20
MAX_INPUT_BYTES = 1 << 30


def decode_line(raw: bytes, where: str, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where}: byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8; "
            "save the file as UTF-8 or pass --encoding-errors replace"
        ) from None


def _raw_lines(stream: BinaryIO, name: str) -> list[bytes]:
    """The stream's lines (without their line ends), each and all of them bounded."""
    lines, total = [], 0
    while True:
        raw = stream.readline(MAX_LINE_BYTES + 1)
        if not raw:
            return lines
        total += len(raw)
        if len(raw) > MAX_LINE_BYTES:
            raise ValueError(
                f"line {len(lines) + 1} of {name} is longer than {MAX_LINE_BYTES >> 20} MiB "
                "(no line end): not a text file"
            )
        if total > MAX_INPUT_BYTES:
            raise ValueError(
                f"{name} holds more than {MAX_INPUT_BYTES >> 30} GiB (line {len(lines) + 1}); "
                "split it into smaller files"
            )
        lines.append(raw.rstrip(b"\n").rstrip(b"\r"))


def _open_texts(path: str, pipes: bool) -> BinaryIO:
    if not pipes:
        check_regular_file(path, "Texts file")
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"Texts file not found: {path}") from None
    if stat.S_ISDIR(mode):
        raise ValueError(f"{path} is a folder, not a texts file; name one file in it")
    return open(path, "rb")  # noqa: SIM115  (the caller closes it)


def read_lines(
    path: str, errors: str = "strict", *, keep_blank: bool = False, pipes: bool = False
) -> list[str]:
    """The lines of a file ('-': stdin), decoded as UTF-8 line by line, so a bad byte
    is reported with its line number; blank lines are dropped unless `keep_blank`
    (then they come back as "", one per input line). `pipes`: see the module
    docstring."""
    if path == "-":
        raw_lines, name = _raw_lines(sys.stdin.buffer, "stdin"), "stdin"
    else:
        with _open_texts(path, pipes) as f:
            raw_lines, name = _raw_lines(f, path), path
    lines = []
    for number, raw in enumerate(raw_lines, start=1):
        line = decode_line(raw, f"line {number} of {name}", errors)
        if line.strip():
            lines.append(line)
        elif keep_blank:
            lines.append("")
    return lines
