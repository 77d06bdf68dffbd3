"""Import TensorFlow without its C++ start-up lines on the user's terminal.

TensorFlow 2.21 prints "oneDNN custom operations are on", "Could not find cuda
drivers" and "failed call to cuInit" from C++ before absl's logging is set up,
so `TF_CPP_MIN_LOG_LEVEL` cannot hide them. They say nothing a user of a CPU
machine can act on. `import_tensorflow` filters them out of stderr
(`export.runtime.quiet_stderr`) while TensorFlow loads and looks for devices; every
other line still reaches the user.

Example:
>>> tf = import_tensorflow()  # doctest: +SKIP
"""

from __future__ import annotations

import os
import sys
from types import ModuleType

from export.runtime.quiet_stderr import filtered_stderr

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


def import_tensorflow() -> ModuleType:
    """Import TensorFlow (once) with its start-up notices filtered out of stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    with filtered_stderr(STARTUP_NOTICES):
        import tensorflow as tf

        # Device discovery prints the cuInit notice: do it while filtered.
        tf.config.list_physical_devices()
    return tf
