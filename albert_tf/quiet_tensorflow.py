"""Import TensorFlow without its C++ start-up lines on the user's terminal.

TensorFlow 2.21 prints "oneDNN custom operations are on", "Could not find cuda
drivers" and "failed call to cuInit" from C++ before absl's logging is set up,
so `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They say nothing a user of a CPU
machine can act on. `import_tensorflow` points file descriptor 2 at a
temporary file while TensorFlow loads and looks for devices, then writes back
every line that is not one of those known start-up notices: real errors still
reach the user.

Example:
>>> tf = import_tensorflow()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
import tempfile
from types import ModuleType

# Substrings of the start-up notices that are dropped; anything else is kept.
STARTUP_NOTICES = (
    "All log messages before absl::InitializeLog() is called",
    "oneDNN custom operations are on",
    "Could not find cuda drivers",
    "failed call to cuInit",
    "Unable to register cuDNN factory",
    "Unable to register cuBLAS factory",
    "Unable to register cuFFT factory",
    "computation placer already registered",
    "TF-TRT Warning",
    "This TensorFlow binary is optimized to use available CPU instructions",
    "To enable the following instructions",
)


def is_startup_notice(line: str) -> bool:
    return any(notice in line for notice in STARTUP_NOTICES)


def import_tensorflow() -> ModuleType:
    """Import TensorFlow (once) with its start-up notices filtered out of stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile(mode="w+b") as captured:
        os.dup2(captured.fileno(), 2)
        try:
            import tensorflow as tf

            # Device discovery prints the cuInit notice: do it while captured.
            tf.config.list_physical_devices()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            captured.seek(0)
            for raw in captured:
                line = raw.decode("utf-8", "replace")
                if not is_startup_notice(line):
                    sys.stderr.write(line)
            sys.stderr.flush()
    return tf
