"""Plain text, one text per line, from a file or stdin, decoded line by line so that a
byte that is not UTF-8 is reported with its line. Standard library only: the edge
runtime's `albert-tf predict` reads its input with it too.

Example:
>>> read_lines("texts.txt")  # doctest: +SKIP
['a fine film', 'dull and long']
"""

from __future__ import annotations

import os
import sys


def decode_line(raw: bytes, where: str, errors: str) -> str:
    try:
        return raw.decode("utf-8", errors)
    except UnicodeDecodeError as e:
        raise ValueError(
            f"{where}: byte 0x{raw[e.start]:02x} at column {e.start + 1} is not UTF-8; "
            "save the file as UTF-8 or pass --encoding-errors replace"
        ) from None


def read_lines(path: str, errors: str = "strict") -> list[str]:
    """Non-blank lines of a file ('-': stdin), decoded as UTF-8 line by line, so a
    bad byte is reported with its line number."""
    if path == "-":
        data, name = sys.stdin.buffer.read(), "stdin"
    elif not os.path.isfile(path):
        raise FileNotFoundError(f"Texts file not found: {path}")
    else:
        with open(path, "rb") as f:
            data, name = f.read(), path
    lines = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        line = decode_line(raw.rstrip(b"\r"), f"line {number} of {name}", errors)
        if line.strip():
            lines.append(line)
    return lines
