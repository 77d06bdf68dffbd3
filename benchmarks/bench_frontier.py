"""Which model should I ship? Our default bundle among the models a user would pick
instead, on one data set's test split: accuracy against batch-1 latency, with size.

Systems (each trained on the same train/validation split, its choices made on
validation, scored on the whole test split):

- our default bundle: `albert-tf demo --dataset X` (the default recipe, exported);
- our student at other shapes (`--student-size`, `--student-layers`), distilled
  from the same fine-tuned teacher and its cached logits, exported the same way;
- the fine-tuned teacher as our bundle, and on ONNX Runtime dynamic int8 (from
  `albert-tf convert --to huggingface`, exact length, HF fast tokenizer);
- a model2vec static-embedding model distilled from that teacher's folder, offline,
  with logistic regression on top (peers/model2vec_prepare.py, the peer venv);
- MediaPipe Model Maker's average-word-embedding classifier, trained in a venv of
  its own (`make model-maker-venv`; it pins TensorFlow 2.15), run by MediaPipe Tasks;
- TF-IDF + logistic regression, word or character n-grams and C chosen on validation.

Timing: one server process per system (peers/student_server.py), every test text
classified once by each, the systems taking turns text by text (tokenizer included,
batch 1, the same thread count), then `--repeats` more passes over the first
`--texts` texts. The frontier: the systems no other system beats on both accuracy
and p50. A system whose venv or package is missing is listed as skipped, with why.

Example:
    python -m benchmarks.bench_frontier --dataset movie_reviews
    python -m benchmarks.bench_frontier --dataset movie_reviews --demo runs/demo --skip model_maker
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pickle
import shutil
import subprocess
import sys
from typing import Any

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.bench_student_latency import (  # noqa: E402
    Server,
    agreement,
    latency_stats,
    time_round_robin,
)
from benchmarks.common import (  # noqa: E402
    bench_python,
    missing_venv_reason,
    read_json,
    run_cli,
    run_peer,
    text_table,
    write_results,
)

WORK_ROOT = os.path.join(ROOT, "runs", "frontier")
# Student shapes beside the default (student_size 0.25, 4 layers over 2 groups):
# name -> StudentRecipe fields.
SHAPES = {
    "student, 1/8 of the teacher": {"student_size": 0.125},
    "student, 2 layers": {"student_layers": 2},
    "student, 6 layers": {"student_layers": 6},
    # Three layers cannot share two groups; three groups (teacher layers spread
    # over its depth) need a larger budget than the default's 6 MB.
    "student, 3 layers (3 groups)": {
        "student_layers": 3,
        "groups": 3,
        "student_size": 0.35,
        "max_bundle_mb": 8.0,
    },
    # Each shared block keeps the half of its teacher layer's feed-forward units
    # that vary most on the texts: a third fewer multiply-adds per layer.
    "student, half feed-forward": {"ffn_share": 0.5},
}
DEFAULT_SYSTEM = "albert-tf default bundle"
TEACHER_ONNX = "teacher, ONNX Runtime int8"
# The Model Maker venv: `make model-maker-venv` creates it beside the checkout.
MODEL_MAKER_VENV = os.environ.get(
    "ALBERT_TF_MODEL_MAKER_VENV", os.path.join(os.path.dirname(ROOT), "mmvenv")
)


@dataclasses.dataclass
class System:
    """One row: how to start its timing server, and what it is."""

    name: str
    server: list[str]
    python: str
    kind: str
    parameters: int | None = None
    validation_accuracy: float | None = None
    note: str = ""


# ------------------------------------------------------------- preparing
def demo_folder(dataset: str, given: str | None, log) -> str:
    """`albert-tf demo --dataset X` into the folder bench_accuracy uses (or the one
    given), reused when finished: the default recipe, its teacher, the default bundle."""
    folder = os.path.abspath(given or os.path.join(ROOT, "runs", "accuracy", dataset))
    if not os.path.isfile(os.path.join(folder, "summary.json")):
        log(f"[frontier] albert-tf demo --dataset {dataset} --out {folder}")
        os.makedirs(os.path.dirname(folder), exist_ok=True)
        run_cli(["demo", "--dataset", dataset, "--out", folder], folder + ".log")
    return folder


def shape_run(dataset: str, demo: str, work: str, name: str, fields: dict, log) -> str:
    """A student of another shape from the demo's teacher (copied, with its cached
    logits, so only the student stage runs), exported like the default."""
    folder = os.path.join(work, "shapes", "_".join(f"{k}{v}" for k, v in fields.items()))
    bundle = os.path.join(folder, "bundle")
    if os.path.isfile(os.path.join(bundle, "manifest.json")):
        return folder
    run_dir = os.path.join(folder, "run")
    if not _finished(run_dir):
        shutil.rmtree(run_dir, ignore_errors=True)
        shutil.copytree(os.path.join(demo, "run", "teacher"), os.path.join(run_dir, "teacher"))
        for name_ in os.listdir(os.path.join(demo, "run")):
            if name_.startswith("teacher_logits"):
                shutil.copy2(os.path.join(demo, "run", name_), run_dir)
        log(f"[frontier] {name}: distilling ({fields})")
        cmd = [sys.executable, "-m", "benchmarks.bench_frontier", "--train-shape", run_dir,
               "--dataset", dataset, "--fields", json.dumps(fields)]  # fmt: skip
        with open(folder + ".log", "a", encoding="utf-8") as out:
            subprocess.run(cmd, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=True)
    export_bundle(run_dir, bundle, log)
    return folder


def train_shape(run_dir: str, dataset: str, fields: dict) -> None:
    """(In a subprocess) the default recipe with `fields` changed, into `run_dir`."""
    from albert_tf.io.quiet_tensorflow import import_tensorflow

    import_tensorflow()
    from albert_tf.data.packaged import load
    from albert_tf.distillation.default_recipe import StudentRecipe, train_distilled_classifier
    from albert_tf.training.splits import label_vocabulary, to_split

    data = load(dataset)
    vocab = label_vocabulary(data.train, "single_label")
    splits = [to_split(s, vocab, "single_label") for s in (data.train, data.validation, data.test)]
    info = {"version": 2, "task": "classify", "problem_type": "single_label"}
    info["data"] = {"dataset": dataset}
    recipe = dataclasses.replace(StudentRecipe(), **fields)
    train_distilled_classifier(*splits, vocab.names, run_dir, recipe, info=info, verbose=2)


def _finished(run_dir: str) -> bool:
    path = os.path.join(run_dir, "run.json")
    return os.path.isfile(path) and bool(read_json(path).get("metrics", {}).get("test"))


def export_bundle(run_dir: str, bundle: str, log, force: bool = False) -> str:
    """`albert-tf export RUN` as the demo does (dynamic range, dynamic length,
    verified on the whole test split); `force`: written even if verification fails."""
    if not os.path.isfile(os.path.join(bundle, "manifest.json")):
        log(f"[frontier] albert-tf export {os.path.relpath(run_dir, ROOT)}")
        args = ["export", run_dir, "--out", bundle, "--dynamic-length", "--num-verify", "100000"]
        run_cli(args + (["--force"] if force else []), bundle + ".log")
    return bundle


def teacher_bundle(teacher_run: str, bundle: str, log) -> str:
    """The teacher as our bundle. A teacher whose int8 bundle drifts from its Keras
    model past verification is still what a user could ship: measured, and its row
    says so (`bundle_system`)."""
    try:
        return export_bundle(teacher_run, bundle, log)
    except RuntimeError:
        with open(bundle + ".log", encoding="utf-8") as f:
            if "failed verification" not in f.read():
                raise
        log("[frontier] the teacher's bundle failed verification; exporting it with --force")
        return export_bundle(teacher_run, bundle, log, force=True)


def tfidf_model(splits: dict, work: str) -> tuple[str, dict]:
    """TF-IDF + logistic regression, features and C chosen on validation, pickled."""
    from albert_tf.training.baselines import best_tfidf_model

    model, kind, c, scores = best_tfidf_model(splits["train"], splits["validation"])
    path = os.path.join(work, "tfidf.pkl")
    with open(path, "wb") as f:
        pickle.dump(model, f)
    return path, {"features": kind, "C": c, "validation_accuracy": scores[(kind, c)]}


def teacher_hf(demo: str, work: str, log) -> str:
    out = os.path.join(work, "teacher_hf")
    if not os.path.isfile(os.path.join(out, "model.safetensors")):
        shutil.rmtree(out, ignore_errors=True)
        log("[frontier] albert-tf convert TEACHER --to huggingface")
        run_cli(["convert", os.path.join(demo, "run", "teacher"), out, "--to", "huggingface"],
                out + ".log")  # fmt: skip
    return out


def split_file(splits: dict, names: list[str], work: str) -> str:
    """The splits as JSON (texts, label indices, label names) for the peers."""
    path = os.path.join(work, "splits.json")
    payload = {k: {"texts": list(s.texts), "labels": [int(y) for y in s.labels]}
               for k, s in splits.items()}  # fmt: skip
    payload["label_names"] = names
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)
    return path


def model_maker(split_path: str, work: str, log) -> tuple[str | None, dict]:
    """Model Maker's average-word-embedding classifier (its own venv), or why not."""
    python = os.path.join(MODEL_MAKER_VENV, "bin", "python")
    if not os.access(python, os.X_OK):
        return None, {"skipped": f"{MODEL_MAKER_VENV} missing: run `make model-maker-venv`"}
    out = os.path.join(work, "model_maker")
    report = os.path.join(out, "report.json")
    if not os.path.isfile(report):
        log("[frontier] MediaPipe Model Maker: average word embedding classifier")
        script = os.path.join(HERE, "peers", "model_maker_train.py")
        proc = subprocess.run([python, script, "--data", split_path, "--out", out],
                              capture_output=True, text=True)  # fmt: skip
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            return None, {"skipped": f"model_maker_train.py failed: {tail}"}
    return os.path.join(out, "model.tflite"), read_json(report)


# ------------------------------------------------------------- the systems
def bundle_system(name: str, bundle: str, run_dir: str, kind: str) -> System:
    info = read_json(os.path.join(run_dir, "run.json"))
    checked = read_json(os.path.join(bundle, "manifest.json")).get("verification") or {}
    note = ""
    if checked.get("forced"):
        note = f"failed verification, written with --force: {'; '.join(checked['failures'])}"
    return System(
        name, ["--system", "ours", "--model", bundle], sys.executable, kind,
        parameters=info.get("parameters"), validation_accuracy=validation_accuracy(run_dir),
        note=note,
    )  # fmt: skip


def validation_accuracy(run_dir: str) -> float | None:
    """The kept epoch's validation accuracy: a distilled run's history.json at its
    best epoch, a fine-tuned one's run.json (whose "accuracy" is the training one)."""
    info = read_json(os.path.join(run_dir, "run.json"))
    metrics = info.get("metrics", {})
    history_path = os.path.join(run_dir, "history.json")
    if "best_epoch" in metrics and os.path.isfile(history_path):
        history = read_json(history_path).get("val_accuracy") or []
        if len(history) >= metrics["best_epoch"]:
            return history[metrics["best_epoch"] - 1]
    return metrics.get("validation", {}).get("val_accuracy")


def gather(args, work: str, log) -> tuple[list[System], dict, dict]:
    """Build or reuse every system; (systems, skipped, facts)."""
    from albert_tf.data.packaged import load
    from albert_tf.training.splits import label_vocabulary, to_split

    data = load(args.dataset)
    vocab = label_vocabulary(data.train, "single_label")
    splits = {k: to_split(getattr(data, k), vocab, "single_label")
              for k in ("train", "validation", "test")}  # fmt: skip
    skip, skipped, facts = set(args.skip), {}, {}
    demo = demo_folder(args.dataset, args.demo, log)
    systems = [bundle_system(DEFAULT_SYSTEM, os.path.join(demo, "bundle"),
                             os.path.join(demo, "run"), "ours")]  # fmt: skip
    for name, fields in SHAPES.items():
        if "shapes" in skip or name in skip:
            skipped[name] = "left out with --skip"
            continue
        folder = shape_run(args.dataset, demo, work, name, fields, log)
        systems.append(bundle_system(name, os.path.join(folder, "bundle"),
                                     os.path.join(folder, "run"), "ours"))  # fmt: skip
    teacher_run = os.path.join(demo, "run", "teacher")
    if "teacher_bundle" not in skip:
        bundle = teacher_bundle(teacher_run, os.path.join(work, "teacher_bundle"), log)
        systems.append(bundle_system("teacher, albert-tf bundle", bundle, teacher_run, "teacher"))
    path, facts["tfidf"] = tfidf_model(splits, work)
    systems.append(System("TF-IDF + logistic regression", ["--system", "tfidf", "--model", path],
                          sys.executable, "peer",
                          validation_accuracy=facts["tfidf"]["validation_accuracy"]))  # fmt: skip
    split_path = split_file(splits, vocab.names, work)
    peer = bench_python()
    if peer is None:
        skipped.update({TEACHER_ONNX: missing_venv_reason(), "model2vec": missing_venv_reason()})
    else:
        systems += peer_systems(demo, work, split_path, peer, skip, skipped, facts, log)
    if "model_maker" not in skip:
        tflite, report = model_maker(split_path, work, log)
        facts["model_maker"] = report
        if tflite is None:
            skipped["MediaPipe Model Maker"] = report["skipped"]
        else:
            labels = os.path.join(work, "label_names.json")
            with open(labels, "w", encoding="utf-8") as f:
                json.dump(vocab.names, f)
            systems.append(System(
                "MediaPipe Model Maker (average word embedding)",
                ["--system", "mediapipe", "--model", tflite, "--labels", labels],
                sys.executable, "peer", validation_accuracy=report.get("validation_accuracy"),
                note="MediaPipe Tasks sets no thread count",
            ))  # fmt: skip
    return systems, skipped, {"splits": splits, "labels": vocab.names, **facts}


def peer_systems(demo, work, split_path, peer, skip, skipped, facts, log) -> list[System]:
    """The teacher on ONNX Runtime int8 and the model2vec classifier (peer venv)."""
    out: list[System] = []
    hf = teacher_hf(demo, work, log)
    max_length = str(read_json(os.path.join(demo, "run", "teacher", "run.json"))["max_length"])
    if TEACHER_ONNX not in skip:
        onnx = os.path.join(work, "teacher_onnx")
        made = run_peer(
            "student_server.py",
            ["--system", "prepare_onnx", "--model", hf, "--work", onnx],
            threads=1,
        )
        facts["onnx_int8"] = made["int8_recipe"]
        out.append(
            System(
                TEACHER_ONNX,
                [
                    "--system",
                    "onnx_int8",
                    "--model",
                    hf,
                    "--work",
                    onnx,
                    "--max-length",
                    max_length,
                ],
                peer,
                "teacher",
            )
        )
    if "model2vec" not in skip:
        folder = os.path.join(work, "model2vec")
        try:
            if not os.path.isfile(os.path.join(folder, "report.json")):
                log("[frontier] model2vec: distilling a static model from the teacher")
                run_peer(
                    "model2vec_prepare.py",
                    ["--model", hf, "--data", split_path, "--out", folder],
                    threads=2,
                )
            report = read_json(os.path.join(folder, "report.json"))
            facts["model2vec"] = report
            out.append(
                System(
                    "model2vec static embeddings + logistic regression",
                    ["--system", "model2vec", "--model", folder],
                    peer,
                    "peer",
                    validation_accuracy=report["validation_accuracy"],
                )
            )
        except RuntimeError as e:
            skipped["model2vec"] = str(e).splitlines()[-1][:300]
    return out  # fmt: skip


# ------------------------------------------------------------- measuring
def time_systems(systems: list[System], texts: list[str], args, work: str):
    """Per-system samples and first-pass labels over every text, the systems taking
    turns; then `repeats` passes over the first `args.texts` texts."""
    texts_file = os.path.join(work, "test_texts.json")
    with open(texts_file, "w", encoding="utf-8") as f:
        json.dump(texts, f)
    servers: dict[str, Server] = {}
    try:
        for s in systems:
            log_path = os.path.join(work, f"server_{len(servers)}_t{args.threads}.log")
            servers[s.name] = Server(s.python, [*s.server, "--texts", texts_file], args.threads,
                                     log_path)  # fmt: skip
        samples, labels = time_round_robin(servers, len(texts), 1, args.gap_ms / 1e3)
        timed = min(args.texts, len(texts))
        if args.repeats:
            more, _ = time_round_robin(servers, timed, args.repeats, args.gap_ms / 1e3)
            for name in samples:
                samples[name] = samples[name][:timed] + more[name]
        stats = {name: server.ask("stats") for name, server in servers.items()}
    finally:
        for server in servers.values():
            server.close()
    return samples, labels, stats


def frontier(rows: list[dict]) -> None:
    """Mark each row dominated or on the frontier (no row at least as accurate and
    as fast, and strictly better on one)."""
    for r in rows:
        r["beaten_by"] = [
            o["system"] for o in rows
            if o is not r and o["accuracy"] >= r["accuracy"] and o["p50_ms"] <= r["p50_ms"]
            and (o["accuracy"] > r["accuracy"] or o["p50_ms"] < r["p50_ms"])
        ]  # fmt: skip
        r["on_frontier"] = not r["beaten_by"]


def targets(rows: list[dict]) -> dict[str, Any]:
    """The issue's two checks on the default bundle, as measured."""
    by = {r["system"]: r for r in rows}
    ours, teacher = by.get(DEFAULT_SYSTEM), by.get(TEACHER_ONNX)
    out: dict[str, Any] = {"default_on_frontier": bool(ours and ours["on_frontier"])}
    if ours and teacher:
        speedup = teacher["p50_ms"] / ours["p50_ms"]
        points = 100 * (teacher["accuracy"] - ours["accuracy"])
        out.update(
            speedup_vs_teacher_onnx_int8=round(speedup, 2),
            points_below_teacher_onnx_int8=round(points, 1),
            fast_and_close=bool(speedup >= 2.0 and points <= 1.0),
        )
    return out


def plot(rows: list[dict], dataset: str, threads: int, path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(11, 5.2))
    best = sorted((r for r in rows if r["on_frontier"]), key=lambda r: r["p50_ms"])
    ax.step([r["p50_ms"] for r in best], [r["accuracy"] for r in best], where="post",
            color="0.7", zorder=1, label="frontier")  # fmt: skip
    colors = {"ours": "tab:blue", "teacher": "tab:orange", "peer": "tab:green"}
    # Numbers at the markers and the names in a key beside the axes: systems of
    # about the same speed and accuracy would print their names over each other.
    ordered = sorted(rows, key=lambda r: r["p50_ms"])
    for k, r in enumerate(ordered, 1):
        size = 30 + 12 * (r["model_mb"] or 0)
        ax.scatter(r["p50_ms"], r["accuracy"], s=size, color=colors[r["kind"]], zorder=2,
                   edgecolor="black" if r["system"] == DEFAULT_SYSTEM else "none")  # fmt: skip
        ax.annotate(str(k), (r["p50_ms"], r["accuracy"]), fontsize=8, xytext=(4, 4),
                    textcoords="offset points")  # fmt: skip
    key = "\n".join(f"{k:>2}  {r['system']}\n    {r['accuracy']:.3f}, {r['p50_ms']:.2f} ms, "
                    f"{r['model_mb']:.1f} MB" for k, r in enumerate(ordered, 1))  # fmt: skip
    fig.text(0.63, 0.5, key, fontsize=7, va="center", family="monospace")
    ax.set_xscale("log")
    ax.set_xlabel(f"p50 latency per text, ms (batch 1, {threads} thread(s), log scale)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"{dataset}: accuracy against latency (marker area ~ model MB)")
    ax.grid(alpha=0.3)
    fig.tight_layout(rect=(0, 0, 0.62, 1))
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def measure(args, work: str, log) -> dict[str, Any]:
    systems, skipped, facts = gather(args, work, log)
    splits = facts.pop("splits")
    texts, gold = list(splits["test"].texts), [int(y) for y in splits["test"].labels]
    log(f"[frontier] timing {len(systems)} systems on {len(texts)} test texts, "
        f"{args.threads} thread(s)")  # fmt: skip
    samples, labels, stats = time_systems(systems, texts, args, work)
    rows = []
    for s in systems:
        st = stats[s.name]
        rows.append({
            "system": s.name, "kind": s.kind, "accuracy": agreement(labels[s.name], gold),
            "validation_accuracy": s.validation_accuracy, **latency_stats(samples[s.name]),
            "model_mb": st["model_mb"], "peak_rss_mb": st["peak_rss_mb"],
            "parameters": s.parameters, "versions": st.get("versions"), "note": s.note,
        })  # fmt: skip
    frontier(rows)
    return {"rows": rows, "skipped": skipped, "facts": facts, "texts": len(texts)}


def format_rows(rows: list[dict]) -> str:
    head = ["system", "test acc", "p50 ms", "p95 ms", "MB", "frontier"]
    lines = [[r["system"], f"{r['accuracy']:.3f}", f"{r['p50_ms']:.3f}", f"{r['p95_ms']:.3f}",
              f"{r['model_mb']:.2f}", "yes" if r["on_frontier"] else "no"]
             for r in sorted(rows, key=lambda r: r["p50_ms"])]  # fmt: skip
    return text_table(head, lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--dataset", default="movie_reviews")
    p.add_argument("--demo", default=None, help="an `albert-tf demo` output folder to reuse")
    p.add_argument("--work", default=None, help="folder of the built systems")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--texts", type=int, default=300, help="test texts the repeats time")
    p.add_argument("--repeats", type=int, default=3, help="timed passes after the first")
    p.add_argument("--gap-ms", type=float, default=5.0, help="idle time between calls")
    p.add_argument(
        "--skip",
        nargs="*",
        default=[],
        help="shapes, teacher_bundle, model2vec, model_maker, or a system name",
    )
    p.add_argument("--results-name", default=None, help="default: frontier_<dataset>")
    p.add_argument("--train-shape", default=None, help=argparse.SUPPRESS)
    p.add_argument("--fields", default="{}", help=argparse.SUPPRESS)
    args = p.parse_args(argv)  # fmt: skip
    if args.train_shape:
        train_shape(args.train_shape, args.dataset, json.loads(args.fields))
        return 0
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    work = os.path.abspath(args.work or os.path.join(WORK_ROOT, args.dataset))
    os.makedirs(work, exist_ok=True)

    def log(message: str) -> None:
        print(message, flush=True)

    result = measure(args, work, log)
    rows = result["rows"]
    print(format_rows(rows))
    name = args.results_name or f"frontier_{args.dataset}"
    png = plot(rows, args.dataset, args.threads, os.path.join(HERE, "results", name + ".png"))
    payload = {
        "title": f"Which model should I ship? ({args.dataset})",
        "settings": {
            "dataset": args.dataset, "threads": args.threads, "batch": 1,
            "test_texts": result["texts"], "timed_passes": f"1 over every test text, then "
            f"{args.repeats} over the first {min(args.texts, result['texts'])}",
            "gap_ms": args.gap_ms, "skipped": result["skipped"],
            "plot": os.path.relpath(png, ROOT),
        },
        "facts": result["facts"],
        "targets": targets(rows),
        "rows": rows,
    }  # fmt: skip
    write_results(name, payload)
    return 0


if __name__ == "__main__":
    sys.exit(main())
