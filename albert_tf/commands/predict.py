"""`albert-tf predict BUNDLE "text" ...` and `albert-tf bench BUNDLE`: the edge runtime from the CLI.

Both use only `export.runtime` (numpy, sentencepiece, LiteRT) and import no
TensorFlow: they run on an edge install (the base package, no `[train]` extra), and what
`bench` measures (peak memory included) is what such a device runs.
"""

from __future__ import annotations

import argparse
import json
import sys

from albert_tf.io.text_lines import decode_line, read_lines


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "predict", help="classify texts with an exported bundle (JSON Lines out)"
    )
    p.add_argument("bundle", help="bundle folder written by `albert-tf export`")
    p.add_argument("texts", nargs="*", help="texts to classify (default: --file or stdin)")
    p.add_argument(
        "--file",
        default=None,
        help="one text per line ('-' for stdin; a pipe such as <(...) too); one JSON line "
        "per input line, an error object for a blank one",
    )
    p.add_argument("--threads", type=int, default=None, help="interpreter threads")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument(
        "--encoding-errors",
        choices=["strict", "replace"],
        default="strict",
        help="bytes that are not UTF-8: stop with the line named (strict) or read them as U+FFFD",
    )
    p.add_argument("--debug", action="store_true")
    p.set_defaults(func=run_predict)

    b = subparsers.add_parser(
        "bench", help="latency (p50/p95 per text), texts/s, model size and peak memory of a bundle"
    )
    b.add_argument("bundle")
    b.add_argument("--file", default=None, help="texts to time, one per line (default: 4 reviews)")
    b.add_argument("--threads", type=int, default=2)
    b.add_argument("--runs", type=int, default=30, help="timed passes over the texts")
    b.add_argument("--warmup", type=int, default=3)
    b.add_argument("--json", action="store_true", help="print one JSON object")
    b.add_argument("--debug", action="store_true")
    b.set_defaults(func=run_bench)


def _check_at_least(args: argparse.Namespace, least: dict[str, int]) -> None:
    """Numeric flags out of range: one line naming the flag (--batch-size 0 would
    classify nothing, --runs 0 time nothing)."""
    for name, value in least.items():
        given = getattr(args, name, None)
        if given is not None and given < value:
            flag = "--" + name.replace("_", "-")
            raise ValueError(f"{flag} must be at least {value}, got {given}")


def _argument_texts(texts: list[str], errors: str) -> list[str]:
    """Command-line texts: Python keeps bytes that are not UTF-8 as surrogates."""
    out = []
    for number, text in enumerate(texts, start=1):
        raw = text.encode("utf-8", "surrogateescape")
        text = decode_line(raw, f"text argument {number}", errors)
        if not text.strip():
            raise ValueError(f"text argument {number} is empty; there is nothing to classify")
        out.append(text)
    return out


def _input_texts(args: argparse.Namespace, errors: str) -> tuple[list[str], str]:
    """The texts to classify and where they came from; blank lines of --file or stdin
    are kept (as "") so that output line N answers input line N."""
    texts = _argument_texts(list(args.texts), errors)
    if args.file:
        name = "stdin" if args.file == "-" else args.file
        return texts + read_lines(args.file, errors, keep_blank=True, pipes=True), name
    if texts:
        return texts, "arguments"
    if sys.stdin.isatty():
        raise ValueError("No texts: give them as arguments, with --file, or on stdin.")
    return read_lines("-", errors, keep_blank=True, pipes=True), "stdin"


def run_predict(args: argparse.Namespace) -> int:
    """One JSON line per text, in input order. A blank line of --file or stdin gets an
    error object ({"line": N, "text": "", "error": ...}) in its place, so output line N
    always answers input line N; input with no text at all is refused."""
    from export.runtime import Classifier

    _check_at_least(args, {"threads": 1, "batch_size": 1})
    errors = getattr(args, "encoding_errors", "strict")
    texts, source = _input_texts(args, errors)
    if not any(texts):
        raise ValueError(f"No texts: {source} held no non-blank line.")
    classifier = Classifier(args.bundle, num_threads=args.threads)
    given = [text for text in texts if text]
    results = iter(classifier.predict(given, batch_size=args.batch_size))
    first_line = len(args.texts) if args.file else 0  # --file's line 1 follows the arguments
    blank = []
    for i, text in enumerate(texts):
        if text:
            out = {"text": text, **next(results)}
        else:
            blank.append(i + 1 - first_line)
            out = {"line": blank[-1], "text": "", "error": "blank line: nothing to classify"}
        print(json.dumps(out, ensure_ascii=False))
    if blank:
        shown = ", ".join(map(str, blank[:10])) + (" ..." if len(blank) > 10 else "")
        print(
            f"albert-tf predict: note: {len(blank)} blank line(s) of {source} (line {shown}) "
            "answered with an error object",
            file=sys.stderr,
        )
    return 0


def run_bench(args: argparse.Namespace) -> int:
    _check_at_least(args, {"threads": 1, "runs": 1, "warmup": 0})
    texts = read_lines(args.file, pipes=True) if args.file else None
    if _heavy_modules_loaded():
        # Called from a process that already holds TensorFlow (a script or a test
        # calling `albert_tf.cli.main`): its memory would be counted as the
        # runtime's, so measure in a fresh process instead.
        result = _bench_in_subprocess(args)
    else:
        from export.runtime.benchmark import DEFAULT_TEXTS, bench_bundle

        result = bench_bundle(
            args.bundle, texts or list(DEFAULT_TEXTS), args.threads, args.runs, args.warmup
        )
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    return 0


def _heavy_modules_loaded() -> bool:
    return any(name in sys.modules for name in ("tensorflow", "keras", "torch"))


def _bench_in_subprocess(args: argparse.Namespace) -> dict:
    import os
    import subprocess

    cmd = [
        sys.executable,
        "-m",
        "export.runtime.benchmark",
        args.bundle,
        "--threads",
        str(args.threads),
    ]
    cmd += ["--runs", str(args.runs), "--warmup", str(args.warmup)]
    if args.file:
        cmd += ["--file", os.path.abspath(args.file)]
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise ValueError(f"bench failed: {proc.stderr.strip().splitlines()[-1:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
