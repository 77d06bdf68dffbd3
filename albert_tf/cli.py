"""The `albert-tf` command. Each sub-command lives in `albert_tf/commands/<name>.py`
and exposes `register(subparsers)`; this file only lists them.

Building the parser imports no TensorFlow (each command imports what it needs
when it runs), so `albert-tf predict` and `albert-tf bench` work on an edge
install that has only the runtime's packages (the base install, no `[train]` extra).
"""

from __future__ import annotations

import argparse
import errno
import importlib
import os
import signal
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
    "embed",
]

# Packages of the `train` extra (pyproject.toml): a command that needs one of
# them on a runtime-only install says which extra to install.
TRAIN_EXTRA_MODULES = {
    "tensorflow",
    "tensorflow_text",
    "keras",
    "keras_hub",
    "safetensors",
    "tqdm",
    "matplotlib",
    "tensorboard",
    "mediapipe",
    "ai_edge_quantizer",
    "tensorflow_lite_support",
}
TRAIN_EXTRA_HINT = "pip install 'albert-tf[train]'"
# The edge runtime's commands: they never load TensorFlow.
RUNTIME_COMMANDS = {"predict", "bench", "embed", "search"}
# The commands whose texts may follow their options, and the argument holding them.
TEXT_ARGUMENTS = {"predict": "texts", "embed": "texts", "search": "queries"}
# Framework warnings a CLI user cannot act on (Keras's data-adapter notes, absl
# chatter); the package's own warnings (data notes, plateau warnings) still show.
FRAMEWORK_WARNING_MODULES = r"(keras|tensorflow|tf_keras|absl|google\.protobuf|mediapipe)(\.|$)"


def _quiet_frameworks(command: str) -> None:
    import warnings

    warnings.filterwarnings("ignore", module=FRAMEWORK_WARNING_MODULES)
    if command not in RUNTIME_COMMANDS:
        from albert_tf.io.quiet_tensorflow import import_tensorflow

        import_tensorflow()  # its C++ start-up notices filtered out of stderr


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


def _check_out_is_not_a_file(args: argparse.Namespace) -> None:
    """Every command's --out is a folder; an existing file there is the user's."""
    out = getattr(args, "out", None)
    if isinstance(out, str) and os.path.lexists(out) and not os.path.isdir(out):
        raise FileExistsError(f"--out {out} is an existing file, not a folder; choose a folder")


class Terminated(KeyboardInterrupt):
    """SIGTERM (kill, systemd, a container runtime), raised where the main thread is, so
    that it unwinds as Ctrl-C does: `finally` blocks and atexit run (TensorFlow's
    autograph temp files go), and what the last finished epoch saved stays for the resume."""


def _raise_terminated(signum, frame) -> None:
    raise Terminated()


def _stopped(args: argparse.Namespace, e: KeyboardInterrupt) -> int:
    """One line for a stopped command; the exit code a shell gives a signal's death."""
    sigterm = isinstance(e, Terminated)
    how = "stopped by SIGTERM" if sigterm else "interrupted"
    line = f"albert-tf {args.command}: {how}"
    out = getattr(args, "out", None)
    kept = out and any(os.path.isdir(os.path.join(out, n)) for n in ("backup", "teacher"))
    if args.command in ("train", "distill", "pretrain") and kept:
        saved = "its last checkpoint" if args.command == "pretrain" else "its last finished epoch"
        line += f"; {saved} is kept in {out}: run the same command again to resume"
    print(line, file=sys.stderr)
    return 128 + (signal.SIGTERM if sigterm else signal.SIGINT)


def _os_error_line(args: argparse.Namespace, e: OSError) -> str:
    """An OSError as one line that names where: a full disk's error names no file."""
    if e.errno == errno.ENOSPC:
        where = e.filename or getattr(args, "out", None) or "the output folder"
        return f"no space left on device while writing {where}; free some space or choose another --out"
    return str(e)


def _quiet_broken_pipe() -> int:
    """A closed stdout (`albert-tf predict ... | head -1`) ends quietly, as cat does: later
    writes and the flush at exit go to /dev/null; exit 141 as for SIGPIPE."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + signal.SIGPIPE


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The parsed command line, as `main` runs it (exits 2 on a bad one); the docs
    test parses every `albert-tf` line of the README and docs/ with it."""
    parser = build_parser()
    args, extra = parser.parse_known_args(argv)
    field = TEXT_ARGUMENTS.get(args.command)
    if extra and field and not any(a.startswith("-") for a in extra):
        # argparse ends `texts` at the first option: `predict BUNDLE --threads 2 "text"`
        setattr(args, field, [*getattr(args, field), *extra])
    elif extra:
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        previous = signal.signal(signal.SIGTERM, _raise_terminated)
    except ValueError:  # not the main thread: leave signals to whoever runs it
        previous = None
    try:
        return _run(args)
    except KeyboardInterrupt as e:
        return _stopped(args, e)
    except BrokenPipeError:
        return _quiet_broken_pipe()
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _run(args: argparse.Namespace) -> int:
    try:
        _check_out_is_not_a_file(args)
        _quiet_frameworks(args.command)
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here, not at exit
        return code
    except ModuleNotFoundError as e:
        if getattr(args, "debug", False) or (e.name or "").split(".")[0] not in TRAIN_EXTRA_MODULES:
            raise
        print(
            f"albert-tf {args.command}: error: this command needs {e.name!r}, which is not "
            f"installed (an edge install has only the runtime); install it with "
            f"{TRAIN_EXTRA_HINT}",
            file=sys.stderr,
        )
        return 2
    except BrokenPipeError:
        raise
    except (ValueError, FileNotFoundError, OSError, KeyError) as e:
        # User errors (bad files, columns, labels) end with one readable line,
        # not a stack trace from inside TensorFlow.
        if getattr(args, "debug", False):
            raise
        message = e.args[0] if isinstance(e, KeyError) and len(e.args) == 1 else e
        if isinstance(e, OSError):
            message = _os_error_line(args, e)
        print(f"albert-tf {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
