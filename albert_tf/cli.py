"""The `albert-tf` command. Each sub-command lives in `albert_tf/commands/<name>.py`
and exposes `register(subparsers)`; this file only lists them."""

from __future__ import annotations

import argparse
import importlib
import sys

# Module names under albert_tf.commands; each adds one or more sub-commands.
COMMAND_MODULES = [
    "train",
    "evaluate",
    "demo",
    "convert",
    "pretrain",
    "distill",
    "export",
    "predict",
]


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="albert-tf",
        description="ALBERT for Keras 3: train, pre-train, distill, convert and export to TFLite.",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"albert_tf.commands.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"albert_tf.commands.{name}":
                continue  # not written yet
            raise
        module.register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (ValueError, FileNotFoundError, OSError, KeyError) as e:
        # User errors (bad files, columns, labels) end with one readable line,
        # not a stack trace from inside TensorFlow.
        if getattr(args, "debug", False):
            raise
        print(f"albert-tf {args.command}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
