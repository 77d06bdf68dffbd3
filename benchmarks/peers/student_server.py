"""A long-lived timing server for one system of `benchmarks.bench_student_latency`.

The parent starts one server per system (same texts, same thread count), then
sends one command per line on stdin and reads one JSON line back:
    call I    classify text I alone (batch 1, tokenizer included); -> {"ms", "label"}
    stats     -> {"peak_rss_mb", "model_mb", "versions", ...}
    profile R -> where the time of each call goes ("ours" systems only)
    quit
Each call is timed here, with `time.perf_counter` around tokenizer + model +
argmax, so pipe traffic is not counted. The server prints {"ready": ...} once
its model is loaded and every text has run once (warm-up).

Systems:
    ours          an albert-tf bundle through `export.runtime.Classifier` (.venv)
    tflite_plain  a .tflite from the stock TFLite converter, the run's own
                  tokenizer padded to max_length (.venv; the tokenizer needs TF)
    onnx_fp32, onnx_int8, torch_fp32, torch_int8
                  a transformers sequence classifier folder (ALBERT or BERT, from
                  `albert-tf convert --to huggingface`) with the HF fast WordPiece
                  tokenizer at exact length (the peer venv, `make bench-venv`)
    tfidf         a pickled scikit-learn TF-IDF + logistic regression (.venv)
    model2vec     a model2vec static model and a pickled logistic regression on
                  its embeddings (`--model` the folder peers/model2vec_prepare.py
                  writes; the peer venv)
    mediapipe     a MediaPipe Tasks TextClassifier .tflite (Model Maker's; .venv),
                  `--labels` a JSON list mapping its category names to indices
    ours_embed    an albert-tf embedder bundle through `export.runtime.Embedder` (.venv)
    onnx_int8_embed
                  a transformers encoder folder (the MiniLM teacher) on ONNX Runtime
                  int8: mean of the last hidden states over the tokens, normalised
                  (sentence-transformers' recipe for all-MiniLM-L6-v2); peer venv
    prepare_onnx  no server: write the float32 ONNX file and its dynamic int8
                  copy into --work, then exit (keeps torch out of the ORT servers);
                  `--head embed` exports the encoder's last hidden states instead
                  of a classifier's logits
Embedding systems answer "label" -1: their agreement is bench_embedder's business.

Example:
    ../benchvenv/bin/python benchmarks/peers/student_server.py --system onnx_int8 \
        --model HF_DIR --work WORK --texts texts.json --threads 2
"""

from __future__ import annotations

import argparse
import importlib.metadata
import json
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
if ROOT not in sys.path:
    sys.path.insert(0, ROOT)

from benchmarks.common import folder_bytes, peak_rss_mb  # noqa: E402  (the peers import it from here)

SYSTEMS = (
    "ours",
    "tflite_plain",
    "onnx_fp32",
    "onnx_int8",
    "torch_fp32",
    "torch_int8",
    "tfidf",
    "model2vec",
    "mediapipe",
    "ours_embed",
    "onnx_int8_embed",
    "prepare_onnx",
)
ONNX_FP32 = "model_fp32.onnx"
ONNX_INT8 = "model_int8.onnx"
INT8_RECIPE = (
    "onnxruntime.quantization quant_pre_process(skip_symbolic_shape=True), then "
    "quantize_dynamic(weight_type=QInt8)"
)


def versions(names) -> dict[str, str]:
    out = {}
    for name in names:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            pass
    return out


def reply(payload: dict) -> None:
    sys.stdout.write(json.dumps(payload) + "\n")
    sys.stdout.flush()


# ------------------------------------------------------------------ systems
def load_ours(args):
    from export.runtime import TFLITE_FILE, Classifier

    clf = Classifier(args.model, num_threads=args.threads)

    def call(text: str) -> int:
        return int(clf.predict_proba([text])[0].argmax())

    size = os.path.getsize(os.path.join(args.model, TFLITE_FILE))
    return call, size, {"classifier": clf}, ("ai-edge-litert", "numpy")


def load_tflite_plain(args):
    """The stock converter's model (`--model` a .tflite) and the run's tokenizer."""
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter

    from albert_tf.training.run_folder import RunFolder

    folder = RunFolder(args.run)
    info = folder.read_info()
    tokenizer = folder.read_tokenizer(info)
    max_length = int(info["max_length"])
    interpreter = Interpreter(model_path=args.model, num_threads=args.threads)
    interpreter.allocate_tensors()
    details = interpreter.get_input_details()
    # The converter names the tensors `serving_default_<name>:0`.
    inputs = {
        name: next(d["index"] for d in details if d["name"] in (name, f"serving_default_{name}:0"))
        for name in ("token_ids", "segment_ids", "padding_mask")
    }
    output = interpreter.get_output_details()[0]["index"]

    def call(text: str) -> int:
        batch = tokenizer([text], max_length=max_length, padding="max_length")
        for name, index in inputs.items():
            interpreter.set_tensor(index, np.asarray(batch[name], np.int32))
        interpreter.invoke()
        return int(interpreter.get_tensor(output)[0].argmax())

    return call, os.path.getsize(args.model), {}, ("ai-edge-litert", "tensorflow", "numpy")


def hf_tokenizer(model_dir: str):
    """The HF fast tokenizer of a converted folder.

    A WordPiece student's folder holds vocab.txt only: AutoTokenizer would pick
    AlbertTokenizer from the config's model_type and, with no spiece.model, map
    every word to [UNK], so BertTokenizerFast reads vocab.txt (uncased: lower-case
    and strip accents, as the run's tokenizer does). A SentencePiece student's
    folder holds spiece.model: AlbertTokenizerFast."""
    from transformers import AlbertTokenizerFast, BertTokenizerFast

    if os.path.exists(os.path.join(model_dir, "vocab.txt")):
        return BertTokenizerFast.from_pretrained(model_dir, do_lower_case=True)
    return honour_case(AlbertTokenizerFast.from_pretrained(model_dir), model_dir)


def honour_case(tok, model_dir: str):
    """`tok` with the folder's tokenizer_config.json `keep_accents` / `do_lower_case`
    applied. transformers 5.3's AlbertTokenizer lower-cases and strips accents
    whatever they say, so the e5 teacher read "écrit" as "e crit" (amazon_reviews_fr,
    int8: 0.805 that way, 0.852 with the config applied)."""
    import json

    from tokenizers import Tokenizer

    path = os.path.join(model_dir, "tokenizer_config.json")
    if not os.path.isfile(path):
        return tok
    with open(path, encoding="utf-8") as f:
        config = json.load(f)
    dropped = set()
    if config.get("keep_accents"):
        dropped |= {"NFKD", "StripAccents"}
    if config.get("do_lower_case") is False:
        dropped.add("Lowercase")
    state = json.loads(tok.backend_tokenizer.to_str())
    steps = state["normalizer"]["normalizers"]
    state["normalizer"]["normalizers"] = [n for n in steps if n["type"] not in dropped]
    tok._tokenizer = Tokenizer.from_str(json.dumps(state))
    return tok


def unk_fraction(tok, texts: list[str]) -> float:
    """Share of [UNK] among the pieces of `texts` (a wrong vocabulary shows here)."""
    ids = [i for t in texts for i in tok(t, add_special_tokens=False)["input_ids"]]
    return round(sum(i == tok.unk_token_id for i in ids) / max(1, len(ids)), 4)


def last_hidden_state_module(model):
    """`model` (a transformers encoder) answering its last hidden states only (no
    pooler output), for the ONNX export."""
    import torch

    class Wrapped(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(input_ids, attention_mask, token_type_ids)[0]

    return Wrapped().eval()


def prepare_onnx(args) -> None:
    """Write WORK/model_fp32.onnx (dynamic batch and sequence) and its int8 copy."""
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from onnxruntime.quantization.shape_inference import quant_pre_process
    from transformers import AutoModel, AutoModelForSequenceClassification

    os.makedirs(args.work, exist_ok=True)
    os.chdir(args.work)  # quant_pre_process leaves temporary files in the working folder
    fp32 = os.path.join(args.work, ONNX_FP32)
    int8 = os.path.join(args.work, ONNX_INT8)
    if not os.path.exists(fp32):
        embed = args.head == "embed"
        auto = AutoModel if embed else AutoModelForSequenceClassification
        model = auto.from_pretrained(args.model).eval()
        if embed:
            model = last_hidden_state_module(model)
        ids = torch.tensor([[2, 10, 11, 12, 13, 3]])
        dummy = (ids, torch.ones_like(ids), torch.zeros_like(ids))
        names = ["input_ids", "attention_mask", "token_type_ids"]
        tmp = fp32 + ".tmp.onnx"
        torch.onnx.export(
            model,
            dummy,
            tmp,
            input_names=names,
            output_names=["last_hidden_state" if embed else "logits"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in names},
            opset_version=17,
            dynamo=False,
        )
        os.replace(tmp, fp32)
    if not os.path.exists(int8):
        # The exporter feeds each shared ALBERT layer's second use through Identity
        # nodes, which quantize_dynamic skips (half the MatMuls would stay float):
        # ORT's pre-processing folds them first, as its quantizer's warning advises.
        # Its symbolic shape inference fails on this graph, hence skip_symbolic_shape.
        pre = os.path.join(args.work, "model_fp32_preprocessed.onnx")
        quant_pre_process(fp32, pre, skip_symbolic_shape=True)
        tmp = int8 + ".tmp.onnx"
        quantize_dynamic(pre, tmp, weight_type=QuantType.QInt8)
        os.replace(tmp, int8)
        os.remove(pre)
    reply({"fp32": fp32, "int8": int8, "int8_recipe": INT8_RECIPE})


def ort_session(path: str, threads: int):
    """An ONNX Runtime CPU session on `threads` intra-op threads, one inter-op."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    return ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])


def onnx_feed(enc, names: set[str]) -> dict:
    """The session's int64 inputs from a tokenizer's output. A SentencePiece folder's
    AlbertTokenizerFast gives no token_type_ids; a single text's are all 0."""
    import numpy as np

    feed = {k: v.astype(np.int64) for k, v in enc.items() if k in names}
    if "token_type_ids" in names and "token_type_ids" not in feed:
        feed["token_type_ids"] = np.zeros_like(feed["input_ids"])
    return feed


def load_onnx(args):
    path = os.path.join(args.work, ONNX_INT8 if args.system == "onnx_int8" else ONNX_FP32)
    tok, max_length = hf_tokenizer(args.model), args.max_length
    session = ort_session(path, args.threads)
    names = {i.name for i in session.get_inputs()}

    def call(text: str) -> int:
        enc = tok(text, truncation=True, max_length=max_length, return_tensors="np")
        return int(session.run(None, onnx_feed(enc, names))[0][0].argmax())

    return call, os.path.getsize(path), {"hf_tokenizer": tok}, ("onnxruntime", "transformers")


def load_onnx_embed(args):
    """The encoder on ONNX Runtime int8, mean-pooled over the tokens and normalised."""
    import numpy as np

    path = os.path.join(args.work, ONNX_INT8)
    tok, max_length = hf_tokenizer(args.model), args.max_length
    session = ort_session(path, args.threads)
    names = {i.name for i in session.get_inputs()}

    def call(text: str) -> int:
        enc = tok(text, truncation=True, max_length=max_length, return_tensors="np")
        hidden = session.run(None, onnx_feed(enc, names))[0][0]
        mask = enc["attention_mask"][0][:, None].astype(np.float32)
        vector = (hidden * mask).sum(0) / mask.sum()  # pooled and normalised: timed work
        vector /= np.linalg.norm(vector)
        return -1

    return call, os.path.getsize(path), {"hf_tokenizer": tok}, ("onnxruntime", "transformers")


def load_ours_embed(args):
    from export.runtime import TFLITE_FILE
    from export.runtime.embedder import Embedder

    embedder = Embedder(args.model, num_threads=args.threads)

    def call(text: str) -> int:
        embedder.embed([text])
        return -1

    size = os.path.getsize(os.path.join(args.model, TFLITE_FILE))
    return call, size, {}, ("ai-edge-litert", "numpy")


def load_torch(args):
    import tempfile

    import torch
    from transformers import AutoModelForSequenceClassification

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    tok, max_length = hf_tokenizer(args.model), args.max_length
    model = AutoModelForSequenceClassification.from_pretrained(args.model).eval()
    size = os.path.getsize(os.path.join(args.model, "model.safetensors"))
    if args.system == "torch_int8":
        model = torch.ao.quantization.quantize_dynamic(model, {torch.nn.Linear}, dtype=torch.qint8)
        with tempfile.NamedTemporaryFile(suffix=".pt") as f:
            torch.save(model.state_dict(), f.name)
            size = os.path.getsize(f.name)

    def call(text: str) -> int:
        enc = tok(text, truncation=True, max_length=max_length, return_tensors="pt")
        with torch.inference_mode():
            return int(model(**enc).logits[0].argmax())

    return call, size, {"hf_tokenizer": tok}, ("torch", "transformers")


def load_tfidf(args):
    """A pickled scikit-learn pipeline whose `predict` gives label indices."""
    import pickle

    with open(args.model, "rb") as f:
        model = pickle.load(f)

    def call(text: str) -> int:
        return int(model.predict([text])[0])

    return call, os.path.getsize(args.model), {}, ("scikit-learn", "numpy")


def load_model2vec(args):
    """model2vec's StaticModel (mean of token vectors) and a logistic regression."""
    import pickle

    from model2vec import StaticModel

    static = os.path.join(args.model, "static")
    model = StaticModel.from_pretrained(static)
    with open(os.path.join(args.model, "head.pkl"), "rb") as f:
        head = pickle.load(f)

    def call(text: str) -> int:
        return int(head.predict(model.encode([text]))[0])

    return call, folder_bytes(static), {}, ("model2vec", "tokenizers", "scikit-learn", "numpy")


def load_mediapipe(args):
    """MediaPipe Tasks' TextClassifier, the model's own tokenizer inside (Model
    Maker's average-word-embedding classifier). Its Python options set no thread
    count."""
    from mediapipe.tasks.python import text as mp_text
    from mediapipe.tasks.python.core.base_options import BaseOptions

    with open(args.labels, encoding="utf-8") as f:
        names = json.load(f)
    options = mp_text.TextClassifierOptions(base_options=BaseOptions(model_asset_path=args.model))
    classifier = mp_text.TextClassifier.create_from_options(options)

    def call(text: str) -> int:
        categories = classifier.classify(text).classifications[0].categories
        return names.index(max(categories, key=lambda c: c.score).category_name)

    return call, os.path.getsize(args.model), {}, ("mediapipe",)


LOADERS = {
    "ours": load_ours,
    "tflite_plain": load_tflite_plain,
    "onnx_fp32": load_onnx,
    "onnx_int8": load_onnx,
    "torch_fp32": load_torch,
    "torch_int8": load_torch,
    "tfidf": load_tfidf,
    "model2vec": load_model2vec,
    "mediapipe": load_mediapipe,
    "ours_embed": load_ours_embed,
    "onnx_int8_embed": load_onnx_embed,
}


def serve(args) -> int:
    with open(args.texts, encoding="utf-8") as f:
        texts = json.load(f)
    start = time.perf_counter()
    call, size, extra, libraries = LOADERS[args.system](args)
    load_s = time.perf_counter() - start
    for text in texts:  # warm-up: every length seen once
        call(text)
    facts = {}
    if "hf_tokenizer" in extra:
        facts["unk_fraction"] = unk_fraction(extra["hf_tokenizer"], texts)
        libraries = (*libraries, "tokenizers")
    reply({"ready": True, "system": args.system, "load_s": round(load_s, 2), **facts})
    for line in sys.stdin:
        cmd, *rest = line.split()
        if cmd == "call":
            text = texts[int(rest[0])]
            t0 = time.perf_counter()
            label = call(text)
            reply({"ms": (time.perf_counter() - t0) * 1e3, "label": label})
        elif cmd == "stats":
            reply(
                {
                    "peak_rss_mb": peak_rss_mb(),
                    "model_mb": round(size / 1e6, 3),
                    "versions": versions(libraries),
                    "torch_loaded": "torch" in sys.modules,
                    "tensorflow_loaded": "tensorflow" in sys.modules,
                    **facts,
                }
            )
        elif cmd == "profile":
            if "classifier" not in extra:
                reply({"error": f"no profile for {args.system}"})
                continue
            from benchmarks.bench_student_latency import profile_bundle

            reply(profile_bundle(extra["classifier"], texts, int(rest[0])))
        elif cmd == "quit":
            break
        else:
            reply({"error": f"unknown command {cmd!r}"})
    return 0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--system", required=True, choices=SYSTEMS)
    p.add_argument("--model", required=True, help="bundle, .tflite file or HF folder")
    p.add_argument("--texts", help="JSON list of the texts to time")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--work", default=None, help="folder of the ONNX files")
    p.add_argument("--run", default=None, help="run folder (tflite_plain: its tokenizer)")
    p.add_argument("--max-length", type=int, default=64, help="truncation length (HF)")
    p.add_argument("--labels", default=None, help="JSON list of label names (mediapipe)")
    p.add_argument("--head", choices=("classify", "embed"), default="classify",
                   help="prepare_onnx: a classifier's logits or an encoder's hidden states")  # fmt: skip
    args = p.parse_args(argv)
    if args.system == "prepare_onnx":
        prepare_onnx(args)
        return 0
    if not args.texts:
        p.error("--texts is required for a server")
    return serve(args)


if __name__ == "__main__":
    raise SystemExit(main())
