"""TensorFlow's C++ start-up notices never reach the user's terminal; other stderr does."""

from __future__ import annotations

import subprocess
import sys

_SCRIPT = """
import os, sys
from albert_tf.io.quiet_tensorflow import import_tensorflow
tf = import_tensorflow()
tf.constant(1.0) + 1.0
os.write(2, b"a real error line\\n")
"""


def test_import_prints_no_startup_notices_and_keeps_other_stderr():
    env = {"PATH": "/usr/bin:/bin", "PYTHONHASHSEED": "0"}
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT], capture_output=True, text=True, env=env, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    assert "oneDNN" not in proc.stderr
    assert "cuda" not in proc.stderr.lower()
    assert "absl::InitializeLog" not in proc.stderr
    assert "a real error line" in proc.stderr


def test_the_filter_drops_only_the_named_notices_written_to_file_descriptor_2(capfd):
    import os

    from export.runtime.quiet_stderr import filtered_stderr

    with filtered_stderr(("XNNPACK delegate",)):
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ValueError: model.keras is not a zip file\n")
    assert capfd.readouterr().err == "ValueError: model.keras is not a zip file\n"


def test_the_filter_also_drops_the_named_notices_written_to_sys_stderr(capfd):
    import sys

    from export.runtime.quiet_stderr import filtered_stderr

    with filtered_stderr(("Applying Transformations",)):
        sys.stderr.write("\rApplying Transformations to tensors:: 100%|###| 161/161\n")
        sys.stderr.write("UserWarning: a real warning\n")
    assert capfd.readouterr().err == "UserWarning: a real warning\n"
