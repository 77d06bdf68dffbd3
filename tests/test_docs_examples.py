"""Every fenced code block in README.md and docs/*.md runs here, so the docs stay true.

- ```python blocks run in a temporary folder, those of one page in one namespace, top to
  bottom (a block may use what an earlier block of its page made). A block's test runs the
  page's earlier blocks first when this process has not run them yet.
- ```bash / ```sh / ```console blocks: every `albert-tf ...` line is parsed by the real
  command-line parser (`albert_tf.cli.parse_args`), every `make ...` line must name targets
  of the Makefile, and every `python ...` line must name a module that imports or a file
  that exists; the few other commands a setup needs (pip, venv activation) are allowed by
  name. Nothing in them is executed.
- The languages in NOT_RUN are never run; each says why. A block without a language fails.
"""

from __future__ import annotations

import glob
import importlib.util
import os
import re
import shlex

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PAGES = ["README.md", *sorted(os.path.relpath(p, ROOT) for p in glob.glob(f"{ROOT}/docs/*.md"))]
PYTHON = {"python", "py"}
SHELL = {"bash", "sh", "shell", "console"}
NOT_RUN = {
    "text": "program output or a file layout, not code",
    "gradle": "Android builds need the Android SDK, absent here",
    "kotlin": "runs on an Android device",
    "java": "runs on an Android device",
    "json": "a file's contents, checked by the tests of the code that reads it",
}
# Shell commands a page may show besides albert-tf, make and python.
SETUP_COMMANDS = {"pip", "pip3", ".", "source", "cd"}
FENCE = re.compile(r"^```([\w+-]*)[^\n]*\n(.*?)^```[ \t]*$", re.M | re.S)


def blocks(page: str) -> list[tuple[str, str]]:
    with open(os.path.join(ROOT, page), encoding="utf-8") as f:
        return [(m.group(1).lower(), m.group(2)) for m in FENCE.finditer(f.read())]


def _params():
    out = []
    for page in PAGES:
        for i, (language, code) in enumerate(blocks(page)):
            out.append(pytest.param(page, i, language, code, id=f"{page}-{i}"))
    return out


def test_every_page_is_found_and_has_blocks():
    assert "docs/export.md" in PAGES and "docs/CONTRACTS.md" in PAGES
    assert sum(len(blocks(p)) for p in PAGES) > 20


@pytest.mark.parametrize("page, index, language, code", _params())
def test_block(page, index, language, code, tmp_path_factory, monkeypatch):
    if language in NOT_RUN:
        pytest.skip(f"```{language}: {NOT_RUN[language]}")
    if language in PYTHON:
        _run_python(page, index, tmp_path_factory, monkeypatch)
    elif language in SHELL:
        for argv in _commands(code, prompts_only=language == "console"):
            _check_command(argv)
    else:
        pytest.fail(
            f"{page}: block {index} is fenced as {language or 'nothing'!r}; use python, bash, "
            f"or one of {sorted(NOT_RUN)} for blocks that are not run"
        )


# ---------------------------------------------------------------- python blocks
_PAGE_STATE: dict[str, tuple[str, dict, list[int]]] = {}  # page -> (folder, namespace, run)


def _run_python(page: str, index: int, tmp_path_factory, monkeypatch) -> None:
    if page not in _PAGE_STATE:
        folder = str(tmp_path_factory.mktemp(re.sub(r"\W", "_", page)))
        _PAGE_STATE[page] = (folder, {"__name__": "__docs__"}, [])
    folder, namespace, done = _PAGE_STATE[page]
    monkeypatch.chdir(folder)
    python = [i for i, (lang, _) in enumerate(blocks(page)) if lang in PYTHON]
    for i in python:
        if i >= index:
            break
        if i not in done:  # an earlier block of the page, run in another process
            done.append(i)
            try:
                exec(compile(blocks(page)[i][1], f"{page}:block{i}", "exec"), namespace)
            except Exception:
                pass  # its own test reports it
    done.append(index)
    exec(compile(blocks(page)[index][1], f"{page}:block{index}", "exec"), namespace)


# ---------------------------------------------------------------- shell blocks
def _commands(code: str, prompts_only: bool = False) -> list[list[str]]:
    """The commands of a shell block: continuation lines joined, `$ ` prompts and
    comments dropped, `&&` chains split; in a console block only the `$ ` lines (the
    others are output)."""
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        line = line.strip()
        if line.startswith("$ "):
            line = line[2:]
        elif prompts_only:
            continue
        if not line or line.startswith("#"):
            continue
        argv = shlex.split(line, comments=True)
        while "&&" in argv:
            k = argv.index("&&")
            out.append(argv[:k])
            argv = argv[k + 1 :]
        if argv:
            out.append(argv)
    return out


def _make_targets() -> set[str]:
    with open(os.path.join(ROOT, "Makefile"), encoding="utf-8") as f:
        return set(re.findall(r"^([\w.-]+):(?!=)", f.read(), re.M))


def _check_command(argv: list[str]) -> None:
    name = os.path.basename(argv[0])
    if name == "albert-tf":
        from albert_tf.cli import parse_args

        try:
            parse_args(argv[1:])
        except SystemExit as e:
            pytest.fail(f"`{shlex.join(argv)}` does not parse (exit {e.code})")
    elif name == "make":
        targets = [a for a in argv[1:] if "=" not in a and not a.startswith("-")]
        missing = set(targets) - _make_targets()
        assert not missing, f"`{shlex.join(argv)}`: no Makefile target {sorted(missing)}"
    elif re.fullmatch(r"python[\d.]*", name):
        _check_python_command(argv)
    else:
        assert name in SETUP_COMMANDS, f"`{shlex.join(argv)}`: no check for {name!r} here"


def _check_python_command(argv: list[str]) -> None:
    args = argv[1:]
    if args[:1] == ["-m"]:
        module = args[1]
        found = importlib.util.find_spec(module) if module != "venv" else True
        assert found, f"`{shlex.join(argv)}`: no module {module}"
        if module == "albert_tf.cli":
            _check_command(["albert-tf", *args[2:]])
    else:
        script = args[0]
        assert os.path.exists(os.path.join(ROOT, script)), f"`{shlex.join(argv)}`: no {script}"


def test_shell_checks_catch_a_wrong_flag_target_and_module():
    for argv in (
        ["albert-tf", "train", "--data", "x.csv", "--out", "r", "--no-such-flag"],
        ["make", "no-such-target"],
        ["python", "-m", "benchmarks.no_such_module"],
        ["python", "no/such/script.py"],
        ["curl", "http://example.com"],
    ):
        with pytest.raises(pytest.fail.Exception if argv[0] == "albert-tf" else AssertionError):
            _check_command(argv)
    _check_command(["albert-tf", "predict", "bundle/", "--threads", "2", "a text"])
    assert _commands("$ make demo\n[demo] step 1/5\n", prompts_only=True) == [["make", "demo"]]
    assert _commands("a \\\n  b # c\n$ make test && make lint\n") == [
        ["a", "b"],
        ["make", "test"],
        ["make", "lint"],
    ]
