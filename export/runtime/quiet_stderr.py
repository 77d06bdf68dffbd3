"""Drop known start-up notices that native libraries write straight to stderr.

TensorFlow and LiteRT print lines such as "Created TensorFlow Lite XNNPACK
delegate for CPU" from C++, where neither Python's warnings nor a log level
reach them; Python libraries draw progress bars on `sys.stderr` with no switch
that reaches all of them (ai-edge-quantizer's). `filtered_stderr` points file
descriptor 2 at a temporary file and `sys.stderr` at a buffer for the duration
of a block, then writes back every line that is not one of the given notices:
real errors still reach the user. Standard library only, so the
edge runtime can use it.

Example:
>>> with filtered_stderr(("XNNPACK delegate",)):  # doctest: +SKIP
...     interpreter.allocate_tensors()
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import tempfile
from collections.abc import Iterator, Sequence


@contextlib.contextmanager
def filtered_stderr(notices: Sequence[str]) -> Iterator[None]:
    """Within the block, stderr lines containing any of `notices` are dropped, whether
    written to file descriptor 2 or to `sys.stderr`."""
    sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:  # no file descriptor 2 (an embedded interpreter): nothing to filter
        yield
        return
    python_stderr, buffered = sys.stderr, io.StringIO()
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        sys.stderr = buffered
        try:
            yield
        finally:
            sys.stderr = python_stderr
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            lines = [raw.decode("utf-8", "replace") for raw in captured]
            buffered.seek(0)
            lines += list(buffered)  # split at "\n" only: a bar's "\r" stays in its line
            for line in lines:
                if not any(notice in line for notice in notices):
                    sys.stderr.write(line)
            sys.stderr.flush()
