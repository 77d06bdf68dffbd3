"""The edge install: docs/edge_runtime.md's one runtime command, run in a fresh virtual environment,
installs no TensorFlow, and `albert-tf predict` there runs a bundle exported here.

It needs the package index pip is configured with (for numpy, sentencepiece and
ai-edge-litert, and setuptools to build the package). A machine that cannot reach it
skips with the reason; under CI (`CI` set) the test never skips.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import urllib.parse

import numpy as np
import pytest

from tests.export_helpers import LABELS, bundle

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The edge install page's command (docs/edge_runtime.md), run in a checkout (here: a
# copy of the package's sources).
EDGE_INSTALL = "pip install ."
PACKAGE_FILES = ("pyproject.toml", "README.md", "albert_tf", "export")
TEXTS = ["a gripping, beautifully acted film.", "dull, overlong and utterly forgettable."]


def _index_url() -> str:
    if os.environ.get("PIP_INDEX_URL"):
        return os.environ["PIP_INDEX_URL"]
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "config", "get", "global.index-url"],
        capture_output=True,
        text=True,
    )
    return (
        proc.stdout.strip()
        if proc.returncode == 0 and proc.stdout.strip()
        else ("https://pypi.org/simple")
    )


def _index_unreachable() -> str | None:
    """Why pip's index cannot be reached, or None when it can."""
    url = urllib.parse.urlparse(_index_url())
    if url.scheme == "file":
        return None if os.path.isdir(url.path) else f"index folder {url.path} is missing"
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        socket.create_connection((url.hostname, port), timeout=5).close()
    except OSError as e:
        return f"package index {url.hostname}:{port} unreachable ({e})"
    return None


def _clean_env() -> dict[str, str]:
    # Nothing of this process's environment may lead the venv to the repository's
    # or .venv's packages.
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    return {k: v for k, v in os.environ.items() if k not in drop}


def _copy_sources(dest) -> str:
    os.makedirs(dest)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for name in PACKAGE_FILES:
        src = os.path.join(ROOT, name)
        if os.path.isdir(src):
            shutil.copytree(src, os.path.join(dest, name), ignore=ignore)
        else:
            shutil.copy2(src, dest)
    return str(dest)


def test_the_edge_runtime_page_names_the_runtime_install_command():
    with open(os.path.join(ROOT, "docs", "edge_runtime.md"), encoding="utf-8") as f:
        page = f.read()
    assert f"\n{EDGE_INSTALL} " in page or f"\n{EDGE_INSTALL}\n" in page


def test_runtime_install_in_a_fresh_venv_runs_a_bundle_without_tensorflow(
    tmp_path, tmp_path_factory
):
    reason = _index_unreachable()
    if reason and not os.environ.get("CI"):
        pytest.skip(reason)
    from export.runtime import Classifier

    bundle_dir = bundle(tmp_path_factory, "dynamic")
    src = _copy_sources(tmp_path / "src")
    venv = tmp_path / "venv"
    env = _clean_env()
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, env=env, timeout=120)
    bin_dir = venv / "bin"
    command = [str(bin_dir / "pip"), *EDGE_INSTALL.split()[1:]]
    proc = subprocess.run(command, cwd=src, capture_output=True, text=True, env=env, timeout=600)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    probe = "import importlib.util as u; print([m for m in ('tensorflow', 'keras', 'mediapipe') if u.find_spec(m)])"
    found = subprocess.run(
        [str(bin_dir / "python"), "-c", probe], capture_output=True, text=True, env=env, check=True
    )
    assert found.stdout.strip() == "[]"

    # cwd outside the repository: only the installed package can be imported.
    predict = subprocess.run(
        [str(bin_dir / "albert-tf"), "predict", bundle_dir, *TEXTS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert predict.returncode == 0, predict.stderr
    lines = [json.loads(line) for line in predict.stdout.splitlines()]
    expected = Classifier(bundle_dir).predict_proba(TEXTS)
    got = [[line["probabilities"][label] for label in LABELS] for line in lines]
    np.testing.assert_allclose(got, expected, atol=1e-6)

    export = subprocess.run(
        [str(bin_dir / "albert-tf"), "export", bundle_dir, "--out", str(tmp_path / "b")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert export.returncode == 2 and "pip install 'albert-tf[train]'" in export.stderr
