"""Write BENCHMARKS.md from `benchmarks/results/*.json` (`python -m benchmarks.report`):
one section per question a user asks, each with the command that made its figures,
how they were measured, the machine (marked when it was busy), tables and PNG plots
written next to the results. No figure is typed by hand.

>>> write_report("benchmarks/results", "BENCHMARKS.md")  # doctest: +SKIP
'BENCHMARKS.md'
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
from typing import Any

FRONTIER = "Which model should I ship? The frontier"
SHIP = "Which model should I ship?"
SPEED = "How fast is the deployed student?"
TRAIN = "How fast does it train?"
COST = "How does cost grow?"
TEACHER, STUDENT = "teacher (MiniLM, fine-tuned)", "student (Keras)"
Rows = list[dict[str, Any]]
Section = tuple[list[str], list[str]]  # (markdown lines, key-ratio lines)
Out = tuple[str | None, str]  # (PNG folder, None for no plots; markdown folder)


# ---------------------------------------------------------------- loading, formatting
def load(results_dir: str, name: str) -> dict[str, Any] | None:
    """The payload of `<results_dir>/<name>.json`, None when there is none."""
    path = os.path.join(results_dir, f"{name}.json")
    if os.path.exists(path):
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    return None


def missing(payload: dict[str, Any] | None, command: str) -> list[str]:
    """No lines when there is a payload, else what to run for one."""
    return [] if payload else [f"Not measured yet: run `{command}`.", ""]


def fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        a = abs(value)
        if a >= 1000:
            return f"{value:,.0f}"
        return f"{value:.1f}" if a >= 100 else (f"{value:.2f}" if a >= 1 else f"{value:.3g}")
    if isinstance(value, list):
        return "/".join(fmt(v) for v in value)
    return str(value).replace("|", "\\|").replace("\n", " ")


def md_table(columns: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    return lines + ["| " + " | ".join(fmt(v) for v in r) + " |" for r in rows] + [""]


def length_text(value: Any) -> str:
    """How a row handles sequence length: an int is a fixed, padded length."""
    return f"padded to {value}" if isinstance(value, int) else fmt(value)


def span(values: list[Any], show=fmt) -> str:
    """One value, or the distinct values of a column across data sets."""
    seen = [v for i, v in enumerate(values) if v is not None and v not in values[:i]]
    return " / ".join(show(v) for v in seen) if seen else "-"


def millions(n: Any) -> str:
    return f"{n / 1e6:.2f}M" if isinstance(n, (int, float)) else "-"


def _short(value: Any) -> bool:
    """A setting worth a place in a one-line summary: a scalar or a few of them."""
    if isinstance(value, list):
        return len(value) <= 6 and all(_short(v) for v in value)
    return isinstance(value, (int, float, bool)) or (isinstance(value, str) and len(value) <= 100)


def _field(r: dict[str, Any], key: str) -> Any:
    return r[key] if key in r else (r.get("extra") or {}).get(key)


# ---------------------------------------------------------------- section header
def busy_text(payload: dict[str, Any]) -> str | None:
    """A caution when the payload's machine was busy (flagged, or load above cores)."""
    m = payload.get("machine") or {}
    cores, loads = m.get("usable_cores"), m.get("load_average_at_start")
    load = loads[0] if isinstance(loads, list) and loads else None
    if not m.get("busy") and not (cores and load and load > cores):
        return None
    return (
        f"**Caution: measured on a busy machine** (1-minute load {fmt(load)} on {cores} cores):"
        " absolute times are inflated and noisy; rerun on a quiet machine before quoting them."
    )


def machine_text(m: dict[str, Any]) -> str:
    libs = m.get("libraries") or {}
    parts = [
        m.get("cpu"),
        f"{m.get('usable_cores') or '?'} cores",
        "/".join(m.get("cpu_features") or []) or None,
        m.get("os"),
        ", ".join(f"{k} {libs[k]}" for k in ("tensorflow", "keras", "ai-edge-litert") if k in libs),
    ]
    return "; ".join(p for p in parts if p)


def header(name: str, payload: dict[str, Any], how: str) -> list[str]:
    when = payload.get("finished")
    if when and payload.get("wall_seconds") is not None:
        when += f", the run took {payload['wall_seconds'] / 60:.0f} min"
    shown = [f"{k}={fmt(v)}" for k, v in (payload.get("settings") or {}).items() if _short(v)]
    how += f" Settings: {', '.join(shown)}." if shown else ""
    lines = [
        f"- Command: `{payload.get('command') or '?'}` (`benchmarks/results/{name}.json`"
        + (f", {when})" if when else ")"),
        f"- How measured: {how}",
        f"- Machine: {machine_text(payload.get('machine') or {}) or 'not recorded'}",
    ]
    busy = busy_text(payload)
    return lines + (["", busy] if busy else []) + [""]


# ---------------------------------------------------------------- plots
PLOTS = {  # file: (x label, y label, title)
    "accuracy_vs_latency.png": ("p50 latency, ms (batch 1)", "test accuracy", "Test accuracy"),
    "student_latency.png": ("p50 latency per text, ms", "", "Deployed student, batch 1"),
    "training_tokens_per_s.png": ("tokens/s", "", "Training tokens/s (higher is better)"),
    "training_val_loss.png": ("training seconds", "validation loss", "Validation loss vs time"),
    "scaling_seq_length.png": ("sequence length", "latency, ms", "ALBERT-base, batch 1"),
    "scaling_model_size.png": ("parameters", "latency, ms", "Length 128, batch 1, tiny .. large"),
}


def _axes():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(7, 4.2), dpi=110)


def _save(fig, ax, out: Out, file: str) -> list[str]:
    """Label, write `<PNG folder>/<file>` and return the markdown that shows it."""
    import matplotlib.pyplot as plt

    xlabel, ylabel, title = PLOTS[file]
    ax.set(xlabel=xlabel, ylabel=ylabel)
    ax.set_title(title, fontsize=10)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    os.makedirs(out[0], exist_ok=True)
    fig.savefig(os.path.join(out[0], file))
    plt.close(fig)
    return [f"![{title}]({os.path.relpath(os.path.join(out[0], file), out[1])})", ""]


def bar_plot(labels: list[str], values: list[float], out: Out, file: str) -> list[str]:
    if not out[0] or not values:
        return []
    fig, ax = _axes()
    ax.barh(range(len(labels)), values, color="tab:orange")
    ax.set_yticks(range(len(labels)))
    ax.set_yticklabels(labels, fontsize=7)
    ax.invert_yaxis()
    return _save(fig, ax, out, file)


def line_plot(rows: Rows, x: str, out: Out, file: str, log: bool = True) -> list[str]:
    """Median against `x`, one line per system, p25-p75 shaded."""
    if not out[0] or not rows:
        return []
    fig, ax = _axes()
    for system in dict.fromkeys(r["system"] for r in rows):
        rs = sorted((r for r in rows if r["system"] == system), key=lambda r: _field(r, x))
        xs = [_field(r, x) for r in rs]
        ax.plot(xs, [r["median"] for r in rs], marker="o", label=system)
        if all("p25" in r for r in rs):
            ax.fill_between(xs, [r["p25"] for r in rs], [r["p75"] for r in rs], alpha=0.2)
    if log:
        ax.set_xscale("log", base=2)
        ax.set_yscale("log")
    ax.legend(fontsize=8)
    return _save(fig, ax, out, file)


def scatter_plot(rows: Rows, out: Out) -> list[str]:
    """Test accuracy against p50 latency, one colour per system, points named by data set."""
    points = [r for r in rows if r.get("p50_ms") and r.get("test_accuracy") is not None]
    if not out[0] or not points:
        return []
    fig, ax = _axes()
    for i, system in enumerate(dict.fromkeys(r["system"] for r in points)):
        rs = [r for r in points if r["system"] == system]
        xs, ys = [r["p50_ms"] for r in rs], [r["test_accuracy"] for r in rs]
        ax.scatter(xs, ys, label=system, c=f"C{i}")
        for r in rs:
            ax.annotate(r["dataset"], (r["p50_ms"], r["test_accuracy"]), fontsize=6)
    ax.set_xscale("log")
    ax.legend(fontsize=7)
    return _save(fig, ax, out, "accuracy_vs_latency.png")


# ---------------------------------------------------------------- key ratios
def cpu_tag(payload: dict[str, Any] | None) -> str:
    """' [cpu, features]' of the machine a results file was measured on: ratios from
    an AVX2-only CPU and a VNNI one differ (int8 kernels), so each key ratio says."""
    m = (payload or {}).get("machine") or {}
    parts = [m.get("cpu"), "/".join(m.get("cpu_features") or []) or None]
    parts = [p for p in parts if p]
    return f" [{', '.join(parts)}]" if parts else ""


def like_ratios(
    topic: str, rows: Rows, key: str, unit: str = "", higher=False, points=False, measured=None
):
    """'ours vs peer' lines between rows of one table with the same precision, length
    handling, threads and group. The peer: a `baseline` or `ours: False` row, else the
    first of its kind; rows with `ours: False` are not compared. `points`: a difference.
    `measured`: the results payload, whose CPU (`cpu_tag`) every line names."""

    def kind(r):
        return tuple(r.get(k) for k in ("precision", "sequence_length", "threads", "group"))

    bases: dict[tuple, dict[str, Any]] = {}
    for r in sorted(rows, key=lambda r: (not r.get("baseline"), r.get("ours") is not False)):
        if r.get(key) is not None:
            bases.setdefault(kind(r), r)
    out, where_run = [], cpu_tag(measured)
    for r in rows:
        b = bases.get(kind(r))
        if b is None or r is b or r.get(key) is None or r.get("ours") is False:
            continue
        precision, length, threads, group = kind(r)
        where = [
            fmt(precision),
            length_text(length),
            threads and f"{threads} thread{'s' * (threads != 1)}",
            group,
        ]
        where = ", ".join(w for w in where if w and w != "-")
        if points:
            got = f"{100 * (r[key] - b[key]):+.1f} points"
        else:
            got = f"{r[key] / b[key]:.2f}x ({'higher' if higher else 'lower'} is better)"
        out.append(
            f"- {topic}, {where}: {r['system']} {fmt(r[key])}{unit} vs {b['system']}"
            f" {fmt(b[key])}{unit} = **{got}**{where_run}"
        )
    return out


# ---------------------------------------------------------------- 1. which model to ship
def ship_table(rows: Rows) -> list[str]:
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    body = []
    for system in dict.fromkeys(r["system"] for r in rows):
        rs = [r for r in rows if r["system"] == system]
        acc = {r["dataset"]: r.get("test_accuracy") for r in rs}
        body.append(
            [system, span([r.get("precision") for r in rs])]
            + [span([r.get("sequence_length") for r in rs], length_text)]
            + [None if acc.get(d) is None else f"{acc[d]:.3f}" for d in datasets]
            + [span([r.get("parameters") for r in rs], millions)]
            + [span([r.get(k) for r in rs]) for k in ("model_mb", "p50_ms")]
        )
    columns = ["system", "precision", "sequence length", *datasets, "params", "model MB", "p50 ms"]
    return md_table(columns, body)


def runs_per_dataset(rows: Rows) -> list[str]:
    """When each data set's rows ran, for results merged from several runs (`--append`)."""
    runs = {r["dataset"]: (r["finished"], r.get("command")) for r in rows if r.get("finished")}
    if not runs:
        return []
    return ["", "Rows per data set: " + "; ".join(
        f"{d} {when} (`{cmd}`)" for d, (when, cmd) in runs.items()), ""]  # fmt: skip


def ship_section(results_dir: str, out: Out) -> Section:
    lines = [f"## {SHIP}", ""]
    payload = load(results_dir, "accuracy")
    if gap := missing(payload, "python -m benchmarks.bench_accuracy"):
        return lines + gap, []
    rows = payload.get("rows") or []
    how = (
        "each system trained once per data set (n=1: differences under 1-2 points are seed noise)"
        " and scored on the whole test split; precision and sequence-length handling per row;"
        " p50: the bundle in the edge runtime (LiteRT), batch 1, real test texts. A column per"
        " data set gives test accuracy; / separates values that differ between data sets."
    )
    lines += header("accuracy", payload, how) + ship_table(rows) + runs_per_dataset(rows)
    lines += scatter_plot(rows, out) + defaults_lines(results_dir) + unseen_lines(results_dir)
    lines += unseen_lines(results_dir, "unseen_languages")
    pair = [r for r in rows if r["system"] in (TEACHER, STUDENT)]
    pair = [{**r, "group": r["dataset"], "ours": r["system"] == STUDENT} for r in pair]
    return lines, like_ratios("Test accuracy", pair, "test_accuracy", points=True)


def defaults_lines(results_dir: str) -> list[str]:
    """How the default recipe's settings were chosen (recipe_defaults.json): validation only."""
    payload = load(results_dir, "recipe_defaults")
    if not payload or not payload.get("rows"):
        return []
    keys = ("learning_rate", "epochs", "augment_copies", "teacher_labelled_texts")
    keys += ("hidden_weight", "student_layers", "teacher_epochs", "long_text_windows")
    keys += ("teacher_by_loss", "teacher_validation_loss")
    body = [
        [r.get("dataset"), *(r.get(k) for k in keys)]
        + [" / ".join(fmt(v) for v in r.get("validation_accuracy_per_epoch") or [])]
        + [r.get("test_accuracy")]
        for r in payload["rows"]
    ]
    columns = ["data set", "lr", "epochs", "augment copies", "teacher-labelled texts"]
    columns += ["hidden-state weight", "student layers", "teacher epochs", "long-text windows"]
    columns += ["teacher kept by loss", "teacher validation loss"]
    columns += ["validation accuracy per epoch (chooses)", "test accuracy (reported only)"]
    lines = ["", "### How the default recipe's settings were chosen", ""]
    commands = [*(payload.get("earlier_commands") or []), payload.get("command")]
    shown = "; then `".join(f"{c}`" for c in commands)
    lines += [f"Commands: `{shown}. The student stage again over one teacher;"]
    lines += ["the default is the best final validation accuracy.", ""]
    return lines + md_table(columns, body)


def unseen_lines(results_dir: str, name: str = "unseen") -> list[str]:
    """The default recipe on packaged sets no default was chosen on (unseen.json), and
    on sets in other languages (unseen_languages.json: which teacher the recipe took,
    and which n-grams the floor used)."""
    payload = load(results_dir, name)
    if not payload or not payload.get("rows"):
        return []
    languages = name == "unseen_languages"
    keys = ("tfidf_test_accuracy", "teacher_test_accuracy", "student_test_accuracy")
    keys += ("bundle_test_accuracy", "bundle_agreement", "bundle_mb")
    body = []
    for r in payload["rows"]:
        if "error" in r:
            body.append([r["dataset"], "failed: " + r["error"]] + [None] * (len(keys) + 2))
            continue
        wins = "yes" if r["student_test_accuracy"] >= r["tfidf_test_accuracy"] else "**no**"
        extra = [r.get("teacher_source"), r.get("tfidf_features")] if languages else []
        body.append(
            [r["dataset"], r["train_texts"], r["labels"], *extra, *(r[k] for k in keys), wins]
        )
    columns = ["data set", "train texts", "labels"]
    columns += ["teacher taken", "TF-IDF n-grams"] if languages else []
    columns += ["TF-IDF", "teacher", "student (Keras)"]
    columns += ["bundle", "bundle agreement", "bundle MB", "student >= TF-IDF"]
    title = "In other languages" if languages else "On data no default was chosen on"
    lines = ["", f"### {title}", ""]
    lines += [
        f"Command: `{payload.get('command')}` ({payload.get('finished')}). Each set written out",
        "as train/validation/test CSV files, then `albert-tf train --data train.csv --validation",
        "validation.csv --test test.csv --out RUN` and `albert-tf export RUN --out BUNDLE",
        "--num-verify N` (N: the test file's rows), no other flags; test accuracy; TF-IDF on",
        "the same files, word or character n-grams and C chosen on validation.",
        "",
    ]
    return lines + md_table(columns, body)


# ---------------------------------------------------------------- 2. deployed student
LATENCY_KEYS = "system precision sequence_length threads p50_ms p95_ms peak_rss_mb model_mb".split()
STUDENT_KEYS = LATENCY_KEYS + ["agreement", "accuracy"]


def latency_table(rows: Rows, keys: list[str]) -> list[str]:
    columns = [
        k.replace("_ms", " ms").replace("_mb", " MB").replace("_", " ").replace("rss", "RSS")
        for k in keys
    ]
    rows = [{**r, "sequence_length": length_text(r.get("sequence_length"))} for r in rows]
    return md_table(columns, [[r.get(k) for k in keys] for r in rows])


def speed_section(results_dir: str, out: Out) -> Section:
    lines, ratios = [f"## {SPEED}", "", "### The distilled student bundle", ""], []
    payload = load(results_dir, "student_latency")
    rows = list((payload or {}).get("rows") or [])
    if not rows:
        lines += ["Not measured yet: run `python -m benchmarks.bench_student_latency`.", ""]
    else:
        how = (
            "batch 1, one text at a time, real test texts, tokenizer included; precision, sequence"
            " length (padded to a fixed length, or exact per text) and threads per row; agreement:"
            " labels equal to the Keras student's on the test split."
        )
        lines += header("student_latency", payload, how) + latency_table(rows, STUDENT_KEYS)
        labels = [f"{r['system']}, {r.get('precision')}, {r.get('sequence_length')}" for r in rows]
        labels = [f"{label}, {r.get('threads')} threads" for label, r in zip(labels, rows)]
        lines += bar_plot(labels, [r.get("p50_ms") or 0 for r in rows], out, "student_latency.png")
        ratios += like_ratios("Student p50", rows, "p50_ms", " ms", measured=payload)
        lines += student_target_lines(rows) + student_profile_lines(results_dir, payload)
    lines += ["### ALBERT-base, length 128", ""]
    payload = load(results_dir, "albert_base_latency")
    if gap := missing(payload, "python -m benchmarks.bench_export_latency"):
        return lines + gap, ratios
    return albert_base_lines(payload, lines, ratios)


def student_target_lines(rows: Rows) -> list[str]:
    """Per thread count: the default bundle (exact length) against the fastest peer
    running the same weights, as `bench_student_latency` chose it."""
    lines = []
    for r in rows:
        ratio = r.get("ratio_to_fastest_peer")
        if r.get("key") != "ours_dynamic" or not ratio:
            continue
        lines.append(
            f"- Default bundle (exact length), {r.get('threads')} thread(s): {fmt(r['p50_ms'])} ms"
            f" against the fastest peer on the same weights, {r.get('fastest_peer')}:"
            f" **{1 / ratio:.2f}x faster**."
        )
    return lines + ([""] if lines else [])


def student_profile_lines(results_dir: str, latency: dict[str, Any] | None) -> list[str]:
    """Where our student's call time goes: the phases of student_latency.json's
    `profile` (1 thread) and the op families of student_op_profile.json."""
    phases = ((latency or {}).get("profile") or {}).get("1", {}).get("phases_ms") or {}
    ops = load(results_dir, "student_op_profile")
    if not phases and not ops:
        return []
    lines = ["#### Where the student's time goes (1 thread)", ""]
    if phases:
        lines += [
            "Each call split into its steps (`bench_student_latency --profile`, p50 of 1,000 calls):",
            "",
        ]
        rows = [[k, v.get("p50"), v.get("share")] for k, v in phases.items()]
        lines += md_table(["step", "p50 ms", "share of mean"], rows)
    if ops:
        length = (ops.get("settings") or {}).get("length")
        lines += [
            f"The invoke by op family (`python -m benchmarks.student_op_profile`,"
            f" {ops.get('finished')}): each family converted alone at {length} tokens and timed"
            " interleaved with the whole bundle, calls 10 ms apart:",
            "",
        ]
        lines += md_table(
            ["op family", "ms", "share"],
            [[r["op_family"], r["ms"], r["share"]] for r in ops["rows"]],
        )
    return lines


def albert_base_lines(payload: dict[str, Any], lines: list[str], ratios: list[str]) -> Section:
    """The ALBERT-base subsection from albert_base_latency.json (interleaved timing)."""
    rows = list(payload.get("rows") or [])
    how = (
        "our bundles in each export mode and keras-hub's AlbertTextClassifier exported with"
        ' `model.export(format="litert")` (float32, dynamic-range), same shape, random weights;'
        " batch 1, the same token ids padded to 128 for every system, model call only; each"
        " system in a long-lived process of its own, the systems interleaved call by call."
        " agreement: ours from the export's default verification (labels vs Keras), keras-hub's"
        " against its Keras model; ratio: p50 / keras-hub dynamic-range p50, same threads."
    )
    keys = STUDENT_KEYS[:-1] + ["default_verified", "ratio_to_keras_hub_dynamic"]
    lines += header("albert_base_latency", payload, how) + latency_table(rows, keys)
    best = (payload.get("settings") or {}).get("fastest_default_verified") or {}
    for threads, b in best.items():
        lines.append(
            f"- Fastest default-verified albert-tf mode, {threads} thread(s): {b.get('mode')}"
            f" {fmt(b.get('p50_ms'))} ms, **{fmt(b.get('speedup_vs_keras_hub_dynamic'))}x faster**"
            " than keras-hub's dynamic-range export."
        )
    skipped = (payload.get("settings") or {}).get("skipped") or {}
    lines += [f"- Not timed: {k} ({fmt(why)})." for k, why in skipped.items()]
    lines += [""] if best or skipped else []
    return lines, ratios + like_ratios("ALBERT-base p50", rows, "p50_ms", " ms", measured=payload)


# ---------------------------------------------------------------- 3. training, 4. cost
def rows_of(payload: dict[str, Any], metric: str) -> Rows:
    rows = payload.get("rows") or []
    return [r for r in rows if r.get("metric") == metric and not r.get("plot_only")]


def training_section(results_dir: str, out: Out) -> Section:
    lines = [f"## {TRAIN}", ""]
    payload = load(results_dir, "training")
    if gap := missing(payload, "python -m benchmarks.bench_training"):
        return lines + gap, []
    how = " ".join((payload.get("notes") or [])[:2]) + " float32, `model.fit`."
    speed = rows_of(payload, "tokens_per_s")
    target = {r["system"]: r for r in rows_of(payload, "seconds")}
    body = []
    for r in speed:
        t = target.get(r["system"]) or {}
        body.append([r["system"], r["median"], f"{fmt(r.get('p25'))}-{fmt(r.get('p75'))}"])
        body[-1] += [_field(r, k) for k in ("first_step_s", "peak_rss_mb")]
        body[-1] += [t.get("median"), _field(t, "step")]
    goal = next(iter(target.values()), {}).get("group", "").replace("training seconds to ", "")
    columns = ["system", "tokens/s", "p25-p75", "first step s", "peak RSS MB", f"s to {goal}"]
    lines += header("training", payload, how) + md_table(columns + ["step"], body)
    tokens = [r["median"] for r in speed]
    lines += bar_plot([r["system"] for r in speed], tokens, out, "training_tokens_per_s.png")
    curve = [r for r in payload.get("rows") or [] if r.get("metric") == "val_loss"]
    lines += line_plot(curve, "train_seconds", out, "training_val_loss.png", log=False)
    speed = [{**r, "group": "XLA" if "XLA" in r["system"] else "no XLA"} for r in speed]
    topic = "Training (float32, padded to 64)"
    return lines, like_ratios(topic, speed, "median", " tokens/s", higher=True, measured=payload)


def pivot(rows: Rows, key: str, label=fmt) -> list[str]:
    """Median latency, one row per system and one column per `key` value."""
    order = "parameters" if key == "preset" else key
    cols = list(dict.fromkeys(_field(r, key) for r in sorted(rows, key=lambda r: _field(r, order))))
    table = {(r["system"], _field(r, key)): r["median"] for r in rows}
    body = [
        [s] + [table.get((s, c)) for c in cols] for s in dict.fromkeys(r["system"] for r in rows)
    ]
    return md_table(["system"] + [label(c) for c in cols], body)


def cost_section(results_dir: str, out: Out) -> Section:
    lines = [f"## {COST}", ""]
    payload = load(results_dir, "scaling")
    if gap := missing(payload, "python -m benchmarks.bench_scaling"):
        return lines + gap, []
    note = (payload.get("notes") or [""])[0]
    how = f"{note} float32 (Keras/TF and PyTorch), every row padded to its length; median ms."
    rows = rows_of(payload, "latency_ms")
    sizes = [r for r in rows if _field(r, "preset") is not None]
    by_len = [r for r in rows if _field(r, "seq_length") is not None]
    params = {_field(r, "preset"): _field(r, "parameters") for r in sizes}
    lines += header("scaling", payload, how) + ["Latency (ms) vs sequence length, ALBERT-base:", ""]
    lines += pivot(by_len, "seq_length")
    lines += ["Latency (ms) vs model size, length 128:", ""]
    lines += pivot(sizes, "preset", lambda p: f"{p} ({millions(params.get(p))})")
    lines += line_plot(by_len, "seq_length", out, "scaling_seq_length.png")
    lines += line_plot(sizes, "parameters", out, "scaling_model_size.png")
    keys = [r for r in rows if r.get("group") in (payload.get("key_groups") or [])]
    return lines, like_ratios("Latency (float32)", keys, "median", " ms", measured=payload)


def embedder_section(results_dir: str, out: Out) -> Section:
    """The sentence embedder (issue 31): how much of MiniLM's similarity it keeps."""
    payload = load(results_dir, "embedder")
    lines = ["## How close is the sentence embedder to its teacher?", ""]
    if not payload:
        return lines + missing(None, "python -m benchmarks.bench_embedder"), []
    sim = payload["similarity_lee_spearman"]
    retrieval = payload["retrieval_trec"]
    bundle = payload["bundle"]
    lines += [
        f"`python -m benchmarks.bench_embedder`, run `{payload['run']}` (max_length "
        f"{payload['max_length']}). Spearman correlation of cosine similarities with the human "
        f"scores of the Lee corpus ({payload['lee']['pairs']} pairs; {payload['lee']['license']}).",
        "",
    ]
    training = payload.get("training")
    if training:
        lines += [
            f"Trained {training['epochs']} epochs on {training['user_texts']} user texts plus "
            f"{training['generic_texts']} generic packaged texts; mean cosine with the teacher on "
            f"the first 500 training texts {fmt(training['train_cosine'])}.",
            "",
        ]
    lines += md_table(
        ["model", "Spearman (Lee)", "parameters", "size"],
        [
            ["teacher all-MiniLM-L6-v2 (Keras)", sim["teacher_keras"],
             millions(payload["parameters"]["teacher"]),
             f"{payload['teacher_float32_bytes'] / 1e6:.1f} MB float32"],
            ["teacher at max_length 256 (Keras)", sim["teacher_keras_256"], None, None],
            ["student (Keras)", sim["student_keras"],
             millions(payload["parameters"]["student"]), None],
            [f"bundle ({bundle['quantization']}, edge runtime)", sim["bundle_runtime"], None,
             f"{bundle['total_bytes'] / 1e6:.2f} MB"],
        ],
    )  # fmt: skip
    lines += [
        f"Retrieval: {retrieval['queries']} TREC questions against {retrieval['corpus']} others "
        f"(none trained on): recall@10 of the bundle against the teacher's own top 10: "
        f"{fmt(retrieval['recall_at_10_vs_teacher'])}.",
        "",
    ]
    speed, ratios = embedder_latency_lines(results_dir)
    share = sim["bundle_share_of_teacher"]
    return lines + speed, [f"- Embedder bundle / teacher Spearman (Lee): {share:.1%}", *ratios]


def embedder_latency_lines(results_dir: str) -> Section:
    """The embedder bundle's p50 and size against MiniLM on ONNX Runtime int8."""
    payload = load(results_dir, "embedder_latency")
    if not payload:
        return missing(None, "python -m benchmarks.bench_embedder_latency --bundle BUNDLE"), []
    s = payload["settings"]
    how = (
        f"batch 1, tokenizer and pooling included, the two systems taking turns text by text, "
        f"{s['repeats']} passes; both cut texts at {s['max_length']} tokens (the bundle "
        f"{'pads to it' if not s.get('dynamic_length') else 'runs at exact length'}, ONNX Runtime "
        f"runs at exact length); ONNX int8: {s['onnx_int8_recipe']}."
    )
    lines = ["### The embedder bundle against its teacher on ONNX Runtime int8", ""]
    lines += header("embedder_latency", payload, how)
    rows = payload["rows"]
    lines += md_table(
        ["texts", "threads", "system", "p50 ms", "p95 ms", "model MB", "ours faster by"],
        [[f"{r['texts']} ({r['count']})", r["threads"], r["system"], r["p50_ms"], r["p95_ms"],
          r["model_mb"], f"{r['speedup_of_ours']}x"] for r in rows],
    )  # fmt: skip
    lines += [f"The bundle folder, tokenizer included: {s['bundle_bytes'] / 1e6:.2f} MB.", ""]
    ratios = [
        f"- Embedder bundle vs MiniLM on ONNX Runtime int8, {r['texts']}, {r['threads']} "
        f"thread(s): p50 {r['p50_ms']} ms, **{r['speedup_of_ours']}x the teacher's speed** "
        f"(above 1: the bundle faster) {cpu_tag(payload)}"
        for r in rows if r["system"].startswith("albert-tf")
    ]  # fmt: skip
    return lines, ratios


def three(value: float | None) -> str | None:
    """An accuracy as the table shows it: three decimals, so columns compare at a glance."""
    return None if value is None else f"{value:.3f}"


def frontier_section(results_dir: str, out: Out) -> Section:
    """Our default bundle among the models a user would ship instead (bench_frontier)."""
    lines = [f"## {FRONTIER}", ""]
    names = sorted(
        f[: -len(".json")] for f in os.listdir(results_dir)
        if f.startswith("frontier_") and f.endswith(".json")
    )  # fmt: skip
    if not names:
        return lines + missing(
            None, "python -m benchmarks.bench_frontier --dataset movie_reviews"
        ), []
    ratios = []
    for name in names:
        payload = load(results_dir, name)
        settings = payload.get("settings") or {}
        how = (
            "every system trained on the same split (choices on validation), scored on the whole "
            "test split, one timing process each, the systems taking turns text by text; batch 1, "
            "tokenizer included. Frontier: no other system is both at least as accurate and at "
            "least as fast."
        )
        title = f"{settings.get('dataset', name)}, {settings.get('threads', '?')} thread(s)"
        lines += [f"### {title}", ""] + header(name, payload, how)
        rows = sorted(payload.get("rows") or [], key=lambda r: r["p50_ms"])
        lines += md_table(
            ["system", "test accuracy", "validation accuracy", "p50 ms", "p95 ms", "model MB",
             "parameters", "on the frontier", "beaten by"],
            [[r["system"], three(r["accuracy"]), three(r.get("validation_accuracy")), r["p50_ms"], r["p95_ms"],
              r["model_mb"], millions(r.get("parameters")), "yes" if r["on_frontier"] else "no",
              ", ".join(r["beaten_by"]) or "-"] for r in rows],
        )  # fmt: skip
        for system, why in (settings.get("skipped") or {}).items():
            lines.append(f"- Not measured: {system}: {why}")
        lines += [f"- {r['system']}: {r['note']}" for r in rows if r.get("note")]
        mm = (payload.get("facts") or {}).get("model_maker") or {}
        if "test_accuracy_model_maker" in mm:
            lines.append(
                f"- MediaPipe Model Maker: seq_len {mm.get('seq_len')}, {mm.get('epochs')} epochs "
                f"(validation by setting: "
                f"{', '.join(f'{k}: {v:.3f}' for k, v in mm.get('validation_by_setting', {}).items())}"
                f"); its own "
                f"evaluate gives {mm['test_accuracy_model_maker']:.3f} on the test split, the "
                "table MediaPipe Tasks' TextClassifier on the exported model."
            )
        t = payload.get("targets") or {}
        if "speedup_vs_teacher_onnx_int8" in t:
            ratios.append(
                f"- Default bundle vs fine-tuned teacher on ONNX Runtime int8, {title}: "
                f"**{t['speedup_vs_teacher_onnx_int8']}x faster**, "
                f"{t['points_below_teacher_onnx_int8']} points below {cpu_tag(payload)}"
            )
            lines += [
                "",
                f"Targets: default bundle on the frontier: "
                f"{'yes' if t['default_on_frontier'] else 'no'}; at least 2x faster than the "
                f"teacher on ONNX Runtime int8 at no more than 1 point below it: "
                f"{'yes' if t['fast_and_close'] else 'no'} ({t['speedup_vs_teacher_onnx_int8']}x, "
                f"{t['points_below_teacher_onnx_int8']} points).",
            ]
        if settings.get("plot"):
            lines += ["", f"![{settings.get('dataset')} frontier]({settings['plot']})"]
        lines.append("")
    return lines, ratios


# ---------------------------------------------------------------- document
SECTIONS = (
    frontier_section,
    ship_section,
    speed_section,
    training_section,
    cost_section,
    embedder_section,
)


def build(results_dir: str, out: Out) -> Section:
    """Every section's lines and key ratios (PNGs only when out names their folder)."""
    lines: list[str] = []
    ratios: list[str] = []
    for make in SECTIONS:
        body, found = make(results_dir, out)
        busy = any("measured on a busy machine" in line for line in body)
        lines += body
        ratios += [r + (" (busy machine)" if busy else "") for r in found]
    return lines, ratios


def render(results_dir: str, out_path: str, png_dir: str | None = None) -> str:
    """The markdown text of the report (PNGs are written as a side effect)."""
    md_dir = os.path.dirname(os.path.abspath(out_path))
    body, ratios = build(results_dir, (png_dir or results_dir, md_dir))
    titles = (FRONTIER, SHIP, SPEED, TRAIN, COST)
    lines = [
        "# Benchmarks",
        "",
        "Generated by `python -m benchmarks.report` from `benchmarks/results/*.json` (`make bench`"
        " reruns the benchmarks and this report); do not edit by hand. Medians unless a column"
        " says otherwise.",
        "",
        " | ".join(f"[{t}](#{t.lower().replace(' ', '-').replace('?', '')})" for t in titles),
        "",
        "## Key ratios",
        "",
        "Only between rows of one table with the same precision and sequence-length handling.",
        "",
    ]
    lines += (ratios or ["(none yet: run `make bench`)"]) + [""]
    return "\n".join(lines + body).rstrip() + "\n"


def _write(path: str, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=".report.")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(tmp, 0o644)  # mkstemp makes 0600
    os.replace(tmp, path)


def write_report(results_dir: str, out_path: str, png_dir: str | None = None) -> str:
    """Render and write `out_path` atomically; returns its path."""
    _write(out_path, render(results_dir, out_path, png_dir))
    return out_path


def main(argv: list[str] | None = None) -> int:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    parser = argparse.ArgumentParser(prog="python -m benchmarks.report")
    parser.add_argument("--results", default=os.path.join(root, "benchmarks", "results"))
    parser.add_argument("--out", default=os.path.join(root, "BENCHMARKS.md"))
    args = parser.parse_args(argv)
    print(f"wrote {write_report(args.results, args.out)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
