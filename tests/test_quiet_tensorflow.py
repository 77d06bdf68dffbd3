"""TensorFlow's C++ start-up notices never reach the user's terminal; other stderr does."""

from __future__ import annotations

import subprocess
import sys

from albert_tf.quiet_tensorflow import is_startup_notice

_SCRIPT = """
import os, sys
from albert_tf.quiet_tensorflow import import_tensorflow
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


def test_only_known_notices_are_dropped():
    assert is_startup_notice("I0000 port.cc:153] oneDNN custom operations are on. You may")
    assert not is_startup_notice("ValueError: model.keras is not a zip file")
