"""Where the deployed student's invoke time goes, by op type (not a test).

ai-edge-litert's Python API has no per-op profiler, so the student's graph is
cut into its op families, each converted on its own at the bundle's shapes
(dynamic-range int8, XNNPACK, the same length) and timed interleaved with the
whole bundle, calls `--gap-ms` apart as in `bench_student_latency`:
- dense: every FULLY_CONNECTED of the encoder (q, k, v, output, the two
  feed-forward layers per layer; the last layer's [CLS]-only rows), the
  embedding projection, pooler and logits;
- attention: the reshapes, transposes, two BATCH_MATMULs and softmax per layer;
- layer norm: every LayerNormalization (the converter splits each into
  MEAN, SQUARED_DIFFERENCE, RSQRT, MUL, ADD, SUB);
- gelu: the feed-forward activation per layer;
- empty: a model that only copies its input (the fixed cost of one invoke).
The rest (embedding gathers, the length clip, residual adds) is the whole
bundle minus the sum of the parts.

    .venv/bin/python -m benchmarks.student_op_profile --bundle runs/student_latency/run/bundle_dynamic_length
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.common import write_results  # noqa: E402

DEFAULT_BUNDLE = os.path.join(ROOT, "runs", "student_latency", "run", "bundle_dynamic_length")


def part_functions(cfg: dict, length: int) -> dict:
    """tf.functions for each op family at the bundle's shapes (random weights:
    speed does not depend on them)."""
    import tensorflow as tf

    h, inner, layers = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    heads, emb = cfg["num_attention_heads"], cfg["embedding_size"]
    rng = np.random.default_rng(0)

    def w(*shape):
        return tf.constant(rng.normal(0, 0.02, shape).astype(np.float32))

    dense_w = {"hh": w(h, h), "hi": w(h, inner), "ih": w(inner, h), "eh": w(emb, h)}
    x_spec = tf.TensorSpec([length, h], tf.float32)

    def fc(x, kernel):
        return tf.matmul(x, kernel)

    @tf.function(input_signature=[x_spec])
    def dense(x):
        y = fc(x[:, :emb], dense_w["eh"])
        for layer in range(layers):
            rows = y[:1] if layer == layers - 1 else y  # the last block: [CLS] only
            k, v = fc(y, dense_w["hh"]), fc(y, dense_w["hh"])
            q = fc(rows, dense_w["hh"])
            o = fc(q + k[: q.shape[0] or 1] + v[: q.shape[0] or 1], dense_w["hh"])
            y = fc(tf.nn.relu(fc(o, dense_w["hi"])), dense_w["ih"])
        return fc(fc(y, dense_w["hh"]), w(h, 2))

    @tf.function(input_signature=[x_spec])
    def attention(x):
        def split(t):
            return tf.transpose(tf.reshape(t, (-1, heads, h // heads)), (1, 0, 2))

        for layer in range(layers):
            q = x[:1] if layer == layers - 1 else x
            probs = tf.nn.softmax(tf.matmul(split(q), split(x), transpose_b=True), axis=-1)
            ctx = tf.reshape(tf.transpose(tf.matmul(probs, split(x)), (1, 0, 2)), (-1, h))
            x = ctx if layer == layers - 1 else x + ctx
        return x

    norms = [tf.keras.layers.LayerNormalization(epsilon=1e-12) for _ in range(2 * layers + 1)]

    @tf.function(input_signature=[x_spec])
    def layer_norm(x):
        for norm in norms:
            x = norm(x)
        return x

    @tf.function(input_signature=[tf.TensorSpec([length, inner], tf.float32)])
    def gelu(x):
        for _ in range(layers):
            x = tf.nn.gelu(x, approximate=False)
        return x

    @tf.function(input_signature=[x_spec])
    def empty(x):
        return x + 1.0

    return {"dense": dense, "attention": attention, "layer_norm": layer_norm, "gelu": gelu,
            "empty": empty}  # fmt: skip


def to_tflite(fn) -> bytes:
    import tensorflow as tf

    converter = tf.lite.TFLiteConverter.from_concrete_functions([fn.get_concrete_function()])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    return converter.convert()


def time_interleaved(models: dict, feeds: dict, threads: int, calls: int, gap_s: float) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interpreters = {}
    for name, model in models.items():
        kwargs = {"model_path": model} if isinstance(model, str) else {"model_content": model}
        it = Interpreter(num_threads=threads, **kwargs)
        for d, arr in zip(it.get_input_details(), feeds[name]):
            it.resize_tensor_input(d["index"], arr.shape, strict=False)
        it.allocate_tensors()
        for d, arr in zip(it.get_input_details(), feeds[name]):
            it.set_tensor(d["index"], arr)
        it.invoke()
        interpreters[name] = it
    times = {name: [] for name in models}
    names = list(models)
    for i in range(calls):
        for name in names[i % len(names) :] + names[: i % len(names)]:
            start = time.perf_counter()
            interpreters[name].invoke()
            times[name].append((time.perf_counter() - start) * 1e3)
            time.sleep(gap_s)
    return {name: float(np.median(t)) for name, t in times.items()}


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--bundle", default=DEFAULT_BUNDLE)
    p.add_argument("--length", type=int, default=28, help="tokens (the timed texts' mean)")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--calls", type=int, default=300)
    p.add_argument("--gap-ms", type=float, default=10.0)
    args = p.parse_args()
    from albert_tf.io.quiet_tensorflow import import_tensorflow

    import_tensorflow()
    with open(os.path.join(args.bundle, "manifest.json"), encoding="utf-8") as f:
        cfg = json.load(f)["config"]
    parts = part_functions(cfg, args.length)
    models = {name: to_tflite(fn) for name, fn in parts.items()}
    models["bundle"] = os.path.join(args.bundle, "model.tflite")
    rng = np.random.default_rng(1)
    feeds = {
        name: [rng.normal(size=(args.length, cfg[
            "intermediate_size" if name == "gelu" else "hidden_size"])).astype(np.float32)]
        for name in parts
    }  # fmt: skip
    ids = rng.integers(5, 1000, (1, args.length)).astype(np.int32)
    feeds["bundle"] = [ids, np.ones_like(ids), np.zeros_like(ids)]  # ids, mask, segments
    p50 = time_interleaved(models, feeds, args.threads, args.calls, args.gap_ms / 1e3)
    empty = p50["empty"]
    families = {k: max(0.0, p50[k] - empty) for k in ("dense", "attention", "layer_norm", "gelu")}
    families["fixed per invoke"] = empty
    families["rest (gathers, clip, adds)"] = max(0.0, p50["bundle"] - sum(families.values()))
    rows = [
        {"op_family": k, "ms": round(v, 4), "share": round(v / p50["bundle"], 3)}
        for k, v in families.items()
    ]
    for r in rows:
        print(f"{r['op_family']:<28} {r['ms']:.3f} ms  {100 * r['share']:.0f}%")
    print(f"whole bundle invoke p50 {p50['bundle']:.3f} ms at {args.length} tokens")
    write_results(
        "student_op_profile",
        {
            "title": "Where the student's invoke time goes, by op family",
            "settings": {**vars(args), "config": cfg},
            "p50_ms": {k: round(v, 4) for k, v in p50.items()},
            "rows": rows,
        },
    )


if __name__ == "__main__":
    main()
