"""Write BENCHMARKS.md (tables + PNG plots) from `benchmarks/results/*.json`.

Every number in the report comes from a results file: medians with their
spread (p25-p75 and min-max), ratios to the peer marked as baseline, the
command that made each file and the machine it ran on. Files that do not follow
the row schema of `benchmarks/__init__.py` are still shown, as generic tables.

Example:
>>> from benchmarks.report import write_report
>>> write_report("benchmarks/results", "BENCHMARKS.md")  # doctest: +SKIP
'BENCHMARKS.md'

`python -m benchmarks.report [--results DIR] [--out FILE]`
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import tempfile
from collections import OrderedDict
from typing import Any

# Known files first, in reading order; anything else follows by name.
ORDER = (
    "accuracy",
    "inference",
    "export_latency",
    "export_latency_quiet",
    "export_latency_avx2",
    "training",
    "pretrain_throughput",
    "pretrain_throughput_quiet",
    "scaling",
    "distill",
    "distill_student_init",
    "distill_student_init_l6",
    "distill_pruned_vocab_l4",
    "distill_pruned_vocab_l2",
    "distill_latency",
    "student_bundle",
)
TITLES = {
    "accuracy": "Accuracy on real data",
    "inference": "Inference latency, throughput, size and memory",
    "export_latency": "Exported bundles: latency and size (export helper)",
    "training": "Training throughput and time to a fixed validation loss",
    "pretrain_throughput": "Pre-training throughput (pre-training helper)",
    "scaling": "How cost grows with sequence length and model size",
    "distill": "Knowledge distillation (distillation helper)",
    "export_latency_quiet": "Exported bundles, quiet rerun (2026-11-28 machine, bfloat16-capable CPU)",
    "export_latency_avx2": "Exported bundles on an AVX2-only CPU (no VNNI/BF16, 2026-11-30)",
    "pretrain_throughput_quiet": "Pre-training throughput, quiet rerun (2026-11-28 machine, bfloat16-capable CPU)",
    "distill_student_init": "Distillation into a student initialised from the teacher (SVD)",
    "distill_student_init_l6": "The same teacher-initialised student applied 6 times (teacher depth)",
    "distill_pruned_vocab_l4": "Pruned vocabulary pays for 2 shared groups (teacher layers 1, 4), 4 layers",
    "distill_pruned_vocab_l2": "Pruned vocabulary, 2 shared groups (teacher layers 1, 4), 2 layers",
    "distill_latency": "Teacher and distilled students: TFLite latency side by side",
    "student_bundle": "The distilled WordPiece student as a verified bundle",
}


# ---------------------------------------------------------------- loading
def load_results(results_dir: str) -> list[tuple[str, dict[str, Any]]]:
    """(name, payload) for each readable JSON file, known names first."""
    found = {}
    for path in sorted(glob.glob(os.path.join(results_dir, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        try:
            with open(path, encoding="utf-8") as f:
                found[name] = json.load(f)
        except (OSError, json.JSONDecodeError) as err:
            found[name] = {"error": f"{path} could not be read: {err}"}
    ordered = [n for n in ORDER if n in found] + sorted(n for n in found if n not in ORDER)
    return [(n, found[n]) for n in ordered]


# ---------------------------------------------------------------- formatting
def fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value:  # NaN
            return "-"
        a = abs(value)
        if a == 0:
            return "0"
        if a >= 1000:
            return f"{value:,.0f}"
        if a >= 100:
            return f"{value:.1f}"
        if a >= 1:
            return f"{value:.2f}"
        return f"{value:.3g}"
    if isinstance(value, (list, tuple)):
        shown = ", ".join(fmt(v) for v in value[:8])
        return shown + (f", ... ({len(value)} values)" if len(value) > 8 else "")
    if isinstance(value, dict):
        return ", ".join(f"{k}={fmt(v)}" for k, v in value.items())
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(columns: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(v) for v in r) + " |")
    return "\n".join(lines)


def machine_line(machine: dict[str, Any] | None) -> str:
    if not machine:
        return "Machine: not recorded."
    libs = machine.get("libraries") or {}
    lib_text = ", ".join(f"{k} {v}" for k, v in libs.items() if v != "not installed")
    parts = [
        f"{machine.get('cpu', '?')}",
        f"{machine.get('cores', '?')} cores ({machine.get('usable_cores', '?')} usable)",
        f"{machine.get('memory_gib', '?')} GiB RAM",
        machine.get("os", ""),
        f"Python {machine.get('python', '?')}",
    ]
    text = "Machine: " + "; ".join(p for p in parts if p)
    if lib_text:
        text += f". Libraries: {lib_text}"
    peers = machine.get("peer_libraries")
    if peers:
        text += ". Peer venv: " + ", ".join(f"{k} {v}" for k, v in peers.items())
    if machine.get("omp_wait_policy"):
        text += f". OMP_WAIT_POLICY: {machine['omp_wait_policy']}"
    if machine.get("load_average"):
        load = "/".join(fmt(float(x)) for x in machine["load_average"])
        text += f". Load average when the file was written: {load} (1/5/15 min; the machine may be shared)"
    return text + "."


def spread(r: dict[str, Any]) -> str:
    if r.get("n", 1) <= 1 or "p25" not in r:
        return "-"
    return f"{fmt(r['p25'])}-{fmt(r['p75'])} (min-max {fmt(r['min'])}-{fmt(r['max'])})"


def _groups(rows: list[dict[str, Any]]) -> OrderedDict:
    groups: OrderedDict = OrderedDict()
    for r in rows:
        if r.get("plot_only"):  # e.g. loss-curve points: drawn, not tabulated
            continue
        groups.setdefault((r.get("group", ""), r.get("metric", "")), []).append(r)
    return groups


def _baseline(rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((r for r in rows if r.get("baseline")), None)


def ratio_text(r: dict[str, Any], base: dict[str, Any]) -> str:
    try:
        ratio = float(r["median"]) / float(base["median"])
    except (KeyError, TypeError, ZeroDivisionError, ValueError):
        return "-"
    return f"{ratio:.2f}x"


def rows_table(rows: list[dict[str, Any]]) -> str:
    """One markdown table for the rows of one (group, metric)."""
    base = _baseline(rows)
    extra_keys: list[str] = []
    for r in rows:
        for k in (r.get("extra") or {}).keys():
            if k not in extra_keys:
                extra_keys.append(k)
    unit = next((r.get("unit") for r in rows if r.get("unit")), "")
    columns = ["system", f"median{f' ({unit})' if unit else ''}", "p25-p75", "n"]
    if base is not None:
        columns.append(f"ratio to {base['system']}")
    columns += extra_keys
    body = []
    for r in rows:
        name = r.get("system", "?") + (" (baseline)" if r.get("baseline") else "")
        line = [name, r.get("median"), spread(r), r.get("n")]
        if base is not None:
            line.append(ratio_text(r, base))
        line += [(r.get("extra") or {}).get(k) for k in extra_keys]
        body.append(line)
    return md_table(columns, body)


def key_ratios(name: str, payload: dict[str, Any]) -> list[str]:
    """Sentences 'ours vs baseline' for every group that has both."""
    out = []
    key_groups = payload.get("key_groups")  # optional: quote only these groups
    for (group, metric), rows in _groups(payload.get("rows") or []).items():
        base = _baseline(rows)
        if base is None or (key_groups is not None and group not in key_groups):
            continue
        better = "lower" if base.get("lower_is_better", True) else "higher"
        for r in rows:
            if not r.get("ours") or r is base or r.get("key") is False:
                continue
            unit = f" {r['unit']}" if r.get("unit") else ""
            points = ""
            if "accuracy" in metric:
                points = f", {100 * (float(r['median']) - float(base['median'])):+.1f} points"
            out.append(
                f"- {TITLES.get(name, name)}, {group}: {r['system']} {metric} "
                f"{fmt(r['median'])}{unit} vs {base['system']} {fmt(base['median'])}{unit} "
                f"= **{ratio_text(r, base)}** ({better} is better{points})"
            )
    return out


# ---------------------------------------------------------------- generic fallback
def _flatten(d: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if (
            isinstance(v, dict)
            and len(v) <= 12
            and all(not isinstance(x, dict) for x in v.values())
        ):
            out.update(_flatten(v, key + "."))
        elif isinstance(v, dict):
            out[key] = json.dumps(v)[:80]
        else:
            out[key] = v
    return out


def generic_tables(payload: Any, title: str = "", depth: int = 0) -> list[str]:
    """Tables for a results file that does not use the row schema."""
    parts: list[str] = []
    if isinstance(payload, list) and payload and all(isinstance(x, dict) for x in payload):
        flat = [_flatten(x) for x in payload]
        cols: list[str] = []
        for x in flat:
            cols += [k for k in x if k not in cols]
        cols = [c for c in cols if not isinstance(flat[0].get(c), list) or c in flat[0]][:12]
        parts.append(
            (f"**{title}**\n\n" if title else "")
            + md_table(cols, [[x.get(c) for c in cols] for x in flat])
        )
        return parts
    if not isinstance(payload, dict):
        return [f"{title}: {fmt(payload)}"]
    scalars = [[k, v] for k, v in payload.items() if not isinstance(v, (dict, list))]
    scalars += [
        [k, v]
        for k, v in payload.items()
        if isinstance(v, list) and all(not isinstance(x, (dict, list)) for x in v)
    ]
    if scalars:
        parts.append((f"**{title}**\n\n" if title else "") + md_table(["key", "value"], scalars))
    for k, v in payload.items():
        if depth >= 3:
            break
        if isinstance(v, dict) and v and all(isinstance(x, dict) for x in v.values()):
            flat = {kk: _flatten(vv) for kk, vv in v.items()}
            cols: list[str] = []
            for x in flat.values():
                cols += [c for c in x if c not in cols]
            cols = cols[:12]
            parts.append(
                f"**{k}**\n\n"
                + md_table([k] + cols, [[kk] + [x.get(c) for c in cols] for kk, x in flat.items()])
            )
        elif isinstance(v, dict):
            parts += generic_tables(v, k, depth + 1)
        elif isinstance(v, list) and v and all(isinstance(x, dict) for x in v):
            parts += generic_tables(v, k, depth + 1)
    return parts


# ---------------------------------------------------------------- plots
def _field(r: dict[str, Any], key: str) -> Any:
    if key in r:
        return r[key]
    return (r.get("extra") or {}).get(key)


def _matches(r: dict[str, Any], where: dict[str, Any]) -> bool:
    for k, v in (where or {}).items():
        got = _field(r, k)
        if isinstance(v, list):
            if got not in v:
                return False
        elif got != v:
            return False
    return True


def make_plot(spec: dict[str, Any], rows: list[dict[str, Any]], out_dir: str) -> str | None:
    """Draw one PNG (line: x vs median per system, with p25-p75 band; bar: median
    per system with p25-p75 error bars). Returns the file path, or None if no rows."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    chosen = [
        r for r in rows if r.get("metric") == spec.get("metric") and _matches(r, spec.get("where"))
    ]
    if not chosen:
        return None
    unit = next((r.get("unit") for r in chosen if r.get("unit")), "")
    series_key = spec.get("series", "system")
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=110)
    if spec.get("kind", "line") == "line":
        x_key = spec["x"]
        series: OrderedDict = OrderedDict()
        for r in chosen:
            if _field(r, x_key) is not None:
                series.setdefault(_field(r, series_key), []).append(r)
        for label, rs in series.items():
            rs = sorted(rs, key=lambda r: _field(r, x_key))
            xs = [_field(r, x_key) for r in rs]
            ys = [r["median"] for r in rs]
            ax.plot(xs, ys, marker="o", label=str(label))
            if all("p25" in r for r in rs):
                ax.fill_between(xs, [r["p25"] for r in rs], [r["p75"] for r in rs], alpha=0.2)
        ax.set_xlabel(spec.get("xlabel", x_key))
        if spec.get("xticks_from_data"):
            ticks = sorted({_field(r, x_key) for r in chosen if _field(r, x_key) is not None})
            ax.set_xticks(ticks)
            ax.set_xticklabels([str(t) for t in ticks])
        ax.legend(fontsize=8)
    else:
        labels = [str(_field(r, series_key)) for r in chosen]
        ys = [r["median"] for r in chosen]
        low = [max(r["median"] - r.get("p25", r["median"]), 0) for r in chosen]
        high = [max(r.get("p75", r["median"]) - r["median"], 0) for r in chosen]
        colors = ["tab:orange" if r.get("ours") else "tab:blue" for r in chosen]
        ax.barh(range(len(chosen)), ys, xerr=[low, high], color=colors, capsize=3)
        ax.set_yticks(range(len(chosen)))
        ax.set_yticklabels(labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlabel(f"{spec.get('metric')}{f' ({unit})' if unit else ''}")
    if spec.get("kind", "line") == "line":
        ax.set_ylabel(f"{spec.get('metric')}{f' ({unit})' if unit else ''}")
        if spec.get("logx"):
            ax.set_xscale("log", base=2)
        if spec.get("logy"):
            ax.set_yscale("log")
    ax.set_title(spec.get("title", ""), fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, spec["file"])
    fig.savefig(path)
    plt.close(fig)
    return path


# ---------------------------------------------------------------- document
def section(name: str, payload: dict[str, Any], png_dir: str, md_dir: str) -> str:
    title = payload.get("title") or TITLES.get(name, name)
    lines = [f"## {title}", ""]
    if payload.get("error"):
        return "\n".join(lines + [payload["error"], ""])
    lines.append(
        f"File: `benchmarks/results/{name}.json`. Command: `{payload.get('command', '?')}`"
    )
    if payload.get("finished"):
        lines[-1] += f" (finished {payload['finished']})"
    lines += ["", machine_line(payload.get("machine")), ""]
    if payload.get("settings"):
        lines += ["Settings: " + fmt(payload["settings"]), ""]
    for note in payload.get("notes") or []:
        lines.append(f"- {note}")
    for skip in payload.get("skipped") or []:
        lines.append(f"- **Not run: {skip.get('system', '?')}** - {skip.get('reason', '')}")
    if payload.get("notes") or payload.get("skipped"):
        lines.append("")
    rows = payload.get("rows")
    if rows:
        for (group, metric), rs in _groups(rows).items():
            lines += [f"### {group}: {metric}", "", rows_table(rs), ""]
        for spec in payload.get("plots") or []:
            path = make_plot(spec, rows, png_dir)
            if path:
                rel = os.path.relpath(path, md_dir)
                lines += [f"![{spec.get('title', spec['file'])}]({rel})", ""]
                lines += [
                    f"*{spec.get('title', '')}: median, shaded/bars p25-p75. Made by `{payload.get('command', '?')}`.*",
                    "",
                ]
    else:
        known = {
            "benchmark",
            "command",
            "machine",
            "finished",
            "title",
            "notes",
            "skipped",
            "settings",
        }
        rest = {k: v for k, v in payload.items() if k not in known}
        for part in generic_tables(rest):
            lines += [part, ""]
        lines += _own_images(payload, md_dir)
    return "\n".join(lines)


def _own_images(payload: dict[str, Any], md_dir: str) -> list[str]:
    """PNGs a results file names itself (drawn by its own script from its data)."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    out = []
    for key, value in payload.items():
        if isinstance(value, str) and value.endswith(".png"):
            path = value if os.path.isabs(value) else os.path.join(root, value)
            if os.path.exists(path):
                out += [f"![{key}]({os.path.relpath(path, md_dir)})", ""]
    return out


def render(results_dir: str, out_path: str, png_dir: str | None = None) -> str:
    """The markdown text of the report (PNGs are written as a side effect)."""
    png_dir = png_dir or results_dir
    md_dir = os.path.dirname(os.path.abspath(out_path))
    results = load_results(results_dir)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks.report` from `benchmarks/results/*.json`"
        " (`make bench` reruns everything and rewrites this file). Do not edit by hand:"
        " every figure comes from a results file. Medians over repeated runs; the spread"
        " is p25-p75 (min-max in the tables). Ratios are albert-tf's median divided by the"
        " peer marked *baseline* in the same table.",
        "",
    ]
    if not results:
        lines += ["No results yet: run `make bench`.", ""]
        return "\n".join(lines)
    busy = []
    for name, p in results:
        machine = p.get("machine") or {}
        load, cores = (machine.get("load_average") or [0])[0], machine.get("usable_cores") or 0
        if cores and load > cores:
            busy.append(f"{name} ({fmt(float(load))} on {cores} cores)")
    if busy:
        lines += [
            "**Caution: these results were measured on a shared, oversubscribed machine** "
            "(1-minute load average above the core count when written: "
            + ", ".join(busy)
            + "). Other jobs took most of the CPU, so absolute times are several times slower "
            "than on a quiet machine, and systems measured minutes apart saw different load "
            "(each timing row records `load_1min`): treat ratios under about 2x as within noise "
            "and rerun `make bench` on a quiet machine for figures to quote.",
            "",
        ]
    ratios = [s for name, p in results for s in key_ratios(name, p)]
    if ratios:
        lines += ["## Key ratios", ""] + ratios + [""]
    lines += [
        "Contents: "
        + ", ".join(
            f"[{TITLES.get(n, n)}](#{_anchor(p.get('title') or TITLES.get(n, n))})"
            for n, p in results
        ),
        "",
    ]
    for name, payload in results:
        lines.append(section(name, payload, png_dir, md_dir))
    return "\n".join(lines)


def _anchor(title: str) -> str:
    keep = [c.lower() if (c.isalnum() or c == "_") else ("-" if c in " -" else "") for c in title]
    return "".join(keep)


def write_report(results_dir: str, out_path: str, png_dir: str | None = None) -> str:
    """Render and write `out_path` atomically; returns its path."""
    text = render(results_dir, out_path, png_dir)
    folder = os.path.dirname(os.path.abspath(out_path))
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".benchmarks.", suffix=".md")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600
    os.replace(tmp, out_path)
    return out_path


README_START = "<!-- benchmarks:ratios:start -->"
README_END = "<!-- benchmarks:ratios:end -->"


def update_readme(results_dir: str, readme: str) -> bool:
    """Replace the text between the README's ratio markers with the key ratios
    from the results files; False when the README has no markers."""
    if not os.path.exists(readme):
        return False
    with open(readme, encoding="utf-8") as f:
        text = f.read()
    if README_START not in text or README_END not in text:
        return False
    ratios = [s for name, p in load_results(results_dir) for s in key_ratios(name, p)]
    body = "\n".join(ratios) if ratios else "(no results yet: run `make bench`)"
    loads = [
        (p.get("machine") or {}).get("load_average", [0])[0]
        / max((p.get("machine") or {}).get("usable_cores") or 1, 1)
        for _, p in load_results(results_dir)
    ]
    if ratios and max(loads, default=0) > 1:
        body = (
            "Measured on a shared, oversubscribed machine: ratios under about 2x are within "
            "noise (see the caution in BENCHMARKS.md).\n\n" + body
        )
    head, rest = text.split(README_START, 1)
    tail = rest.split(README_END, 1)[1]
    new = f"{head}{README_START}\n{body}\n\nDetails, spread and machine: [BENCHMARKS.md](BENCHMARKS.md).\n{README_END}{tail}"
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(readme)), prefix=".readme.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(new)
    os.chmod(tmp, 0o644)
    os.replace(tmp, readme)
    return True


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(here)
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("--results", default=os.path.join(here, "results"))
    parser.add_argument("--out", default=os.path.join(root, "BENCHMARKS.md"))
    parser.add_argument(
        "--readme",
        default=os.path.join(root, "README.md"),
        help="README whose ratio block is rewritten ('' to leave it)",
    )
    args = parser.parse_args(argv)
    print(f"wrote {write_report(args.results, args.out)}")
    if args.readme and update_readme(args.results, args.readme):
        print(f"updated the key ratios in {args.readme}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
