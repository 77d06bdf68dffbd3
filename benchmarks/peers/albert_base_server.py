"""A long-lived timing server for one system of `benchmarks.bench_export_latency`.

Every system gets the same packed token inputs (`--inputs`, an .npz of int32
`ids`, `mask`, `segment_ids`, each [N, 128]) and the same thread count. The
parent sends one command per line on stdin and reads one JSON line back:
    call I    run input I (batch 1, fixed length); -> {"ms", "label"}
    stats     -> {"peak_rss_mb", "model_mb", "versions"}
    quit
Each call is timed here with `time.perf_counter` around set inputs + invoke +
read the output (no tokenizer: keras-hub's export has none), so pipe traffic is
not counted. The server prints {"ready": ...} once the model is loaded and
`--warmup` calls have run. Imports numpy and ai-edge-litert only (no TensorFlow).

Systems:
    bundle    an albert-tf bundle through `export.runtime.Classifier` (its
              interpreter, our inputs `ids`/`mask`/`segment_ids`)
    litert    a .tflite from keras' `model.export(format="litert")` of keras-hub's
              AlbertTextClassifier (inputs `token_ids`/`padding_mask`/`segment_ids`
              by signature name), on `ai_edge_litert.interpreter.Interpreter`

Example:
    .venv/bin/python benchmarks/peers/albert_base_server.py --system litert \
        --model runs/albert_base_latency/keras_hub/dynamic.tflite \
        --inputs runs/albert_base_latency/inputs.npz --threads 2
"""

from __future__ import annotations

import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.peers.student_server import peak_rss_mb, reply, versions  # noqa: E402

SYSTEMS = ("bundle", "litert")
# keras-hub's input names for ours (ids, mask, segment_ids).
KERAS_HUB_INPUTS = {"ids": "token_ids", "mask": "padding_mask", "segment_ids": "segment_ids"}


def load_bundle(model: str, threads: int):
    from export.runtime import TFLITE_FILE, Classifier

    clf = Classifier(model, num_threads=threads)

    def call(ids, mask, segs) -> int:
        return int(clf._run(ids, mask, segs)[0].argmax())

    return call, os.path.getsize(os.path.join(model, TFLITE_FILE))


def load_litert(model: str, threads: int):
    from ai_edge_litert.interpreter import Interpreter

    from export.runtime import LITERT_NOTICES
    from export.runtime.quiet_stderr import filtered_stderr

    with filtered_stderr(LITERT_NOTICES):
        interpreter = Interpreter(model_path=model, num_threads=threads)
    interpreter.allocate_tensors()
    runner = interpreter.get_signature_runner()
    by_name = {name: d["index"] for name, d in runner.get_input_details().items()}
    index = {ours: by_name[theirs] for ours, theirs in KERAS_HUB_INPUTS.items()}
    (output,) = [d["index"] for d in runner.get_output_details().values()]

    def call(ids, mask, segs) -> int:
        interpreter.set_tensor(index["ids"], ids)
        interpreter.set_tensor(index["mask"], mask)
        interpreter.set_tensor(index["segment_ids"], segs)
        interpreter.invoke()
        return int(np.array(interpreter.get_tensor(output))[0].argmax())

    return call, os.path.getsize(model)


LOADERS = {"bundle": load_bundle, "litert": load_litert}


def serve(args) -> int:
    with np.load(args.inputs) as data:
        feeds = [
            tuple(np.ascontiguousarray(data[k][i : i + 1], np.int32) for k in KERAS_HUB_INPUTS)
            for i in range(len(data["ids"]))
        ]
    start = time.perf_counter()
    call, size = LOADERS[args.system](args.model, args.threads)
    load_s = time.perf_counter() - start
    for i in range(args.warmup):
        call(*feeds[i % len(feeds)])
    reply({"ready": True, "system": args.system, "load_s": round(load_s, 2)})
    for line in sys.stdin:
        cmd, *rest = line.split() or [""]
        if cmd == "call":
            feed = feeds[int(rest[0])]
            t0 = time.perf_counter()
            label = call(*feed)
            reply({"ms": (time.perf_counter() - t0) * 1e3, "label": label})
        elif cmd == "stats":
            reply(
                {
                    "peak_rss_mb": peak_rss_mb(),
                    "model_mb": round(size / 1e6, 3),
                    "versions": versions(("ai-edge-litert", "numpy")),
                    "tensorflow_loaded": "tensorflow" in sys.modules,
                }
            )
        elif cmd == "quit":
            break
        else:
            reply({"error": f"unknown command {cmd!r}"})
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", required=True, choices=SYSTEMS)
    p.add_argument("--model", required=True, help="bundle folder or .tflite file")
    p.add_argument("--inputs", required=True, help=".npz of ids, mask, segment_ids [N, 128]")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--warmup", type=int, default=3, help="untimed calls before ready")
    return serve(p.parse_args(argv))


if __name__ == "__main__":
    raise SystemExit(main())
