"""The sentence-embedder bundle against its teacher on ONNX Runtime int8 (issue 31):
batch-1 latency on the same texts, the systems taking turns text by text, and size.

- ours: the embedder bundle (`albert-tf train --task embed`, then `albert-tf export`)
  on the edge runtime (`export.runtime.Embedder`, tokenizer included);
- teacher: the packaged all-MiniLM-L6-v2 exported by transformers to ONNX, dynamic
  int8 (onnxruntime's quantize_dynamic), the HF fast tokenizer at exact length
  truncated at the bundle's max_length, mean pooling and normalising in numpy.

Texts: the packaged TREC questions' test split (short questions) and the Lee
corpus' 50 news documents (long: both cut at max_length). One timing process per
system and thread count (peers/student_server.py).

Example:
    python -m benchmarks.bench_embedder_latency --bundle runs/embed-bundle
"""

from __future__ import annotations

import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.bench_student_latency import Server, latency_stats, time_round_robin  # noqa: E402
from benchmarks.common import (  # noqa: E402
    bench_python,
    folder_bytes,
    missing_venv_reason,
    run_peer,
    text_table,
    write_results,
)

TEACHER = "teacher all-MiniLM-L6-v2, ONNX Runtime int8"
OURS = "albert-tf embedder bundle"


def texts_to_time(questions: int) -> dict[str, list[str]]:
    """{"TREC questions": [...], "Lee documents": [...]}: packaged, none trained on."""
    from albert_tf.data import packaged
    from albert_tf.data.packaged_similarity import load_lee

    return {
        "TREC questions": list(packaged.load("trec").test.texts[:questions]),
        "Lee documents": list(load_lee().texts),
    }


def time_pair(bundle, teacher, onnx_dir, max_length, texts, threads, repeats, work) -> dict:
    """Per-system latency over `texts` at `threads`, the two taking turns."""
    path = os.path.join(work, f"texts_{len(texts)}.json")
    with open(path, "w", encoding="utf-8") as f:
        json.dump(texts, f)
    servers = {}
    try:
        servers[OURS] = Server(sys.executable, ["--system", "ours_embed", "--model", bundle,
                               "--texts", path], threads, os.path.join(work, "ours.log"))  # fmt: skip
        servers[TEACHER] = Server(
            bench_python(),
            ["--system", "onnx_int8_embed", "--model", teacher, "--work", onnx_dir,
             "--max-length", str(max_length), "--texts", path],
            threads, os.path.join(work, "teacher.log"),
        )  # fmt: skip
        samples, _ = time_round_robin(servers, len(texts), repeats, 0.005)
        stats = {name: s.ask("stats") for name, s in servers.items()}
    finally:
        for s in servers.values():
            s.close()
    return {name: {**latency_stats(samples[name]), "model_mb": stats[name]["model_mb"],
                   "peak_rss_mb": stats[name]["peak_rss_mb"],
                   "versions": stats[name].get("versions")}
            for name in servers}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--bundle", required=True, help="an embedder bundle (task embed)")
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--questions", type=int, default=500, help="TREC test questions timed")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the texts")
    p.add_argument("--work", default=os.path.join(ROOT, "runs", "embedder_latency"))
    args = p.parse_args(argv)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if bench_python() is None:
        print(f"bench_embedder_latency: {missing_venv_reason()}", file=sys.stderr)
        return 2
    from albert_tf.convert import packaged_model

    with open(os.path.join(args.bundle, "manifest.json"), encoding="utf-8") as f:
        manifest = json.load(f)
    if manifest.get("task") != "embed":
        print(f"{args.bundle}: not an embedder bundle (task {manifest.get('task')!r})")
        return 2
    os.makedirs(args.work, exist_ok=True)
    teacher = packaged_model("minilm")
    onnx_dir = os.path.join(args.work, "minilm_onnx")
    made = run_peer("student_server.py", ["--system", "prepare_onnx", "--model", teacher,
                    "--work", onnx_dir, "--head", "embed"], threads=1)  # fmt: skip
    rows = []
    for set_name, texts in texts_to_time(args.questions).items():
        for threads in args.threads:
            timed = time_pair(args.bundle, teacher, onnx_dir, manifest["max_length"], texts,
                              threads, args.repeats, args.work)  # fmt: skip
            for name, stats in timed.items():
                rows.append({"texts": set_name, "count": len(texts), "threads": threads,
                             "system": name, **stats})  # fmt: skip
    for r in rows:
        other = next(o for o in rows if o["texts"] == r["texts"] and o["threads"] == r["threads"]
                     and o["system"] != r["system"])  # fmt: skip
        r["speedup_of_ours"] = round(
            (other if r["system"] == OURS else r)["p50_ms"]
            / (r if r["system"] == OURS else other)["p50_ms"], 2
        )  # fmt: skip
    print(text_table(["texts", "threads", "system", "p50 ms", "p95 ms", "model MB"],
                     [[str(r[k]) for k in ("texts", "threads", "system", "p50_ms", "p95_ms",
                                           "model_mb")] for r in rows]))  # fmt: skip
    write_results("embedder_latency", {
        "title": "The embedder bundle against its teacher on ONNX Runtime int8",
        "settings": {"bundle": os.path.relpath(os.path.abspath(args.bundle), ROOT),
                     "bundle_bytes": folder_bytes(args.bundle),
                     "max_length": manifest["max_length"],
                     "dynamic_length": manifest.get("dynamic_length"), "repeats": args.repeats,
                     "onnx_int8_recipe": made["int8_recipe"], "batch": 1},
        "rows": rows,
    })  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
