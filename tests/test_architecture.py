"""The layout shows the architecture: subpackages whose imports point one way (no
cycle, function-local imports included), a package root holding only the entry
points, a TensorFlow-free edge runtime that imports nothing else of the project,
and function-local imports of the project only where a comment says why."""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PACKAGES = ("albert_tf", "export")
# Where a function-local import needs no comment of its own: the CLI layer, whose
# module docstring (albert_tf/commands/__init__.py) says why.
CLI_LAYER = ("albert_tf/commands/", "albert_tf/cli.py")
# What the edge runtime may import besides the standard library and itself.
EDGE_IMPORTS = {"numpy", "sentencepiece", "ai_edge_litert"}


def python_files(folder: str) -> Iterator[tuple[str, ast.Module]]:
    for dirpath, _, names in os.walk(os.path.join(ROOT, folder)):
        for name in sorted(names):
            if name.endswith(".py"):
                path = os.path.join(dirpath, name)
                with open(path, encoding="utf-8") as f:
                    yield os.path.relpath(path, ROOT), ast.parse(f.read())


def imported_modules(tree: ast.AST) -> Iterator[tuple[ast.stmt, str]]:
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node, alias.name
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node, node.module


def unit(module: str) -> str | None:
    """The subpackage a module belongs to: albert_tf.<x>, export.runtime or export."""
    parts = module.split(".")
    if parts[0] == "albert_tf":
        return ".".join(parts[:2])
    if parts[0] == "export":
        return "export.runtime" if parts[1:2] == ["runtime"] else "export"
    return None


def module_name(path: str) -> str:
    return path[:-3].replace(os.sep, ".").removesuffix(".__init__")


def import_graph() -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for package in PACKAGES:
        for path, tree in python_files(package):
            source = unit(module_name(path))
            for _, module in imported_modules(tree):
                target = unit(module)
                if target and target != source:
                    graph.setdefault(source, set()).add(target)
    return graph


def cycle_from(graph: dict[str, set[str]], start: str) -> list[str] | None:
    """A path start -> ... -> start, if there is one (depth first)."""
    stack, seen = [(start, [start])], set()
    while stack:
        node, path = stack.pop()
        for nxt in sorted(graph.get(node, ())):
            if nxt == start:
                return [*path, start]
            if nxt not in seen:
                seen.add(nxt)
                stack.append((nxt, [*path, nxt]))
    return None


def test_no_import_cycle_between_subpackages():
    graph = import_graph()
    assert "albert_tf.models" in graph and "export" in graph  # the walk found the tree
    cycles = [c for c in (cycle_from(graph, node) for node in sorted(graph)) if c]
    assert cycles == []


def test_the_package_root_holds_only_the_entry_points():
    names = sorted(n for n in os.listdir(os.path.join(ROOT, "albert_tf")) if n.endswith(".py"))
    assert set(names) <= {"__init__.py", "__main__.py", "cli.py", "config.py"}


def test_the_edge_runtime_imports_nothing_else_of_the_project_and_no_tensorflow():
    import sys

    outside = []
    for path, tree in python_files(os.path.join("export", "runtime")):
        for node, module in imported_modules(tree):
            top = module.split(".")[0]
            allowed = top in sys.stdlib_module_names or top in EDGE_IMPORTS
            if not (allowed or module.startswith("export.runtime")):
                outside.append(f"{path}:{node.lineno} imports {module}")
    assert outside == []


def test_function_local_project_imports_say_why():
    silent = []
    for package in PACKAGES:
        for path, tree in python_files(package):
            if path.startswith(CLI_LAYER):
                continue
            with open(os.path.join(ROOT, path), encoding="utf-8") as f:
                lines = f.read().split("\n")
            for function in ast.walk(tree):
                if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                    continue
                for node, module in imported_modules(function):
                    if module.split(".")[0] not in PACKAGES:
                        continue
                    nearby = lines[max(0, node.lineno - 4) : node.end_lineno]
                    if not any("#" in line for line in nearby):
                        silent.append(f"{path}:{node.lineno} imports {module}")
    assert silent == []
