"""Atomic file writes: a temp name in the same folder, then a rename, so a kill
never leaves a half-written file under the real name."""

from __future__ import annotations

import os
import re
import shutil
import stat
import tempfile


def umask_mode(mode: int) -> int:
    """`mode` as the user's umask allows it: what open() or mkdir() would give.
    tempfile makes 0600 files and 0700 folders, which a bundle copied to a device
    or served by a web server cannot be read through."""
    mask = os.umask(0)
    os.umask(mask)
    return mode & ~mask


def make_staging_dir(parent: str, prefix: str) -> str:
    """A fresh folder in `parent` named `<prefix><pid>-...`, with the umask's mode.

    Folders of the same prefix left by processes that are gone (a killed export)
    are removed first: only names this function makes are touched."""
    pattern = re.compile(re.escape(prefix) + r"(\d+)-")
    for name in os.listdir(parent):
        match = pattern.match(name)
        if match and not _process_alive(int(match.group(1))):
            shutil.rmtree(os.path.join(parent, name), ignore_errors=True)
    folder = tempfile.mkdtemp(dir=parent, prefix=f"{prefix}{os.getpid()}-")
    os.chmod(folder, umask_mode(0o777))
    return folder


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-", suffix=os.path.basename(path))
    try:
        os.chmod(tmp, umask_mode(0o666))
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    write_bytes_atomic(path, text.encode("utf-8"))


def file_kind(mode: int) -> str:
    """What a stat mode is, in words, for a message."""
    for test, kind in (
        (stat.S_ISDIR, "a folder"),
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "a regular file" if stat.S_ISREG(mode) else "not a regular file"


def check_regular_file(path: str | os.PathLike, what: str = "Data file") -> str:
    """`path` if it is a regular file (a symlink to one counts); else one line naming it.

    Training reads its inputs more than once (hashed for the resume check, then read)
    and reads them whole: a named pipe would hang in open() and a device such as
    /dev/zero would fill memory, so they are refused before anything opens them."""
    path = os.fspath(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise FileNotFoundError(f"{what} not found: {path}") from None
    except OSError as e:  # a symlink loop, a folder we may not enter
        raise ValueError(f"{path}: cannot read it ({e.strerror})") from None
    if stat.S_ISREG(mode):
        return path
    target = os.path.realpath(path)
    shown = path if target == os.path.abspath(path) else f"{path} (a link to {target})"
    if stat.S_ISDIR(mode):
        raise ValueError(f"{shown} is a folder, not a {what.lower()}; name one file in it")
    raise ValueError(
        f"{shown} is {file_kind(mode)}, not a regular file; training reads its data files "
        "whole and more than once: save the data to a file first"
    )


# Input files read in full, kept for the next reader of the same bytes: training
# hashes its data file (to refuse a resume onto other inputs) and then parses it,
# and a user's file should be opened once. Keyed by what changes when the file
# does; the parser takes its copy back, and past the limit (all kept files together)
# the older copies go, so a file is read again instead.
_READ_CACHE: dict[tuple, bytes] = {}
_READ_CACHE_LIMIT = 1 << 30


def read_input_bytes(path: str | os.PathLike, keep: bool = True) -> bytes:
    """The bytes of the input file `path`, opened once while it stays unchanged.
    `keep=False` (the parser, the last reader) lets go of the kept copy."""
    path = os.fspath(path)
    info = os.stat(path)
    key = (os.path.realpath(path), info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)
    if key in _READ_CACHE:
        return _READ_CACHE[key] if keep else _READ_CACHE.pop(key)
    with open(path, "rb") as f:
        data = f.read()
    if keep and len(data) <= _READ_CACHE_LIMIT:
        # --data, --validation and --test are all hashed before any is parsed.
        if sum(map(len, _READ_CACHE.values())) + len(data) > _READ_CACHE_LIMIT:
            _READ_CACHE.clear()
        _READ_CACHE[key] = data
    return data
