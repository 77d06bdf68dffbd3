"""`albert-tf export --out DIR` replaces only a folder that is provably an albert-tf bundle,
and refuses anything else before the conversion starts."""

from __future__ import annotations

import json
import os
import stat

import pytest

from albert_tf.cli import main
from export.bundle import BUNDLE_FORMAT, check_replaceable


def _web_app(folder):
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "pwa"}')
    (folder / "index.html").write_text("x")
    return folder


def test_web_app_folder_is_refused_before_conversion_and_kept(tmp_path, capsys):
    site = _web_app(tmp_path / "site")
    # The run folder does not exist: a refusal naming --out proves the check runs first.
    code = main(["export", str(tmp_path / "no_such_run"), "--out", str(site)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1 and str(site) in err[0] and "index.html" in err[0]
    assert (site / "index.html").read_text() == "x"
    assert json.loads((site / "manifest.json").read_text()) == {"name": "pwa"}


def test_foreign_manifest_alone_is_refused(tmp_path):
    folder = tmp_path / "other"
    folder.mkdir()
    (folder / "manifest.json").write_text('{"name": "pwa"}')
    with pytest.raises(FileExistsError, match="not an albert-tf bundle"):
        check_replaceable(str(folder))


def test_a_file_is_refused_with_its_name(tmp_path):
    path = tmp_path / "bundle"
    path.write_text("mine")
    with pytest.raises(FileExistsError, match="is not a folder"):
        check_replaceable(str(path))
    assert path.read_text() == "mine"


def test_absent_empty_and_older_bundle_folders_may_be_replaced(tmp_path):
    check_replaceable(str(tmp_path / "absent"))
    (tmp_path / "empty").mkdir()
    check_replaceable(str(tmp_path / "empty"))
    old = tmp_path / "old"
    old.mkdir()
    (old / "manifest.json").write_text(json.dumps({"format": BUNDLE_FORMAT}))
    (old / "model.tflite").write_bytes(b"TFL3")
    check_replaceable(str(old))


def test_staging_folders_of_killed_exports_are_cleaned_and_others_kept(tmp_path):
    import subprocess
    import sys

    from albert_tf.io.files import make_staging_dir

    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True
    )
    stale = tmp_path / f".tmp-bundle-{int(dead.stdout)}-abc"
    stale.mkdir()
    mine = tmp_path / ".tmp-bundle-notapid"
    mine.mkdir()
    fresh = make_staging_dir(str(tmp_path), ".tmp-bundle-")
    assert not stale.exists()
    assert mine.exists()  # not a name make_staging_dir makes: never touched
    assert os.path.basename(fresh).startswith(f".tmp-bundle-{os.getpid()}-")


def test_written_files_and_folders_follow_the_umask(tmp_path):
    from albert_tf.io.files import make_staging_dir, write_bytes_atomic

    old = os.umask(0o022)
    try:
        write_bytes_atomic(tmp_path / "a.bin", b"x")
        folder = make_staging_dir(str(tmp_path), ".tmp-bundle-")
    finally:
        os.umask(old)
    assert stat.S_IMODE(os.stat(tmp_path / "a.bin").st_mode) == 0o644
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o755
